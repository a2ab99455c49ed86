/* Convolution as im2col + one sgemm per group (darknet's shape), with the
 * two cases where im2col is waste handled apart: 1x1 stride-1 unpadded
 * convolutions multiply the input directly, and depthwise convolutions
 * (one input channel per group) run a direct loop, since a GEMM with one
 * output row cannot use the machine. */
#include "layers-private.h"

#include "blas-private.h"
#include "parallel-private.h"

#include <string.h>

/* Column blocks keep the im2col buffer in the last-level cache; the GEMM
 * is still large enough (hundreds of columns) to run at full rate. */
#define COL_BLOCK_BYTES (4u << 20)

int
spp_conv_out_size (int in, int k, int s, int pad_a, int pad_b, int dil)
{
  int span = dil * (k - 1) + 1;
  if (in + pad_a + pad_b < span)
    return 0;
  return (in + pad_a + pad_b - span) / s + 1;
}

static gboolean
is_pointwise (const SppLayer *l)
{
  const SppWindow *w = &l->win;
  return w->kh == 1 && w->kw == 1 && w->sh == 1 && w->sw == 1 && !w->pad_t
         && !w->pad_l && !w->pad_b && !w->pad_r;
}

static gboolean
is_depthwise (const SppLayer *l)
{
  return l->groups > 1 && l->groups == l->in_c && l->out_c == l->in_c;
}

static int
col_block (const SppLayer *l, int out_h, int out_w)
{
  gsize k = (gsize) (l->in_c / l->groups) * l->win.kh * l->win.kw;
  gsize cols = COL_BLOCK_BYTES / (k * sizeof (float));
  gsize total = (gsize) out_h * out_w;
  /* Whole output rows per block, at least one. */
  gsize rows = MAX (cols / (gsize) out_w, 1);
  return (int) MIN (rows * out_w, total);
}

gsize
spp_conv_scratch_size (const SppLayer *l, int in_h, int in_w)
{
  const SppWindow *w = &l->win;
  if (is_pointwise (l) || is_depthwise (l))
    return 0;
  int oh = spp_conv_out_size (in_h, w->kh, w->sh, w->pad_t, w->pad_b,
                              w->dil_h);
  int ow = spp_conv_out_size (in_w, w->kw, w->sw, w->pad_l, w->pad_r,
                              w->dil_w);
  gsize k = (gsize) (l->in_c / l->groups) * w->kh * w->kw;
  return k * (gsize) col_block (l, oh, ow);
}

/* Fills col[(c*kh + i)*kw + j][p - p0] for output pixels p in [p0, p1),
 * zero where the kernel tap falls in the padding. */
typedef struct {
  const float *in;
  int in_h, in_w;
  const SppWindow *w;
  int out_w, p0, p1;
  float *col;
} Im2colJob;

SPP_HOT_LOOP
static void
im2col (gpointer data, int c0, int c1, int worker)
{
  const Im2colJob *j = data;
  const float *in = j->in;
  const int in_h = j->in_h, in_w = j->in_w, out_w = j->out_w;
  const int p0 = j->p0, p1 = j->p1;
  const SppWindow *w = j->w;
  float *col = j->col;
  const int n = p1 - p0;
  for (int c = c0; c < c1; c++) {
    const float *plane = in + (gsize) c * in_h * in_w;
    for (int ki = 0; ki < w->kh; ki++)
      for (int kj = 0; kj < w->kw; kj++) {
        float *dst = col + ((gsize) (c * w->kh + ki) * w->kw + kj) * n;
        int p = p0;
        while (p < p1) {
          int oy = p / out_w, ox = p % out_w;
          int run = MIN (out_w - ox, p1 - p);
          int iy = oy * w->sh - w->pad_t + ki * w->dil_h;
          int ix0 = ox * w->sw - w->pad_l + kj * w->dil_w;
          float *d = dst + (p - p0);
          if (iy < 0 || iy >= in_h) {
            memset (d, 0, run * sizeof (float));
          } else {
            const float *row = plane + (gsize) iy * in_w;
            /* Taps t in [t0, t1) land inside the row; zeros around. */
            const int sw = w->sw;
            int t0 = ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw;
            int t1 = ix0 >= in_w ? 0 : (in_w - 1 - ix0) / sw + 1;
            t0 = MIN (t0, run);
            t1 = CLAMP (t1, t0, run);
            for (int t = 0; t < t0; t++)
              d[t] = 0.0f;
            if (sw == 1) {
              memcpy (d + t0, row + ix0 + t0, (t1 - t0) * sizeof (float));
            } else {
              const float *src = row + ix0;
              for (int t = t0; t < t1; t++)
                d[t] = src[t * sw];
            }
            for (int t = t1; t < run; t++)
              d[t] = 0.0f;
          }
          p += run;
        }
      }
  }
}

typedef struct {
  const SppLayer *l;
  const float *in;
  float *out;
  int in_h, in_w, out_h, out_w;
} DepthwiseJob;

SPP_HOT_LOOP
static void
depthwise (gpointer data, int c0, int c1, int worker)
{
  const DepthwiseJob *j = data;
  const SppLayer *l = j->l;
  const float *in = j->in;
  float *out = j->out;
  const int in_h = j->in_h, in_w = j->in_w, out_h = j->out_h, out_w = j->out_w;
  const SppWindow *w = &l->win;
  const float *weight = l->weight->data;
  for (int c = c0; c < c1; c++) {
    const float *plane = in + (gsize) c * in_h * in_w;
    const float *k = weight + (gsize) c * w->kh * w->kw;
    float *o = out + (gsize) c * out_h * out_w;
    for (int oy = 0; oy < out_h; oy++) {
      float *orow = o + (gsize) oy * out_w;
      memset (orow, 0, out_w * sizeof (float));
      for (int ki = 0; ki < w->kh; ki++) {
        int iy = oy * w->sh - w->pad_t + ki * w->dil_h;
        if (iy < 0 || iy >= in_h)
          continue;
        const float *irow = plane + (gsize) iy * in_w;
        for (int kj = 0; kj < w->kw; kj++) {
          float kv = k[ki * w->kw + kj];
          int off = kj * w->dil_w - w->pad_l;
          /* Output columns whose tap lands inside the row. */
          int ox0 = off < 0 ? (-off + w->sw - 1) / w->sw : 0;
          int ox1 = (in_w - 1 - off) >= 0 ? (in_w - 1 - off) / w->sw + 1 : 0;
          ox1 = MIN (ox1, out_w);
          if (w->sw == 1)
            for (int ox = ox0; ox < ox1; ox++)
              orow[ox] += kv * irow[ox + off];
          else
            for (int ox = ox0; ox < ox1; ox++)
              orow[ox] += kv * irow[ox * w->sw + off];
        }
      }
    }
  }
}

void
spp_conv_forward (const SppLayer *l, const float *in, int in_h, int in_w,
                  float *out, int out_h, int out_w, float *scratch)
{
  const SppWindow *w = &l->win;
  const int g = l->groups;
  const int icg = l->in_c / g, ocg = l->out_c / g;
  const int k = icg * w->kh * w->kw;
  const gsize plane = (gsize) out_h * out_w;
  const float *weight = l->weight->data;

  if (plane == 0)
    return;
  if (is_depthwise (l)) {
    DepthwiseJob job = { l, in, out, in_h, in_w, out_h, out_w };
    spp_parallel_for (l->out_c, depthwise, &job);
  } else if (is_pointwise (l)) {
    for (int gi = 0; gi < g; gi++)
      spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_NO_TRANS, ocg, (int) plane, icg,
                 1.0f, weight + (gsize) gi * ocg * k, k,
                 in + (gsize) gi * icg * plane, (int) plane, 0.0f,
                 out + (gsize) gi * ocg * plane, (int) plane);
  } else {
    const int block = col_block (l, out_h, out_w);
    const gsize in_plane = (gsize) in_h * in_w;
    for (int gi = 0; gi < g; gi++) {
      const float *gin = in + (gsize) gi * icg * in_plane;
      for (int p0 = 0; p0 < (int) plane; p0 += block) {
        int p1 = MIN (p0 + block, (int) plane);
        Im2colJob job = { gin, in_h, in_w, w, out_w, p0, p1, scratch };
        spp_parallel_for (icg, im2col, &job);
        spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_NO_TRANS, ocg, p1 - p0, k,
                   1.0f, weight + (gsize) gi * ocg * k, k, scratch, p1 - p0,
                   0.0f, out + (gsize) gi * ocg * plane + p0, (int) plane);
      }
    }
  }
  if (l->bias)
    spp_bias_act_forward (l->act, l->slope, l->bias->data, out, l->out_c,
                          plane);
  else if (l->act != SPP_ACT_NONE)
    spp_act_forward (l->act, l->slope, out, plane * l->out_c);
}
