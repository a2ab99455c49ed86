/* Max and average pooling with Caffe's output size and border rules. */
#include "layers-private.h"

#include <float.h>

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

void
spp_pool_forward (const SppLayer *l, const float *in, int c, int in_h,
                  int in_w, float *out, int out_h, int out_w)
{
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
