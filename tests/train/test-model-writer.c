/* The .sppm writer (src/engine/model-writer.c) and the detector's part
 * of it (src/train/detector-writer.c): files written, loaded back with
 * the loader and compared field by field and tensor by tensor with what
 * was written; and hostile inputs refused with SPP_ERROR_FORMAT, never a
 * crash (docs/model-format.md). */
#include "detector-writer-private.h"
#include "model-private.h"
#include "detect-section.h"
#include "spp/detector.h"
#include "spp-engine/model-writer.h"
#include "train-test.h"

#include <string.h>

static GBytes *
data_bytes (const char *name)
{
  g_autofree char *path = spp_test_data_path (name);
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

/* The floats of tensor @name of @m, which must have @n of them. */
static const float *
tensor (const SppModel *m, const char *name, gsize n)
{
  const SppTensor *t = spp_model_find_tensor (m, name);
  g_assert_nonnull (t);
  g_assert_cmpuint (spp_tensor_get_size (t), ==, n);
  return spp_tensor_const_data (t);
}

/* Nothing edited: the tables and tensors are laid out again as
 * models/spptools/sppm.py lays them out, so the bytes are the input's. */
static void
test_copy (void)
{
  const char *const names[] = { "tiny.sppm", "tiny-nohead.sppm",
                                "probe-bgr.sppm" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autoptr (GBytes) in = data_bytes (names[i]);
    g_autoptr (GError) error = NULL;
    g_autoptr (SppModelFile) f = spp_model_file_new (in, names[i], &error);
    g_assert_no_error (error);
    g_autoptr (GBytes) out = spp_model_file_write (f, "copy", &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (in, out));
  }
}

static const char *const labels[] = { "cat", "dog", "bird" };

/* Three classes over tiny.sppm's head (32 wide, 80 pooled). */
static void
test_detector_section (void)
{
  g_autoptr (GBytes) in = data_bytes ("tiny.sppm");
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) orig = spp_model_load_from_bytes (in, "tiny", &error);
  g_assert_no_error (error);
  const guint K = 3, F = 32, D = 80;
  float svm_w[3 * 32], svm_b[3], bbox_w[12 * 80], bbox_b[12];
  for (guint i = 0; i < G_N_ELEMENTS (svm_w); i++)
    svm_w[i] = (float) i / 7 - 3;
  for (guint i = 0; i < G_N_ELEMENTS (bbox_w); i++)
    bbox_w[i] = (float) (i % 13) / 100;
  for (guint k = 0; k < 12; k++) {
    bbox_b[k] = k * 0.25f;
    if (k < K)
      svm_b[k] = -1.5f + k;
  }
  const float thresholds[] = { 0.2f, 0.4f, 0.6f };
  const guint scales[] = { 64, 128 };
  SppDetectorSection s = {
    K, labels, thresholds, F, svm_w, svm_b, D, bbox_w, bbox_b, 2.0f, 1.5f,
    -0.75f, "a test model", 500, 12, scales, 2, FALSE, NULL, 0.55f, 3 };
  g_autoptr (GBytes) out = spp_detector_section_write (in, "tiny", &s,
                                                       "out", &error);
  g_assert_no_error (error);
  g_autoptr (SppModel) m = spp_model_load_from_bytes (out, "out", &error);
  g_assert_no_error (error);

  g_assert_cmpuint (spp_model_get_n_classes (m), ==, K);
  for (guint k = 0; k < K; k++) {
    g_assert_cmpstr (spp_model_get_label (m, k), ==, labels[k]);
    g_assert_cmpfloat (spp_model_get_threshold (m, k), ==, thresholds[k]);
  }
  guint n;
  const guint *got_scales = spp_model_get_scales (m, &n);
  g_assert_cmpmem (got_scales, n * sizeof (guint), scales, sizeof scales);
  g_assert_cmpfloat (spp_model_get_box_vote (m), ==, 0.55f);
  g_assert_cmpuint (spp_model_get_box_passes (m), ==, 3);
  SppProposalParams pp;
  spp_proposal_params_init (&pp);
  spp_model_get_proposal_params (m, &pp);
  g_assert_cmpuint (pp.max_boxes, ==, 500);
  g_assert_cmpuint (pp.min_size, ==, 12);
  g_assert_cmpstr (m->description, ==, "a test model");
  /* The input has no detect.feature_scale (1): the product is 2. */
  g_assert_cmpfloat (spp_detect_section_get (m)->feature_scale, ==, 2.0f);
  g_assert_cmpfloat (spp_detect_section_get (m)->score_a, ==, 1.5f);
  g_assert_cmpfloat (spp_detect_section_get (m)->score_b, ==, -0.75f);
  g_assert_cmpmem (tensor (m, "svm.weight", K * F), sizeof svm_w, svm_w,
                   sizeof svm_w);
  g_assert_cmpmem (tensor (m, "svm.bias", K), sizeof svm_b, svm_b,
                   sizeof svm_b);
  g_assert_cmpmem (tensor (m, "bbox.weight", 4 * K * D), sizeof bbox_w,
                   bbox_w, sizeof bbox_w);
  g_assert_cmpmem (tensor (m, "bbox.bias", 4 * K), sizeof bbox_b, bbox_b,
                   sizeof bbox_b);
  /* The rest is the input's: its trunk and head, the other metadata. */
  g_assert_cmpstr (spp_model_get_name (m), ==, "tiny");
  g_assert_cmpfloat (spp_model_get_nms_threshold (m), ==, 0.3f);
  guint n_trunk, n_head;
  spp_model_get_n_layers (m, &n_trunk, &n_head);
  g_assert_cmpuint (n_trunk, ==, 2);
  g_assert_cmpuint (n_head, ==, 1);
  for (guint i = 0; i < orig->n_tensors; i++) {
    const char *name = orig->tensor_names[i];
    if (g_str_has_prefix (name, "svm.") || g_str_has_prefix (name, "bbox."))
      continue;
    const SppTensor *t = &orig->tensors[i];
    gsize size = spp_tensor_get_size (t);
    g_assert_cmpmem (tensor (m, name, size), size * sizeof (float),
                     spp_tensor_const_data (t), size * sizeof (float));
  }

  /* Written again over its own output with a feature scale of 3: the
   * file's is then 2 x 3, and nothing is duplicated. */
  s.feature_scale = 3.0f;
  s.scales = NULL;
  g_autoptr (GBytes) again = spp_detector_section_write (out, "out", &s,
                                                         "again", &error);
  g_assert_no_error (error);
  g_autoptr (SppModel) m2 = spp_model_load_from_bytes (again, "again",
                                                       &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (spp_detect_section_get (m2)->feature_scale, ==, 6.0f);
  g_assert_cmpuint (m2->n_tensors, ==, m->n_tensors);
  got_scales = spp_model_get_scales (m2, &n);
  g_assert_cmpmem (got_scales, n * sizeof (guint), scales, sizeof scales);
}

/* A new head of two fc layers replaces tiny.sppm's one; the SVMs read
 * its 8 outputs; the head reads back as written. Then no head at all. */
static void
test_new_head (void)
{
  g_autoptr (GBytes) in = data_bytes ("tiny.sppm");
  const guint widths[] = { 16, 8 };
  SppFcHead head;
  spp_fc_head_init (&head, 80, widths, 2, 1.0f, 5);
  head.bias[1][3] = 0.125f;
  float svm_w[2 * 80] = { 0 }, svm_b[2] = { 0.5f, -0.5f };
  const float thresholds[] = { 0.5f, 0.5f };
  SppDetectorSection s = {
    2, labels, thresholds, 8, svm_w, svm_b, 80, NULL, NULL, 1.0f, 1.0f, 0.0f,
    NULL, 0, 0, NULL, 0, TRUE, &head, 0.0f, 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = spp_detector_section_write (in, "tiny", &s,
                                                       "out", &error);
  g_assert_no_error (error);
  g_autoptr (SppModel) m = spp_model_load_from_bytes (out, "out", &error);
  g_assert_no_error (error);
  guint n_trunk, n_head;
  spp_model_get_n_layers (m, &n_trunk, &n_head);
  g_assert_cmpuint (n_head, ==, 2);
  /* conv1, conv2 (weight, bias), fc6, fc7 (weight, bias), svm.*: the
   * input's head and box regressors are gone. */
  g_assert_cmpuint (m->n_tensors, ==, 10);
  g_assert_null (spp_model_find_tensor (m, "bbox.weight"));
  g_assert_cmpmem (tensor (m, "fc6.weight", 16 * 80), 16 * 80 * 4,
                   head.weight[0], 16 * 80 * 4);
  g_assert_cmpmem (tensor (m, "fc7.bias", 8), 8 * 4, head.bias[1], 8 * 4);
  SppFcHead back;
  g_assert_true (spp_fc_head_read (out, "out", &back, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (back.n_layers, ==, 2);
  g_assert_cmpmem (back.dims, 3 * sizeof (guint), head.dims,
                   3 * sizeof (guint));
  for (guint l = 0; l < 2; l++) {
    gsize n = (gsize) head.dims[l] * head.dims[l + 1];
    g_assert_cmpmem (back.weight[l], n * 4, head.weight[l], n * 4);
    g_assert_cmpmem (back.bias[l], head.dims[l + 1] * 4, head.bias[l],
                     head.dims[l + 1] * 4);
  }
  spp_fc_head_clear (&back);

  s.head = NULL;
  s.feature_dim = 80;
  g_autoptr (GBytes) none = spp_detector_section_write (in, "tiny", &s,
                                                        "none", &error);
  g_assert_no_error (error);
  g_autoptr (SppModel) m0 = spp_model_load_from_bytes (none, "none", &error);
  g_assert_no_error (error);
  spp_model_get_n_layers (m0, &n_trunk, &n_head);
  g_assert_cmpuint (n_head, ==, 0);
  g_assert_true (spp_fc_head_read (none, "none", &back, &error));
  g_assert_cmpuint (back.n_layers, ==, 0);
  spp_fc_head_clear (&head);
}

/* tiny.sppm's head (one fc layer with ReLU) reads as such; a head layer
 * without ReLU is refused (only fc + ReLU heads can be fine-tuned). */
static void
test_head_read (void)
{
  g_autoptr (GBytes) in = data_bytes ("tiny.sppm");
  g_autoptr (GError) error = NULL;
  SppFcHead head;
  g_assert_true (spp_fc_head_read (in, "tiny", &head, &error));
  g_assert_cmpuint (head.n_layers, ==, 1);
  g_assert_cmpuint (head.dims[0], ==, 80);
  g_assert_cmpuint (head.dims[1], ==, 32);
  spp_fc_head_clear (&head);

  g_autoptr (SppModelFile) f = spp_model_file_new (in, "tiny", &error);
  g_assert_no_error (error);
  guint fc = spp_model_file_get_n_layers (f) - 1;
  const SppModelFileLayer *l = spp_model_file_get_layer (f, fc);
  g_assert_cmpuint (l->op, ==, SPP_FORMAT_OP_FC);
  const gint32 iparams[] = { 32, 0 };
  const guint ids[] = { l->tensors[0], l->tensors[1] };
  spp_model_file_remove_layer (f, fc);
  spp_model_file_add_head_layer (f, SPP_FORMAT_OP_FC, "linear", iparams, 2,
                                 ids, 2);
  g_autoptr (GBytes) linear = spp_model_file_write (f, "linear", &error);
  g_assert_no_error (error);
  g_assert_false (spp_fc_head_read (linear, "linear", &head, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "linear: head layer 2 is not an "
                                            "fc layer with ReLU"));
  g_assert_cmpuint (head.n_layers, ==, 0);
}

/* The generic edits: entries of each type replaced and added; removing
 * a tensor a kept layer uses, or every layer, fails. */
static void
test_edits (void)
{
  g_autoptr (GBytes) in = data_bytes ("tiny.sppm");
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModelFile) f = spp_model_file_new (in, "tiny", &error);
  g_assert_no_error (error);
  float v = 0;
  g_assert_true (spp_model_file_get_f32 (f, "detect.nms", &v));
  g_assert_cmpfloat (v, ==, 0.3f);
  g_assert_false (spp_model_file_get_f32 (f, "general.name", &v));
  spp_model_file_remove_key (f, "general.name");
  spp_model_file_add_string (f, "general.name", "renamed");
  spp_model_file_remove_key (f, "detect.nms");
  spp_model_file_add_f32 (f, "detect.nms", 0.45f);
  spp_model_file_add_u32 (f, "input.multiple", 8);
  const float std[] = { 1, 2, 3 };
  spp_model_file_remove_key (f, "input.std");
  spp_model_file_add_f32_array (f, "input.std", std, 3);
  g_assert_true (spp_model_file_get_f32 (f, "detect.nms", &v));
  g_assert_cmpfloat (v, ==, 0.45f);
  g_autoptr (GBytes) out = spp_model_file_write (f, "edited", &error);
  g_assert_no_error (error);
  g_autoptr (SppModel) m = spp_model_load_from_bytes (out, "edited", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (spp_model_get_name (m), ==, "renamed");
  g_assert_cmpfloat (spp_model_get_nms_threshold (m), ==, 0.45f);
  g_assert_cmpuint (m->multiple, ==, 8);
  float mean[3], got_std[3];
  spp_model_get_normalization (m, mean, got_std);
  g_assert_cmpmem (got_std, sizeof got_std, std, sizeof std);

  /* conv1's weight is tensor 0. */
  g_assert_cmpstr (spp_model_file_get_tensor (f, 0)->name, ==,
                   spp_model_file_get_tensor (f, spp_model_file_get_layer (
                       f, 0)->tensors[0])->name);
  spp_model_file_remove_tensor (f, spp_model_file_get_layer (f, 0)->tensors[0]);
  g_assert_null (spp_model_file_write (f, "edited", &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "layer 0 uses tensor"));
  g_clear_error (&error);
  for (guint i = 0; i < spp_model_file_get_n_layers (f); i++)
    spp_model_file_remove_layer (f, i);
  g_assert_null (spp_model_file_write (f, "edited", &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "no layers"));
}

/* The broken files of tests/data fail to parse with FORMAT and their
 * name; a model the loader refuses (a NaN weight) parses but is not
 * written. */
static void
test_broken_files (void)
{
  const struct {
    const char *file, *needle;
  } cases[] = {
    { "bad-magic.sppm", "not an .sppm file" },
    { "bad-version.sppm", "version 99" },
    { "truncated.sppm", "size" },
    { "huge-count.sppm", "2147483648 tensors" },
    { "bad-dims.sppm", "has 5 dims, expected 1..4" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GBytes) in = data_bytes (cases[i].file);
    g_autoptr (GError) error = NULL;
    g_autoptr (SppModelFile) f = spp_model_file_new (in, cases[i].file,
                                                     &error);
    g_assert_null (f);
    g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
    if (!strstr (error->message, cases[i].file)
        || !strstr (error->message, cases[i].needle))
      g_error ("%s: '%s' lacks '%s'", cases[i].file, error->message,
               cases[i].needle);
  }
  g_autoptr (GBytes) nan = data_bytes ("nan-weight.sppm");
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModelFile) f = spp_model_file_new (nan, "nan", &error);
  g_assert_no_error (error);
  g_assert_null (spp_model_file_write (f, "out", &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "the model written is invalid"));
}

/* Dims whose product overflows 64 bits (65536^4 = 2^64, which would
 * wrap to 0 floats) are refused as they are read. */
static void
test_overflowing_dims (void)
{
  g_autoptr (GBytes) in = data_bytes ("tiny.sppm");
  gsize len;
  const guint8 *good = g_bytes_get_data (in, &len);
  g_autofree guint8 *bad = g_memdup2 (good, len);
  const char name[] = "conv1.weight";
  guint8 *at = memmem (bad, len, name, strlen (name));
  g_assert_nonnull (at);
  guint32 n_dims;
  memcpy (&n_dims, at + strlen (name), 4);
  g_assert_cmpuint (GUINT32_FROM_LE (n_dims), ==, 4);
  for (int d = 0; d < 4; d++) {
    guint32 v = GUINT32_TO_LE (65536);
    memcpy (at + strlen (name) + 4 + 4 * d, &v, 4);
  }
  g_autoptr (GBytes) b = g_bytes_new_static (bad, len);
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModelFile) f = spp_model_file_new (b, "huge", &error);
  g_assert_null (f);
  g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "huge: tensor 0: dim 0 is "
                                            "65536"));
}

/* Every byte of tiny.sppm's header and tables set to 0xff, then 0x00,
 * one at a time: parsing and writing either succeed or fail with
 * FORMAT; under ASan nothing reads or writes out of bounds. */
static void
test_hostile_bytes (void)
{
  g_autoptr (GBytes) in = data_bytes ("tiny.sppm");
  gsize len;
  const guint8 *good = g_bytes_get_data (in, &len);
  guint64 data_offset;
  memcpy (&data_offset, good + 32, 8);
  data_offset = GUINT64_FROM_LE (data_offset);
  g_assert_cmpuint (data_offset, <, len);
  g_autofree guint8 *bad = g_memdup2 (good, len);
  guint parsed = 0;
  for (gsize pos = 0; pos < data_offset; pos++) {
    for (int v = 0; v < 2; v++) {
      bad[pos] = v ? 0x00 : 0xff;
      g_autoptr (GBytes) b = g_bytes_new_static (bad, len);
      g_autoptr (GError) error = NULL;
      g_autoptr (SppModelFile) f = spp_model_file_new (b, "bad", &error);
      if (f) {
        parsed++;
        g_autoptr (GBytes) out = spp_model_file_write (f, "out", &error);
        g_assert_true (out != NULL || error->code == SPP_ERROR_FORMAT);
      } else {
        g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
      }
      bad[pos] = good[pos];
    }
  }
  g_assert_cmpuint (parsed, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model-writer/copy", test_copy);
  g_test_add_func ("/model-writer/detector-section", test_detector_section);
  g_test_add_func ("/model-writer/new-head", test_new_head);
  g_test_add_func ("/model-writer/head-read", test_head_read);
  g_test_add_func ("/model-writer/edits", test_edits);
  g_test_add_func ("/model-writer/broken-files", test_broken_files);
  g_test_add_func ("/model-writer/overflowing-dims", test_overflowing_dims);
  g_test_add_func ("/model-writer/hostile-bytes", test_hostile_bytes);
  return g_test_run ();
}
