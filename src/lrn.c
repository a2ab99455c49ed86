/* Local response normalisation, Caffe semantics (SPEC section 3).
 *   ACROSS_CHANNELS: b = a * (k + alpha/size * sum_{size channels} a^2)^-beta
 *   WITHIN_CHANNEL:  b = a * (1 + alpha/size^2 * sum_{size x size} a^2)^-beta
 * The within-channel form is Caffe's AVE pooling of a^2 with pad
 * (size-1)/2, whose divisor is always size^2 at stride 1. */
#include "layers-private.h"
#include "parallel-private.h"

#include <math.h>
#include <string.h>

/* x^-beta for x >= 1 (k >= 1 in practice); beta = 0.75 is ZF-5's and
 * AlexNet's value and is worth two square roots instead of a pow. */
SPP_HOT_LOOP
static void
pow_neg (float *restrict x, gsize n, float beta)
{
  if (beta == 0.75f) {
    for (gsize i = 0; i < n; i++) {
      float s = sqrtf (x[i]);
      x[i] = 1.0f / (s * sqrtf (s));
    }
  } else if (beta == 0.5f) {
    for (gsize i = 0; i < n; i++)
      x[i] = 1.0f / sqrtf (x[i]);
  } else {
    for (gsize i = 0; i < n; i++)
      x[i] = expf (-beta * logf (x[i]));
  }
}

typedef struct {
  const SppLayer *l;
  const float *in;
  float *out, *scratch;
  int c, h, w;
} LrnJob;

SPP_HOT_LOOP
static void
lrn_within (gpointer data, int c0, int c1, int worker)
{
  const LrnJob *j = data;
  const SppLayer *l = j->l;
  const int h = j->h, w = j->w;
  const int half = l->lrn_size / 2;
  const gsize plane = (gsize) h * w;
  float *restrict sq = j->scratch + 2 * plane * worker;
  float *restrict rows = sq + plane;
  const float scale = l->lrn_alpha / (float) (l->lrn_size * l->lrn_size);
  const float *in = j->in;
  float *out = j->out;

  for (int ch = c0; ch < c1; ch++) {
    const float *restrict a = in + ch * plane;
    float *restrict b = out + ch * plane;
    for (gsize i = 0; i < plane; i++)
      sq[i] = a[i] * a[i];
    /* Separable box sum with zero padding: along rows (one shifted,
     * vectorisable add per tap), then down columns. */
    for (int y = 0; y < h; y++) {
      const float *restrict s = sq + (gsize) y * w;
      float *restrict r = rows + (gsize) y * w;
      memcpy (r, s, w * sizeof (float));
      for (int d = 1; d <= half; d++) {
        for (int x = 0; x + d < w; x++)
          r[x] += s[x + d];
        for (int x = d; x < w; x++)
          r[x] += s[x - d];
      }
    }
    for (int y = 0; y < h; y++) {
      float *restrict dst = sq + (gsize) y * w;
      int y0 = MAX (y - half, 0), y1 = MIN (y + half, h - 1);
      memcpy (dst, rows + (gsize) y0 * w, w * sizeof (float));
      for (int t = y0 + 1; t <= y1; t++) {
        const float *restrict r = rows + (gsize) t * w;
        for (int x = 0; x < w; x++)
          dst[x] += r[x];
      }
      for (int x = 0; x < w; x++)
        dst[x] = 1.0f + scale * dst[x];
    }
    pow_neg (sq, plane, l->lrn_beta);
    for (gsize i = 0; i < plane; i++)
      b[i] = a[i] * sq[i];
  }
}

/* Across channels, workers split the pixels; each keeps running sums
 * for its own range. */
SPP_HOT_LOOP
static void
lrn_across (gpointer data, int p0, int p1, int worker)
{
  const LrnJob *j = data;
  const SppLayer *l = j->l;
  const int c = j->c;
  const int half = l->lrn_size / 2;
  const gsize plane = (gsize) j->h * j->w;
  const gsize np = p1 - p0;
  float *sum = j->scratch + 2 * plane * worker, *scale = sum + np;
  const float alpha = l->lrn_alpha / (float) l->lrn_size;
  const float *in = j->in + p0;
  float *out = j->out + p0;

  memset (sum, 0, np * sizeof (float));
  for (int ch = 0; ch < MIN (half, c); ch++) {
    const float *a = in + ch * plane;
    for (gsize i = 0; i < np; i++)
      sum[i] += a[i] * a[i];
  }
  for (int ch = 0; ch < c; ch++) {
    /* Slide the channel window: add ch + half, drop ch - half - 1. */
    if (ch + half < c) {
      const float *a = in + (gsize) (ch + half) * plane;
      for (gsize i = 0; i < np; i++)
        sum[i] += a[i] * a[i];
    }
    if (ch - half - 1 >= 0) {
      const float *a = in + (gsize) (ch - half - 1) * plane;
      for (gsize i = 0; i < np; i++)
        sum[i] -= a[i] * a[i];
    }
    for (gsize i = 0; i < np; i++)
      scale[i] = l->lrn_k + alpha * MAX (sum[i], 0.0f);
    pow_neg (scale, np, l->lrn_beta);
    const float *a = in + ch * plane;
    float *b = out + ch * plane;
    for (gsize i = 0; i < np; i++)
      b[i] = a[i] * scale[i];
  }
}

gsize
spp_lrn_scratch_size (int h, int w)
{
  return 2 * (gsize) h * w * spp_parallel_get_n_workers ();
}

void
spp_lrn_forward (const SppLayer *l, const float *in, int c, int h, int w,
                 float *out, float *scratch)
{
  LrnJob job = { l, in, out, scratch, c, h, w };
  if (l->lrn_within)
    spp_parallel_for (c, lrn_within, &job);
  else
    spp_parallel_for (h * w, lrn_across, &job);
}
