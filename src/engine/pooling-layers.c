/* Max and average pooling with Caffe's output size and border rules. */
#include "layers-private.h"
#include "spp-engine/parallel.h"

#include <string.h>

int
spp_pool_out_size (int in, int k, int s, int pad_a, int pad_b,
                   gboolean ceil_mode)
{
  int span = in + pad_a + pad_b - k;
  if (span < 0)
    return 0;
  int out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  /* Caffe (and PyTorch): the last window must start inside the image or
   * the leading padding, not wholly in the trailing padding. */
  if ((out - 1) * s >= in + pad_a)
    out--;
  return out;
}

/* Max pooling in two passes per output row: the max down the window's
 * rows (contiguous, vectorised), then across with the stride. */
typedef struct {
  const SppLayer *l;
  const float *in;
  float *out;
  int in_h, in_w, out_h, out_w;
} PoolJob;

SPP_HOT_LOOP
static void
max_pool_rows (gpointer data, int c0, int c1, int worker)
{
  const PoolJob *j = data;
  const SppLayer *l = j->l;
  const float *in = j->in;
  float *out = j->out;
  const int in_h = j->in_h, in_w = j->in_w, out_h = j->out_h, out_w = j->out_w;
  const SppWindow *w = &l->win;
  float *vmax = g_new (float, in_w);
  for (int ch = c0; ch < c1; ch++) {
    const float *plane = in + (gsize) ch * in_h * in_w;
    float *o = out + (gsize) ch * out_h * out_w;
    for (int oy = 0; oy < out_h; oy++) {
      int y0 = MAX (oy * w->sh - w->pad_t, 0);
      int y1 = MIN (oy * w->sh - w->pad_t + w->kh, in_h);
      memcpy (vmax, plane + (gsize) y0 * in_w, in_w * sizeof (float));
      for (int y = y0 + 1; y < y1; y++) {
        const float *restrict row = plane + (gsize) y * in_w;
        float *restrict v = vmax;
        for (int x = 0; x < in_w; x++)
          v[x] = row[x] > v[x] ? row[x] : v[x];
      }
      spp_max_pool_row (vmax, in_w, w, o + (gsize) oy * out_w, out_w);
    }
  }
  g_free (vmax);
}

void
spp_pool_forward (const SppLayer *l, const float *in, int c, int in_h,
                  int in_w, float *out, int out_h, int out_w)
{
  /* Every window has at least one cell (spp_pool_out_size drops windows
   * that start in the trailing padding), so the fast path applies. */
  if (l->op == SPP_OP_MAXPOOL) {
    PoolJob job = { l, in, out, in_h, in_w, out_h, out_w };
    spp_parallel_for (c, max_pool_rows, &job);
    return;
  }
  const SppWindow *w = &l->win;
  for (int ch = 0; ch < c; ch++) {
    const float *plane = in + (gsize) ch * in_h * in_w;
    float *o = out + (gsize) ch * out_h * out_w;
    for (int oy = 0; oy < out_h; oy++) {
      int y0 = oy * w->sh - w->pad_t, y1 = y0 + w->kh;
      /* Caffe's average divides by the window clipped to the padded image. */
      int py1 = MIN (y1, in_h + w->pad_b);
      y0 = MAX (y0, 0);
      y1 = MIN (y1, in_h);
      for (int ox = 0; ox < out_w; ox++) {
        int x0 = ox * w->sw - w->pad_l, x1 = x0 + w->kw;
        int px1 = MIN (x1, in_w + w->pad_r);
        int pool_area = (py1 - (oy * w->sh - w->pad_t)) * (px1 - x0);
        x0 = MAX (x0, 0);
        x1 = MIN (x1, in_w);
        float s = 0.0f;
        for (int y = y0; y < y1; y++) {
          const float *row = plane + (gsize) y * in_w;
          for (int x = x0; x < x1; x++)
            s += row[x];
        }
        int area = l->count_include_pad ? pool_area : (y1 - y0) * (x1 - x0);
        o[oy * out_w + ox] = area > 0 ? s / area : 0.0f;
      }
    }
  }
}

/* The layer table's entries (docs/model-format.md, ops 4 and 11). */
enum {
  POOL_KH, POOL_KW, POOL_SH, POOL_SW, POOL_PAD_T, POOL_PAD_L, POOL_PAD_B,
  POOL_PAD_R, POOL_CEIL_MODE, POOL_COUNT_INCLUDE_PAD,
};

static const SppIntParam pool_params[] = {
  [POOL_KH] = { "kh", 2, -1, 1, 64, FALSE },
  [POOL_KW] = { "kw", 2, POOL_KH, 1, 64, FALSE },
  [POOL_SH] = { "sh", 2, POOL_KH, 1, 64, FALSE },
  [POOL_SW] = { "sw", 2, POOL_SH, 1, 64, FALSE },
  [POOL_PAD_T] = { "pad_t", 0, -1, 0, 64, FALSE },
  [POOL_PAD_L] = { "pad_l", 0, POOL_PAD_T, 0, 64, FALSE },
  [POOL_PAD_B] = { "pad_b", 0, POOL_PAD_T, 0, 64, FALSE },
  [POOL_PAD_R] = { "pad_r", 0, POOL_PAD_L, 0, 64, FALSE },
  [POOL_CEIL_MODE] = { "ceil_mode", 1, -1, 0, 1, FALSE },
  [POOL_COUNT_INCLUDE_PAD] = { "count_include_pad", 1, -1, 0, 1, FALSE },
};

static gboolean
pool_parse (SppLayer *l, const SppLayerArgs *a)
{
  const SppWindow *w = &l->win;
  spp_layer_read_window (l, a, POOL_KH, FALSE);
  l->ceil_mode = a->ip[POOL_CEIL_MODE];
  l->count_include_pad = l->op == SPP_OP_AVGPOOL
                         && a->ip[POOL_COUNT_INCLUDE_PAD];
  /* A window wholly inside the padding would have no cell. */
  if (w->pad_t >= w->kh || w->pad_b >= w->kh || w->pad_l >= w->kw
      || w->pad_r >= w->kw)
    return spp_layer_fail (l, a, "pool padding must be smaller than the "
                           "kernel");
  return TRUE;
}

static void
pool_shape (const SppLayer *l, int in_h, int in_w, int *out_h, int *out_w)
{
  const SppWindow *w = &l->win;
  *out_h = spp_pool_out_size (in_h, w->kh, w->sh, w->pad_t, w->pad_b,
                              l->ceil_mode);
  *out_w = spp_pool_out_size (in_w, w->kw, w->sw, w->pad_l, w->pad_r,
                              l->ceil_mode);
}

static void
pool_run (const SppLayerRun *r)
{
  spp_pool_forward (r->layer, r->in[0].data, r->in[0].c, r->in[0].h,
                    r->in[0].w, r->out.data, r->out.h, r->out.w);
}

const SppLayerType spp_layer_maxpool = {
  .op = SPP_OP_MAXPOOL, .name = "maxpool", .sections = SPP_LAYER_TRUNK,
  .trunk_inputs = 1,
  .int_params = pool_params, .n_int = POOL_COUNT_INCLUDE_PAD,
  .placeable = TRUE,
  .parse = pool_parse, .shape = pool_shape, .forward = pool_run,
};

const SppLayerType spp_layer_avgpool = {
  .op = SPP_OP_AVGPOOL, .name = "avgpool", .sections = SPP_LAYER_TRUNK,
  .trunk_inputs = 1,
  .int_params = pool_params, .n_int = G_N_ELEMENTS (pool_params),
  .placeable = TRUE,
  .parse = pool_parse, .shape = pool_shape, .forward = pool_run,
};
