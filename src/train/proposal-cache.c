/* The proposal cache (docs/training.md, "The proposal cache"): u32
 * magic "SPPP", u32 version 1, u32 max_boxes, u32 seed, u32 width, u32
 * height, u32 n, then n boxes of 4 f32 (x, y, w, h), little-endian. The
 * files are not trusted: every field is checked before the boxes are
 * copied. */
#include "proposal-cache-private.h"

#include "spp/error.h"

#include <math.h>
#include <string.h>

static guint32
get_u32 (const char *data, guint i)
{
  guint32 v;
  memcpy (&v, data + 4 * i, 4);
  return GUINT32_FROM_LE (v);
}

static void
put_u32 (char *data, guint i, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (data + 4 * i, &v, 4);
}

SppBox *
spp_proposal_cache_read (const char *path, const SppProposalParams *params,
                         int width, int height, guint *n, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr (GError) err = NULL;
  if (!g_file_get_contents (path, &data, &len, &err)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s", err->message);
    return NULL;
  }
  if (len < SPP_PROPOSAL_CACHE_HEADER) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: %" G_GSIZE_FORMAT " bytes, expected a header of %d",
                 path, len, SPP_PROPOSAL_CACHE_HEADER);
    return NULL;
  }
  const struct {
    const char *field;
    guint32 expected;
  } header[] = {
    { "magic", SPP_PROPOSAL_CACHE_MAGIC },
    { "version", SPP_PROPOSAL_CACHE_VERSION },
    { "max_boxes", params->max_boxes },
    { "seed", params->seed },
    { "width", (guint32) width },
    { "height", (guint32) height },
  };
  for (guint i = 0; i < G_N_ELEMENTS (header); i++) {
    guint32 v = get_u32 (data, i);
    if (v != header[i].expected) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                   i == 0 ? "%s: %s is 0x%08x, expected 0x%08x (\"SPPP\")"
                          : "%s: %s is %u, expected %u",
                   path, header[i].field, v, header[i].expected);
      return NULL;
    }
  }
  const guint32 count = get_u32 (data, G_N_ELEMENTS (header));
  if (count > params->max_boxes) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: n is %u, expected at most max_boxes %u", path, count,
                 params->max_boxes);
    return NULL;
  }
  const gsize want = SPP_PROPOSAL_CACHE_HEADER
                     + (gsize) count * sizeof (SppBox);
  if (len != want) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: %" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT
                 " for n = %u boxes", path, len, want, count);
    return NULL;
  }
  g_autofree SppBox *boxes = g_new (SppBox, MAX (count, 1));
  for (guint i = 0; i < count; i++) {
    float v[4];
    for (guint q = 0; q < 4; q++) {
      guint32 u = get_u32 (data, G_N_ELEMENTS (header) + 1 + 4 * i + q);
      memcpy (&v[q], &u, 4);
      if (!isfinite (v[q])) {
        g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                     "%s: box %u is not finite, expected finite x, y, w, h",
                     path, i);
        return NULL;
      }
    }
    boxes[i] = (SppBox) { v[0], v[1], v[2], v[3] };
  }
  *n = count;
  return g_steal_pointer (&boxes);
}

gboolean
spp_proposal_cache_write (const char *path, const SppProposalParams *params,
                          int width, int height, const SppBox *boxes,
                          guint n, GError **error)
{
  const gsize len = SPP_PROPOSAL_CACHE_HEADER + (gsize) n * sizeof (SppBox);
  g_autofree char *data = g_malloc (len);
  const guint32 header[] = { SPP_PROPOSAL_CACHE_MAGIC,
                             SPP_PROPOSAL_CACHE_VERSION, params->max_boxes,
                             params->seed, (guint32) width, (guint32) height,
                             n };
  for (guint i = 0; i < G_N_ELEMENTS (header); i++)
    put_u32 (data, i, header[i]);
  for (guint i = 0; i < n; i++) {
    const float v[4] = { boxes[i].x, boxes[i].y, boxes[i].w, boxes[i].h };
    for (guint q = 0; q < 4; q++) {
      guint32 u;
      memcpy (&u, &v[q], 4);
      put_u32 (data, G_N_ELEMENTS (header) + 4 * i + q, u);
    }
  }
  g_autoptr (GError) err = NULL;
  if (!g_file_set_contents (path, data, len, &err)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s", err->message);
    return FALSE;
  }
  return TRUE;
}
