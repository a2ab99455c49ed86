/* Helpers of the training tests (train-test.h). */
#include "train-test.h"

#include <math.h>

static void
check (const char *what, gsize i, double got, double want, double atol,
       double rtol)
{
  if (!isfinite (got) || !isfinite (want)
      || !(fabs (got - want) <= atol + rtol * fabs (want)))
    g_error ("%s[%" G_GSIZE_FORMAT "]: got %.9g, want %.9g (atol %g, rtol "
             "%g)", what, i, got, want, atol, rtol);
}

void
spp_test_assert_close (const char *what, const double *got,
                       const double *want, gsize n, double atol, double rtol)
{
  for (gsize i = 0; i < n; i++)
    check (what, i, got[i], want[i], atol, rtol);
}

void
spp_test_assert_close_f (const char *what, const float *got,
                         const double *want, gsize n, double atol,
                         double rtol)
{
  for (gsize i = 0; i < n; i++)
    check (what, i, got[i], want[i], atol, rtol);
}

double *
spp_test_vector (const char *group, const char *key, gsize *n)
{
  static GKeyFile *kf;
  if (kf == NULL) {
    g_autofree char *path = g_build_filename (g_getenv ("G_TEST_SRCDIR"),
                                              "vectors.ini", NULL);
    g_autoptr (GError) error = NULL;
    kf = g_key_file_new ();
    g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &error);
    g_assert_no_error (error);
  }
  g_autoptr (GError) error = NULL;
  double *v = g_key_file_get_double_list (kf, group, key, n, &error);
  g_assert_no_error (error);
  return v;
}

double
spp_test_scalar (const char *group, const char *key)
{
  gsize n;
  g_autofree double *v = spp_test_vector (group, key, &n);
  g_assert_cmpuint (n, ==, 1);
  return v[0];
}

float *
spp_test_vector_f (const char *group, const char *key, gsize *n)
{
  g_autofree double *v = spp_test_vector (group, key, n);
  float *f = g_new (float, MAX (*n, 1));
  for (gsize i = 0; i < *n; i++)
    f[i] = (float) v[i];
  return f;
}

char *
spp_test_data_path (const char *name)
{
  return g_build_filename (g_getenv ("SPP_TEST_DATA"), name, NULL);
}
