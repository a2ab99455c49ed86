/* Ridge regression by conjugate gradients on (X^T X + lambda I) w =
 * X^T y, never forming X^T X (dim can be 12,800): each step is two
 * passes over X. */
#include "ridge-private.h"

#include <math.h>
#include <string.h>

#define CG_MAX_ITER 200

void
spp_ridge_fit (const float *X, guint n, guint dim, const float *T,
               double lambda, double target_norm, float *w_out, float *b_out)
{
  const guint N = n, D = dim;
  g_autofree double *mean = g_new0 (double, D);
  double tmean[4] = { 0 }, norm = 0;
  for (guint i = 0; i < N; i++) {
    const float *x = X + (gsize) i * D;
    for (guint j = 0; j < D; j++)
      mean[j] += x[j];
    for (int q = 0; q < 4; q++)
      tmean[q] += T[i * 4 + q];
  }
  for (guint j = 0; j < D; j++)
    mean[j] /= N;
  for (int q = 0; q < 4; q++)
    tmean[q] /= N;
  for (guint i = 0; i < N; i++) {
    const float *x = X + (gsize) i * D;
    double s = 0;
    for (guint j = 0; j < D; j++)
      s += (x[j] - mean[j]) * (x[j] - mean[j]);
    norm += sqrt (s);
  }
  norm /= N;
  const double sc = norm > 0 ? target_norm / norm : 1.0;
  g_autofree double *r = g_new (double, D), *pv = g_new (double, D);
  g_autofree double *ap = g_new (double, D), *w = g_new (double, D);
  g_autofree double *xv = g_new (double, N);
  for (int q = 0; q < 4; q++) {
    /* b = X^T (t - mean); w = 0, so r = b. */
    memset (r, 0, D * sizeof (double));
    for (guint i = 0; i < N; i++) {
      const float *x = X + (gsize) i * D;
      double tq = T[i * 4 + q] - tmean[q];
      for (guint j = 0; j < D; j++)
        r[j] += sc * (x[j] - mean[j]) * tq;
    }
    memset (w, 0, D * sizeof (double));
    memcpy (pv, r, D * sizeof (double));
    double rr = 0;
    for (guint j = 0; j < D; j++)
      rr += r[j] * r[j];
    const double rr0 = rr;
    for (int it = 0; it < CG_MAX_ITER && rr > 1e-12 * rr0 && rr > 0; it++) {
      for (guint i = 0; i < N; i++) {
        const float *x = X + (gsize) i * D;
        double s = 0;
        for (guint j = 0; j < D; j++)
          s += sc * (x[j] - mean[j]) * pv[j];
        xv[i] = s;
      }
      for (guint j = 0; j < D; j++)
        ap[j] = lambda * pv[j];
      for (guint i = 0; i < N; i++) {
        const float *x = X + (gsize) i * D;
        for (guint j = 0; j < D; j++)
          ap[j] += sc * (x[j] - mean[j]) * xv[i];
      }
      double pap = 0;
      for (guint j = 0; j < D; j++)
        pap += pv[j] * ap[j];
      double a = rr / pap, rr_new = 0;
      for (guint j = 0; j < D; j++) {
        w[j] += a * pv[j];
        r[j] -= a * ap[j];
        rr_new += r[j] * r[j];
      }
      for (guint j = 0; j < D; j++)
        pv[j] = r[j] + rr_new / rr * pv[j];
      rr = rr_new;
    }
    /* t = sc (x - mean) . w + tmean = x . (sc w) + (tmean - sc mean . w) */
    double b = tmean[q];
    for (guint j = 0; j < D; j++) {
      w_out[(gsize) q * D + j] = (float) (sc * w[j]);
      b -= sc * mean[j] * w[j];
    }
    b_out[q] = (float) b;
  }
}
