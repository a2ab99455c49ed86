/* Platt scaling (Platt, "Probabilistic outputs for support vector
 * machines", 1999) for the calibration of docs/training.md section 3,
 * step 6. */
#pragma once

#include <glib.h>

/* The A, B that minimise the log loss of sigmoid(A s + B) against the
 * labels @y, with Platt's smoothed targets (N+ + 1) / (N+ + 2) for
 * positives and 1 / (N- + 2) for negatives. With no positives or no
 * negatives: A = 1, B = 0. */
void spp_platt_fit (const float *s, const gboolean *y, guint n, float *A_out,
                    float *B_out);
