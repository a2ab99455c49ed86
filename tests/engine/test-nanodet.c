/* The converted NanoDet trunk (models/nanodet-trunk.sppm) against the
 * original TF.js graph's output at the stride-16 node on a real frame
 * crop (tests/data/nanodet-ref, written by models/teacher/dump_backbone.mjs
 * with @tensorflow/tfjs-backend-wasm). */
#include "spp/spp.h"

#include <math.h>
#include <string.h>

static float *
load (const char *name, gsize expect)
{
  g_autofree char *p = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "data",
                                         "nanodet-ref", name, NULL);
  char *data;
  gsize len;
  g_assert_true (g_file_get_contents (p, &data, &len, NULL));
  g_assert_cmpuint (len, ==, expect * 4);
  return (float *) data;
}

static void
test_trunk_matches_tfjs (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "..",
                                            "models", "nanodet-trunk.sppm",
                                            NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load (path, &error);
  g_assert_no_error (error);
  g_autoptr (SppNet) net = spp_net_new (m, &error);
  g_autofree float *in = load ("input.f32", 3 * 192 * 256);
  g_autofree float *want = load ("concat42.f32", 256 * 12 * 16);
  g_autoptr (SppTensor) x = spp_tensor_new (1, 3, 192, 256);
  memcpy (spp_tensor_data (x), in, sizeof (float) * 3 * 192 * 256);
  g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
  g_assert_true (spp_net_forward (net, x, y, &error));
  g_assert_no_error (error);
  int n, c, h, w;
  spp_tensor_get_shape (y, &n, &c, &h, &w);
  g_assert_cmpint (c, ==, 256);
  g_assert_cmpint (h, ==, 12);
  g_assert_cmpint (w, ==, 16);
  const float *got = spp_tensor_const_data (y);
  float max_err = 0, max_ref = 0;
  for (int i = 0; i < 256 * 12 * 16; i++) {
    /* MAX () drops a NaN as soon as a finite value follows: check each. */
    if (isnan (got[i]) || isnan (want[i]))
      g_error ("element %d is %g, TF.js gives %g", i, got[i], want[i]);
    max_err = MAX (max_err, fabsf (got[i] - want[i]));
    max_ref = MAX (max_ref, fabsf (want[i]));
  }
  g_test_message ("max abs error %.3g (max |ref| %.3g)", max_err, max_ref);
  /* float16 weights widened identically on both sides; what is left is
   * summation order: 1e-4 of the output range. */
  g_assert_cmpfloat (max_err, <, 1e-4 * max_ref);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nanodet/trunk-matches-tfjs", test_trunk_matches_tfjs);
  return g_test_run ();
}
