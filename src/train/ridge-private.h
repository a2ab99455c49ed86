/* Ridge regression for the box regressors (docs/method.md 2.9,
 * docs/training.md section 3, step 5). */
#pragma once

#include <glib.h>

/* Fits the 4 targets @t (@n rows of 4) on the rows @x (@n x @dim):
 * minimises |X' w - (t - mean t)|^2 + @lambda |w|^2 per target, X' being
 * @x centred (so the bias is not shrunk) and scaled to mean row norm
 * @target_norm. Writes weights for raw rows, @w (4 x @dim) and @b (4),
 * so that t ~ x . w + b. Needs @n >= 1. */
void spp_ridge_fit (const float *x, guint n, guint dim, const float *t,
                    double lambda, double target_norm, float *w, float *b);
