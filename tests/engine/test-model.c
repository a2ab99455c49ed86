/* The model loader on good, broken and hostile files; SPP bin edges and
 * window projection against hand-computed values (docs/method.md 1). */
#include "spp/spp.h"
#include "layers-private.h"

#include <math.h>
#include <string.h>

static char *
data_path (const char *name)
{
  return g_build_filename (g_getenv ("G_TEST_SRCDIR"), "data", name, NULL);
}

static void
test_tiny (void)
{
  g_autofree char *path = data_path ("tiny.sppm");
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (spp_model_get_name (m), ==, "tiny");
  g_assert_cmpuint (spp_model_get_n_classes (m), ==, 2);
  g_assert_cmpstr (spp_model_get_label (m, 0), ==, "person");
  g_assert_cmpstr (spp_model_get_label (m, 1), ==, "vehicle");
  g_assert_null (spp_model_get_label (m, 2));
  g_assert_cmpint (spp_model_find_label (m, "vehicle"), ==, 1);
  g_assert_cmpint (spp_model_find_label (m, "dog"), ==, -1);
  g_assert_cmpuint (spp_model_get_stride (m), ==, 4);
  g_assert_cmpuint (spp_model_get_feature_channels (m), ==, 16);
  g_assert_cmpuint (spp_model_get_pooled_size (m), ==, 16 * 5);
  g_assert_true (spp_model_has_detector (m));
  guint n;
  const guint *levels = spp_model_get_levels (m, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (levels[0], ==, 1);
  g_assert_cmpuint (levels[1], ==, 2);
  const guint *scales = spp_model_get_scales (m, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (scales[0], ==, 96);
  float mean[3], std[3];
  spp_model_get_normalization (m, mean, std);
  g_assert_cmpfloat (mean[0], ==, 123.0f);
  g_assert_cmpfloat (std[2], ==, 57.0f);
  g_assert_cmpint (spp_model_get_channel_order (m), ==, SPP_CHANNEL_RGB);
  g_autofree char *desc = spp_model_describe (m);
  g_assert_nonnull (strstr (desc, "person"));
  int c, h, w;
  g_assert_true (spp_net_get_output_shape (m, 96, 128, &c, &h, &w, &error));
  g_assert_cmpint (c, ==, 16);
  g_assert_cmpint (h, ==, 24);
  g_assert_cmpint (w, ==, 32);
}

typedef struct {
  const char *file, *needle;
} Broken;

static const Broken broken[] = {
  { "bad-magic.sppm", "magic" },
  { "bad-version.sppm", "version 99" },
  { "bad-dims.sppm", "5 dims" },
  { "truncated.sppm", "file_size" },
  { "fc-mismatch.sppm", "fc input size 99" },
  { "nan-weight.sppm", "not finite" },
  { "huge-count.sppm", "n_tensors" },
};

static void
test_broken (gconstpointer data)
{
  const Broken *b = data;
  g_autofree char *path = data_path (b->file);
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load (path, &error);
  g_assert_null (m);
  g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
  /* The message names the file and the field. */
  g_assert_nonnull (strstr (error->message, b->file));
  if (!strstr (error->message, b->needle))
    g_error ("'%s' does not mention '%s'", error->message, b->needle);
}

static void
test_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load ("/nonexistent/model.sppm", &error);
  g_assert_null (m);
  g_assert_error (error, SPP_ERROR, SPP_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/model.sppm"));
  g_clear_error (&error);
  m = spp_model_load (g_getenv ("G_TEST_SRCDIR"), &error);
  g_assert_error (error, SPP_ERROR, SPP_ERROR_IO);
}

static GBytes *
tiny_bytes (void)
{
  g_autofree char *path = data_path ("tiny.sppm");
  char *data;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_bytes_new_take (data, len);
}

/* The cells of op's row in docs/model-format.md's layer table, or NULL. */
static char **
doc_row (const char *doc, guint op)
{
  g_autofree char *head = g_strdup_printf ("\n| %u | ", op);
  const char *table = strstr (doc, "| op | name |");
  const char *row = table ? strstr (table, head) : NULL;
  if (row == NULL)
    return NULL;
  g_autofree char *line = g_strndup (row + 1, strcspn (row + 1, "\n"));
  return g_strsplit (line, "|", -1);
}

/* "kh (2), kw (=kh)" -> the names, defaults and fallbacks in order. */
static void
check_params (const char *op, const char *cell, const char *const *names,
              const char *const *values, guint n)
{
  g_auto (GStrv) items = g_strsplit (cell, ",", -1);
  guint n_items = 0;
  for (guint i = 0; items[i]; i++) {
    g_autofree char *item = g_strstrip (g_strdup (items[i]));
    if (*item == '\0')
      continue;
    g_autofree char *name = g_strndup (item, strcspn (item, " "));
    const char *paren = strchr (item, '(');
    g_autofree char *value = paren ? g_strndup (paren + 1,
                                                strcspn (paren + 1, ")"))
                                   : g_strdup ("");
    if (n_items >= n)
      g_error ("%s: the docs name a parameter '%s' the code lacks", op, name);
    /* Numbers compare by value: the docs write 1e-4, %g writes 0.0001. */
    char *end_a, *end_b;
    double a = g_ascii_strtod (value, &end_a);
    double b = g_ascii_strtod (values[n_items], &end_b);
    gboolean numbers = *value && *end_a == '\0' && *values[n_items]
                       && *end_b == '\0';
    if (strcmp (name, names[n_items])
        || (numbers ? fabs (a - b) > 1e-6 * fabs (b)
                    : strcmp (value, values[n_items]) != 0))
      g_error ("%s parameter %u: the docs say '%s (%s)', the code '%s (%s)'",
               op, n_items, name, value, names[n_items], values[n_items]);
    n_items++;
  }
  if (n_items != n)
    g_error ("%s: the docs name %u parameters, the code %u", op, n_items, n);
}

/* Every op of the layer table against docs/model-format.md: name,
 * parameter names, defaults and fallbacks. */
static void
test_table_matches_docs (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "..",
                                            "docs", "model-format.md", NULL);
  g_autofree char *doc = NULL;
  g_assert_true (g_file_get_contents (path, &doc, NULL, NULL));
  g_assert_null (spp_layer_type_get (0));
  g_assert_null (spp_layer_type_get (SPP_OP_LAST + 1));
  for (guint op = 1; op <= SPP_OP_LAST; op++) {
    const SppLayerType *t = spp_layer_type_get (op);
    g_assert_nonnull (t);
    g_assert_cmpuint (t->op, ==, op);
    g_auto (GStrv) cells = doc_row (doc, op);
    if (cells == NULL)
      g_error ("op %u (%s) is not in %s", op, t->name, path);
    g_assert_cmpuint (g_strv_length (cells), >=, 7);
    g_autofree char *name = g_strstrip (g_strdup (cells[2]));
    g_assert_cmpstr (name, ==, t->name);
    g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; i < t->n_int; i++) {
      const SppIntParam *p = &t->int_params[i];
      g_assert_cmpint (p->fallback, <, (int) i);
      g_ptr_array_add (names, g_strdup (p->name));
      g_ptr_array_add (values,
                       p->required ? g_strdup ("")
                       : p->fallback >= 0
                           ? g_strdup_printf ("=%s",
                                              t->int_params[p->fallback].name)
                           : g_strdup_printf ("%d", p->def));
    }
    check_params (t->name, cells[4], (const char *const *) names->pdata,
                  (const char *const *) values->pdata, t->n_int);
    g_ptr_array_set_size (names, 0);
    g_ptr_array_set_size (values, 0);
    for (guint i = 0; i < t->n_float; i++) {
      g_ptr_array_add (names, g_strdup (t->float_params[i].name));
      g_ptr_array_add (values, g_strdup_printf ("%g",
                                                t->float_params[i].def));
    }
    check_params (t->name, cells[5], (const char *const *) names->pdata,
                  (const char *const *) values->pdata, t->n_float);
  }
}

/* A parameter out of its range is refused by name: tiny.sppm with
 * conv1's kh set to 0. */
static void
test_param_range (void)
{
  g_autoptr (GBytes) all = tiny_bytes ();
  gsize len;
  const guint8 *src = g_bytes_get_data (all, &len);
  g_autofree guint8 *data = g_memdup2 (src, len);
  /* The layer entry: op, name (u32 length, bytes), section, n_inputs,
   * inputs, n_iparams, iparams (docs/model-format.md). */
  const guint8 *name = memmem (data, len, "\5\0\0\0conv1", 9);
  g_assert_nonnull (name);
  guint8 *p = data + (name - data) + 9 + 4;
  guint32 n_in, n_ip;
  memcpy (&n_in, p, 4);
  p += 4 + 4 * n_in;
  memcpy (&n_ip, p, 4);
  g_assert_cmpuint (n_ip, >=, 2);
  memset (p + 4 + 4, 0, 4); /* iparams[1], kh */
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load_from_bytes (bytes, "kh0.sppm",
                                                      &error);
  g_assert_null (m);
  g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
  if (!strstr (error->message, "kh0.sppm: layer 'conv1': kh 0, expected 1..64"))
    g_error ("unexpected message: %s", error->message);
}

/* Every prefix of a valid file is a truncated file. */
static void
test_every_truncation (void)
{
  g_autoptr (GBytes) all = tiny_bytes ();
  gsize len;
  const guint8 *d = g_bytes_get_data (all, &len);
  for (gsize cut = 0; cut < len; cut += (cut < 2048 ? 1 : 61)) {
    g_autoptr (GBytes) part = g_bytes_new (d, cut);
    g_autoptr (GError) error = NULL;
    g_autoptr (SppModel) m = spp_model_load_from_bytes (part, "cut", &error);
    g_assert_null (m);
    g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
  }
}

/* Random corruption of the header and tables: load or fail, never crash
 * or read out of bounds (ASan watches in the sanitizer build). */
static void
test_random_corruption (void)
{
  g_autoptr (GBytes) all = tiny_bytes ();
  gsize len;
  const guint8 *d = g_bytes_get_data (all, &len);
  GRand *r = g_rand_new_with_seed (1234);
  guint failed = 0;
  for (int iter = 0; iter < 3000; iter++) {
    guint8 *copy = g_memdup2 (d, len);
    int flips = g_rand_int_range (r, 1, 8);
    for (int f = 0; f < flips; f++) {
      gsize at = g_rand_int_range (r, 0, MIN (len, 4096));
      copy[at] = g_rand_int_range (r, 0, 256);
    }
    g_autoptr (GBytes) b = g_bytes_new_take (copy, len);
    g_autoptr (GError) error = NULL;
    g_autoptr (SppModel) m = spp_model_load_from_bytes (b, "fuzz", &error);
    if (m == NULL) {
      g_assert_nonnull (error);
      failed++;
    }
  }
  g_rand_free (r);
  g_assert_cmpuint (failed, >, 100);
}

/* docs/method.md 1 test vectors. */
static void
test_bins (void)
{
  static const int s6[] = { 0, 2, 4, 6, 8, 10 }, e6[] = { 3, 5, 7, 9, 11, 13 };
  static const int s3[] = { 0, 4, 8 }, e3[] = { 5, 9, 13 };
  static const int s2[] = { 0, 6 }, e2[] = { 7, 13 };
  /* a = 10, n = 6, where win/stride would give 9 bins. */
  static const int s10[] = { 0, 1, 3, 5, 6, 8 }, e10[] = { 2, 4, 5, 7, 9, 10 };
  int s, e;
  for (int i = 0; i < 6; i++) {
    spp_pyramid_bin_range (13, 6, i, &s, &e);
    g_assert_cmpint (s, ==, s6[i]);
    g_assert_cmpint (e, ==, e6[i]);
    spp_pyramid_bin_range (10, 6, i, &s, &e);
    g_assert_cmpint (s, ==, s10[i]);
    g_assert_cmpint (e, ==, e10[i]);
  }
  for (int i = 0; i < 3; i++) {
    spp_pyramid_bin_range (13, 3, i, &s, &e);
    g_assert_cmpint (s, ==, s3[i]);
    g_assert_cmpint (e, ==, e3[i]);
  }
  for (int i = 0; i < 2; i++) {
    spp_pyramid_bin_range (13, 2, i, &s, &e);
    g_assert_cmpint (s, ==, s2[i]);
    g_assert_cmpint (e, ==, e2[i]);
  }
  /* A 1-cell window: every bin is that cell. */
  for (int i = 0; i < 6; i++) {
    spp_pyramid_bin_range (1, 6, i, &s, &e);
    g_assert_cmpint (s, ==, 0);
    g_assert_cmpint (e, ==, 1);
  }
  static const guint levels[] = { 1, 2, 3, 6 };
  g_assert_cmpuint (spp_pyramid_get_n_bins (levels, 4), ==, 50);
}

/* Paper App. A with S = 16 on a 12 x 9 map, worked by hand. */
static void
test_projection (void)
{
  int c[4];
  /* Whole 192 x 144 image: left floor(0/16)+1 = 1, right ceil(191/16)-1
   * = 11; top 1, bottom ceil(143/16)-1 = 8. */
  spp_pyramid_project_box (&(SppBox) { 0, 0, 192, 144 }, 16, 0, 12, 9, c);
  g_assert_cmpint (c[0], ==, 1);
  g_assert_cmpint (c[1], ==, 1);
  g_assert_cmpint (c[2], ==, 11);
  g_assert_cmpint (c[3], ==, 8);
  /* One pixel at (100, 50): left 7 > right 6 -> both floor(13/2) = 6;
   * top floor(50/16)+1 = 4 > bottom ceil(50/16)-1 = 3 -> 3. */
  spp_pyramid_project_box (&(SppBox) { 100, 50, 1, 1 }, 16, 0, 12, 9, c);
  g_assert_cmpint (c[0], ==, 6);
  g_assert_cmpint (c[2], ==, 6);
  g_assert_cmpint (c[1], ==, 3);
  g_assert_cmpint (c[3], ==, 3);
  /* Entirely past the right/bottom: clamped to the last cell. */
  spp_pyramid_project_box (&(SppBox) { 500, 400, 30, 30 }, 16, 0, 12, 9, c);
  g_assert_cmpint (c[0], ==, 11);
  g_assert_cmpint (c[2], ==, 11);
  g_assert_cmpint (c[1], ==, 8);
  g_assert_cmpint (c[3], ==, 8);
  /* Starting outside the top-left: x -50..29 -> left -3, right
   * ceil(29/16)-1 = 1 -> [0, 1]. */
  spp_pyramid_project_box (&(SppBox) { -50, -30, 80, 70 }, 16, 0, 12, 9, c);
  g_assert_cmpint (c[0], ==, 0);
  g_assert_cmpint (c[2], ==, 1);
  g_assert_cmpint (c[1], ==, 0);
  g_assert_cmpint (c[3], ==, 2); /* y -30..39: ceil(39/16)-1 = 2 */
  /* Offset: ZF-5's -20 shifts pixel 36 to 16 -> left floor(16/16)+1 = 2. */
  spp_pyramid_project_box (&(SppBox) { 36, 36, 64, 64 }, 16, -20, 12, 9, c);
  g_assert_cmpint (c[0], ==, 2);
  g_assert_cmpint (c[2], ==, 4); /* 99 - 20 = 79: ceil(79/16)-1 = 4 */
  /* NaN never yields an out-of-map cell. */
  spp_pyramid_project_box (&(SppBox) { NAN, 0, 10, 10 }, 16, 0, 12, 9, c);
  g_assert_cmpint (c[0], >=, 0);
  g_assert_cmpint (c[2], <, 12);
}

/* docs/method.md 3: ZF-5 at 224 gives a 13 x 13 x 256 conv5 and 12,800-d SPP;
 * short-side conv5 sizes 480->29, 576->35, 688->42, 864->53, 1200->74. */
static void
test_zf5_shapes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load (g_getenv ("SPP_TEST_ZF5"), &error);
  g_assert_no_error (error);
  int c, h, w;
  g_assert_true (spp_net_get_output_shape (m, 224, 224, &c, &h, &w, &error));
  g_assert_cmpint (c, ==, 256);
  g_assert_cmpint (h, ==, 13);
  g_assert_cmpint (w, ==, 13);
  g_assert_cmpuint (spp_model_get_pooled_size (m), ==, 12800);
  static const int s[] = { 480, 576, 688, 864, 1200 }, a[] = { 29, 35, 42, 53, 74 };
  for (int i = 0; i < 5; i++) {
    g_assert_true (spp_net_get_output_shape (m, s[i], s[i], &c, &h, &w,
                                             &error));
    g_assert_cmpint (h, ==, a[i]);
  }
  /* Too small for conv2: a clear shape error, not a crash. */
  g_assert_false (spp_net_get_output_shape (m, 8, 8, &c, &h, &w, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_SHAPE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model/tiny", test_tiny);
  for (gsize i = 0; i < G_N_ELEMENTS (broken); i++) {
    g_autofree char *name = g_strdup_printf ("/model/broken/%s",
                                             broken[i].file);
    g_test_add_data_func (name, &broken[i], test_broken);
  }
  g_test_add_func ("/model/missing", test_missing);
  g_test_add_func ("/model/every-truncation", test_every_truncation);
  g_test_add_func ("/model/random-corruption", test_random_corruption);
  g_test_add_func ("/spp/bins", test_bins);
  g_test_add_func ("/spp/projection", test_projection);
  g_test_add_func ("/model/zf5-shapes", test_zf5_shapes);
  g_test_add_func ("/model/layer-table-docs", test_table_matches_docs);
  g_test_add_func ("/model/param-range", test_param_range);
  return g_test_run ();
}
