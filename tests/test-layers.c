/* Every layer type, SPP and ZF-5 against PyTorch's outputs
 * (tests/vectors/gen_vectors.py writes them; see index.ini). */
#include "spp/spp.h"
#include "pyramid-private.h"

#include <math.h>
#include <string.h>

static GKeyFile *index_file;
static char *vec_dir;

static float *
load_floats (const char *group, const char *key, int shape[4], gsize *n)
{
  g_autofree char *file = g_key_file_get_string (index_file, group, key, NULL);
  g_autofree char *skey = g_strconcat (key, "_shape", NULL);
  g_autofree char *sshape = g_key_file_get_string (index_file, group, skey,
                                                   NULL);
  g_assert_nonnull (file);
  g_assert_nonnull (sshape);
  g_auto (GStrv) dims = g_strsplit (sshape, ",", -1);
  guint nd = g_strv_length (dims);
  g_assert_cmpuint (nd, <=, 4);
  for (int i = 0; i < 4; i++)
    shape[i] = 1;
  gsize total = 1;
  for (guint i = 0; i < nd; i++) {
    shape[i] = atoi (dims[i]);
    total *= shape[i];
  }
  g_autofree char *path = g_build_filename (vec_dir, file, NULL);
  char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpuint (len, ==, total * 4);
  *n = total;
  return (float *) data;
}

/* |got - want| <= 1e-4 * (|want| + max|want| * 1e-2): relative 1e-4, with
 * a floor for values near zero that sums of many terms reach by
 * cancellation. */
static void
assert_close (const float *got, const float *want, gsize n, const char *what)
{
  float maxref = 0.0f, worst = 0.0f;
  gsize worst_i = 0;
  for (gsize i = 0; i < n; i++)
    maxref = MAX (maxref, fabsf (want[i]));
  for (gsize i = 0; i < n; i++) {
    float tol = 1e-4f * (fabsf (want[i]) + maxref * 1e-2f) + 1e-7f;
    float err = fabsf (got[i] - want[i]) / tol;
    if (!(err <= worst)) {
      worst = err;
      worst_i = i;
    }
  }
  if (!(worst <= 1.0f))
    g_error ("%s: element %zu is %.8g, PyTorch gives %.8g (%.2fx the "
             "tolerance; max |ref| %g)", what, worst_i, got[worst_i],
             want[worst_i], worst, maxref);
}

static SppTensor *
tensor_from (const float *data, const int shape[4])
{
  SppTensor *t = spp_tensor_new (shape[0], shape[1], shape[2], shape[3]);
  memcpy (spp_tensor_data (t), data, spp_tensor_get_size (t) * 4);
  return t;
}

static void
run_trunk_case (const char *group, SppModel *model)
{
  int ishape[4], oshape[4];
  gsize ni, no;
  g_autofree float *in = load_floats (group, "input", ishape, &ni);
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autoptr (GError) error = NULL;
  g_autoptr (SppNet) net = spp_net_new (model, &error);
  g_assert_no_error (error);
  g_autoptr (SppTensor) x = tensor_from (in, ishape);
  g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
  /* Twice: the second run reuses the planned arena. */
  for (int rep = 0; rep < 2; rep++) {
    g_assert_true (spp_net_forward (net, x, y, &error));
    g_assert_no_error (error);
    int n, c, h, w;
    spp_tensor_get_shape (y, &n, &c, &h, &w);
    g_assert_cmpint (n, ==, oshape[0]);
    g_assert_cmpint (c, ==, oshape[1]);
    g_assert_cmpint (h, ==, oshape[2]);
    g_assert_cmpint (w, ==, oshape[3]);
    assert_close (spp_tensor_const_data (y), want, no, group);
  }
}

static SppModel *
load_model (const char *group)
{
  g_autofree char *file = g_key_file_get_string (index_file, group, "model",
                                                 NULL);
  g_autofree char *path = g_build_filename (vec_dir, file, NULL);
  g_autoptr (GError) error = NULL;
  SppModel *m = spp_model_load (path, &error);
  g_assert_no_error (error);
  return m;
}

static void
test_trunk (gconstpointer data)
{
  const char *group = data;
  g_autoptr (SppModel) m = load_model (group);
  run_trunk_case (group, m);
}

static void
test_head (gconstpointer data)
{
  const char *group = data;
  g_autoptr (SppModel) m = load_model (group);
  g_autoptr (GError) error = NULL;
  int ishape[4], oshape[4], pshape[4];
  gsize ni, no, np;
  g_autofree float *in = load_floats (group, "input", ishape, &ni);
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autofree float *want_pooled = load_floats (group, "pooled", pshape, &np);
  g_autoptr (SppNet) net = spp_net_new (m, &error);
  g_autoptr (SppTensor) x = tensor_from (in, ishape);
  g_autoptr (SppTensor) map = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (SppTensor) pooled = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
  guint n_levels;
  const guint *levels = spp_model_get_levels (m, &n_levels);
  g_assert_true (spp_net_forward (net, x, map, &error));
  g_assert_true (spp_pyramid_pool (map, levels, n_levels, pooled, &error));
  g_assert_cmpuint (spp_tensor_get_size (pooled), ==, np);
  g_assert_cmpuint (spp_model_get_pooled_size (m), ==, np);
  assert_close (spp_tensor_const_data (pooled), want_pooled, np, "pooled");
  g_assert_true (spp_net_forward_head (net, pooled, y, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spp_tensor_get_size (y), ==, no);
  assert_close (spp_tensor_const_data (y), want, no, group);
}

static guint *
parse_levels (const char *group, guint *n)
{
  g_autofree char *s = g_key_file_get_string (index_file, group, "levels",
                                              NULL);
  g_auto (GStrv) parts = g_strsplit (s, ",", -1);
  *n = g_strv_length (parts);
  guint *levels = g_new (guint, *n);
  for (guint i = 0; i < *n; i++)
    levels[i] = atoi (parts[i]);
  return levels;
}

static void
test_spp (gconstpointer data)
{
  const char *group = data;
  int ishape[4], oshape[4];
  gsize ni, no;
  guint n_levels;
  g_autofree guint *levels = parse_levels (group, &n_levels);
  g_autofree float *in = load_floats (group, "input", ishape, &ni);
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autoptr (SppTensor) map = tensor_from (in, ishape);
  g_autoptr (SppTensor) out = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (GError) error = NULL;
  g_assert_true (spp_pyramid_pool (map, levels, n_levels, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spp_tensor_get_size (out), ==, no);
  assert_close (spp_tensor_const_data (out), want, no, group);
}

static void
test_windows (gconstpointer data)
{
  const char *group = data;
  int ishape[4], oshape[4], bshape[4];
  gsize ni, no, nb;
  guint n_levels;
  g_autofree guint *levels = parse_levels (group, &n_levels);
  g_autofree float *in = load_floats (group, "input", ishape, &ni);
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autofree float *boxes = load_floats (group, "boxes", bshape, &nb);
  guint stride = g_key_file_get_integer (index_file, group, "stride", NULL);
  double offset = g_key_file_get_double (index_file, group, "offset", NULL);
  g_autoptr (SppTensor) map = tensor_from (in, ishape);
  g_autoptr (SppTensor) out = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (GError) error = NULL;
  g_assert_true (spp_pyramid_pool_windows (map, levels, n_levels, stride,
                                           offset, (const SppBox *) boxes,
                                           bshape[0], out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spp_tensor_get_size (out), ==, no);
  assert_close (spp_tensor_const_data (out), want, no, group);
}

static void
test_zf5 (gconstpointer data)
{
  const char *group = data;
  const char *model = g_getenv ("SPP_TEST_ZF5");
  if (model == NULL) {
    g_test_skip ("SPP_TEST_ZF5 (the generated ZF-5 model) not set");
    return;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load (model, &error);
  g_assert_no_error (error);
  int oshape[4];
  gsize no;
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autofree char *sshape = g_key_file_get_string (index_file, group,
                                                   "input_shape", NULL);
  g_autofree char *iname = g_strdup_printf ("%s.in", group);
  g_autofree char *ipath = g_build_filename (g_getenv ("G_TEST_BUILDDIR"),
                                             iname, NULL);
  /* The input is regenerated by make_zf5_input.py at build time. */
  char *raw = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (ipath, &raw, &len, NULL));
  g_autofree float *in = (float *) raw;
  int ishape[4];
  g_auto (GStrv) dims = g_strsplit (sshape, ",", -1);
  for (int i = 0; i < 4; i++)
    ishape[i] = atoi (dims[i]);
  g_assert_cmpuint (len, ==, (gsize) ishape[1] * ishape[2] * ishape[3] * 4);
  g_autoptr (SppNet) net = spp_net_new (m, &error);
  g_autoptr (SppTensor) x = tensor_from (in, ishape);
  g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
  g_assert_true (spp_net_forward (net, x, y, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spp_tensor_get_size (y), ==, no);
  assert_close (spp_tensor_const_data (y), want, no, group);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  vec_dir = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "vectors", NULL);
  g_autofree char *ini = g_build_filename (vec_dir, "index.ini", NULL);
  index_file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  if (!g_key_file_load_from_file (index_file, ini, 0, &error))
    g_error ("%s: %s", ini, error->message);
  g_auto (GStrv) groups = g_key_file_get_groups (index_file, NULL);
  for (guint i = 0; groups[i]; i++) {
    g_autofree char *kind = g_key_file_get_string (index_file, groups[i],
                                                   "kind", NULL);
    g_autofree char *name = g_strdup_printf ("/layers/%s/%s", kind, groups[i]);
    GTestDataFunc f = !g_strcmp0 (kind, "trunk")     ? test_trunk
                      : !g_strcmp0 (kind, "head")    ? test_head
                      : !g_strcmp0 (kind, "spp")     ? test_spp
                      : !g_strcmp0 (kind, "windows") ? test_windows
                                                     : test_zf5;
    g_test_add_data_func_full (name, g_strdup (groups[i]), f, g_free);
  }
  int ret = g_test_run ();
  g_key_file_free (index_file);
  g_free (vec_dir);
  return ret;
}
