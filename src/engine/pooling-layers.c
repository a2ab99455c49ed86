/* Max and average pooling with Caffe's output size and border rules. */
#include "layers-private.h"
#include "parallel-private.h"

#include <float.h>
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
  const gboolean is_max = l->op == SPP_OP_MAXPOOL;
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
        if (is_max) {
          float m = -FLT_MAX;
          for (int y = y0; y < y1; y++) {
            const float *row = plane + (gsize) y * in_w;
            for (int x = x0; x < x1; x++)
              m = row[x] > m ? row[x] : m;
          }
          o[oy * out_w + ox] = (y1 > y0 && x1 > x0) ? m : 0.0f;
        } else {
          float s = 0.0f;
          for (int y = y0; y < y1; y++) {
            const float *row = plane + (gsize) y * in_w;
            for (int x = x0; x < x1; x++)
              s += row[x];
          }
          int area = l->count_include_pad ? pool_area
                                          : (y1 - y0) * (x1 - x0);
          o[oy * out_w + ox] = area > 0 ? s / area : 0.0f;
        }
      }
    }
  }
}
