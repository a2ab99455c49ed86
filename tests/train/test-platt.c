/* Platt scaling (src/train/platt.c) against a hand computation and the
 * optimality of its result. */
#include "platt-private.h"

#include <math.h>

/* Platt's loss: cross-entropy of sigmoid(A s + B) against the smoothed
 * targets. */
static double
loss (const float *s, const gboolean *y, guint n, double A, double B)
{
  double np = 0, nn = 0, f = 0;
  for (guint i = 0; i < n; i++)
    y[i] ? np++ : nn++;
  const double hi = (np + 1) / (np + 2), lo = 1 / (nn + 2);
  for (guint i = 0; i < n; i++) {
    double p = 1 / (1 + exp (-(A * s[i] + B))), t = y[i] ? hi : lo;
    f -= t * log (p) + (1 - t) * log (1 - p);
  }
  return f;
}

/* One negative at -1, one positive at +1: targets 1/3 and 2/3, met
 * exactly by sigmoid(A s + B) with B = 0 and sigmoid(A) = 2/3, i.e.
 * A = ln 2. */
static void
test_hand (void)
{
  const float s[] = { -1, 1 };
  const gboolean y[] = { FALSE, TRUE };
  float A, B;
  spp_platt_fit (s, y, 2, &A, &B);
  g_assert_cmpfloat_with_epsilon (A, log (2.0), 1e-5);
  g_assert_cmpfloat_with_epsilon (B, 0.0, 1e-5);
}

/* Overlapping classes: the result is the loss's minimum; every step of
 * 0.01 in A or B from it costs more. */
static void
test_minimum (void)
{
  const float s[] = { -2.0f, -1.5f, -1.0f, -0.2f, 0.1f, 0.3f,
                      -0.5f, 0.2f, 0.8f, 1.0f, 1.7f, 2.5f };
  const gboolean y[] = { 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1 };
  const guint n = G_N_ELEMENTS (s);
  float A, B;
  spp_platt_fit (s, y, n, &A, &B);
  g_assert_cmpfloat (A, >, 0.0f);
  const double f = loss (s, y, n, A, B);
  for (int da = -1; da <= 1; da++)
    for (int db = -1; db <= 1; db++)
      if (da || db)
        g_assert_cmpfloat (loss (s, y, n, A + 0.01 * da, B + 0.01 * db), >,
                           f);
}

/* One class only: no fit, the identity A = 1, B = 0. */
static void
test_one_class (void)
{
  const float s[] = { 0.5f, 2.0f };
  const gboolean y[] = { TRUE, TRUE };
  float A = 7, B = 7;
  spp_platt_fit (s, y, 2, &A, &B);
  g_assert_cmpfloat (A, ==, 1.0f);
  g_assert_cmpfloat (B, ==, 0.0f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/platt/hand", test_hand);
  g_test_add_func ("/platt/minimum", test_minimum);
  g_test_add_func ("/platt/one-class", test_one_class);
  return g_test_run ();
}
