/* Ridge regression for the box regressors (src/train/ridge.c) against
 * numpy.linalg.solve on the same centred, scaled problem
 * (make_train_vectors.py), and a hand-worked exact fit. */
#include "ridge-private.h"
#include "train-test.h"

#include <math.h>

static void
test_numpy (void)
{
  gsize nx, nt, nw, nb;
  const guint N = (guint) spp_test_scalar ("ridge", "n");
  const guint D = (guint) spp_test_scalar ("ridge", "dim");
  g_autofree float *x = spp_test_vector_f ("ridge", "x", &nx);
  g_autofree float *t = spp_test_vector_f ("ridge", "t", &nt);
  g_autofree double *want_w = spp_test_vector ("ridge", "w", &nw);
  g_autofree double *want_b = spp_test_vector ("ridge", "b", &nb);
  g_assert_cmpuint (nx, ==, N * D);
  g_assert_cmpuint (nt, ==, N * 4);
  g_assert_cmpuint (nw, ==, 4 * D);
  g_autofree float *w = g_new (float, 4 * D);
  float b[4];
  spp_ridge_fit (x, N, D, t, spp_test_scalar ("ridge", "lambda"),
                 spp_test_scalar ("ridge", "target_norm"), w, b);
  spp_test_assert_close_f ("w", w, want_w, 4 * D, 1e-6, 1e-4);
  spp_test_assert_close_f ("b", b, want_b, 4, 1e-6, 1e-4);
}

/* Targets that are an exact affine function of one feature, t = 2 x + 1
 * on x = 0, 1, 2, 3: centred (mean 1.5) the norms average 1, so the
 * feature is scaled by sc = 20: xs = -30, -10, 10, 30, S = sum xs^2 =
 * 2000, and xs . (t - mean t) = 20 * 2 * 5 = 200. The slope on raw rows
 * is sc * 200 / (S + lambda): 2 (exact) as lambda -> 0, 2 * 2000 / 2400
 * at lambda 400; the bias keeps t's mean, 4 - 1.5 w. */
static void
test_hand (void)
{
  const float x[] = { 0, 1, 2, 3 };
  float t[16];
  for (int i = 0; i < 4; i++)
    for (int q = 0; q < 4; q++)
      t[i * 4 + q] = 2 * x[i] + 1;
  float w[4], b[4];
  spp_ridge_fit (x, 4, 1, t, 1e-9, 20.0, w, b);
  const double exact_w[] = { 2, 2, 2, 2 }, exact_b[] = { 1, 1, 1, 1 };
  spp_test_assert_close_f ("w", w, exact_w, 4, 1e-5, 0);
  spp_test_assert_close_f ("b", b, exact_b, 4, 1e-5, 0);
  spp_ridge_fit (x, 4, 1, t, 400.0, 20.0, w, b);
  const double s = 2.0 * 2000 / 2400;
  const double shrunk_w[] = { s, s, s, s };
  const double shrunk_b[] = { 4 - 1.5 * s, 4 - 1.5 * s, 4 - 1.5 * s,
                              4 - 1.5 * s };
  spp_test_assert_close_f ("w", w, shrunk_w, 4, 1e-5, 0);
  spp_test_assert_close_f ("b", b, shrunk_b, 4, 1e-5, 0);
}

/* The comparison every training test uses fails on NaN and infinity
 * on either side, however loose the tolerance. */
typedef struct {
  float got;
  double want;
  const char *message;
} NotFinite;

static const NotFinite not_finite[] = {
  { NAN, 0, "*v[0]: got nan, want 0 *" },
  { 0, NAN, "*v[0]: got 0, want nan *" },
  { INFINITY, 0, "*v[0]: got inf, want 0 *" },
  { 0, -INFINITY, "*v[0]: got 0, want -inf *" },
};

static void
test_compare_not_finite (gconstpointer data)
{
  const NotFinite *c = data;
  if (g_test_subprocess ()) {
    spp_test_assert_close_f ("v", &c->got, &c->want, 1, 1e30, 1e30);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr (c->message);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ridge/numpy", test_numpy);
  g_test_add_func ("/ridge/hand", test_hand);
  for (guint i = 0; i < G_N_ELEMENTS (not_finite); i++) {
    g_autofree char *path = g_strdup_printf ("/compare/not-finite/%u", i);
    g_test_add_data_func (path, &not_finite[i], test_compare_not_finite);
  }
  return g_test_run ();
}
