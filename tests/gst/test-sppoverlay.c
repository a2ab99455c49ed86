/* sppoverlay: untouched frames without metas, outline pixels for every
 * format, clipping of boxes that leave the frame. */
#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

static const gchar *const formats[] = {
  "I420", "NV12", "RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA",
};

/* label_id 0 in the element's palette */
static const guint8 class0_rgb[3] = { 230, 25, 75 };

#define FILL 0x50

static GstBuffer *
make_frame (const GstVideoInfo * info, guint8 fill)
{
  GstBuffer *buf = gst_buffer_new_and_alloc (GST_VIDEO_INFO_SIZE (info));

  gst_buffer_memset (buf, 0, fill, GST_VIDEO_INFO_SIZE (info));
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static void
add_roi (GstBuffer * buf, const gchar * type, guint x, guint y, guint w,
    guint h, gint label_id, gdouble confidence)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_add_video_region_of_interest_meta (buf, type, x, y, w, h);

  if (label_id >= 0)
    gst_video_region_of_interest_meta_add_param (roi,
        gst_structure_new ("detection", "label_id", G_TYPE_INT, label_id,
            "confidence", G_TYPE_DOUBLE, confidence, "label", G_TYPE_STRING,
            type, NULL));
}

static GstHarness *
overlay_harness (const gchar * format, gint width, gint height,
    GstVideoInfo * info)
{
  GstHarness *h = gst_harness_new ("sppoverlay");
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=30/1", format, width, height);

  gst_harness_set_src_caps_str (h, caps);
  gst_harness_set_sink_caps_str (h, caps);
  gst_video_info_init (info);
  gst_video_info_set_format (info, gst_video_format_from_string (format),
      width, height);
  g_free (caps);
  return h;
}

/* The three colour components of pixel (x, y): R, G, B for packed formats
 * and Y, U, V for I420 / NV12. */
static void
get_pixel (const GstVideoInfo * info, GstBuffer * buf, gint x, gint y,
    guint8 out[3])
{
  GstVideoFrame frame;
  const GstVideoFormatInfo *f = info->finfo;

  fail_unless (gst_video_frame_map (&frame, (GstVideoInfo *) info, buf,
          GST_MAP_READ));
  if (GST_VIDEO_FORMAT_INFO_IS_YUV (f)) {
    for (guint c = 0; c < 3; c++) {
      gint cx = c ? x / 2 : x, cy = c ? y / 2 : y;
      guint plane = GST_VIDEO_FORMAT_INFO_PLANE (f, c);
      const guint8 *p = GST_VIDEO_FRAME_PLANE_DATA (&frame, plane);
      out[c] = p[cy * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, plane) +
          cx * GST_VIDEO_FORMAT_INFO_PSTRIDE (f, c) +
          GST_VIDEO_FORMAT_INFO_POFFSET (f, c)];
    }
  } else {
    const guint8 *p = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
    p += y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) +
        x * GST_VIDEO_FORMAT_INFO_PSTRIDE (f, 0);
    for (guint c = 0; c < 3; c++)
      out[c] = p[GST_VIDEO_FORMAT_INFO_POFFSET (f, c)];
  }
  gst_video_frame_unmap (&frame);
}

/* What class 0's colour is in @info's format (BT.601 limited for YUV) */
static void
expected_colour (const GstVideoInfo * info, guint8 out[3])
{
  gint r = class0_rgb[0], g = class0_rgb[1], b = class0_rgb[2];

  if (GST_VIDEO_INFO_IS_YUV (info)) {
    out[0] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    out[1] = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    out[2] = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
  } else {
    memcpy (out, class0_rgb, 3);
  }
}

static void
assert_pixel (const GstVideoInfo * info, GstBuffer * buf, gint x, gint y,
    const guint8 want[3], const gchar * what)
{
  guint8 got[3];

  get_pixel (info, buf, x, y, got);
  fail_unless (memcmp (got, want, 3) == 0,
      "%s: %s pixel (%d,%d) is %u,%u,%u, expected %u,%u,%u",
      GST_VIDEO_INFO_NAME (info), what, x, y, got[0], got[1], got[2],
      want[0], want[1], want[2]);
}

GST_START_TEST (test_no_meta_untouched)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstVideoInfo info;
    GstHarness *h = overlay_harness (formats[i], 33, 17, &info);
    GstBuffer *in = make_frame (&info, 0);
    GstBuffer *ref, *out;
    GstMapInfo a, b;

    /* A pattern, so that any write would show */
    fail_unless (gst_buffer_map (in, &a, GST_MAP_WRITE));
    for (gsize k = 0; k < a.size; k++)
      a.data[k] = (guint8) (k * 7 + 3);
    gst_buffer_unmap (in, &a);
    ref = gst_buffer_copy_deep (in);

    out = gst_harness_push_and_pull (h, in);
    fail_unless (out != NULL);
    fail_unless_equals_int (gst_buffer_get_size (out),
        gst_buffer_get_size (ref));
    fail_unless (gst_buffer_map (out, &a, GST_MAP_READ));
    fail_unless (gst_buffer_map (ref, &b, GST_MAP_READ));
    fail_unless (memcmp (a.data, b.data, a.size) == 0,
        "%s: frame without metas was modified", formats[i]);
    gst_buffer_unmap (out, &a);
    gst_buffer_unmap (ref, &b);
    gst_buffer_unref (out);
    gst_buffer_unref (ref);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_box_drawn_each_format)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstVideoInfo info;
    GstHarness *h = overlay_harness (formats[i], 64, 48, &info);
    GstBuffer *in = make_frame (&info, FILL), *out;
    guint8 want[3], fill[3] = { FILL, FILL, FILL };
    guint8 got[3];
    gboolean tag_drawn = FALSE;

    /* Box (10,20)-(40,40), even edges so chroma maps 2x2 cleanly */
    add_roi (in, "person", 10, 20, 30, 20, 0, 0.5);
    out = gst_harness_push_and_pull (h, in);
    expected_colour (&info, want);

    /* 2-pixel outline, inside the box */
    assert_pixel (&info, out, 10, 30, want, "left outline");
    assert_pixel (&info, out, 11, 30, want, "left outline");
    assert_pixel (&info, out, 39, 30, want, "right outline");
    assert_pixel (&info, out, 24, 21, want, "top outline");
    assert_pixel (&info, out, 24, 38, want, "bottom outline");
    /* Inside and outside untouched */
    assert_pixel (&info, out, 24, 30, fill, "interior");
    assert_pixel (&info, out, 50, 44, fill, "outside");
    assert_pixel (&info, out, 4, 4, fill, "outside");
    /* The tag "person 0.50" sits right above the box */
    for (gint x = 10; x < 60 && !tag_drawn; x++) {
      get_pixel (&info, out, x, 15, got);
      tag_drawn = memcmp (got, fill, 3) != 0;
    }
    fail_unless (tag_drawn, "%s: no label tag above the box", formats[i]);

    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_no_labels)
{
  GstVideoInfo info;
  GstHarness *h = overlay_harness ("RGB", 64, 48, &info);
  GstBuffer *in = make_frame (&info, FILL), *out;
  guint8 fill[3] = { FILL, FILL, FILL }, want[3];

  g_object_set (h->element, "show-labels", FALSE, "thickness", 1, NULL);
  add_roi (in, "person", 10, 20, 30, 20, 0, 0.5);
  out = gst_harness_push_and_pull (h, in);
  expected_colour (&info, want);
  assert_pixel (&info, out, 10, 30, want, "left outline");
  assert_pixel (&info, out, 11, 30, fill, "beyond 1-px outline");
  for (gint x = 0; x < 64; x++)
    assert_pixel (&info, out, x, 15, fill, "no tag");
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_clipping)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstVideoInfo info;
    /* Odd size: chroma planes are rounded up */
    GstHarness *h = overlay_harness (formats[i], 33, 17, &info);
    GstBuffer *in = make_frame (&info, FILL), *out;
    guint8 want[3];

    /* Whole frame first, so that the box checked below is drawn over it */
    add_roi (in, "frame", 0, 0, 33, 17, 2, 1.0);
    /* Partly outside right and bottom */
    add_roi (in, "person", 20, 6, 100, 100, 0, 0.99);
    /* Entirely outside, near the unsigned limit (x + w overflows 32 bits) */
    add_roi (in, "car", G_MAXUINT - 5, G_MAXUINT - 5, 100, 100, 3, 0.3);
    /* Empty, and no params at all */
    add_roi (in, "empty", 5, 5, 0, 0, 1, 0.1);
    gst_buffer_add_video_region_of_interest_meta (in, "bare", 1, 1, 5, 5);
    gst_buffer_add_video_region_of_interest_meta_id (in, 0, 32, 16, 10, 10);

    out = gst_harness_push_and_pull (h, in);
    fail_unless (out != NULL);
    expected_colour (&info, want);
    /* Left edge of the clipped box, below its tag; its right and bottom
     * edges are off-frame */
    assert_pixel (&info, out, 20, 16, want, "clipped left outline");
    assert_pixel (&info, out, 21, 16, want, "clipped left outline");
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Properties change from another thread while frames flow (object lock) */
static gpointer
toggle_thread (gpointer data)
{
  GstElement *e = data;

  for (guint i = 0; i < 200; i++)
    g_object_set (e, "thickness", 1 + i % 5, "show-labels", i % 2 == 0,
        "label-alpha", (i % 11) / 10.0, NULL);
  return NULL;
}

GST_START_TEST (test_property_stress)
{
  GstVideoInfo info;
  GstHarness *h = overlay_harness ("NV12", 64, 48, &info);
  GThread *t = g_thread_new ("toggle", toggle_thread, h->element);
  guint8 want[3], fill[3] = { FILL, FILL, FILL };

  expected_colour (&info, want);
  /* Whatever the other thread sets meanwhile (thickness 1-5), every frame
   * gets its box: the outermost column is drawn, the middle is not. */
  for (guint i = 0; i < 100; i++) {
    GstBuffer *in = make_frame (&info, FILL), *out;
    guint x = 2 * (i % 20), y = 10 + 2 * (i % 9);

    add_roi (in, "person", x, y, 20, 20, 0, 0.5);
    out = gst_harness_push_and_pull (h, in);
    fail_unless (out != NULL, "frame %u: no output", i);
    assert_pixel (&info, out, x, y + 10, want, "left outline");
    assert_pixel (&info, out, x + 10, y + 10, fill, "interior");
    gst_buffer_unref (out);
  }
  g_thread_join (t);

  /* Settled: the last value set is the one drawn. */
  g_object_set (h->element, "thickness", 4, NULL);
  {
    GstBuffer *in = make_frame (&info, FILL), *out;

    add_roi (in, "person", 20, 20, 20, 20, 0, 0.5);
    out = gst_harness_push_and_pull (h, in);
    assert_pixel (&info, out, 23, 30, want, "4th outline column");
    assert_pixel (&info, out, 24, 30, fill, "inside the outline");
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
sppoverlay_suite (void)
{
  Suite *s = suite_create ("sppoverlay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_no_meta_untouched);
  tcase_add_test (tc, test_box_drawn_each_format);
  tcase_add_test (tc, test_no_labels);
  tcase_add_test (tc, test_clipping);
  tcase_add_test (tc, test_property_stress);
  return s;
}

GST_CHECK_MAIN (sppoverlay);
