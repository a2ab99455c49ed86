/* Embeds a pipeline with sppdetect and prints every detection, read from
 * the ROI metas in a pad probe:
 *
 *   read-metas [video file] [model]
 *   read-metas -p "videotestsrc num-buffers=30 ! sppdetect ! fakesink name=sink"
 *
 * With -p the pipeline must have an element named "sink"; the probe sits
 * on its sink pad. Build: meson (examples/meson.build), or
 *   cc read-metas.c $(pkg-config --cflags --libs gstreamer-video-1.0)
 */
#include <stdio.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/video/video.h>

static GstPadProbeReturn
print_metas (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  guint64 *frame = user_data;
  gpointer state = NULL;
  GstMeta *meta;

  g_print ("frame %" G_GUINT64_FORMAT " pts %" GST_TIME_FORMAT ": %u objects\n",
      *frame, GST_TIME_ARGS (GST_BUFFER_PTS (buf)),
      gst_buffer_get_n_meta (buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE));
  (*frame)++;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    GstStructure *det = gst_video_region_of_interest_meta_get_param (roi,
        "detection");
    gdouble conf = -1, x_min = 0, y_min = 0, x_max = 0, y_max = 0;
    gint label_id = -1;
    gboolean propagated = FALSE;
    guint64 source = 0;

    /* sppdetect always sets these; other producers may not */
    if (det) {
      gst_structure_get_double (det, "confidence", &conf);
      gst_structure_get_int (det, "label_id", &label_id);
      gst_structure_get_double (det, "x_min", &x_min);
      gst_structure_get_double (det, "y_min", &y_min);
      gst_structure_get_double (det, "x_max", &x_max);
      gst_structure_get_double (det, "y_max", &y_max);
      gst_structure_get_boolean (det, "propagated", &propagated);
      gst_structure_get_uint64 (det, "source-frame", &source);
    }
    g_print ("  %-10s id %d  conf %.3f  box %u,%u %ux%u  "
        "(%.3f,%.3f)-(%.3f,%.3f)%s\n",
        g_quark_to_string (roi->roi_type), label_id, conf, roi->x, roi->y,
        roi->w, roi->h, x_min, y_min, x_max, y_max,
        propagated ? "  [propagated]" : "");
    if (propagated)
      g_print ("             from frame %" G_GUINT64_FORMAT "\n", source);
  }
  return GST_PAD_PROBE_OK;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *desc = NULL;
  GstElement *pipeline, *sink;
  GstPad *pad;
  GstBus *bus;
  GstMessage *msg;
  guint64 frame = 0;
  int ret = 0;

  gst_init (&argc, &argv);

  if (argc > 2 && strcmp (argv[1], "-p") == 0) {
    desc = g_strdup (argv[2]);
  } else {
    const gchar *file = argc > 1 ? argv[1] :
        "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
    g_autofree gchar *model = argc > 2 ?
        g_strdup_printf ("model=\"%s\"", argv[2]) : g_strdup ("");
    desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
        "videoconvert ! sppdetect %s inference-interval=5 ! "
        "fakesink name=sink", file, model);
  }

  pipeline = gst_parse_launch (desc, &err);
  if (!pipeline) {
    g_printerr ("bad pipeline: %s\n", err->message);
    return 1;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (!sink) {
    g_printerr ("the pipeline needs an element named \"sink\"\n");
    gst_object_unref (pipeline);
    return 1;
  }
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, print_metas, &frame,
      NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    g_autofree gchar *dbg = NULL;

    gst_message_parse_error (msg, &e, &dbg);
    g_printerr ("error from %s: %s\n%s\n", GST_OBJECT_NAME (msg->src),
        e->message, dbg ? dbg : "");
    g_error_free (e);
    ret = 1;
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return ret;
}
