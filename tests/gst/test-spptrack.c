/* spptrack: ids on the ROI metas of frames pushed through a harness with
 * scripted detections, where the right ids are known by construction;
 * the properties; a flush forgetting the tracks. */
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#define WIDTH 320
#define HEIGHT 240

/* A detection as sppdetect writes it (gst/sppmeta.h's names). */
static void
add_detection (GstBuffer * buf, guint x, guint y, guint w, guint h,
    gint label_id, gboolean propagated)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_add_video_region_of_interest_meta (buf,
      label_id ? "vehicle" : "person", x, y, w, h);
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("detection",
          "x_min", G_TYPE_DOUBLE, (gdouble) x / WIDTH,
          "y_min", G_TYPE_DOUBLE, (gdouble) y / HEIGHT,
          "x_max", G_TYPE_DOUBLE, (gdouble) (x + w) / WIDTH,
          "y_max", G_TYPE_DOUBLE, (gdouble) (y + h) / HEIGHT,
          "confidence", G_TYPE_DOUBLE, 0.9,
          "label_id", G_TYPE_INT, label_id,
          "label", G_TYPE_STRING, label_id ? "vehicle" : "person",
          "propagated", G_TYPE_BOOLEAN, propagated, NULL));
}

static GstBuffer *
make_frame (guint i)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (WIDTH * HEIGHT * 3);
  GST_BUFFER_PTS (buf) = i * 40 * GST_MSECOND;
  GST_BUFFER_DURATION (buf) = 40 * GST_MSECOND;
  return buf;
}

/* The id of the ROI meta at (x, y) in @buf: its "object_id" param's, which
 * must equal the meta's own id; 0 when it has none. */
static gint
id_at (GstBuffer * buf, guint x, guint y)
{
  gpointer state = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    if (roi->x != x || roi->y != y)
      continue;
    GstStructure *s = gst_video_region_of_interest_meta_get_param (roi,
        "object_id");
    if (s == NULL)
      return 0;
    gint id = -1;
    fail_unless (gst_structure_get_int (s, "id", &id));
    fail_unless_equals_int (roi->id, id);
    return id;
  }
  fail ("no meta at %u,%u", x, y);
  return -1;
}

static GstHarness *
track_harness (void)
{
  GstHarness *h = gst_harness_new ("spptrack");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=320,"
      "height=240,framerate=25/1");
  return h;
}

/* Two people walking towards each other cross at frame 20; a vehicle
 * stands still. Ids appear at the third frame and never change. */
GST_START_TEST (test_ids_persist)
{
  GstHarness *h = track_harness ();
  gint seen[3] = { 0 };
  for (guint f = 0; f < 40; f++) {
    GstBuffer *in = make_frame (f);
    const guint xa = 20 + 6 * f, xb = 260 - 6 * f;
    add_detection (in, xa, 100, 30, 80, 0, FALSE);
    add_detection (in, xb, 104, 30, 80, 0, FALSE);
    add_detection (in, 10, 10, 60, 40, 1, FALSE);
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    const gint ids[3] = { id_at (out, xa, 100), id_at (out, xb, 104),
      id_at (out, 10, 10)
    };
    for (int k = 0; k < 3; k++) {
      if (f < 2) {
        fail_unless_equals_int (ids[k], 0);
      } else if (seen[k] == 0) {
        fail_unless (ids[k] > 0);
        seen[k] = ids[k];
      } else {
        fail_unless_equals_int (ids[k], seen[k]);
      }
    }
    gst_buffer_unref (out);
  }
  fail_unless (seen[0] != seen[1] && seen[0] != seen[2]
      && seen[1] != seen[2]);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Boxes that sppdetect moved between inferences take the tracks' ids and
 * do not feed the tracks: with min-hits=3, two inference frames and any
 * number of propagated ones give no id. */
GST_START_TEST (test_propagated)
{
  GstHarness *h = track_harness ();
  for (guint f = 0; f < 12; f++) {
    GstBuffer *in = make_frame (f);
    const gboolean propagated = f != 0 && f != 6;
    add_detection (in, 50 + f, 50, 40, 80, 0, propagated);
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    fail_unless_equals_int (id_at (out, 50 + f, 50), 0);
    gst_buffer_unref (out);
  }
  /* A third inference confirms it; the propagated boxes after it then
   * carry its id. */
  GstBuffer *in = make_frame (12);
  add_detection (in, 62, 50, 40, 80, 0, FALSE);
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  const gint id = id_at (out, 62, 50);
  fail_unless (id > 0);
  gst_buffer_unref (out);
  in = make_frame (13);
  add_detection (in, 63, 50, 40, 80, 0, TRUE);
  out = gst_harness_push_and_pull (h, in);
  fail_unless_equals_int (id_at (out, 63, 50), id);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A flush forgets the tracks: the same object starts over as tentative
 * and gets a new id. */
GST_START_TEST (test_flush_resets)
{
  GstHarness *h = track_harness ();
  gint before = 0;
  for (guint f = 0; f < 3; f++) {
    GstBuffer *in = make_frame (f);
    add_detection (in, 100, 100, 40, 80, 0, FALSE);
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    before = id_at (out, 100, 100);
    gst_buffer_unref (out);
  }
  fail_unless (before > 0);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=320,"
      "height=240,framerate=25/1");
  for (guint f = 0; f < 3; f++) {
    GstBuffer *in = make_frame (f);
    add_detection (in, 100, 100, 40, 80, 0, FALSE);
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    const gint id = id_at (out, 100, 100);
    fail_unless (f < 2 ? id == 0 : id > before);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Every property reads back what was set, within its range; min-hits=1
 * gives ids at once, max-age=0 ends a track at its first miss. */
GST_START_TEST (test_properties)
{
  GstHarness *h = track_harness ();
  GstElement *e = h->element;
  gdouble gate;
  guint hits, age;
  g_object_get (e, "iou-gate", &gate, "min-hits", &hits, "max-age", &age,
      NULL);
  fail_unless (gate > 0.29 && gate < 0.31);
  fail_unless_equals_int (hits, 3);
  fail_unless_equals_int (age, 30);
  g_object_set (e, "iou-gate", 0.5, "min-hits", 1, "max-age", 0, NULL);
  g_object_get (e, "iou-gate", &gate, "min-hits", &hits, "max-age", &age,
      NULL);
  fail_unless (gate == 0.5);
  fail_unless_equals_int (hits, 1);
  fail_unless_equals_int (age, 0);

  GstBuffer *in = make_frame (0);
  add_detection (in, 100, 100, 40, 80, 0, FALSE);
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  const gint id = id_at (out, 100, 100);
  fail_unless (id > 0);
  gst_buffer_unref (out);
  /* One frame without it ends the track (max-age 0): a new id after. */
  out = gst_harness_push_and_pull (h, make_frame (1));
  gst_buffer_unref (out);
  in = make_frame (2);
  add_detection (in, 100, 100, 40, 80, 0, FALSE);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (id_at (out, 100, 100) > id);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A line across the frame, drawn left to right: a person walking up the
 * image crosses it "in", once; the event is posted and counted. */
GST_START_TEST (test_line_crossing)
{
  GstHarness *h = track_harness ();
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "lines", "door:0,150,320,150",
      "zones", "desk:0,0,100,0,100,100,0,100", NULL);
  gint id = 0;
  guint on_buffers = 0;
  for (guint f = 0; f < 28; f++) {
    GstBuffer *in = make_frame (f);
    /* The box's bottom goes from y 220 up to 85. */
    add_detection (in, 60, 140 - 5 * f, 30, 80, 0, FALSE);
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    if (f == 2)
      id = id_at (out, 60, 140 - 5 * f);
    /* The same events travel on the buffer, for sppjsonlog. */
    GstCustomMeta *cm = gst_buffer_get_custom_meta (out, "SppTrackEventsMeta");
    if (cm) {
      const GValue *list = gst_structure_get_value (
          gst_custom_meta_get_structure (cm), "events");
      fail_unless (list && GST_VALUE_HOLDS_LIST (list));
      for (guint i = 0; i < gst_value_list_get_size (list); i++) {
        const GstStructure *ev = gst_value_get_structure (
            gst_value_list_get_value (list, i));
        const gchar *type = gst_structure_get_string (ev, "type");
        if (g_str_equal (type, "line-crossing")) {
          fail_unless_equals_string (gst_structure_get_string (ev, "line"),
              "door");
          fail_unless_equals_string (gst_structure_get_string (ev,
                  "direction"), "in");
        } else {
          fail_unless_equals_string (type, "zone-enter");
          fail_unless_equals_string (gst_structure_get_string (ev, "zone"),
              "desk");
        }
        fail_unless_equals_string (gst_structure_get_string (ev, "label"),
            "person");
        on_buffers++;
      }
    }
    gst_buffer_unref (out);
  }
  fail_unless_equals_int (on_buffers, 2);
  fail_unless (id > 0);
  guint events = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "spptrack-event")) {
      guint64 eid = 0;
      fail_unless (gst_structure_get_uint64 (s, "id", &eid));
      fail_unless_equals_int ((gint) eid, id);
      const gchar *name = gst_structure_get_string (s, "name");
      const gchar *dir = gst_structure_get_string (s, "direction");
      if (g_str_equal (name, "door")) {
        fail_unless_equals_string (gst_structure_get_string (s, "type"),
            "line-crossing");
        fail_unless_equals_string (dir, "in");
      } else {
        /* Its feet reach the desk zone (y < 100) near the end. */
        fail_unless_equals_string (name, "desk");
        fail_unless_equals_string (dir, "enter");
      }
      events++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (events, 2);
  GstStructure *counts = NULL;
  g_object_get (h->element, "counts", &counts, NULL);
  guint64 n = 99;
  fail_unless (gst_structure_get_uint64 (counts, "door-in", &n));
  fail_unless_equals_int ((gint) n, 1);
  fail_unless (gst_structure_get_uint64 (counts, "door-out", &n));
  fail_unless_equals_int ((gint) n, 0);
  fail_unless (gst_structure_get_uint64 (counts, "desk-enter", &n));
  fail_unless_equals_int ((gint) n, 1);
  gst_structure_free (counts);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A bad definition is refused with a warning naming it, and the lines
 * set before stay. */
GST_START_TEST (test_bad_lines)
{
  GstHarness *h = track_harness ();
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "lines", "door:0,150,320,150", NULL);
  const gchar *bad[] = { "door:0,150,320", "door:0,150,x,2", "nocolon",
    "a:0,0,0,0"
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_object_set (h->element, "lines", bad[i], NULL);
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
    fail_unless (msg != NULL, "no warning for '%s'", bad[i]);
    g_autoptr (GError) err = NULL;
    g_autofree gchar *debug = NULL;
    gst_message_parse_warning (msg, &err, &debug);
    fail_unless (strstr (debug, "lines") || strstr (err->message, "lines"),
        "'%s': %s", err->message, debug);
    gst_message_unref (msg);
    g_autofree gchar *now = NULL;
    g_object_get (h->element, "lines", &now, NULL);
    fail_unless_equals_string (now, "door:0,150,320,150");
  }
  g_object_set (h->element, "zones", "z:0,0,10,0", NULL);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
spptrack_suite (void)
{
  Suite *s = suite_create ("spptrack");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_ids_persist);
  tcase_add_test (tc, test_propagated);
  tcase_add_test (tc, test_flush_resets);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_line_crossing);
  tcase_add_test (tc, test_bad_lines);
  return s;
}

GST_CHECK_MAIN (spptrack);
