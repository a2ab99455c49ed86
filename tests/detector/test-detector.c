/* Detector pieces against hand-computed values: scale choice
 * (docs/method.md 2.3), resized sizes, box regression, NMS, box voting,
 * scale lists; and the whole detector on bad and edge-case input. */
#include "spp/spp.h"
#include "detector-private.h"

#include <math.h>
#include <string.h>

static const guint paper_scales[] = { 480, 576, 688, 864, 1200 };

static void
test_scale_choice (void)
{
  /* docs/method.md 2.3 example: 375-px short side, 100x100 box. Scaled sides
   * 128, 153.6, 183.5, 230.4, 320 -> areas 16384, 23593, 33660, 53084,
   * 102400; 224^2 = 50176 is closest to 53084: 864 (index 3). */
  SppBox b = { 10, 10, 100, 100 };
  g_assert_cmpuint (spp_scale_choose (&b, 500, 375, paper_scales, 5), ==, 3);
  /* A window smaller than one feature cell (8 px): the largest scale. */
  b = (SppBox) { 0, 0, 8, 8 };
  g_assert_cmpuint (spp_scale_choose (&b, 768, 576, paper_scales, 5), ==, 4);
  /* The whole 768x576 frame: 576x768 * (480/576)^2 = 307200 at 480 is
   * still the closest to 50176. */
  b = (SppBox) { 0, 0, 768, 576 };
  g_assert_cmpuint (spp_scale_choose (&b, 768, 576, paper_scales, 5), ==, 0);
  /* 224x224 at a 576 short side: at s = 576 the area is exactly 224^2. */
  b = (SppBox) { 100, 100, 224, 224 };
  g_assert_cmpuint (spp_scale_choose (&b, 768, 576, paper_scales, 5), ==, 1);
  /* 150x150 on 768x576: areas at 480/576/688/864/1200 = 15625, 22500,
   * 32101, 50625, 97656 -> 864. */
  b = (SppBox) { 0, 0, 150, 150 };
  g_assert_cmpuint (spp_scale_choose (&b, 768, 576, paper_scales, 5), ==, 3);
  /* One scale: always index 0. */
  g_assert_cmpuint (spp_scale_choose (&b, 768, 576, paper_scales + 2, 1), ==,
                    0);
}

static void
test_resized_size (void)
{
  int w, h;
  spp_scale_resized_size (768, 576, 688, 1, 1, &w, &h);
  g_assert_cmpint (h, ==, 688);
  g_assert_cmpint (w, ==, 917); /* 768 * 688 / 576 = 917.33 */
  spp_scale_resized_size (576, 768, 480, 1, 1, &w, &h);
  g_assert_cmpint (w, ==, 480);
  g_assert_cmpint (h, ==, 640);
  spp_scale_resized_size (768, 576, 688, 1, 32, &w, &h);
  g_assert_cmpint (w, ==, 928);
  g_assert_cmpint (h, ==, 704);
  /* A 10000x10 strip: the longer side is capped at SPP_MAX_SIDE. */
  spp_scale_resized_size (10000, 10, 480, 1, 1, &w, &h);
  g_assert_cmpint (w, ==, SPP_MAX_SIDE);
  g_assert_cmpint (h, ==, 4);
  spp_scale_resized_size (1, 1, 100, 64, 1, &w, &h);
  g_assert_cmpint (w, ==, 100);
  g_assert_cmpint (h, ==, 100);
}

static void
test_bbox (void)
{
  SppBox b = { 10, 20, 40, 80 };
  /* Centre (30, 60); dx 0.25 -> +10, dy -0.5 -> -40; w*e^0 = 40,
   * h*e^ln2 = 160. */
  float d[4] = { 0.25f, -0.5f, 0.0f, (float) G_LN2 };
  SppBox r = spp_bbox_apply (&b, d);
  g_assert_cmpfloat_with_epsilon (r.x, 20.0f, 1e-4);
  g_assert_cmpfloat_with_epsilon (r.y, -60.0f, 1e-4);
  g_assert_cmpfloat_with_epsilon (r.w, 40.0f, 1e-4);
  g_assert_cmpfloat_with_epsilon (r.h, 160.0f, 1e-3);
  /* Huge dw is capped at e^4. */
  float big[4] = { 0, 0, 100, 0 };
  r = spp_bbox_apply (&b, big);
  g_assert_cmpfloat_with_epsilon (r.w, 40.0f * expf (4.0f), 1e-2);
  SppBox c = { -10, 90, 50, 50 };
  g_assert_true (spp_bbox_clip (&c, 100, 100));
  g_assert_cmpfloat (c.x, ==, 0);
  g_assert_cmpfloat (c.w, ==, 40);
  g_assert_cmpfloat (c.h, ==, 10);
  SppBox out = { 200, 200, 10, 10 };
  g_assert_false (spp_bbox_clip (&out, 100, 100));
  SppBox nan = { NAN, 0, 10, 10 };
  g_assert_false (spp_bbox_clip (&nan, 100, 100));
}

static void
test_iou_nms (void)
{
  SppBox a = { 0, 0, 10, 10 }, b = { 5, 0, 10, 10 }, c = { 20, 20, 5, 5 };
  /* Overlap 5x10 = 50, union 150. */
  g_assert_cmpfloat_with_epsilon (spp_box_iou (&a, &b), 50.0f / 150.0f, 1e-6);
  g_assert_cmpfloat (spp_box_iou (&a, &c), ==, 0.0f);
  SppBox e = { 0, 0, 0, 10 };
  g_assert_cmpfloat (spp_box_iou (&a, &e), ==, 0.0f);

  /* Class 0: A (0.9), A' (0.8, IoU 0.68 with A: suppressed), B (0.7,
   * IoU 0.33 with A: kept at 0.3? no, 0.333 > 0.3: suppressed);
   * class 1: A (0.6) kept (other class). */
  SppDetection d[] = {
    { { 5, 0, 10, 10 }, 0, 0.7f, "x" },
    { { 0, 0, 10, 10 }, 0, 0.9f, "x" },
    { { 1, 1, 10, 10 }, 0, 0.8f, "x" },
    { { 0, 0, 10, 10 }, 1, 0.6f, "y" },
    { { 50, 50, 10, 10 }, 0, 0.1f, "x" },
  };
  guint n = spp_nms (d, 5, 0.3f, 100);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpfloat (d[0].confidence, ==, 0.9f);
  g_assert_cmpint (d[1].label_id, ==, 1);
  g_assert_cmpfloat (d[2].confidence, ==, 0.1f);
  /* At 0.5 the 0.333 overlap survives; top-k cuts to 2. */
  SppDetection d2[] = {
    { { 5, 0, 10, 10 }, 0, 0.7f, "x" },
    { { 0, 0, 10, 10 }, 0, 0.9f, "x" },
    { { 1, 1, 10, 10 }, 0, 0.8f, "x" },
  };
  g_assert_cmpuint (spp_nms (d2, 3, 0.5f, 100), ==, 2);
  g_assert_cmpfloat (d2[1].confidence, ==, 0.7f);
  g_assert_cmpuint (spp_nms (d2, 3, 0.5f, 1), ==, 1);
  g_assert_cmpuint (spp_nms (d2, 0, 0.5f, 10), ==, 0);
}

/* Box voting against hand-computed means. Kept K = (0,0,10,10) at 0.8,
 * class 0. Candidates:
 *   K itself               0.8  votes
 *   (2,0,10,10)            0.4  IoU 80/120 = 0.67 >= 0.6, 0.4 >= 0.5 * 0.8: votes
 *   (0,2,10,10)            0.3  IoU 0.67 but 0.3 < 0.4: too weak
 *   (5,0,10,10)            0.9  IoU 50/150 = 0.33 < 0.6: too far
 *   (0,0,10,10) class 1    0.9  other class
 * x1 = (0.8 * 0 + 0.4 * 2) / 1.2 = 2/3, x2 = (0.8 * 10 + 0.4 * 12) / 1.2
 * = 32/3, so x 2/3, w 10; y unchanged. */
static void
test_box_vote (void)
{
  SppDetection kept[] = { { { 0, 0, 10, 10 }, 0, 0.8f, "x" } };
  const SppDetection cands[] = {
    { { 0, 0, 10, 10 }, 0, 0.8f, "x" },
    { { 2, 0, 10, 10 }, 0, 0.4f, "x" },
    { { 0, 2, 10, 10 }, 0, 0.3f, "x" },
    { { 5, 0, 10, 10 }, 0, 0.9f, "x" },
    { { 0, 0, 10, 10 }, 1, 0.9f, "y" },
  };
  spp_box_vote (kept, 1, cands, G_N_ELEMENTS (cands), 0.6f);
  g_assert_cmpfloat_with_epsilon (kept[0].box.x, 2.0f / 3.0f, 1e-5f);
  g_assert_cmpfloat_with_epsilon (kept[0].box.w, 10.0f, 1e-5f);
  g_assert_cmpfloat (kept[0].box.y, ==, 0.0f);
  g_assert_cmpfloat (kept[0].box.h, ==, 10.0f);
  g_assert_cmpfloat (kept[0].confidence, ==, 0.8f);
  /* At IoU 0.3 the 0.9 box at x 5 votes too:
   * x1 = (0 * 0.8 + 2 * 0.4 + 5 * 0.9) / 2.1 = 5.3 / 2.1. */
  SppDetection again[] = { { { 0, 0, 10, 10 }, 0, 0.8f, "x" } };
  spp_box_vote (again, 1, cands, G_N_ELEMENTS (cands), 0.3f);
  g_assert_cmpfloat_with_epsilon (again[0].box.x, 5.3f / 2.1f, 1e-5f);
  g_assert_cmpfloat_with_epsilon (again[0].box.w, 10.0f, 1e-5f);
}

static void
test_scales_parse (void)
{
  guint s[4], n = 99;
  g_autoptr (GError) error = NULL;
  g_assert_true (spp_scales_parse (" 480, 688 ", s, 4, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (s[0], ==, 480);
  g_assert_cmpuint (s[1], ==, 688);
  g_assert_true (spp_scales_parse ("", s, 4, &n, NULL) && n == 0);
  g_assert_true (spp_scales_parse (NULL, s, 4, &n, NULL) && n == 0);
  g_assert_true (spp_scales_parse ("32,4096", s, 4, &n, NULL) && n == 2);
  const char *bad[] = { "31", "4097", "480,abc", "480,,688", "480x",
                        "-480", "32,64,96,128,160" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_clear_error (&error);
    g_assert_false (spp_scales_parse (bad[i], s, 4, &n, &error));
    g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
    g_assert_nonnull (strstr (error->message, bad[i]));
  }
}

static SppModel *
tiny (void)
{
  g_autofree char *p = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "data",
                                         "tiny.sppm", NULL);
  g_autoptr (GError) error = NULL;
  SppModel *m = spp_model_load (p, &error);
  g_assert_no_error (error);
  return m;
}

/* tiny.sppm with its per-class thresholds replaced: the bytes of the
 * "detect.thresholds" entry (key, u32 type 4 = array, u32 element type
 * 2 = f32, u32 count, the values; docs/model-format.md) patched. */
static SppModel *
tiny_with_thresholds (float t0, float t1)
{
  g_autofree char *p = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "data",
                                         "tiny.sppm", NULL);
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (p, &data, &len, NULL));
  const char key[] = "detect.thresholds";
  char *at = memmem (data, len, key, sizeof key - 1);
  g_assert_nonnull (at);
  guint32 head[3];
  memcpy (head, at + sizeof key - 1, sizeof head);
  g_assert_cmpuint (head[0], ==, 4);
  g_assert_cmpuint (head[1], ==, 2);
  g_assert_cmpuint (head[2], ==, 2);
  float t[2] = { t0, t1 };
  memcpy (at + sizeof key - 1 + sizeof head, t, sizeof t);
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (GError) error = NULL;
  SppModel *m = spp_model_load_from_bytes (bytes, "tiny-thresholds", &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (spp_model_get_threshold (m, 0), ==, t0);
  g_assert_cmpfloat (spp_model_get_threshold (m, 1), ==, t1);
  return m;
}

/* @n windows inside a @w x @h frame, sides from 8 px to 15/16 of the
 * frame's, from @seed. */
static void
random_windows (SppBox *out, int n, guint32 seed, int w, int h)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (int i = 0; i < n; i++) {
    float bw = g_rand_double_range (r, 8, w * 15 / 16);
    float bh = g_rand_double_range (r, 8, h * 15 / 16);
    out[i] = (SppBox) { g_rand_double_range (r, 0, w - bw),
                        g_rand_double_range (r, 0, h - bh), bw, bh };
  }
  g_rand_free (r);
}

static guint8 *
make_frame (int w, int h, SppImage *img)
{
  guint8 *rgb = g_malloc ((gsize) w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 *p = rgb + ((gsize) y * w + x) * 3;
      p[0] = (x * 7) & 255;
      p[1] = (y * 5) & 255;
      p[2] = ((x + y) * 3) & 255;
    }
  *img = (SppImage) { SPP_PIXEL_RGB, w, h, { rgb }, { w * 3 } };
  return rgb;
}

/* Without a threshold of its own the detector applies each class's
 * threshold from the model: with {0, 1} class 0 keeps boxes under 0.5
 * (so it is not the 0.5 default) and class 1 keeps none; with {1, 0} the
 * other way round. */
static void
test_per_class_thresholds (void)
{
  SppImage img;
  g_autofree guint8 *rgb = make_frame (160, 120, &img);
  SppBox props[60];
  random_windows (props, 60, 5, 160, 120);
  for (int flip = 0; flip < 2; flip++) {
    g_autoptr (SppModel) m = tiny_with_thresholds (flip ? 1.0f : 0.0f,
                                                   flip ? 0.0f : 1.0f);
    g_autoptr (GError) error = NULL;
    g_autoptr (SppDetector) d = spp_detector_new (m, &error);
    g_assert_no_error (error);
    guint scales[] = { 96 };
    g_assert_true (spp_detector_set_scales (d, scales, 1, &error));
    const SppDetection *dets;
    guint n;
    g_assert_true (spp_detector_detect (d, &img, props, 60, &dets, &n,
                                        &error));
    g_assert_no_error (error);
    const int open = flip ? 1 : 0;
    guint low = 0;
    for (guint i = 0; i < n; i++) {
      if (dets[i].label_id != open)
        g_assert_cmpfloat (dets[i].confidence, >=, 1.0f);
      else
        low += dets[i].confidence < 0.5f;
    }
    g_assert_cmpuint (low, >, 0);
  }
}

/* The input as the trunk sees it: tests/data/probe-bgr.sppm (input.order
 * BGR, mean {10, 20, 30}, std {2, 4, 8}, an identity 1x1 conv, SPP level
 * 1) on a flat frame of R 200, G 100, B 60 at its own scale: the pooled
 * planes are (B - 10) / 2 = 25, (G - 20) / 4 = 20, (R - 30) / 8 = 21.25,
 * by hand. Without the swap the first would be 95. */
static void
test_input_order (void)
{
  g_autofree char *p = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "data",
                                         "probe-bgr.sppm", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load (p, &error);
  g_assert_no_error (error);
  g_autoptr (SppDetector) d = spp_detector_new_for_features (m, &error);
  g_assert_no_error (error);
  const SppPixelFormat formats[] = { SPP_PIXEL_RGB, SPP_PIXEL_BGR };
  for (gsize f = 0; f < G_N_ELEMENTS (formats); f++) {
    guint8 px[32 * 32 * 3];
    const gboolean bgr = formats[f] == SPP_PIXEL_BGR;
    for (int i = 0; i < 32 * 32; i++) {
      px[3 * i] = bgr ? 60 : 200;
      px[3 * i + 1] = 100;
      px[3 * i + 2] = bgr ? 200 : 60;
    }
    SppImage img = { formats[f], 32, 32, { px }, { 32 * 3 } };
    SppBox box = { 4, 4, 20, 20 };
    g_autoptr (SppTensor) pooled = spp_tensor_new (0, 0, 0, 0);
    g_assert_true (spp_detector_compute_features (d, &img, &box, 1, pooled,
                                                  NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (spp_tensor_get_size (pooled), ==, 3);
    const float *v = spp_tensor_const_data (pooled);
    g_assert_cmpfloat_with_epsilon (v[0], 25.0f, 1e-5f);
    g_assert_cmpfloat_with_epsilon (v[1], 20.0f, 1e-5f);
    g_assert_cmpfloat_with_epsilon (v[2], 21.25f, 1e-5f);
  }
}

static void
test_detect_edge_cases (void)
{
  g_autoptr (SppModel) m = tiny ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SppDetector) d = spp_detector_new (m, &error);
  g_assert_no_error (error);
  SppImage img;
  g_autofree guint8 *rgb = make_frame (160, 120, &img);
  const SppDetection *dets;
  guint n = 99;

  /* Zero proposals: nothing, no error. */
  g_assert_true (spp_detector_detect (d, &img, NULL, 0, &dets, &n, &error));
  g_assert_cmpuint (n, ==, 0);
  /* Proposals outside the frame, empty or NaN: nothing. */
  SppBox outside[] = { { 500, 500, 10, 10 }, { -50, -50, 20, 20 },
                       { 10, 10, 0, 5 }, { NAN, 1, 5, 5 } };
  g_assert_true (spp_detector_detect (d, &img, outside, 4, &dets, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 0);
  /* A zero-size frame is an error, not a crash. */
  SppImage empty = img;
  empty.width = 0;
  g_assert_false (spp_detector_detect (d, &empty, outside, 1, &dets, &n,
                                       &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&error);

  /* Threshold 0: every window of every class is a candidate; results are
   * inside the frame, sorted, NMS-consistent, and repeatable. */
  spp_detector_set_threshold (d, 0.0f);
  guint scales[] = { 64, 128 };
  g_assert_true (spp_detector_set_scales (d, scales, 2, &error));
  SppBox props[50];
  GRand *r = g_rand_new_with_seed (3);
  for (int i = 0; i < 50; i++) {
    float w = g_rand_double_range (r, 4, 150), h = g_rand_double_range (r, 4, 110);
    props[i] = (SppBox) { g_rand_double_range (r, -20, 160 - w / 2),
                          g_rand_double_range (r, -20, 120 - h / 2), w, h };
  }
  g_rand_free (r);
  g_assert_true (spp_detector_detect (d, &img, props, 50, &dets, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, >, 0);
  g_autofree SppDetection *first = g_memdup2 (dets, n * sizeof *dets);
  guint n_first = n;
  for (guint i = 0; i < n; i++) {
    g_assert_cmpfloat (dets[i].box.x, >=, 0);
    g_assert_cmpfloat (dets[i].box.x + dets[i].box.w, <=, 160.001);
    g_assert_cmpfloat (dets[i].box.y + dets[i].box.h, <=, 120.001);
    g_assert_cmpint (dets[i].label_id, <, 2);
    g_assert_cmpstr (dets[i].label, ==, spp_model_get_label (m, dets[i].label_id));
    g_assert_true (dets[i].confidence >= 0 && dets[i].confidence <= 1);
    if (i > 0)
      g_assert_cmpfloat (dets[i].confidence, <=, dets[i - 1].confidence);
    for (guint j = 0; j < i; j++)
      if (dets[j].label_id == dets[i].label_id)
        g_assert_cmpfloat (spp_box_iou (&dets[i].box, &dets[j].box), <=, 0.3f);
  }
  g_assert_true (spp_detector_detect (d, &img, props, 50, &dets, &n, &error));
  g_assert_cmpuint (n, ==, n_first);
  g_assert_cmpmem (dets, n * sizeof *dets, first, n * sizeof *dets);
  /* A threshold of 1 keeps nothing; bad scales are refused, old kept. */
  spp_detector_set_threshold (d, 1.0f);
  g_assert_true (spp_detector_detect (d, &img, props, 50, &dets, &n, &error));
  g_assert_cmpuint (n, ==, 0);
  guint bad[] = { 5 };
  g_assert_false (spp_detector_set_scales (d, bad, 1, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
}

/* The detector's fast path (bin-major pooling, permuted weights, two
 * threads) against the public, channel-major path done by hand: the top
 * detection must be the best window's score and regressed box. */
static void
test_detect_matches_manual (gconstpointer data)
{
  const gboolean head = GPOINTER_TO_INT (data);
  g_autofree char *mpath = g_build_filename (
      g_getenv ("G_TEST_SRCDIR"), "data",
      head ? "tiny.sppm" : "tiny-nohead.sppm", NULL);
  g_autoptr (GError) merr = NULL;
  g_autoptr (SppModel) m = spp_model_load (mpath, &merr);
  g_assert_no_error (merr);
  const int F = head ? 32 : 80;
  g_autoptr (GError) error = NULL;
  g_autoptr (SppDetector) d = spp_detector_new (m, &error);
  SppImage img;
  g_autofree guint8 *rgb = make_frame (128, 96, &img);
  guint scale = 96; /* the frame's own size: no resampling subtleties */
  g_assert_true (spp_detector_set_scales (d, &scale, 1, &error));
  spp_detector_set_threshold (d, 0.0f);
  SppBox props[100];
  random_windows (props, 100, 9, 128, 96);
  const SppDetection *dets;
  guint n;
  g_assert_true (spp_detector_detect (d, &img, props, 100, &dets, &n, &error));
  g_assert_cmpuint (n, >, 0);

  /* By hand: normalise, trunk, window SPP, head, SVM, regression. */
  g_autoptr (SppNet) net = spp_net_new (m, &error);
  g_autoptr (SppTensor) x = spp_tensor_new (1, 3, 96, 128);
  float mean[3], std[3];
  spp_model_get_normalization (m, mean, std);
  float *px = spp_tensor_data (x);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 96 * 128; i++)
      px[c * 96 * 128 + i] = (rgb[i * 3 + c] - mean[c]) / std[c];
  g_autoptr (SppTensor) map = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (SppTensor) pooled = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (SppTensor) feat = spp_tensor_new (0, 0, 0, 0);
  g_assert_true (spp_net_forward (net, x, map, &error));
  guint nl;
  const guint *levels = spp_model_get_levels (m, &nl);
  g_assert_true (spp_pyramid_pool_windows (map, levels, nl,
                                           spp_model_get_stride (m),
                                           spp_model_get_offset (m), props,
                                           100, pooled, &error));
  g_assert_true (spp_net_forward_head (net, pooled, feat, &error));
  /* The training feature path gives the same vectors. */
  g_autoptr (SppTensor) fp = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (SppTensor) ff = spp_tensor_new (0, 0, 0, 0);
  g_assert_true (spp_detector_compute_features (d, &img, props, 100, fp, ff,
                                                &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spp_tensor_get_size (fp), ==, spp_tensor_get_size (pooled));
  for (gsize i = 0; i < spp_tensor_get_size (fp); i++)
    g_assert_cmpfloat_with_epsilon (spp_tensor_const_data (fp)[i],
                                    spp_tensor_const_data (pooled)[i], 1e-4);
  for (gsize i = 0; i < spp_tensor_get_size (ff); i++)
    g_assert_cmpfloat_with_epsilon (spp_tensor_const_data (ff)[i],
                                    spp_tensor_const_data (feat)[i], 1e-4);
  /* Read the SVM and regressor tensors straight from the file. */
  g_autofree char *path = g_build_filename (
      g_getenv ("G_TEST_SRCDIR"), "data",
      head ? "tiny-weights.bin" : "tiny-nohead-weights.bin", NULL);
  char *raw;
  gsize len;
  g_assert_true (g_file_get_contents (path, &raw, &len, NULL));
  g_autofree float *wts = (float *) raw;
  /* svm.weight [2,F], svm.bias [2], bbox.weight [8,80], bbox.bias [8]
   * (written by make_models.py). */
  g_assert_cmpuint (len, ==, (2 * F + 2 + 640 + 8) * 4);
  const float *sw = wts, *sb = wts + 2 * F, *bw = sb + 2, *bb = bw + 640;
  const float *f = spp_tensor_const_data (feat);
  const float *p = spp_tensor_const_data (pooled);
  float best = -1;
  SppBox best_box = { 0 };
  for (int i = 0; i < 100; i++)
    for (int k = 0; k < 2; k++) {
      double s = sb[k];
      for (int j = 0; j < F; j++)
        s += sw[k * F + j] * f[i * F + j];
      float conf = 1.0f / (1.0f + expf (-(float) s));
      if (conf > best) {
        best = conf;
        float dl[4];
        for (int q = 0; q < 4; q++) {
          double v = bb[4 * k + q];
          for (int j = 0; j < 80; j++)
            v += bw[(4 * k + q) * 80 + j] * p[i * 80 + j];
          dl[q] = v;
        }
        best_box = spp_bbox_apply (&props[i], dl);
        spp_bbox_clip (&best_box, 128, 96);
      }
    }
  g_assert_cmpfloat_with_epsilon (dets[0].confidence, best, 1e-5);
  g_assert_cmpfloat_with_epsilon (dets[0].box.x, best_box.x, 1e-3);
  g_assert_cmpfloat_with_epsilon (dets[0].box.y, best_box.y, 1e-3);
  g_assert_cmpfloat_with_epsilon (dets[0].box.w, best_box.w, 1e-3);
  g_assert_cmpfloat_with_epsilon (dets[0].box.h, best_box.h, 1e-3);

  /* Two box passes: the best box pooled again where the regressor put
   * it, and its class's regressor applied once more, by hand. */
  const int best_k = dets[0].label_id;
  g_autoptr (SppTensor) again = spp_tensor_new (0, 0, 0, 0);
  g_assert_true (spp_pyramid_pool_windows (map, levels, nl,
                                           spp_model_get_stride (m),
                                           spp_model_get_offset (m),
                                           &best_box, 1, again, &error));
  const float *pa = spp_tensor_const_data (again);
  float dl[4];
  for (int q = 0; q < 4; q++) {
    double v = bb[4 * best_k + q];
    for (int j = 0; j < 80; j++)
      v += bw[(4 * best_k + q) * 80 + j] * pa[j];
    dl[q] = v;
  }
  SppBox twice = spp_bbox_apply (&best_box, dl);
  g_assert_true (spp_bbox_clip (&twice, 128, 96));
  spp_detector_set_box_passes (d, 2);
  g_assert_true (spp_detector_detect (d, &img, props, 100, &dets, &n, &error));
  g_assert_cmpfloat_with_epsilon (dets[0].confidence, best, 1e-5);
  g_assert_cmpfloat_with_epsilon (dets[0].box.x, twice.x, 1e-3);
  g_assert_cmpfloat_with_epsilon (dets[0].box.y, twice.y, 1e-3);
  g_assert_cmpfloat_with_epsilon (dets[0].box.w, twice.w, 1e-3);
  g_assert_cmpfloat_with_epsilon (dets[0].box.h, twice.h, 1e-3);
  /* The second pass moved it (else this checks nothing). */
  g_assert_cmpfloat (fabsf (twice.x - best_box.x) + fabsf (twice.y - best_box.y)
                     + fabsf (twice.w - best_box.w)
                     + fabsf (twice.h - best_box.h), >, 0.01f);
}

static void
test_no_svm_model (void)
{
  /* The ZF-5 test model has no SVMs: a detector refuses it clearly. */
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load (g_getenv ("SPP_TEST_ZF5"), &error);
  g_assert_no_error (error);
  g_autoptr (SppDetector) d = spp_detector_new (m, &error);
  g_assert_null (d);
  g_assert_error (error, SPP_ERROR, SPP_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "svm.weight"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/detector/scale-choice", test_scale_choice);
  g_test_add_func ("/detector/resized-size", test_resized_size);
  g_test_add_func ("/detector/bbox", test_bbox);
  g_test_add_func ("/detector/iou-nms", test_iou_nms);
  g_test_add_func ("/detector/box-vote", test_box_vote);
  g_test_add_func ("/detector/scales-parse", test_scales_parse);
  g_test_add_func ("/detector/input-order", test_input_order);
  g_test_add_func ("/detector/per-class-thresholds",
                   test_per_class_thresholds);
  g_test_add_func ("/detector/edge-cases", test_detect_edge_cases);
  g_test_add_func ("/detector/no-svm-model", test_no_svm_model);
  g_test_add_data_func ("/detector/matches-manual/head", GINT_TO_POINTER (1),
                        test_detect_matches_manual);
  g_test_add_data_func ("/detector/matches-manual/no-head",
                        GINT_TO_POINTER (0), test_detect_matches_manual);
  return g_test_run ();
}
