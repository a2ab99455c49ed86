/* Re-emits a .sppm with new SVM / box-regression tensors and metadata.
 * The input's sections are parsed with the layout of
 * docs/model-format.md: metadata entries are copied byte for byte (except
 * the keys replaced), tensor entries are re-laid out, and layer entries
 * are copied with their tensor ids renumbered (dropping svm.* and bbox.*
 * shifts the ids of any tensor after them). */
#include "model-writer.h"

#include "spp/error.h"
#include "spp/model.h"

#include <glib/gstdio.h>
#include <string.h>

#define ALIGN 64
#define HEADER_SIZE 40

typedef struct {
  const guint8 *p;
  gsize len, pos;
  const char *path;
  GError **error;
} Cursor;

static gboolean
need (Cursor *c, gsize n, const char *what)
{
  if (n > c->len - c->pos) {
    g_set_error (c->error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: truncated in %s", c->path, what);
    return FALSE;
  }
  return TRUE;
}

static gboolean
u32 (Cursor *c, guint32 *v, const char *what)
{
  if (!need (c, 4, what))
    return FALSE;
  memcpy (v, c->p + c->pos, 4);
  *v = GUINT32_FROM_LE (*v);
  c->pos += 4;
  return TRUE;
}

static gboolean
u64 (Cursor *c, guint64 *v, const char *what)
{
  if (!need (c, 8, what))
    return FALSE;
  memcpy (v, c->p + c->pos, 8);
  *v = GUINT64_FROM_LE (*v);
  c->pos += 8;
  return TRUE;
}

static gboolean
skip (Cursor *c, gsize n, const char *what)
{
  if (!need (c, n, what))
    return FALSE;
  c->pos += n;
  return TRUE;
}

/* A string: returns a pointer into the file and its length. */
static gboolean
str (Cursor *c, const char **s, guint32 *n, const char *what)
{
  if (!u32 (c, n, what) || !need (c, *n, what))
    return FALSE;
  *s = (const char *) c->p + c->pos;
  c->pos += *n;
  return TRUE;
}

static void
put_u32 (GByteArray *b, guint32 v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &v, 4);
}

static void
put_u64 (GByteArray *b, guint64 v)
{
  v = GUINT64_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &v, 8);
}

static void
put_f32 (GByteArray *b, float f)
{
  guint32 v;
  memcpy (&v, &f, 4);
  put_u32 (b, v);
}

static void
put_str (GByteArray *b, const char *s)
{
  put_u32 (b, (guint32) strlen (s));
  g_byte_array_append (b, (const guint8 *) s, strlen (s));
}

static gboolean
replaced_key (const char *k, guint32 n, const SppCliDetectorParams *p)
{
  static const char *const keys[] = {
    "detect.labels", "detect.thresholds", "detect.feature_scale",
    "detect.score_a", "detect.score_b", "general.description",
    "proposals.max_boxes", "proposals.min_size", "detect.box_vote",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strlen (keys[i]) == n && !memcmp (keys[i], k, n))
      return TRUE;
  if (p->scales && p->n_scales && n == strlen ("detect.scales")
      && !memcmp ("detect.scales", k, n))
    return TRUE;
  return FALSE;
}

static gboolean
replaced_tensor (const char *k, guint32 n)
{
  return (n > 4 && !memcmp (k, "svm.", 4)) || (n > 5 && !memcmp (k, "bbox.", 5));
}

typedef struct {
  char *name;
  guint32 n_dims, dims[4];
  const float *data;
  gsize n_floats;
  gboolean drop;
} Tensor;

static void
add_tensor (GArray *ts, const char *name, const float *data, guint32 d0,
            guint32 d1)
{
  Tensor t = { g_strdup (name), d1 ? 2 : 1, { d0, d1 }, data,
               (gsize) d0 * (d1 ? d1 : 1), FALSE };
  g_array_append_val (ts, t);
}

static void
clear_tensor (gpointer p)
{
  g_free (((Tensor *) p)->name);
}

/* One layer entry: its bytes up to the tensor ids, and the ids. */
typedef struct {
  gsize start, end;
  guint32 op, section, n_iparams, n_tensors, tensors[8];
  gint32 iparams[2];
} Layer;

/* An input .sppm, parsed (docs/model-format.md); pointers into @contents. */
typedef struct {
  char *contents;
  gsize len;
  guint32 n_kv, n_layers;
  gsize kv_start, kv_end;
  GArray *tensors; /* Tensor */
  GArray *layers;  /* Layer */
} Parsed;

static void
parsed_clear (Parsed *m)
{
  g_clear_pointer (&m->contents, g_free);
  g_clear_pointer (&m->tensors, g_array_unref);
  g_clear_pointer (&m->layers, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Parsed, parsed_clear)

static gboolean
model_parse (const char *in_path, Parsed *m, GError **error)
{
  g_autoptr (GError) err = NULL;
  if (!g_file_get_contents (in_path, &m->contents, &m->len, &err)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s", err->message);
    return FALSE;
  }
  const gsize len = m->len;
  Cursor c = { (const guint8 *) m->contents, len, 0, in_path, error };
  guint32 version, n_kv, n_tensors, n_layers, align;
  guint64 file_size, data_offset;
  if (!need (&c, HEADER_SIZE, "header") || memcmp (m->contents, "SPPM", 4)) {
    if (len >= 4)
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT, "%s: not an .sppm "
                   "file", in_path);
    return FALSE;
  }
  c.pos = 4;
  if (!u32 (&c, &version, "header") || !u64 (&c, &file_size, "header")
      || !u32 (&c, &n_kv, "header") || !u32 (&c, &n_tensors, "header")
      || !u32 (&c, &n_layers, "header") || !u32 (&c, &align, "header")
      || !u64 (&c, &data_offset, "header"))
    return FALSE;
  if (version != 1 || file_size != len || data_offset > len) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: version %u, size %" G_GUINT64_FORMAT " / %" G_GSIZE_FORMAT
                 ": not a version-1 model", in_path, version, file_size, len);
    return FALSE;
  }
  m->n_kv = n_kv;
  m->n_layers = n_layers;
  m->kv_start = c.pos;
  for (guint32 i = 0; i < n_kv; i++) {
    const char *key;
    guint32 klen, type;
    if (!str (&c, &key, &klen, "metadata key") || !u32 (&c, &type, "metadata"))
      return FALSE;
    guint32 et = type, count = 1;
    if (type == 4
        && (!u32 (&c, &et, "metadata array") || !u32 (&c, &count,
                                                      "metadata array")))
      return FALSE;
    for (guint32 j = 0; j < count; j++) {
      if (et == 3) {
        const char *s;
        guint32 n;
        if (!str (&c, &s, &n, "metadata string"))
          return FALSE;
      } else if (et <= 2) {
        if (!skip (&c, 4, "metadata value"))
          return FALSE;
      } else {
        g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                     "%s: metadata type %u", in_path, et);
        return FALSE;
      }
    }
  }
  m->kv_end = c.pos;

  m->tensors = g_array_new (FALSE, FALSE, sizeof (Tensor));
  g_array_set_clear_func (m->tensors, clear_tensor);
  for (guint32 i = 0; i < n_tensors; i++) {
    const char *name;
    guint32 nlen, n_dims, dtype;
    guint64 off;
    Tensor t = { 0 };
    if (!str (&c, &name, &nlen, "tensor name") || !u32 (&c, &n_dims, "tensor")
        || n_dims < 1 || n_dims > 4) {
      if (!(error && *error))
        g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                     "%s: tensor %u has %u dims", in_path, i, n_dims);
      return FALSE;
    }
    t.n_dims = n_dims;
    t.n_floats = 1;
    for (guint32 d = 0; d < n_dims; d++) {
      if (!u32 (&c, &t.dims[d], "tensor dims"))
        return FALSE;
      t.n_floats *= t.dims[d];
    }
    if (!u32 (&c, &dtype, "tensor") || !u64 (&c, &off, "tensor"))
      return FALSE;
    if (dtype != 0 || off > len - data_offset
        || t.n_floats * 4 > len - data_offset - off) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                   "%s: tensor %u out of the file", in_path, i);
      return FALSE;
    }
    t.name = g_strndup (name, nlen);
    t.data = (const float *) (c.p + data_offset + off);
    g_array_append_val (m->tensors, t);
  }

  m->layers = g_array_new (FALSE, TRUE, sizeof (Layer));
  for (guint32 i = 0; i < n_layers; i++) {
    Layer l = { .start = c.pos };
    guint32 n;
    const char *name;
    if (!u32 (&c, &l.op, "layer") || !str (&c, &name, &n, "layer name")
        || !u32 (&c, &l.section, "layer"))
      return FALSE;
    for (int part = 0; part < 3; part++) {
      if (!u32 (&c, &n, "layer") || n > 64)
        return FALSE;
      if (!need (&c, (gsize) n * 4, "layer params"))
        return FALSE;
      if (part == 1) {
        l.n_iparams = n;
        for (guint32 j = 0; j < MIN (n, 2); j++) {
          guint32 v;
          memcpy (&v, c.p + c.pos + 4 * j, 4);
          l.iparams[j] = (gint32) GUINT32_FROM_LE (v);
        }
      }
      c.pos += (gsize) n * 4;
    }
    l.end = c.pos;
    if (!u32 (&c, &l.n_tensors, "layer tensors") || l.n_tensors > 8)
      return FALSE;
    for (guint32 j = 0; j < l.n_tensors; j++) {
      if (!u32 (&c, &l.tensors[j], "layer tensors"))
        return FALSE;
      if (l.tensors[j] >= n_tensors) {
        g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                     "%s: layer %u uses tensor %u", in_path, i, l.tensors[j]);
        return FALSE;
      }
    }
    g_array_append_val (m->layers, l);
  }
  return TRUE;
}

/* A layer entry as model.c reads it: an fc layer of the head. */
static void
put_fc_layer (GByteArray *b, guint i, guint out, guint act, guint32 w_id,
              guint32 b_id)
{
  g_autofree char *name = g_strdup_printf ("fc%u", 6 + i); /* fc6, fc7, ... */
  put_u32 (b, 9);
  put_str (b, name);
  put_u32 (b, 1);
  put_u32 (b, 0);
  put_u32 (b, 2);
  put_u32 (b, out);
  put_u32 (b, act);
  put_u32 (b, 0);
  put_u32 (b, 2);
  put_u32 (b, w_id);
  put_u32 (b, b_id);
}

gboolean
spp_cli_model_read_head (const char *path, SppCliFcHead *head, GError **error)
{
  g_auto (Parsed) m = { 0 };
  if (!model_parse (path, &m, error))
    return FALSE;
  memset (head, 0, sizeof *head);
  for (guint i = 0; i < m.layers->len; i++) {
    const Layer *l = &g_array_index (m.layers, Layer, i);
    if (l->section != 1)
      continue;
    const Tensor *w = l->n_tensors >= 1
        ? &g_array_index (m.tensors, Tensor, l->tensors[0]) : NULL;
    const Tensor *b = l->n_tensors >= 2
        ? &g_array_index (m.tensors, Tensor, l->tensors[1]) : NULL;
    guint n = head->n_layers;
    if (l->op != 9 || l->n_iparams < 2 || l->iparams[1] != 1 || w == NULL
        || w->n_dims != 2 || n >= SPP_CLI_FC_MAX
        || (n > 0 && w->dims[1] != head->dims[n])
        || (b && b->n_floats != w->dims[0])) {
      spp_cli_fc_head_clear (head);
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "%s: head layer %u is not an fc layer with ReLU (at most "
                   "%d): only such heads can be fine-tuned; give --fc to "
                   "replace it", path, i, SPP_CLI_FC_MAX);
      return FALSE;
    }
    head->dims[n] = w->dims[1];
    head->dims[n + 1] = w->dims[0];
    head->weight[n] = g_new (float, w->n_floats);
    memcpy (head->weight[n], w->data, w->n_floats * sizeof (float));
    head->bias[n] = g_new0 (float, w->dims[0]);
    if (b)
      memcpy (head->bias[n], b->data, b->n_floats * sizeof (float));
    head->n_layers++;
  }
  return TRUE;
}

void
spp_cli_fc_head_clear (SppCliFcHead *head)
{
  for (guint i = 0; i < SPP_CLI_FC_MAX; i++) {
    g_clear_pointer (&head->weight[i], g_free);
    g_clear_pointer (&head->bias[i], g_free);
  }
  head->n_layers = 0;
}

gboolean
spp_cli_model_write (const char *in_path, const char *out_path,
                     const SppCliDetectorParams *p, GError **error)
{
  g_autoptr (GError) err = NULL;
  g_auto (Parsed) m = { 0 };
  if (!model_parse (in_path, &m, error))
    return FALSE;

  /* Metadata: keep each entry's bytes unless its key is replaced. */
  g_autoptr (GByteArray) kv = g_byte_array_new ();
  guint32 out_kv = 0;
  float in_scale = 1.0f;
  Cursor c = { (const guint8 *) m.contents, m.len, m.kv_start, in_path,
               error };
  for (guint32 i = 0; i < m.n_kv; i++) {
    gsize start = c.pos;
    const char *key;
    guint32 klen = 0, type = 0, et, count = 1, n;
    const char *s;
    /* Checked by model_parse. */
    str (&c, &key, &klen, "");
    u32 (&c, &type, "");
    et = type;
    if (type == 4) {
      u32 (&c, &et, "");
      u32 (&c, &count, "");
    }
    for (guint32 j = 0; j < count; j++)
      et == 3 ? str (&c, &s, &n, "") : skip (&c, 4, "");
    /* compute_features() applied the input's own feature scale to what
     * we trained on, so the output's is the product (unless the head that
     * scale was for is replaced). */
    if (type == 2 && klen == strlen ("detect.feature_scale")
        && !memcmp (key, "detect.feature_scale", klen)
        && !p->replace_head) {
      memcpy (&in_scale, c.p + c.pos - 4, 4);
      if (!(in_scale > 0 && in_scale < 1e30f))
        in_scale = 1.0f;
    }
    if (!replaced_key (key, klen, p)) {
      g_byte_array_append (kv, c.p + start, c.pos - start);
      out_kv++;
    }
  }

  /* Dropped: svm.* and bbox.*, and with replace_head the head's layers
   * and their tensors. */
  GArray *ts = m.tensors;
  for (guint i = 0; i < ts->len; i++) {
    Tensor *t = &g_array_index (ts, Tensor, i);
    t->drop = replaced_tensor (t->name, strlen (t->name));
  }
  for (guint i = 0; i < m.layers->len; i++) {
    const Layer *l = &g_array_index (m.layers, Layer, i);
    for (guint32 j = 0; j < l->n_tensors; j++) {
      Tensor *t = &g_array_index (ts, Tensor, l->tensors[j]);
      if (p->replace_head && l->section == 1)
        t->drop = TRUE;
      else if (t->drop) {
        g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                     "%s: layer %u uses tensor %s", in_path, i, t->name);
        return FALSE;
      }
    }
  }
  g_autofree guint32 *remap = g_new (guint32, MAX (ts->len, 1));
  guint32 n_kept = 0;
  for (guint i = 0; i < ts->len; i++) {
    Tensor *t = &g_array_index (ts, Tensor, i);
    remap[i] = t->drop ? G_MAXUINT32 : n_kept;
    if (!t->drop)
      g_array_index (ts, Tensor, n_kept++) = *t;
    else
      g_free (t->name);
  }
  g_array_set_clear_func (ts, NULL);
  g_array_set_size (ts, n_kept);
  g_array_set_clear_func (ts, clear_tensor);

  /* Layers, with renumbered tensor ids, then the new head. */
  g_autoptr (GByteArray) layers = g_byte_array_new ();
  guint32 n_layers = 0;
  for (guint i = 0; i < m.layers->len; i++) {
    const Layer *l = &g_array_index (m.layers, Layer, i);
    if (p->replace_head && l->section == 1)
      continue;
    g_byte_array_append (layers, c.p + l->start, l->end - l->start);
    put_u32 (layers, l->n_tensors);
    for (guint32 j = 0; j < l->n_tensors; j++)
      put_u32 (layers, remap[l->tensors[j]]);
    n_layers++;
  }
  if (p->replace_head && p->head) {
    const SppCliFcHead *h = p->head;
    for (guint i = 0; i < h->n_layers; i++) {
      char name[32];
      g_snprintf (name, sizeof name, "fc%u.weight", 6 + i);
      put_fc_layer (layers, i, h->dims[i + 1], 1, ts->len, ts->len + 1);
      add_tensor (ts, name, h->weight[i], h->dims[i + 1], h->dims[i]);
      g_snprintf (name, sizeof name, "fc%u.bias", 6 + i);
      add_tensor (ts, name, h->bias[i], h->dims[i + 1], 0);
      n_layers++;
    }
  }
  if (n_layers == 0) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT, "%s: no layers",
                 in_path);
    return FALSE;
  }

  /* The new entries. */
  const guint K = p->n_classes;
  put_str (kv, "detect.labels");
  put_u32 (kv, 4);
  put_u32 (kv, 3);
  put_u32 (kv, K);
  for (guint k = 0; k < K; k++)
    put_str (kv, p->labels[k]);
  put_str (kv, "detect.thresholds");
  put_u32 (kv, 4);
  put_u32 (kv, 2);
  put_u32 (kv, K);
  for (guint k = 0; k < K; k++)
    put_f32 (kv, p->thresholds[k]);
  const char *fkeys[] = { "detect.feature_scale", "detect.score_a",
                          "detect.score_b" };
  const float fvals[] = { p->feature_scale * in_scale, p->score_a,
                          p->score_b };
  for (int j = 0; j < 3; j++) {
    put_str (kv, fkeys[j]);
    put_u32 (kv, 2);
    put_f32 (kv, fvals[j]);
  }
  out_kv += 5;
  const char *ukeys[] = { "proposals.max_boxes", "proposals.min_size" };
  const guint uvals[] = { p->proposals_max_boxes, p->proposals_min_size };
  for (int j = 0; j < 2; j++)
    if (uvals[j]) {
      put_str (kv, ukeys[j]);
      put_u32 (kv, 0);
      put_u32 (kv, uvals[j]);
      out_kv++;
    }
  if (p->box_vote > 0.0f) {
    put_str (kv, "detect.box_vote");
    put_u32 (kv, 2);
    put_f32 (kv, p->box_vote);
    out_kv++;
  }
  if (p->scales && p->n_scales) {
    put_str (kv, "detect.scales");
    put_u32 (kv, 4);
    put_u32 (kv, 0);
    put_u32 (kv, p->n_scales);
    for (guint j = 0; j < p->n_scales; j++)
      put_u32 (kv, p->scales[j]);
    out_kv++;
  }
  if (p->description) {
    put_str (kv, "general.description");
    put_u32 (kv, 3);
    put_str (kv, p->description);
    out_kv++;
  }
  add_tensor (ts, "svm.weight", p->svm_weight, K, p->feature_dim);
  add_tensor (ts, "svm.bias", p->svm_bias, K, 0);
  if (p->bbox_weight) {
    add_tensor (ts, "bbox.weight", p->bbox_weight, 4 * K, p->pooled_dim);
    add_tensor (ts, "bbox.bias", p->bbox_bias, 4 * K, 0);
  }

  g_autoptr (GByteArray) tinfo = g_byte_array_new ();
  guint64 off = 0;
  for (guint i = 0; i < ts->len; i++) {
    const Tensor *t = &g_array_index (ts, Tensor, i);
    put_str (tinfo, t->name);
    put_u32 (tinfo, t->n_dims);
    for (guint32 d = 0; d < t->n_dims; d++)
      put_u32 (tinfo, t->dims[d]);
    put_u32 (tinfo, 0);
    put_u64 (tinfo, off);
    off += (t->n_floats * 4 + ALIGN - 1) / ALIGN * ALIGN;
  }
  gsize tables = HEADER_SIZE + kv->len + tinfo->len + layers->len;
  guint64 new_data = (tables + ALIGN - 1) / ALIGN * ALIGN;
  g_autoptr (GByteArray) out = g_byte_array_sized_new (new_data + off);
  g_byte_array_append (out, (const guint8 *) "SPPM", 4);
  put_u32 (out, 1);
  put_u64 (out, new_data + off);
  put_u32 (out, out_kv);
  put_u32 (out, ts->len);
  put_u32 (out, n_layers);
  put_u32 (out, ALIGN);
  put_u64 (out, new_data);
  g_byte_array_append (out, kv->data, kv->len);
  g_byte_array_append (out, tinfo->data, tinfo->len);
  g_byte_array_append (out, layers->data, layers->len);
  static const guint8 zeros[ALIGN] = { 0 };
  g_byte_array_append (out, zeros, new_data - out->len);
  for (guint i = 0; i < ts->len; i++) {
    const Tensor *t = &g_array_index (ts, Tensor, i);
    for (gsize j = 0; j < t->n_floats; j++) {
      float f;
      memcpy (&f, t->data + j, 4); /* input tensors may be unaligned here */
      put_f32 (out, f);
    }
    gsize pad = (ALIGN - (t->n_floats * 4) % ALIGN) % ALIGN;
    g_byte_array_append (out, zeros, pad);
  }
  g_assert (out->len == new_data + off);

  g_autofree char *tmp = g_strconcat (out_path, ".tmp", NULL);
  if (!g_file_set_contents (tmp, (const char *) out->data, out->len, &err)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s", err->message);
    return FALSE;
  }
  g_autoptr (SppModel) check = spp_model_load (tmp, &err);
  if (check == NULL) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "the model written is invalid: %s", err->message);
    g_unlink (tmp);
    return FALSE;
  }
  if (g_rename (tmp, out_path) != 0) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s: cannot rename to %s",
                 tmp, out_path);
    g_unlink (tmp);
    return FALSE;
  }
  return TRUE;
}
