/* Platt scaling (docs/training.md section 3, step 6). */
#include "platt-private.h"

#include <math.h>

/* Newton's method with backtracking on the two parameters. */
void
spp_platt_fit (const float *s, const gboolean *y, guint n, float *A_out,
               float *B_out)
{
  double np = 0, nn = 0;
  for (guint i = 0; i < n; i++)
    y[i] ? np++ : nn++;
  const double hi = (np + 1) / (np + 2), lo = 1 / (nn + 2);
  double A = 1, B = 0;
  if (np == 0 || nn == 0) {
    *A_out = 1;
    *B_out = 0;
    return;
  }
  for (int it = 0; it < 100; it++) {
    double g1 = 0, g2 = 0, h11 = 1e-12, h22 = 1e-12, h12 = 0, f = 0;
    for (guint i = 0; i < n; i++) {
      double z = A * s[i] + B, p = 1 / (1 + exp (-z)), t = y[i] ? hi : lo;
      f += -(t * log (p + 1e-300) + (1 - t) * log (1 - p + 1e-300));
      double d = p - t, v = p * (1 - p);
      g1 += d * s[i];
      g2 += d;
      h11 += v * s[i] * s[i];
      h22 += v;
      h12 += v * s[i];
    }
    double det = h11 * h22 - h12 * h12;
    if (fabs (g1) + fabs (g2) < 1e-7 || det <= 0)
      break;
    double dA = -(h22 * g1 - h12 * g2) / det, dB = -(h11 * g2 - h12 * g1) / det;
    double step = 1;
    for (; step > 1e-6; step /= 2) {
      double nf = 0, a2 = A + step * dA, b2 = B + step * dB;
      for (guint i = 0; i < n; i++) {
        double p = 1 / (1 + exp (-(a2 * s[i] + b2))), t = y[i] ? hi : lo;
        nf += -(t * log (p + 1e-300) + (1 - t) * log (1 - p + 1e-300));
      }
      if (nf < f + 1e-4 * step * (g1 * dA + g2 * dB))
        break;
    }
    A += step * dA;
    B += step * dB;
  }
  *A_out = (float) A;
  *B_out = (float) B;
}

