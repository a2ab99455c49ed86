/* Channel ops on NCHW batch-1 maps: concat (contiguous copies, none for
 * inputs the net placed in its buffer), slice (a view, resolved by the
 * net) and shuffle (ShuffleNet: channel g*cpg + i goes to i*groups + g). */
#include "layers-private.h"

#include <string.h>

void
spp_shuffle_forward (const float *in, float *out, int c, int groups,
                     gsize plane_size)
{
  const int cpg = c / groups;
  for (int g = 0; g < groups; g++)
    for (int i = 0; i < cpg; i++)
      memcpy (out + (gsize) (i * groups + g) * plane_size,
              in + (gsize) (g * cpg + i) * plane_size,
              plane_size * sizeof (float));
}

/* The layer table's entries (docs/model-format.md, ops 5, 6 and 7). */
static gboolean
concat_parse (SppLayer *l, const SppLayerArgs *a)
{
  gint64 c = 0;
  for (guint i = 0; i < l->n_inputs; i++)
    c += a->in_c[i];
  if (c > 65536)
    return spp_layer_fail (l, a, "concat gives %" G_GINT64_FORMAT
                           " channels, at most 65536", c);
  l->out_c = (int) c;
  return TRUE;
}

static void
concat_run (const SppLayerRun *r)
{
  float *dst = r->out.data;
  const gsize plane = (gsize) r->out.h * r->out.w;
  for (guint k = 0; k < r->layer->n_inputs; k++) {
    const SppLayerMap *src = &r->in[k];
    const gsize n = (gsize) src->c * plane;
    /* Inputs placed in the concat's buffer are already there. */
    if (src->data != dst)
      memcpy (dst, src->data, n * sizeof (float));
    dst += n;
  }
}

const SppLayerType spp_layer_concat = {
  .op = SPP_OP_CONCAT, .name = "concat", .sections = SPP_LAYER_TRUNK,
  .trunk_inputs = -1, .placeable = TRUE,
  .parse = concat_parse, .forward = concat_run,
};

enum { SLICE_START, SLICE_COUNT };

static const SppIntParam slice_params[] = {
  [SLICE_START] = { "start", 0, -1, 0, 65536, FALSE },
  /* -1: up to the last channel */
  [SLICE_COUNT] = { "count", -1, -1, -1, 65536, FALSE },
};

static gboolean
slice_parse (SppLayer *l, const SppLayerArgs *a)
{
  l->slice_start = a->ip[SLICE_START];
  if (l->slice_start > l->in_c)
    return spp_layer_fail (l, a, "slice start %d outside %d channels",
                           l->slice_start, l->in_c);
  l->out_c = a->ip[SLICE_COUNT] < 0 ? l->in_c - l->slice_start
                                     : a->ip[SLICE_COUNT];
  if (l->out_c < 1 || l->out_c > l->in_c - l->slice_start)
    return spp_layer_fail (l, a, "slice [%d, +%d) outside %d channels",
                           l->slice_start, l->out_c, l->in_c);
  return TRUE;
}

/* A slice is a view of its input's channels: net.c resolves it. */
const SppLayerType spp_layer_slice = {
  .op = SPP_OP_SLICE, .name = "slice", .sections = SPP_LAYER_TRUNK,
  .trunk_inputs = 1,
  .int_params = slice_params, .n_int = G_N_ELEMENTS (slice_params),
  .view = TRUE, .parse = slice_parse,
};

static const SppIntParam shuffle_params[] = {
  { "groups", 2, -1, 1, 65536, FALSE },
};

static gboolean
shuffle_parse (SppLayer *l, const SppLayerArgs *a)
{
  l->groups = a->ip[0];
  if (l->in_c % l->groups)
    return spp_layer_fail (l, a, "shuffle groups %d must divide %d channels",
                           l->groups, l->in_c);
  return TRUE;
}

static void
shuffle_run (const SppLayerRun *r)
{
  spp_shuffle_forward (r->in[0].data, r->out.data, r->in[0].c,
                       r->layer->groups, (gsize) r->out.h * r->out.w);
}

const SppLayerType spp_layer_shuffle = {
  .op = SPP_OP_SHUFFLE, .name = "shuffle", .sections = SPP_LAYER_TRUNK,
  .trunk_inputs = 1,
  .int_params = shuffle_params, .n_int = 1,
  .placeable = TRUE,
  .parse = shuffle_parse, .forward = shuffle_run,
};
