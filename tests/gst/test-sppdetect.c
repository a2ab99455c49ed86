/* sppdetect: caps, metas and their fields, object-class, properties while
 * playing, model swap, inference-interval, bad models, async, and eight
 * instances in one pipeline. Uses tests/data/tiny.sppm (random weights,
 * labels "person" and "vehicle"), so threshold=0 is set wherever a test
 * needs detections. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "spp/spp.h"

#define W 96
#define H 72

static gchar *data_dir;
static gchar *tiny_model;

static const gchar *const formats[] = {
  "I420", "NV12", "YUY2", "RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA",
};

static gchar *
data_path (const gchar * name)
{
  return g_build_filename (data_dir, name, NULL);
}

/* Blocks of distinct colours on a gradient: structure for the proposals */
static GstBuffer *
make_frame (const gchar * format, guint frame_no)
{
  GstVideoInfo rgb_info, info;
  GstBuffer *rgb, *out;
  GstVideoFrame src, dst;
  GstVideoConverter *conv;
  GstMapInfo map;

  gst_video_info_set_format (&rgb_info, GST_VIDEO_FORMAT_RGB, W, H);
  gst_video_info_set_format (&info, gst_video_format_from_string (format),
      W, H);
  rgb = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (&rgb_info));
  fail_unless (gst_buffer_map (rgb, &map, GST_MAP_WRITE));
  for (gint y = 0; y < H; y++) {
    guint8 *row = map.data + y * GST_VIDEO_INFO_PLANE_STRIDE (&rgb_info, 0);
    for (gint x = 0; x < W; x++) {
      guint8 r = x * 2, g = y * 3, b = 64;
      if (x > 10 && x < 40 && y > 8 && y < 50) {
        r = 230;
        g = 40;
        b = 40;
      } else if (x > 55 && x < 90 && y > 30 && y < 65) {
        r = 20;
        g = 40;
        b = 220;
      }
      row[3 * x] = r;
      row[3 * x + 1] = g;
      row[3 * x + 2] = b;
    }
  }
  gst_buffer_unmap (rgb, &map);

  out = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (&info));
  fail_unless (gst_video_frame_map (&src, &rgb_info, rgb, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&dst, &info, out, GST_MAP_WRITE));
  conv = gst_video_converter_new (&rgb_info, &info, NULL);
  gst_video_converter_frame (conv, &src, &dst);
  gst_video_converter_free (conv);
  gst_video_frame_unmap (&src);
  gst_video_frame_unmap (&dst);
  gst_buffer_unref (rgb);

  GST_BUFFER_PTS (out) = frame_no * GST_SECOND / 30;
  GST_BUFFER_DURATION (out) = GST_SECOND / 30;
  return out;
}

static GstHarness *
detect_harness (const gchar * format, const gchar * props)
{
  g_autofree gchar *desc = g_strdup_printf ("sppdetect model=\"%s\" %s",
      tiny_model, props ? props : "");
  g_autofree gchar *caps = g_strdup_printf ("video/x-raw,format=%s,"
      "width=%d,height=%d,framerate=30/1", format, W, H);
  GstHarness *h = gst_harness_new_parse (desc);

  gst_harness_set_src_caps_str (h, caps);
  return h;
}

static GstElement *
harness_detect (GstHarness * h)
{
  /* gst_harness_new_parse wraps the element in a bin */
  GstElement *e = gst_bin_get_by_name (GST_BIN (h->element), "sppdetect0");
  if (!e) {
    GstIterator *it = gst_bin_iterate_elements (GST_BIN (h->element));
    GValue v = G_VALUE_INIT;
    fail_unless (gst_iterator_next (it, &v) == GST_ITERATOR_OK);
    e = g_value_dup_object (&v);
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  return e;
}

typedef struct
{
  guint n;
  guint n_propagated;
  guint64 source_frame;         /* of the last one */
  gboolean seen[2];
  gdouble conf_sum;             /* of every confidence: tells models apart */
} MetaSummary;

/* Checks every ROI meta's fields and ranges; fills @sum */
static void
check_metas (GstBuffer * buf, MetaSummary * sum)
{
  gpointer state = NULL;
  GstMeta *meta;

  memset (sum, 0, sizeof (*sum));
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    GstStructure *s = gst_video_region_of_interest_meta_get_param (roi,
        "detection");
    const gchar *type = g_quark_to_string (roi->roi_type);
    gdouble x0, y0, x1, y1, conf;
    gint label_id;
    gboolean propagated;
    guint64 src;

    fail_unless (s != NULL, "no detection param");
    fail_unless (roi->w > 0 && roi->h > 0);
    fail_unless (roi->x + roi->w <= W && roi->y + roi->h <= H,
        "box %u,%u %ux%u outside the frame", roi->x, roi->y, roi->w, roi->h);
    fail_unless (gst_structure_get_double (s, "x_min", &x0));
    fail_unless (gst_structure_get_double (s, "y_min", &y0));
    fail_unless (gst_structure_get_double (s, "x_max", &x1));
    fail_unless (gst_structure_get_double (s, "y_max", &y1));
    fail_unless (0 <= x0 && x0 < x1 && x1 <= 1, "x %f..%f", x0, x1);
    fail_unless (0 <= y0 && y0 < y1 && y1 <= 1, "y %f..%f", y0, y1);
    /* Pixels are the normalised box, rounded */
    fail_unless (ABS (roi->x - x0 * W) <= 1.0 && ABS (roi->y - y0 * H) <= 1.0);
    fail_unless (ABS (roi->x + roi->w - x1 * W) <= 1.0);
    fail_unless (gst_structure_get_double (s, "confidence", &conf));
    sum->conf_sum += conf;
    fail_unless (conf >= 0 && conf <= 1, "confidence %f", conf);
    fail_unless (gst_structure_get_int (s, "label_id", &label_id));
    fail_unless (label_id == 0 || label_id == 1, "label_id %d", label_id);
    fail_unless_equals_string (gst_structure_get_string (s, "label"), type);
    fail_unless_equals_string (type, label_id == 0 ? "person" : "vehicle");
    fail_unless (gst_structure_get_boolean (s, "propagated", &propagated));
    fail_unless (gst_structure_get_uint64 (s, "source-frame", &src));
    sum->seen[label_id] = TRUE;
    sum->n++;
    sum->n_propagated += propagated;
    sum->source_frame = src;
  }
}

GST_START_TEST (test_caps_each_format)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *h = detect_harness (formats[i], "threshold=0");
    GstBuffer *in = make_frame (formats[i], 0);
    GstBuffer *ref = gst_buffer_copy_deep (in);
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
    GstStructure *st = gst_caps_get_structure (caps, 0);
    MetaSummary sum;
    GstMapInfo a, b;

    fail_unless (out != NULL, "%s: no output", formats[i]);
    fail_unless_equals_string (gst_structure_get_string (st, "format"),
        formats[i]);
    check_metas (out, &sum);
    fail_unless (sum.n > 0, "%s: no detections at threshold 0", formats[i]);
    fail_unless_equals_int (sum.n_propagated, 0);
    /* Pixels untouched */
    fail_unless (gst_buffer_map (out, &a, GST_MAP_READ));
    fail_unless (gst_buffer_map (ref, &b, GST_MAP_READ));
    fail_unless (a.size == b.size && memcmp (a.data, b.data, a.size) == 0);
    gst_buffer_unmap (out, &a);
    gst_buffer_unmap (ref, &b);
    gst_caps_unref (caps);
    gst_buffer_unref (ref);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* One detection as the element's meta or the library's result. */
typedef struct
{
  gint label_id;
  gdouble confidence, x0, y0, x1, y1;
} Found;

static gint
found_cmp (gconstpointer pa, gconstpointer pb)
{
  const Found *a = pa, *b = pb;
  if (a->label_id != b->label_id)
    return a->label_id < b->label_id ? -1 : 1;
  if (a->confidence != b->confidence)
    return a->confidence > b->confidence ? -1 : 1;
  if (a->x0 != b->x0)
    return a->x0 < b->x0 ? -1 : 1;
  return (a->y0 > b->y0) - (a->y0 < b->y0);
}

/* The pixel formats as libspp names them (the element's own mapping is
 * what is under test, so the test keeps its own). */
static SppPixelFormat
spp_format (GstVideoFormat f)
{
  switch (f) {
    case GST_VIDEO_FORMAT_I420:
      return SPP_PIXEL_I420;
    case GST_VIDEO_FORMAT_NV12:
      return SPP_PIXEL_NV12;
    case GST_VIDEO_FORMAT_YUY2:
      return SPP_PIXEL_YUY2;
    case GST_VIDEO_FORMAT_RGB:
      return SPP_PIXEL_RGB;
    case GST_VIDEO_FORMAT_BGR:
      return SPP_PIXEL_BGR;
    case GST_VIDEO_FORMAT_RGBx:
      return SPP_PIXEL_RGBX;
    case GST_VIDEO_FORMAT_BGRx:
      return SPP_PIXEL_BGRX;
    case GST_VIDEO_FORMAT_RGBA:
      return SPP_PIXEL_RGBA;
    default:
      fail_unless (f == GST_VIDEO_FORMAT_BGRA, "format %d", f);
      return SPP_PIXEL_BGRA;
  }
}

/* The element's detections on a frame against libspp's, run by hand on
 * the same bytes with the element's default settings (the model's
 * scales and proposal settings, fast mode, a fresh proposal tracker):
 * the same boxes, classes and confidences, for every pixel format. This
 * catches a wrong format, plane, stride or channel order in the glue. */
GST_START_TEST (test_matches_library)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) model = spp_model_load (tiny_model, &error);

  fail_unless (model != NULL, "%s", error ? error->message : "");
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *h = detect_harness (formats[i], "threshold=0");
    GstBuffer *in = make_frame (formats[i], 0);
    GstBuffer *copy = gst_buffer_copy_deep (in);
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    g_autoptr (GArray) got = g_array_new (FALSE, FALSE, sizeof (Found));
    g_autoptr (GArray) want = g_array_new (FALSE, FALSE, sizeof (Found));
    gpointer state = NULL;
    GstMeta *meta;
    GstVideoInfo info;
    GstVideoFrame frame;
    SppImage img = { 0 };
    SppProposalParams params;
    SppVideoProposals *tracker;
    SppDetector *det;
    const SppBox *boxes;
    const SppDetection *dets;
    guint n_boxes, n_dets;

    while ((meta = gst_buffer_iterate_meta_filtered (out, &state,
                GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      GstStructure *st = gst_video_region_of_interest_meta_get_param (
          (GstVideoRegionOfInterestMeta *) meta, "detection");
      Found f;
      fail_unless (gst_structure_get_int (st, "label_id", &f.label_id));
      fail_unless (gst_structure_get_double (st, "confidence",
              &f.confidence));
      fail_unless (gst_structure_get_double (st, "x_min", &f.x0));
      fail_unless (gst_structure_get_double (st, "y_min", &f.y0));
      fail_unless (gst_structure_get_double (st, "x_max", &f.x1));
      fail_unless (gst_structure_get_double (st, "y_max", &f.y1));
      g_array_append_val (got, f);
    }

    gst_video_info_set_format (&info, gst_video_format_from_string
        (formats[i]), W, H);
    fail_unless (gst_video_frame_map (&frame, &info, copy, GST_MAP_READ));
    img.format = spp_format (GST_VIDEO_INFO_FORMAT (&info));
    img.width = W;
    img.height = H;
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
      img.planes[p] = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
      img.strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    }
    spp_proposal_params_init (&params);
    spp_model_get_proposal_params (model, &params);
    params.mode = SPP_PROPOSAL_FAST;
    tracker = spp_video_proposals_new (&params, 10);
    det = spp_detector_new (model, &error);
    fail_unless (det != NULL);
    spp_detector_set_threshold (det, 0.0f);
    spp_detector_set_nms_threshold (det, 0.3f);
    boxes = spp_video_proposals_update (tracker, &img, TRUE, &n_boxes, NULL,
                                        &error);
    fail_unless (boxes != NULL, "%s", error ? error->message : "");
    fail_unless (spp_detector_detect (det, &img, boxes, n_boxes, &dets,
            &n_dets, &error));
    for (guint k = 0; k < n_dets; k++) {
      const SppBox *b = &dets[k].box;
      gdouble x0 = CLAMP (b->x, 0, W), y0 = CLAMP (b->y, 0, H);
      gdouble x1 = CLAMP (b->x + b->w, 0, W), y1 = CLAMP (b->y + b->h, 0, H);
      Found f = { dets[k].label_id, dets[k].confidence, x0 / W, y0 / H,
        x1 / W, y1 / H
      };
      /* The element leaves out boxes under a pixel once rounded. */
      if (floor (x1 + 0.5) <= floor (x0 + 0.5)
          || floor (y1 + 0.5) <= floor (y0 + 0.5))
        continue;
      g_array_append_val (want, f);
    }
    gst_video_frame_unmap (&frame);

    fail_unless (want->len > 0, "%s: the library found nothing", formats[i]);
    fail_unless_equals_int (got->len, want->len);
    g_array_sort (got, found_cmp);
    g_array_sort (want, found_cmp);
    for (guint k = 0; k < got->len; k++) {
      const Found *a = &g_array_index (got, Found, k);
      const Found *b = &g_array_index (want, Found, k);
      fail_unless (a->label_id == b->label_id && a->confidence == b->confidence
          && fabs (a->x0 - b->x0) < 1e-9 && fabs (a->y0 - b->y0) < 1e-9
          && fabs (a->x1 - b->x1) < 1e-9 && fabs (a->y1 - b->y1) < 1e-9,
          "%s: detection %u differs: element %d %.6f (%.4f %.4f %.4f %.4f), "
          "library %d %.6f (%.4f %.4f %.4f %.4f)", formats[i], k,
          a->label_id, a->confidence, a->x0, a->y0, a->x1, a->y1,
          b->label_id, b->confidence, b->x0, b->y0, b->x1, b->y1);
    }
    spp_detector_free (det);
    spp_video_proposals_free (tracker);
    gst_buffer_unref (copy);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_caps_refused)
{
  /* GRAY8 is not in the template: not negotiated, no crash */
  GstHarness *h = detect_harness ("GRAY8", NULL);
  GstBuffer *buf = gst_buffer_new_and_alloc (W * H);

  fail_unless_equals_int (gst_harness_push (h, buf),
      GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_object_class)
{
  GstHarness *h = detect_harness ("RGB", "threshold=0 object-class=vehicle");
  GstElement *e = harness_detect (h);
  GstBus *bus = gst_bus_new ();
  GstBuffer *out;
  MetaSummary sum;
  GstMessage *msg;
  gchar *str;

  gst_element_set_bus (e, bus);
  out = gst_harness_push_and_pull (h, make_frame ("RGB", 0));
  check_metas (out, &sum);
  fail_if (sum.seen[0], "person kept with object-class=vehicle");
  /* Filtering must keep the class asked for, not drop everything. */
  fail_unless (sum.seen[1], "no vehicle with object-class=vehicle");
  gst_buffer_unref (out);

  /* While playing; an unknown label warns and is ignored */
  g_object_set (e, "object-class", "person, unicorn", NULL);
  g_object_get (e, "object-class", &str, NULL);
  fail_unless_equals_string (str, "person,unicorn");
  g_free (str);
  out = gst_harness_push_and_pull (h, make_frame ("RGB", 1));
  check_metas (out, &sum);
  fail_if (sum.seen[1], "vehicle kept with object-class=person");
  fail_unless (sum.seen[0], "no person with object-class=person");
  gst_buffer_unref (out);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning for an unknown label");
  {
    GError *err;
    gst_message_parse_warning (msg, &err, NULL);
    fail_unless (strstr (err->message, "unicorn") != NULL, "%s", err->message);
    g_error_free (err);
  }
  gst_message_unref (msg);

  /* Empty list: rejected, old value kept */
  g_object_set (e, "object-class", " , ", NULL);
  g_object_get (e, "object-class", &str, NULL);
  fail_unless_equals_string (str, "person,unicorn");
  g_free (str);

  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_properties_playing)
{
  GstHarness *h = detect_harness ("NV12", "threshold=0");
  GstElement *e = harness_detect (h);
  GstBuffer *out;
  MetaSummary sum;
  gchar *str;

  out = gst_harness_push_and_pull (h, make_frame ("NV12", 0));
  check_metas (out, &sum);
  fail_unless (sum.n > 0);
  gst_buffer_unref (out);

  /* Scales: a bad value is rejected and the old one kept */
  g_object_set (e, "scales", "64,128", NULL);
  g_object_set (e, "scales", "64,abc", NULL);
  g_object_set (e, "scales", "8", NULL);
  g_object_get (e, "scales", &str, NULL);
  fail_unless_equals_string (str, "64,128");
  g_free (str);

  g_object_set (e, "nms-threshold", 0.5, "max-proposals", 50,
      "proposal-mode", 2 /* single */ , "proposal-interval", 3,
      "num-threads", 1, NULL);
  for (guint i = 1; i < 4; i++) {
    out = gst_harness_push_and_pull (h, make_frame ("NV12", i));
    check_metas (out, &sum);
    gst_buffer_unref (out);
  }

  /* One proposal can give at most one box per class */
  g_object_set (e, "max-proposals", 1, NULL);
  out = gst_harness_push_and_pull (h, make_frame ("NV12", 4));
  check_metas (out, &sum);
  fail_unless (sum.n <= 2, "%u detections from 1 proposal", sum.n);
  gst_buffer_unref (out);

  /* Out of range: GObject refuses it, the value stays */
  {
    gdouble t;
    ASSERT_WARNING (g_object_set (e, "threshold", 1.5, NULL));
    g_object_get (e, "threshold", &t, NULL);
    fail_unless_equals_float (t, 0.0);
  }
  gst_object_unref (e);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_inference_interval)
{
  const guint N = 3;
  GstHarness *h = detect_harness ("I420", "threshold=0 inference-interval=3");

  for (guint i = 0; i < 3 * N; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, make_frame ("I420", i));
    MetaSummary sum;

    check_metas (out, &sum);
    fail_unless (sum.n > 0, "frame %u: no detections", i);
    if (i % N == 0) {
      fail_unless_equals_int (sum.n_propagated, 0);
      fail_unless_equals_uint64 (sum.source_frame, i);
    } else {
      fail_unless_equals_int (sum.n_propagated, sum.n);
      fail_unless_equals_uint64 (sum.source_frame, i - i % N);
    }
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

static GstMessage *
wait_message (GstBus * bus, GstMessageType types, GstHarness * h, guint * i)
{
  /* The loader runs in its own thread; keep frames flowing meanwhile */
  for (guint k = 0; k < 200; k++) {
    GstMessage *msg = gst_bus_pop_filtered (bus, types);
    if (msg)
      return msg;
    gst_buffer_unref (gst_harness_push_and_pull (h, make_frame ("RGB",
                (*i)++)));
    g_usleep (10000);
  }
  return NULL;
}

GST_START_TEST (test_model_swap)
{
  GstHarness *h = detect_harness ("RGB", "threshold=0");
  GstElement *e = harness_detect (h);
  GstBus *bus = gst_bus_new ();
  g_autofree gchar *bad = data_path ("bad-magic.sppm");
  g_autofree gchar *dir = g_dir_make_tmp ("sppdetect-XXXXXX", NULL);
  /* Another model (other weights, no fc layer), copied under a new
   * name: a swap to the same bytes would show nothing. */
  g_autofree gchar *other = data_path ("tiny-nohead.sppm");
  g_autofree gchar *copy = g_build_filename (dir, "copy.sppm", NULL);
  g_autofree gchar *contents = NULL;
  gsize len;
  gchar *str;
  guint i = 0;
  GstMessage *msg;
  GError *err;
  MetaSummary sum;
  GstBuffer *out;

  gst_element_set_bus (e, bus);
  fail_unless (g_file_get_contents (other, &contents, &len, NULL));
  fail_unless (g_file_set_contents (copy, contents, len, NULL));

  /* The old model's output on a fixed frame, to compare after the swap. */
  gdouble before;
  out = gst_harness_push_and_pull (h, make_frame ("RGB", 1000));
  check_metas (out, &sum);
  fail_unless (sum.n > 0);
  before = sum.conf_sum;
  gst_buffer_unref (out);

  /* Corrupt: a warning naming the file; the old model keeps working */
  g_object_set (e, "model", bad, NULL);
  msg = wait_message (bus, GST_MESSAGE_WARNING, h, &i);
  fail_unless (msg != NULL, "no warning for a corrupt model");
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, bad) != NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  g_object_get (e, "model", &str, NULL);
  fail_unless_equals_string (str, tiny_model);
  g_free (str);
  out = gst_harness_push_and_pull (h, make_frame ("RGB", i++));
  check_metas (out, &sum);
  fail_unless (sum.n > 0);
  gst_buffer_unref (out);

  /* Good: in use once loaded */
  g_object_set (e, "model", copy, NULL);
  for (guint k = 0; k < 300; k++) {
    g_object_get (e, "active-model", &str, NULL);
    if (g_strcmp0 (str, copy) == 0)
      break;
    g_clear_pointer (&str, g_free);
    g_usleep (10000);
  }
  fail_unless_equals_string (str, copy);
  g_free (str);
  out = gst_harness_push_and_pull (h, make_frame ("RGB", 1000));
  check_metas (out, &sum);
  fail_unless (sum.n > 0);
  fail_if (fabs (sum.conf_sum - before) < 1e-6,
      "the same detections after swapping to another model (%g)", before);
  gst_buffer_unref (out);
  fail_if (gst_bus_have_pending (bus) &&
      (msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING)) != NULL,
      "unexpected warning");

  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  gst_harness_teardown (h);
  g_unlink (copy);
  g_rmdir (dir);
}

GST_END_TEST;

static void
check_bad_model (const gchar * path, gint code)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("videotestsrc", NULL);
  GstElement *det = gst_element_factory_make ("sppdetect", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  GError *err = NULL;

  g_object_set (det, "model", path, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, det, sink, NULL);
  fail_unless (gst_element_link_many (src, det, sink, NULL));
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_poll (bus, GST_MESSAGE_ERROR, 0);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  fail_unless_equals_int (err->code, code);
  fail_unless (strstr (err->message, path) != NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_bad_models)
{
  g_autofree gchar *missing = data_path ("no-such-model.sppm");
  g_autofree gchar *magic = data_path ("bad-magic.sppm");
  g_autofree gchar *trunc = data_path ("truncated.sppm");

  check_bad_model (missing, GST_RESOURCE_ERROR_NOT_FOUND);
  check_bad_model (magic, GST_RESOURCE_ERROR_SETTINGS);
  check_bad_model (trunc, GST_RESOURCE_ERROR_SETTINGS);
}

GST_END_TEST;

GST_START_TEST (test_async)
{
  GstHarness *h = detect_harness ("BGRx", "threshold=0 async=true");
  MetaSummary sum = { 0 };
  guint i;

  /* Frames come back at once; detections show up once the worker ran */
  for (i = 0; i < 300; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, make_frame ("BGRx", i));
    check_metas (out, &sum);
    gst_buffer_unref (out);
    if (sum.n > 0)
      break;
    g_usleep (10000);
  }
  fail_unless (sum.n > 0, "no detections in async mode");
  /* Usually the detections come from an earlier frame, moved: propagated.
   * When the worker finished this very frame before it was sent on (a
   * fast model, an idle machine), they are its own and not propagated. */
  fail_unless (sum.source_frame <= i, "source frame %" G_GUINT64_FORMAT
      " after %u", sum.source_frame, i);
  fail_unless_equals_int (sum.n_propagated,
      sum.source_frame < i ? sum.n : 0);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A flushing seek: the first frame after FLUSH_STOP is inferred afresh
 * (not given the pre-seek detections as propagated), and frames flow on. */
GST_START_TEST (test_flush)
{
  GstHarness *h = detect_harness ("I420", "threshold=0 inference-interval=3");
  GstSegment seg;
  MetaSummary sum;
  GstBuffer *out;

  for (guint i = 0; i < 2; i++) {
    out = gst_harness_push_and_pull (h, make_frame ("I420", i));
    check_metas (out, &sum);
    fail_unless (sum.n > 0);
    fail_unless_equals_uint64 (sum.source_frame, 0);
    gst_buffer_unref (out);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  for (guint i = 2; i < 6; i++) {
    out = gst_harness_push_and_pull (h, make_frame ("I420", i));
    check_metas (out, &sum);
    fail_unless (sum.n > 0, "frame %u after the flush: no detections", i);
    /* Inferred on frame 2 (the first after the flush), then every 3rd */
    if (i == 2 || i == 5) {
      fail_unless_equals_int (sum.n_propagated, 0);
      fail_unless_equals_uint64 (sum.source_frame, i);
    } else {
      fail_unless_equals_int (sum.n_propagated, sum.n);
      fail_unless_equals_uint64 (sum.source_frame, 2);
    }
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Waits (bounded) for EOS; an ERROR or the timeout fails the test. */
static void
wait_eos (GstBus * bus, const gchar * what)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS %s", what);
  gst_message_unref (msg);
}

/* A real flushing seek back to the start in a running pipeline: frames
 * keep their metas and the pipeline still reaches EOS. */
static GstPadProbeReturn
count_frames (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  guint *counts = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  counts[0]++;
  if (gst_buffer_get_n_meta (buf,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE) > 0)
    counts[1]++;
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_seek_pipeline)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=20 "
      "pattern=smpte ! video/x-raw,format=I420,width=96,height=72,"
      "framerate=30/1 ! sppdetect model=\"%s\" threshold=0 num-threads=1 "
      "inference-interval=4 ! fakesink name=sink sync=false", tiny_model);
  GstElement *pipeline = gst_parse_launch (desc, &err);
  GstElement *sink;
  GstPad *pad;
  GstBus *bus;
  guint counts[2] = { 0, 0 };

  fail_unless (pipeline != NULL, "%s", err ? err->message : "");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_frames, counts,
      NULL);
  bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_get_state (pipeline, NULL, NULL, 30 * GST_SECOND)
      == GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH, 5 * GST_SECOND / 30));
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  wait_eos (bus, "after the seek");
  gst_element_set_state (pipeline, GST_STATE_NULL);
  /* The preroll frame, then frames 5..19 after the seek */
  fail_unless (counts[0] >= 15, "%u frames reached the sink", counts[0]);
  fail_unless_equals_int (counts[1], counts[0]);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_eight_instances)
{
  g_autoptr (GError) err = NULL;
  GString *desc = g_string_new ("videotestsrc num-buffers=2 pattern=smpte ! "
      "video/x-raw,format=I420,width=96,height=72 ");
  GstElement *pipeline, *sink;
  GstBus *bus;
  guint max_metas = 0;

  for (guint i = 0; i < 8; i++)
    g_string_append_printf (desc, "! sppdetect model=\"%s\" threshold=0 "
        "num-threads=1 ", tiny_model);
  g_string_append (desc, "! fakesink name=sink");
  pipeline = gst_parse_launch (desc->str, &err);
  g_string_free (desc, TRUE);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "");

  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");

  bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  wait_eos (bus, "with eight instances");
  {
    /* The last frame carries the metas of all eight, ids distinct */
    GstSample *last;
    GstBuffer *buf;
    g_object_get (sink, "last-sample", &last, NULL);
    fail_unless (last != NULL);
    buf = gst_sample_get_buffer (last);
    max_metas = gst_buffer_get_n_meta (buf,
        GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE);
    fail_unless (max_metas >= 8, "%u metas from 8 instances", max_metas);
    for (guint id = 0; id < max_metas; id++)
      fail_unless (gst_buffer_get_video_region_of_interest_meta_id (buf,
              id) != NULL, "no ROI meta with id %u", id);
    gst_sample_unref (last);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* Every property changes from another thread while frames flow: async on
 * and off (worker), model reloads (loader thread), interval, filters */
static gpointer
toggle_thread (gpointer data)
{
  GstElement *e = data;
  static const gchar *const classes[] = { "person", "vehicle", NULL };

  for (guint i = 0; i < 60; i++) {
    g_object_set (e, "threshold", (i % 10) / 10.0, "inference-interval",
        1 + i % 4, "async", i % 3 == 0, "max-proposals", 20 + i,
        "proposal-interval", 1 + i % 2, NULL);
    g_object_set (e, "object-class", classes[i % 3], NULL);
    if (i % 20 == 0)
      g_object_set (e, "model", tiny_model, NULL);
    g_usleep (2000);
  }
  return NULL;
}

GST_START_TEST (test_property_stress)
{
  GstHarness *h = detect_harness ("I420", "threshold=0");
  GstElement *e = harness_detect (h);
  GThread *t = g_thread_new ("toggle", toggle_thread, e);

  for (guint i = 0; i < 40; i++) {
    GstBuffer *out = gst_harness_push_and_pull (h, make_frame ("I420", i));
    MetaSummary sum;
    check_metas (out, &sum);
    gst_buffer_unref (out);
  }
  g_thread_join (t);
  gst_object_unref (e);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Sync mode reports its inference time as latency; async adds none */
GST_START_TEST (test_latency)
{
  for (guint async = 0; async < 2; async++) {
    GstHarness *h = detect_harness ("RGB", async ? "async=true" : NULL);
    GstClockTime lat;

    for (guint i = 0; i < 3; i++)
      gst_buffer_unref (gst_harness_push_and_pull (h, make_frame ("RGB", i)));
    lat = gst_harness_query_latency (h);
    if (async) {
      fail_unless_equals_uint64 (lat, 0);
    } else {
      fail_unless (lat > 0 && lat < 60 * GST_SECOND, "latency %"
          GST_TIME_FORMAT, GST_TIME_ARGS (lat));
    }
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

static Suite *
sppdetect_suite (void)
{
  Suite *s = suite_create ("sppdetect");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_caps_each_format);
  tcase_add_test (tc, test_matches_library);
  tcase_add_test (tc, test_caps_refused);
  tcase_add_test (tc, test_object_class);
  tcase_add_test (tc, test_properties_playing);
  tcase_add_test (tc, test_inference_interval);
  tcase_add_test (tc, test_model_swap);
  tcase_add_test (tc, test_bad_models);
  tcase_add_test (tc, test_async);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_seek_pipeline);
  tcase_add_test (tc, test_eight_instances);
  tcase_add_test (tc, test_property_stress);
  tcase_add_test (tc, test_latency);
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;
  int ret;

  data_dir = g_strdup (g_getenv ("SPP_TEST_DATA"));
  if (!data_dir)
    data_dir = g_strdup ("tests/data");
  tiny_model = data_path ("tiny.sppm");
  gst_check_init (&argc, &argv);
  s = sppdetect_suite ();
  ret = gst_check_run_suite (s, "sppdetect", __FILE__);
  g_free (tiny_model);
  g_free (data_dir);
  return ret;
}
