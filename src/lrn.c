/* Local response normalisation, Caffe semantics (SPEC section 3).
 *   ACROSS_CHANNELS: b = a * (k + alpha/size * sum_{size channels} a^2)^-beta
 *   WITHIN_CHANNEL:  b = a * (1 + alpha/size^2 * sum_{size x size} a^2)^-beta
 * The within-channel form is Caffe's AVE pooling of a^2 with pad
 * (size-1)/2, whose divisor is always size^2 at stride 1. */
#include "layers-private.h"

#include <math.h>
#include <string.h>

/* x^-beta for x >= 1 (k >= 1 in practice); beta = 0.75 is ZF-5's and
 * AlexNet's value and is worth two square roots instead of a pow. */
static void
pow_neg (float *x, gsize n, float beta)
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

static void
lrn_within (const SppLayer *l, const float *in, int c, int h, int w,
            float *out, float *scratch)
{
  const int half = l->lrn_size / 2;
  const gsize plane = (gsize) h * w;
  float *sq = scratch, *rows = scratch + plane;
  const float scale = l->lrn_alpha / (float) (l->lrn_size * l->lrn_size);

  for (int ch = 0; ch < c; ch++) {
    const float *a = in + ch * plane;
    float *b = out + ch * plane;
    for (gsize i = 0; i < plane; i++)
      sq[i] = a[i] * a[i];
    /* Separable box sum with zero padding: rows first, then columns. */
    for (int y = 0; y < h; y++) {
      const float *s = sq + (gsize) y * w;
      float *r = rows + (gsize) y * w;
      for (int x = 0; x < w; x++) {
        float acc = 0.0f;
        int x0 = MAX (x - half, 0), x1 = MIN (x + half, w - 1);
        for (int t = x0; t <= x1; t++)
          acc += s[t];
        r[x] = acc;
      }
    }
    for (int y = 0; y < h; y++) {
      float *d = sq + (gsize) y * w;
      int y0 = MAX (y - half, 0), y1 = MIN (y + half, h - 1);
      memcpy (d, rows + (gsize) y0 * w, w * sizeof (float));
      for (int t = y0 + 1; t <= y1; t++) {
        const float *r = rows + (gsize) t * w;
        for (int x = 0; x < w; x++)
          d[x] += r[x];
      }
      for (int x = 0; x < w; x++)
        d[x] = 1.0f + scale * d[x];
    }
    pow_neg (sq, plane, l->lrn_beta);
    for (gsize i = 0; i < plane; i++)
      b[i] = a[i] * sq[i];
  }
}

static void
lrn_across (const SppLayer *l, const float *in, int c, int h, int w,
            float *out, float *scratch)
{
  const int half = l->lrn_size / 2;
  const gsize plane = (gsize) h * w;
  float *sum = scratch, *scale = scratch + plane;
  const float alpha = l->lrn_alpha / (float) l->lrn_size;

  memset (sum, 0, plane * sizeof (float));
  for (int ch = 0; ch < MIN (half, c); ch++) {
    const float *a = in + ch * plane;
    for (gsize i = 0; i < plane; i++)
      sum[i] += a[i] * a[i];
  }
  for (int ch = 0; ch < c; ch++) {
    /* Slide the channel window: add ch + half, drop ch - half - 1. */
    if (ch + half < c) {
      const float *a = in + (gsize) (ch + half) * plane;
      for (gsize i = 0; i < plane; i++)
        sum[i] += a[i] * a[i];
    }
    if (ch - half - 1 >= 0) {
      const float *a = in + (gsize) (ch - half - 1) * plane;
      for (gsize i = 0; i < plane; i++)
        sum[i] -= a[i] * a[i];
    }
    for (gsize i = 0; i < plane; i++)
      scale[i] = l->lrn_k + alpha * MAX (sum[i], 0.0f);
    pow_neg (scale, plane, l->lrn_beta);
    const float *a = in + ch * plane;
    float *b = out + ch * plane;
    for (gsize i = 0; i < plane; i++)
      b[i] = a[i] * scale[i];
  }
}

void
spp_lrn_forward (const SppLayer *l, const float *in, int c, int h, int w,
                 float *out, float *scratch)
{
  if (l->lrn_within)
    lrn_within (l, in, c, h, w, out, scratch);
  else
    lrn_across (l, in, c, h, w, out, scratch);
}
