/* COCO annotation files: parsing (json-glib) and image decoding
 * (GStreamer), see coco.h. */
#include "coco.h"
#include "cli.h"

#include "spp/error.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
image_free (gpointer p)
{
  SppCocoImage *im = p;
  g_free (im->file_name);
  g_free (im->split);
  g_free (im->video);
  g_array_unref (im->boxes);
  g_array_unref (im->category);
  g_free (im);
}

static void
category_free (gpointer p)
{
  SppCocoCategory *c = p;
  g_free (c->name);
  g_free (c);
}

void
spp_coco_free (SppCoco *coco)
{
  if (coco == NULL)
    return;
  g_free (coco->path);
  g_ptr_array_unref (coco->images);
  g_ptr_array_unref (coco->categories);
  g_free (coco);
}

int
spp_coco_find_category (const SppCoco *coco, const char *name)
{
  for (guint i = 0; i < coco->categories->len; i++) {
    const SppCocoCategory *c = g_ptr_array_index (coco->categories, i);
    if (!strcmp (c->name, name))
      return (int) i;
  }
  return -1;
}

/* Typed member access; every failure names the file, the array, the
 * element and the member. */
static gboolean
get_number (const char *path, const char *where, guint i, JsonObject *o,
            const char *member, gboolean required, double *out,
            GError **error)
{
  JsonNode *n = json_object_get_member (o, member);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n)) {
    if (!required)
      return TRUE;
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: %s[%u] has no '%s'", path, where, i, member);
    return FALSE;
  }
  GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n)
                                      : G_TYPE_INVALID;
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: %s[%u].%s is not a number", path, where, i, member);
    return FALSE;
  }
  *out = t == G_TYPE_INT64 ? (double) json_node_get_int (n)
                           : json_node_get_double (n);
  if (!isfinite (*out)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: %s[%u].%s is not finite", path, where, i, member);
    return FALSE;
  }
  return TRUE;
}

static gboolean
get_id (const char *path, const char *where, guint i, JsonObject *o,
        const char *member, gint64 *out, GError **error)
{
  double v;
  if (!get_number (path, where, i, o, member, TRUE, &v, error))
    return FALSE;
  if (v != floor (v) || fabs (v) > 9e15) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: %s[%u].%s = %g is not an integer", path, where, i,
                 member, v);
    return FALSE;
  }
  *out = (gint64) v;
  return TRUE;
}

static const char *
get_string (const char *path, const char *where, guint i, JsonObject *o,
            const char *member, gboolean required, GError **error)
{
  JsonNode *n = json_object_get_member (o, member);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n)) {
    if (required)
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                   "%s: %s[%u] has no '%s'", path, where, i, member);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: %s[%u].%s is not a string", path, where, i, member);
    return NULL;
  }
  return json_node_get_string (n);
}

static JsonArray *
get_array (const char *path, JsonObject *root, const char *member,
           gboolean required, GError **error)
{
  JsonNode *n = json_object_get_member (root, member);
  if (n == NULL) {
    if (required)
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                   "%s: no '%s' array", path, member);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_ARRAY (n)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: '%s' is not an array", path, member);
    return NULL;
  }
  return json_node_get_array (n);
}

static JsonObject *
get_element (const char *path, JsonArray *a, const char *where, guint i,
             GError **error)
{
  JsonNode *n = json_array_get_element (a, i);
  if (!JSON_NODE_HOLDS_OBJECT (n)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: %s[%u] is not an object", path, where, i);
    return NULL;
  }
  return json_node_get_object (n);
}

/* "vtest.avi#frame=000123" -> video "vtest.avi", frame 123. */
static gboolean
parse_frame_ref (const char *path, guint i, SppCocoImage *im, GError **error)
{
  const char *hash = strstr (im->file_name, "#frame=");
  if (hash == NULL)
    return TRUE;
  const char *num = hash + strlen ("#frame=");
  char *end = NULL;
  guint64 f = g_ascii_strtoull (num, &end, 10);
  if (end == num || *end || f > G_MAXINT32 || hash == im->file_name) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: images[%u].file_name '%s': expected VIDEO#frame=N",
                 path, i, im->file_name);
    return FALSE;
  }
  im->video = g_strndup (im->file_name, hash - im->file_name);
  im->frame = (gint64) f;
  return TRUE;
}

SppCoco *
spp_coco_load (const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = NULL;
  if (!json_parser_load_from_file (parser, path, &err)) {
    gboolean io = err->domain == G_FILE_ERROR;
    g_set_error (error, SPP_ERROR, io ? SPP_ERROR_IO : SPP_ERROR_FORMAT,
                 "%s: %s", path, err->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: the top level is not a JSON object", path);
    return NULL;
  }
  JsonObject *top = json_node_get_object (root);
  g_autoptr (SppCoco) coco = g_new0 (SppCoco, 1);
  coco->path = g_strdup (path);
  coco->images = g_ptr_array_new_with_free_func (image_free);
  coco->categories = g_ptr_array_new_with_free_func (category_free);

  JsonArray *cats = get_array (path, top, "categories", TRUE, error);
  if (cats == NULL)
    return NULL;
  g_autoptr (GHashTable) cat_index = g_hash_table_new_full (
      g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length (cats); i++) {
    JsonObject *o = get_element (path, cats, "categories", i, error);
    gint64 id;
    if (o == NULL || !get_id (path, "categories", i, o, "id", &id, error))
      return NULL;
    const char *name = get_string (path, "categories", i, o, "name", TRUE,
                                   error);
    if (name == NULL)
      return NULL;
    if (g_hash_table_contains (cat_index, &id)
        || spp_coco_find_category (coco, name) >= 0) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                   "%s: categories[%u]: id %" G_GINT64_FORMAT " or name "
                   "'%s' appears twice", path, i, id, name);
      return NULL;
    }
    SppCocoCategory *c = g_new0 (SppCocoCategory, 1);
    c->id = id;
    c->name = g_strdup (name);
    g_hash_table_insert (cat_index, g_memdup2 (&id, sizeof id),
                         GUINT_TO_POINTER (coco->categories->len + 1));
    g_ptr_array_add (coco->categories, c);
  }

  JsonArray *images = get_array (path, top, "images", TRUE, error);
  if (images == NULL)
    return NULL;
  g_autoptr (GHashTable) img_index = g_hash_table_new_full (
      g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length (images); i++) {
    JsonObject *o = get_element (path, images, "images", i, error);
    gint64 id;
    double w = 0, h = 0;
    if (o == NULL || !get_id (path, "images", i, o, "id", &id, error)
        || !get_number (path, "images", i, o, "width", FALSE, &w, error)
        || !get_number (path, "images", i, o, "height", FALSE, &h, error))
      return NULL;
    const char *file = get_string (path, "images", i, o, "file_name", TRUE,
                                   error);
    if (file == NULL)
      return NULL;
    g_autoptr (GError) serr = NULL;
    const char *split = get_string (path, "images", i, o, "split", FALSE,
                                    &serr);
    if (serr) {
      g_propagate_error (error, g_steal_pointer (&serr));
      return NULL;
    }
    if (w < 0 || h < 0 || w > 65536 || h > 65536) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                   "%s: images[%u] has size %gx%g", path, i, w, h);
      return NULL;
    }
    if (g_hash_table_contains (img_index, &id)) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                   "%s: images[%u]: id %" G_GINT64_FORMAT " appears twice",
                   path, i, id);
      return NULL;
    }
    SppCocoImage *im = g_new0 (SppCocoImage, 1);
    im->id = id;
    im->file_name = g_strdup (file);
    im->width = (int) w;
    im->height = (int) h;
    im->split = g_strdup (split);
    im->boxes = g_array_new (FALSE, FALSE, sizeof (SppBox));
    im->category = g_array_new (FALSE, FALSE, sizeof (guint));
    g_ptr_array_add (coco->images, im);
    if (!parse_frame_ref (path, i, im, error))
      return NULL;
    g_hash_table_insert (img_index, g_memdup2 (&id, sizeof id),
                         GUINT_TO_POINTER (coco->images->len));
  }

  g_autoptr (GError) aerr = NULL;
  JsonArray *anns = get_array (path, top, "annotations", FALSE, &aerr);
  if (aerr) {
    g_propagate_error (error, g_steal_pointer (&aerr));
    return NULL;
  }
  for (guint i = 0; anns && i < json_array_get_length (anns); i++) {
    JsonObject *o = get_element (path, anns, "annotations", i, error);
    gint64 image_id, cat_id;
    if (o == NULL
        || !get_id (path, "annotations", i, o, "image_id", &image_id, error)
        || !get_id (path, "annotations", i, o, "category_id", &cat_id, error))
      return NULL;
    guint ii = GPOINTER_TO_UINT (g_hash_table_lookup (img_index, &image_id));
    guint ci = GPOINTER_TO_UINT (g_hash_table_lookup (cat_index, &cat_id));
    if (ii == 0 || ci == 0) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                   "%s: annotations[%u]: unknown %s %" G_GINT64_FORMAT, path,
                   i, ii == 0 ? "image_id" : "category_id",
                   ii == 0 ? image_id : cat_id);
      return NULL;
    }
    JsonNode *bn = json_object_get_member (o, "bbox");
    JsonArray *ba = bn && JSON_NODE_HOLDS_ARRAY (bn) ? json_node_get_array (bn)
                                                    : NULL;
    double v[4];
    gboolean ok = ba && json_array_get_length (ba) == 4;
    for (guint j = 0; ok && j < 4; j++) {
      JsonNode *e = json_array_get_element (ba, j);
      GType t = JSON_NODE_HOLDS_VALUE (e) ? json_node_get_value_type (e)
                                          : G_TYPE_INVALID;
      ok = t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
      if (ok)
        v[j] = t == G_TYPE_INT64 ? (double) json_node_get_int (e)
                                 : json_node_get_double (e);
      ok = ok && isfinite (v[j]) && fabs (v[j]) < 1e6;
    }
    if (!ok || !(v[2] > 0 && v[3] > 0)) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                   "%s: annotations[%u].bbox: expected [x, y, w, h] with "
                   "w, h > 0", path, i);
      return NULL;
    }
    SppCocoImage *im = g_ptr_array_index (coco->images, ii - 1);
    SppBox b = { v[0], v[1], v[2], v[3] };
    guint c = ci - 1;
    g_array_append_val (im->boxes, b);
    g_array_append_val (im->category, c);
  }
  return g_steal_pointer (&coco);
}

static char *
resolve (const SppCoco *coco, const char *images_root, const char *name)
{
  if (g_path_is_absolute (name))
    return g_strdup (name);
  if (images_root)
    return g_build_filename (images_root, name, NULL);
  g_autofree char *dir = g_path_get_dirname (coco->path);
  return g_build_filename (dir, name, NULL);
}

/* Orders images by file (video or still), then frame. */
static gint
by_source (gconstpointer pa, gconstpointer pb, gpointer data)
{
  const SppCoco *coco = data;
  const SppCocoImage *a = g_ptr_array_index (coco->images,
                                             *(const guint *) pa);
  const SppCocoImage *b = g_ptr_array_index (coco->images,
                                             *(const guint *) pb);
  int c = strcmp (a->video ? a->video : a->file_name,
                  b->video ? b->video : b->file_name);
  if (c)
    return c;
  if (a->frame != b->frame)
    return a->frame < b->frame ? -1 : 1;
  return *(const guint *) pa < *(const guint *) pb ? -1 : 1;
}

#ifdef HAVE_GST
static gboolean
check_size (const SppCocoImage *im, const SppImage *img, GError **error)
{
  if ((im->width && im->width != img->width)
      || (im->height && im->height != img->height)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: decoded as %dx%d, the annotations say %dx%d",
                 im->file_name, img->width, img->height, im->width,
                 im->height);
    return FALSE;
  }
  return TRUE;
}

static gboolean
call_on_sample (const SppCoco *coco, guint index, GstSample *sample,
                SppCocoImageFunc func, gpointer user_data, GError **error)
{
  const SppCocoImage *im = g_ptr_array_index (coco->images, index);
  GstMapInfo map;
  SppImage img;
  if (!spp_cli_sample_image (sample, im->file_name, &img, &map, error))
    return FALSE;
  gboolean ok = check_size (im, &img, error)
                && func (index, &img, user_data, error);
  gst_buffer_unmap (gst_sample_get_buffer (sample), &map);
  return ok;
}

/* One sequential decode of @path, calling @func on the frames
 * order[0..n) wants (sorted by frame number). */
static gboolean
decode_video (const SppCoco *coco, const char *path, const guint *order,
              guint n, SppCocoImageFunc func, gpointer user_data,
              GError **error)
{
  g_autoptr (SppCliDecoder) d = spp_cli_decoder_new (path, 4, error);
  if (d == NULL)
    return FALSE;
  guint next = 0;
  gint64 frame = 0;
  while (next < n) {
    g_autoptr (GError) err = NULL;
    GstSample *s = spp_cli_decoder_next (d, &err);
    if (s == NULL) {
      if (err) {
        g_propagate_error (error, g_steal_pointer (&err));
      } else {
        const SppCocoImage *im = g_ptr_array_index (coco->images,
                                                    order[next]);
        g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                     "%s: frame %" G_GINT64_FORMAT " asked for, the video has "
                     "%" G_GINT64_FORMAT, path, im->frame, frame);
      }
      return FALSE;
    }
    gboolean ok = TRUE;
    /* Several annotation entries may name the same frame. */
    while (ok && next < n) {
      const SppCocoImage *im = g_ptr_array_index (coco->images, order[next]);
      if (im->frame != frame)
        break;
      ok = call_on_sample (coco, order[next], s, func, user_data, error);
      next += ok;
    }
    gst_sample_unref (s);
    if (!ok)
      return FALSE;
    frame++;
  }
  return TRUE;
}
#endif

gboolean
spp_coco_foreach_image (const SppCoco *coco, const char *images_root,
                        const guint *indices, guint n,
                        SppCocoImageFunc func, gpointer user_data,
                        GError **error)
{
#ifndef HAVE_GST
  g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
               "built without GStreamer: cannot decode images");
  return FALSE;
#else
  static gsize inited = 0;
  if (g_once_init_enter (&inited)) {
    gst_init (NULL, NULL);
    g_once_init_leave (&inited, 1);
  }
  g_autofree guint *order = g_memdup2 (indices, MAX (n, 1) * sizeof (guint));
  g_qsort_with_data (order, n, sizeof (guint), by_source, (gpointer) coco);
  guint i = 0;
  while (i < n) {
    const SppCocoImage *im = g_ptr_array_index (coco->images, order[i]);
    if (im->video) {
      guint j = i + 1;
      while (j < n
             && g_strcmp0 (((SppCocoImage *) g_ptr_array_index (
                               coco->images, order[j]))->video, im->video) == 0)
        j++;
      g_autofree char *path = resolve (coco, images_root, im->video);
      if (!decode_video (coco, path, order + i, j - i, func, user_data,
                         error))
        return FALSE;
      i = j;
      continue;
    }
    g_autofree char *path = resolve (coco, images_root, im->file_name);
    GstSample *s = spp_cli_decode_rgb (path, error);
    if (s == NULL)
      return FALSE;
    gboolean ok = call_on_sample (coco, order[i], s, func, user_data, error);
    gst_sample_unref (s);
    if (!ok)
      return FALSE;
    i++;
  }
  return TRUE;
#endif
}

void
spp_cli_progress_start (SppCliProgress *p, const char *what, guint total)
{
  p->what = what;
  p->total = total;
  p->done = 0;
  p->start = p->last = g_get_monotonic_time ();
}

void
spp_cli_progress_step (SppCliProgress *p)
{
  p->done++;
  gint64 now = g_get_monotonic_time ();
  if (p->what == NULL
      || (now - p->last < 2 * G_USEC_PER_SEC && p->done < p->total))
    return;
  p->last = now;
  double per = (now - p->start) / 1e6 / p->done;
  fprintf (stderr, "%s: %u/%u images, %.2f s/image, ETA %.0f s\n", p->what,
           p->done, p->total, per, per * (p->total - p->done));
}
