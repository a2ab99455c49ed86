/* sppjsonlog: one parseable line per frame, exact fields, EOS, errors. */
#include <string.h>
#include <glib/gstdio.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#define WIDTH 320
#define HEIGHT 240

static gchar *
make_tmp_path (void)
{
  g_autoptr (GError) err = NULL;
  gchar *dir = g_dir_make_tmp ("sppjsonlog-XXXXXX", &err);
  gchar *path;

  fail_unless (dir != NULL, "%s", err ? err->message : "");
  path = g_build_filename (dir, "log.jsonl", NULL);
  g_free (dir);
  return path;
}

static void
remove_tmp (const gchar * path)
{
  g_autofree gchar *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}

static GstBuffer *
make_frame (guint i)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (WIDTH * HEIGHT * 3);

  GST_BUFFER_PTS (buf) = i * 40 * GST_MSECOND;
  GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
  return buf;
}

static GstHarness *
jsonlog_harness (const gchar * path)
{
  GstElement *e = gst_element_factory_make ("sppjsonlog", NULL);
  GstHarness *h;

  /* The file is opened on start, so set it before the harness plays */
  fail_unless (e != NULL);
  g_object_set (e, "location", path, NULL);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=320,"
      "height=240,framerate=25/1");
  return h;
}

/* Splits @path into lines; each must end in '\n' */
static gchar **
read_lines (const gchar * path, guint * n)
{
  g_autofree gchar *contents = NULL;
  gsize len;
  gchar **lines;

  fail_unless (g_file_get_contents (path, &contents, &len, NULL));
  fail_unless (len > 0 && contents[len - 1] == '\n',
      "file does not end with a newline");
  contents[len - 1] = '\0';
  lines = g_strsplit (contents, "\n", -1);
  *n = g_strv_length (lines);
  return lines;
}

static JsonObject *
parse_line (JsonParser * parser, const gchar * line)
{
  g_autoptr (GError) err = NULL;
  JsonNode *root;

  fail_unless (json_parser_load_from_data (parser, line, -1, &err),
      "line does not parse: %s: %s", err ? err->message : "", line);
  root = json_parser_get_root (parser);
  fail_unless (JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}

static void
check_header (JsonObject * o, gint64 frame, gint64 ts, guint n_objects)
{
  JsonObject *res = json_object_get_object_member (o, "resolution");

  fail_unless (res != NULL);
  fail_unless_equals_int (json_object_get_int_member (res, "width"), WIDTH);
  fail_unless_equals_int (json_object_get_int_member (res, "height"),
      HEIGHT);
  fail_unless_equals_int64 (json_object_get_int_member (o, "timestamp"), ts);
  fail_unless_equals_int64 (json_object_get_int_member (o, "frame"), frame);
  fail_unless (json_object_has_member (o, "objects"));
  fail_unless_equals_int (json_array_get_length
      (json_object_get_array_member (o, "objects")), n_objects);
}

GST_START_TEST (test_three_frames)
{
  g_autofree gchar *path = make_tmp_path ();
  GstHarness *h = jsonlog_harness (path);
  GstBuffer *buf;
  GstVideoRegionOfInterestMeta *roi;
  JsonParser *parser = json_parser_new ();
  JsonObject *o, *obj, *det, *bb;
  JsonArray *objects;
  gchar **lines;
  guint n;

  /* Frame 0: nothing */
  gst_buffer_unref (gst_harness_push_and_pull (h, make_frame (0)));

  /* Frame 1: a full detection and a bare ROI with a hostile type name */
  buf = make_frame (1);
  roi = gst_buffer_add_video_region_of_interest_meta (buf, "person",
      32, 24, 64, 120);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("detection",
          "x_min", G_TYPE_DOUBLE, 0.1, "y_min", G_TYPE_DOUBLE, 0.1,
          "x_max", G_TYPE_DOUBLE, 0.3, "y_max", G_TYPE_DOUBLE, 0.6,
          "confidence", G_TYPE_DOUBLE, 0.875, "label_id", G_TYPE_INT, 14,
          "label", G_TYPE_STRING, "person",
          "propagated", G_TYPE_BOOLEAN, TRUE,
          "source-frame", G_TYPE_UINT64, (guint64) 0, NULL));
  /* A tracker's id, where gvatrack and spptrack put it. */
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("object_id", "id", G_TYPE_INT, 17, NULL));
  gst_buffer_add_video_region_of_interest_meta (buf, "a \"b\"\\c\n\x01",
      0, 0, 10, 20);
  buf = gst_harness_push_and_pull (h, buf);
  /* Passthrough: the metas are still there */
  fail_unless (gst_buffer_get_video_region_of_interest_meta (buf) != NULL);
  gst_buffer_unref (buf);

  /* Frame 2: nothing */
  gst_buffer_unref (gst_harness_push_and_pull (h, make_frame (2)));

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 3);

  o = parse_line (parser, lines[0]);
  check_header (o, 0, 0, 0);

  o = parse_line (parser, lines[1]);
  check_header (o, 1, 40 * GST_MSECOND, 2);
  objects = json_object_get_array_member (o, "objects");
  obj = json_array_get_object_element (objects, 0);
  fail_unless_equals_int (json_object_get_int_member (obj, "x"), 32);
  fail_unless_equals_int (json_object_get_int_member (obj, "y"), 24);
  fail_unless_equals_int (json_object_get_int_member (obj, "w"), 64);
  fail_unless_equals_int (json_object_get_int_member (obj, "h"), 120);
  fail_unless_equals_int (json_object_get_int_member (obj, "id"), 17);
  fail_unless_equals_string (json_object_get_string_member (obj, "roi_type"),
      "person");
  fail_unless (json_object_get_boolean_member (obj, "propagated"));
  fail_unless_equals_int (json_object_get_int_member (obj, "source_frame"), 0);
  det = json_object_get_object_member (obj, "detection");
  fail_unless (det != NULL);
  fail_unless_equals_float (json_object_get_double_member (det,
          "confidence"), 0.875);
  fail_unless_equals_int (json_object_get_int_member (det, "label_id"), 14);
  fail_unless_equals_string (json_object_get_string_member (det, "label"),
      "person");
  bb = json_object_get_object_member (det, "bounding_box");
  fail_unless (bb != NULL);
  /* Exact: numbers are written so that they read back to the same double */
  fail_unless (json_object_get_double_member (bb, "x_min") == 0.1);
  fail_unless (json_object_get_double_member (bb, "y_min") == 0.1);
  fail_unless (json_object_get_double_member (bb, "x_max") == 0.3);
  fail_unless (json_object_get_double_member (bb, "y_max") == 0.6);

  obj = json_array_get_object_element (objects, 1);
  fail_unless_equals_string (json_object_get_string_member (obj, "roi_type"),
      "a \"b\"\\c\n\x01");
  fail_unless_equals_int (json_object_get_int_member (obj, "w"), 10);
  fail_if (json_object_get_boolean_member (obj, "propagated"));
  fail_if (json_object_has_member (obj, "detection"));
  fail_if (json_object_has_member (obj, "id"));

  o = parse_line (parser, lines[2]);
  check_header (o, 2, 80 * GST_MSECOND, 0);

  g_strfreev (lines);
  g_object_unref (parser);
  gst_harness_teardown (h);
  remove_tmp (path);
}

GST_END_TEST;

/* spptrack's events on a frame (a "SppTrackEventsMeta" custom meta) are
 * written as the line's "events" array; frames without keep none. */
GST_START_TEST (test_events)
{
  g_autofree gchar *path = make_tmp_path ();
  GstHarness *h = jsonlog_harness (path);
  if (gst_meta_get_info ("SppTrackEventsMeta") == NULL) {
    static const gchar *tags[] = { NULL };
    gst_meta_register_custom ("SppTrackEventsMeta", tags, NULL, NULL, NULL);
  }
  GstBuffer *buf = make_frame (0);
  GstCustomMeta *cm = gst_buffer_add_custom_meta (buf, "SppTrackEventsMeta");
  GValue list = G_VALUE_INIT, v = G_VALUE_INIT;
  gst_value_list_init (&list, 1);
  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, gst_structure_new ("event",
          "type", G_TYPE_STRING, "line-crossing", "line", G_TYPE_STRING,
          "door", "direction", G_TYPE_STRING, "in", "id", G_TYPE_UINT64,
          (guint64) 17, "label", G_TYPE_STRING, "person", NULL));
  gst_value_list_append_and_take_value (&list, &v);
  gst_structure_take_value (gst_custom_meta_get_structure (cm), "events",
      &list);
  gst_buffer_unref (gst_harness_push_and_pull (h, buf));
  gst_buffer_unref (gst_harness_push_and_pull (h, make_frame (1)));
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  guint n;
  gchar **lines = read_lines (path, &n);
  fail_unless_equals_int (n, 2);
  JsonParser *parser = json_parser_new ();
  JsonObject *o = parse_line (parser, lines[0]);
  JsonArray *events = json_object_get_array_member (o, "events");
  fail_unless (events != NULL);
  fail_unless_equals_int (json_array_get_length (events), 1);
  JsonObject *e = json_array_get_object_element (events, 0);
  fail_unless_equals_string (json_object_get_string_member (e, "type"),
      "line-crossing");
  fail_unless_equals_string (json_object_get_string_member (e, "line"),
      "door");
  fail_unless_equals_string (json_object_get_string_member (e, "direction"),
      "in");
  fail_unless_equals_int (json_object_get_int_member (e, "id"), 17);
  fail_unless_equals_string (json_object_get_string_member (e, "label"),
      "person");
  o = parse_line (parser, lines[1]);
  fail_if (json_object_has_member (o, "events"));
  g_strfreev (lines);
  g_object_unref (parser);
  gst_harness_teardown (h);
  remove_tmp (path);
}

GST_END_TEST;

/* A second run appends; stream time follows the segment */
GST_START_TEST (test_append_and_stream_time)
{
  g_autofree gchar *path = make_tmp_path ();
  JsonParser *parser = json_parser_new ();
  GstSegment seg;
  gchar **lines;
  guint n;

  for (guint run = 0; run < 2; run++) {
    GstHarness *h = jsonlog_harness (path);

    if (run == 1) {
      /* Running from 10 s with stream time 0 at 10 s */
      gst_segment_init (&seg, GST_FORMAT_TIME);
      seg.start = 10 * GST_SECOND;
      seg.time = 0;
      fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
    }
    for (guint i = 0; i < 2; i++) {
      GstBuffer *buf = make_frame (i);
      if (run == 1)
        GST_BUFFER_PTS (buf) += 10 * GST_SECOND;
      gst_buffer_unref (gst_harness_push_and_pull (h, buf));
    }
    gst_harness_teardown (h);
  }

  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 4);
  check_header (parse_line (parser, lines[2]), 0, 0, 0);
  check_header (parse_line (parser, lines[3]), 1, 40 * GST_MSECOND, 0);
  g_strfreev (lines);
  g_object_unref (parser);
  remove_tmp (path);
}

GST_END_TEST;

GST_START_TEST (test_no_pts)
{
  g_autofree gchar *path = make_tmp_path ();
  GstHarness *h = jsonlog_harness (path);
  JsonParser *parser = json_parser_new ();
  GstBuffer *buf = make_frame (0);
  gchar **lines;
  guint n;
  JsonObject *o;

  GST_BUFFER_PTS (buf) = GST_CLOCK_TIME_NONE;
  gst_buffer_unref (gst_harness_push_and_pull (h, buf));
  gst_harness_teardown (h);

  lines = read_lines (path, &n);
  fail_unless_equals_int (n, 1);
  o = parse_line (parser, lines[0]);
  fail_if (json_object_has_member (o, "timestamp"));
  g_strfreev (lines);
  g_object_unref (parser);
  remove_tmp (path);
}

GST_END_TEST;

GST_START_TEST (test_unwritable_location)
{
  const gchar *bad = "/nonexistent-sppjsonlog-dir/log.jsonl";
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("videotestsrc", NULL);
  GstElement *log = gst_element_factory_make ("sppjsonlog", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;

  fail_unless (src && log && sink);
  g_object_set (log, "location", bad, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, log, sink, NULL);
  fail_unless (gst_element_link_many (src, log, sink, NULL));

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_poll (bus, GST_MESSAGE_ERROR, 0);
  fail_unless (msg != NULL, "no error message posted");
  gst_message_parse_error (msg, &err, &dbg);
  fail_unless (strstr (err->message, bad) != NULL,
      "error does not name the file: %s", err->message);
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
sppjsonlog_suite (void)
{
  Suite *s = suite_create ("sppjsonlog");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_three_frames);
  tcase_add_test (tc, test_append_and_stream_time);
  tcase_add_test (tc, test_events);
  tcase_add_test (tc, test_no_pts);
  tcase_add_test (tc, test_unwritable_location);
  return s;
}

GST_CHECK_MAIN (sppjsonlog);
