/* Platt scaling (Platt, "Probabilistic outputs for support vector
 * machines", 1999): the A, B that minimise the log loss of
 * sigmoid(A s + B) against the labels @y, with Platt's smoothed targets
 * (N+ + 1) / (N+ + 2) for positives and 1 / (N- + 2) for negatives. With
 * no positives or no negatives: A = 1, B = 0. */
#pragma once

#include <glib.h>

void spp_cli_platt (const float *s, const gboolean *y, guint n, float *A_out,
                    float *B_out);
