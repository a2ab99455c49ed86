/* Real media: decoded vtest.avi frames get ROI metas from a pad probe,
 * then go through sppjsonlog and sppoverlay into an appsink. Checks one
 * JSON line per frame that reached the sink, and the outline colour in
 * the decoded pixels. Skips (77) when the clip is not installed. */
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

#include <gst/check/gstcheck.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#define N_FRAMES 25
#define BOX_X 100
#define BOX_Y 200
#define BOX_W 120
#define BOX_H 160

static const gchar *vtest_path;

static GstPadProbeReturn
add_meta_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  guint *count = user_data;
  GstBuffer *buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GstVideoRegionOfInterestMeta *roi;

  /* A box that walks right by 2 pixels a frame */
  roi = gst_buffer_add_video_region_of_interest_meta (buf, "person",
      BOX_X + 2 * *count, BOX_Y, BOX_W, BOX_H);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("detection", "x_min", G_TYPE_DOUBLE,
          (BOX_X + 2.0 * *count) / 768, "y_min", G_TYPE_DOUBLE, BOX_Y / 576.,
          "x_max", G_TYPE_DOUBLE, (BOX_X + 2.0 * *count + BOX_W) / 768,
          "y_max", G_TYPE_DOUBLE, (BOX_Y + BOX_H) / 576.,
          "confidence", G_TYPE_DOUBLE, 0.9, "label_id", G_TYPE_INT, 0,
          "label", G_TYPE_STRING, "person", NULL));
  (*count)++;
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_vtest_overlay_jsonlog)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("spppipe-XXXXXX", NULL);
  g_autofree gchar *log_path = g_build_filename (dir, "log.jsonl", NULL);
  g_autofree gchar *desc = NULL;
  g_autofree gchar *contents = NULL;
  GstElement *pipeline, *sink, *log;
  GstPad *pad;
  guint probed = 0, pulled = 0, n_lines;
  gchar **lines;
  GstSample *sample;
  GstMessage *msg;
  GstBus *bus;
  JsonParser *parser = json_parser_new ();

  desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
      "videoconvert ! video/x-raw,format=I420 ! sppjsonlog name=log "
      "location=\"%s\" ! sppoverlay ! appsink name=sink sync=false "
      "max-buffers=4", vtest_path, log_path);
  pipeline = gst_parse_launch (desc, &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  log = gst_bin_get_by_name (GST_BIN (pipeline), "log");
  pad = gst_element_get_static_pad (log, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, add_meta_probe,
      &probed, NULL);
  gst_object_unref (pad);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstBuffer *buf = gst_sample_get_buffer (sample);
    GstVideoInfo info;
    GstVideoFrame frame;
    GstVideoRegionOfInterestMeta *roi;
    const guint8 *y;
    gint stride;

    fail_unless (gst_video_info_from_caps (&info,
            gst_sample_get_caps (sample)));
    fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&info), 768);
    fail_unless_equals_int (GST_VIDEO_INFO_HEIGHT (&info), 576);
    roi = gst_buffer_get_video_region_of_interest_meta (buf);
    fail_unless (roi != NULL);
    fail_unless_equals_int (roi->x, BOX_X + 2 * pulled);

    /* Left outline: Y of class 0's colour (230, 25, 75), BT.601 */
    fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ));
    y = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
    stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    fail_unless_equals_int (y[(BOX_Y + 50) * stride + roi->x], 95);
    fail_unless_equals_int (y[(BOX_Y + 50) * stride + roi->x + 1], 95);
    gst_video_frame_unmap (&frame);

    gst_sample_unref (sample);
    if (++pulled == N_FRAMES)
      break;
  }
  fail_unless_equals_int (pulled, N_FRAMES);

  /* Stop cleanly: EOS from the source, drain the sink, wait for EOS */
  gst_element_send_event (pipeline, gst_event_new_eos ());
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    pulled++;
    gst_sample_unref (sample);
  }
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS");
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  /* Every frame that went through the log is one whole line */
  fail_unless (g_file_get_contents (log_path, &contents, NULL, NULL));
  g_strchomp (contents);
  lines = g_strsplit (contents, "\n", -1);
  n_lines = g_strv_length (lines);
  fail_unless_equals_int (n_lines, probed);
  fail_unless (n_lines >= pulled);
  for (guint i = 0; i < n_lines; i++) {
    JsonObject *o, *obj;
    fail_unless (json_parser_load_from_data (parser, lines[i], -1, NULL),
        "line %u does not parse", i);
    o = json_node_get_object (json_parser_get_root (parser));
    fail_unless_equals_int (json_object_get_int_member (o, "frame"), i);
    fail_unless_equals_int (json_object_get_int_member (json_object_get_object_member (o, "resolution"), "width"), 768);
    obj = json_array_get_object_element (json_object_get_array_member (o,
            "objects"), 0);
    fail_unless_equals_int (json_object_get_int_member (obj, "x"),
        BOX_X + 2 * i);
    fail_unless_equals_string (json_object_get_string_member
        (json_object_get_object_member (obj, "detection"), "label"),
        "person");
  }
  /* 25 frames at vtest.avi's 10 fps */
  fail_unless (json_object_get_int_member (json_node_get_object
          (json_parser_get_root (parser)), "timestamp") > 0);

  g_strfreev (lines);
  g_object_unref (parser);
  gst_object_unref (sink);
  gst_object_unref (log);
  gst_object_unref (pipeline);
  g_unlink (log_path);
  g_rmdir (dir);
}

GST_END_TEST;

/* The whole chain on real frames: sppdetect (tiny test model, random
 * weights: threshold 0 so that it detects) -> sppjsonlog -> sppoverlay.
 * Left out when the plugin was built without sppdetect. */
GST_START_TEST (test_vtest_detect_chain)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("spppipe-XXXXXX", NULL);
  g_autofree gchar *log_path = g_build_filename (dir, "log.jsonl", NULL);
  g_autofree gchar *model = g_build_filename (g_getenv ("SPP_TEST_DATA") ?
      g_getenv ("SPP_TEST_DATA") : "tests/data", "tiny.sppm", NULL);
  g_autofree gchar *desc = NULL;
  g_autofree gchar *contents = NULL;
  JsonParser *parser = json_parser_new ();
  GstElement *pipeline;
  GstMessage *msg;
  GstBus *bus;
  gchar **lines;
  guint n;

  desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
      "videoconvert ! video/x-raw,format=NV12 ! identity eos-after=8 ! "
      "sppdetect model=\"%s\" threshold=0 inference-interval=2 "
      "num-threads=1 ! sppjsonlog location=\"%s\" ! sppoverlay ! "
      "fakesink sync=false", vtest_path, model, log_path);
  pipeline = gst_parse_launch (desc, &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "");
  bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS,
      "no EOS");
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  fail_unless (g_file_get_contents (log_path, &contents, NULL, NULL));
  g_strchomp (contents);
  lines = g_strsplit (contents, "\n", -1);
  n = g_strv_length (lines);
  fail_unless_equals_int (n, 8);     /* identity eos-after=8 */
  for (guint i = 0; i < n; i++) {
    JsonArray *objects;
    fail_unless (json_parser_load_from_data (parser, lines[i], -1, NULL));
    objects = json_object_get_array_member (json_node_get_object
        (json_parser_get_root (parser)), "objects");
    fail_unless (json_array_get_length (objects) > 0, "frame %u: nothing",
        i);
    for (guint k = 0; k < json_array_get_length (objects); k++) {
      JsonObject *o = json_array_get_object_element (objects, k);
      JsonObject *det = json_object_get_object_member (o, "detection");
      fail_unless (det != NULL);
      fail_unless (json_object_get_boolean_member (o, "propagated") ==
          (i % 2 == 1), "frame %u", i);
      fail_unless_equals_int (json_object_get_int_member (o,
              "source_frame"), i - i % 2);
      fail_unless (json_object_get_int_member (o, "x") +
          json_object_get_int_member (o, "w") <= 768);
    }
  }
  g_strfreev (lines);
  g_object_unref (parser);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_unlink (log_path);
  g_rmdir (dir);
}

GST_END_TEST;

static Suite *
pipeline_suite (void)
{
  Suite *s = suite_create ("pipeline");
  TCase *tc = tcase_create ("vtest");
  GstElementFactory *factory;

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_vtest_overlay_jsonlog);
  factory = gst_element_factory_find ("sppdetect");
  if (factory) {
    tcase_add_test (tc, test_vtest_detect_chain);
    gst_object_unref (factory);
  } else {
    g_printerr ("sppdetect not built: chain test left out\n");
  }
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;

  vtest_path = g_getenv ("SPP_TEST_VTEST");
  if (!vtest_path)
    vtest_path = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
  if (!g_file_test (vtest_path, G_FILE_TEST_EXISTS)) {
    g_printerr ("SKIP: %s not found (install opencv-doc)\n", vtest_path);
    return 77;
  }
  gst_check_init (&argc, &argv);
  s = pipeline_suite ();
  return gst_check_run_suite (s, "pipeline", __FILE__);
}
