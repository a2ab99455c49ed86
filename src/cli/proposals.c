/* spp proposals: selective search boxes for image files. */
#include "cli.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "spp/proposals.h"

#if __has_include(<gst/app/gstappsink.h>) && __has_include(<gst/video/video.h>)
#define HAVE_GST 1
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#endif

#ifdef HAVE_GST
/* Decodes the first frame of @path to packed RGB. Returns the sample (the
 * caller maps its buffer) or NULL with @error set. */
static GstSample *
decode_rgb (const char *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                 "%s: no such file", path);
    return NULL;
  }
  GstElement *pipe = gst_parse_launch (
      "filesrc name=src ! decodebin ! videoconvert ! "
      "video/x-raw,format=RGB ! appsink name=sink sync=false max-buffers=1",
      error);
  if (pipe == NULL)
    return NULL;
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  /* A property, not the launch string, so no path needs escaping. */
  g_object_set (src, "location", path, NULL);
  GstSample *sample = NULL;
  GstBus *bus = gst_element_get_bus (pipe);
  if (gst_element_set_state (pipe, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE) {
    gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    while (sample == NULL && g_get_monotonic_time () < deadline) {
      sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
                                             50 * GST_MSECOND);
      if (sample)
        break;
      GstMessage *msg = gst_bus_pop_filtered (
          bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
      if (msg) {
        if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
          GError *e = NULL;
          gst_message_parse_error (msg, &e, NULL);
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s: cannot decode: %s", path, e->message);
          g_error_free (e);
        } else {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s: no video frame in the file", path);
        }
        gst_message_unref (msg);
        break;
      }
    }
    if (sample == NULL && error && *error == NULL)
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s: timed out decoding", path);
  } else {
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    GError *e = NULL;
    if (msg)
      gst_message_parse_error (msg, &e, NULL);
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                 "%s: cannot decode: %s", path, e ? e->message : "failed");
    g_clear_error (&e);
    g_clear_pointer (&msg, gst_message_unref);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipe);
  return sample;
}
#endif

/* CPU time of the whole process: on a shared machine it is steadier than
 * wall time (with --threads 1 it is the work itself). */
static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
print_json_string (const char *s)
{
  putchar ('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char) *s;
    if (c == '"' || c == '\\')
      printf ("\\%c", c);
    else if (c < 0x20)
      printf ("\\u%04x", c);
    else
      putchar (c);
  }
  putchar ('"');
}

int
spp_cli_proposals (int argc, char **argv)
{
  char *mode = NULL;
  int max = 2000, threads = 0, work_size = 500, seed = 0;
  gboolean json = FALSE;
  char **files = NULL;
  GOptionEntry entries[] = {
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode,
      "fast (default), quality or single", "MODE" },
    { "max", 'n', 0, G_OPTION_ARG_INT, &max, "keep at most N boxes (2000)",
      "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads,
      "threads (0: all cores)", "N" },
    { "work-size", 0, 0, G_OPTION_ARG_INT, &work_size,
      "longer side of the working image (500)", "PX" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "ranking seed (0)", "S" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "one JSON object per image",
      NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL,
      "IMAGE..." },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("IMAGE...");
  g_option_context_set_summary (ctx,
      "Selective search region proposals (boxes x, y, w, h in image pixels,"
      " best first).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *err = NULL;
  int status = 0;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "spp proposals: %s\n", err->message);
    g_clear_error (&err);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);

  SppProposalParams params;
  spp_proposal_params_init (&params);
  if (mode == NULL || !strcmp (mode, "fast"))
    params.mode = SPP_PROPOSAL_FAST;
  else if (!strcmp (mode, "quality"))
    params.mode = SPP_PROPOSAL_QUALITY;
  else if (!strcmp (mode, "single"))
    params.mode = SPP_PROPOSAL_SINGLE;
  else {
    fprintf (stderr, "spp proposals: --mode '%s', expected fast, quality "
             "or single\n", mode);
    status = 2;
  }
  if (max < 1 || threads < 0 || work_size < 1) {
    fprintf (stderr, "spp proposals: --max and --work-size must be >= 1, "
             "--threads >= 0\n");
    status = 2;
  }
  if (files == NULL || files[0] == NULL) {
    fprintf (stderr, "spp proposals: no IMAGE given (see --help)\n");
    status = 2;
  }
  if (status) {
    g_free (mode);
    g_strfreev (files);
    return status;
  }
  params.max_boxes = (guint) max;
  params.n_threads = (guint) threads;
  params.work_size = (guint) work_size;
  params.seed = (guint32) seed;

#ifdef HAVE_GST
  gst_init (NULL, NULL);
  for (int i = 0; files[i]; i++) {
    GstSample *sample = decode_rgb (files[i], &err);
    if (sample == NULL) {
      fprintf (stderr, "spp proposals: %s\n", err->message);
      g_clear_error (&err);
      status = 1;
      continue;
    }
    GstVideoInfo info;
    GstMapInfo map;
    GstBuffer *buf = gst_sample_get_buffer (sample);
    if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
        || !gst_buffer_map (buf, &map, GST_MAP_READ)) {
      fprintf (stderr, "spp proposals: %s: bad decoded frame\n", files[i]);
      gst_sample_unref (sample);
      status = 1;
      continue;
    }
    SppImage img = { 0 };
    img.format = SPP_PIXEL_RGB;
    img.width = GST_VIDEO_INFO_WIDTH (&info);
    img.height = GST_VIDEO_INFO_HEIGHT (&info);
    img.planes[0] = map.data + GST_VIDEO_INFO_PLANE_OFFSET (&info, 0);
    img.strides[0] = GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
    guint n = 0;
    gint64 t0 = g_get_monotonic_time ();
    double c0 = cpu_seconds ();
    SppBox *boxes = spp_proposals_compute (&img, &params, &n, &err);
    double cpu = cpu_seconds () - c0;
    double secs = (g_get_monotonic_time () - t0) / 1e6;
    gst_buffer_unmap (buf, &map);
    gst_sample_unref (sample);
    if (boxes == NULL) {
      fprintf (stderr, "spp proposals: %s: %s\n", files[i], err->message);
      g_clear_error (&err);
      status = 1;
      continue;
    }
    if (json) {
      printf ("{\"image\":");
      print_json_string (files[i]);
      printf (",\"width\":%d,\"height\":%d,\"seconds\":%.4f,"
              "\"cpu_seconds\":%.4f,\"boxes\":[", img.width, img.height,
              secs, cpu);
      for (guint b = 0; b < n; b++)
        printf ("%s[%g,%g,%g,%g]", b ? "," : "", boxes[b].x, boxes[b].y,
                boxes[b].w, boxes[b].h);
      printf ("]}\n");
    } else {
      printf ("%s: %dx%d, %u boxes in %.3f s\n", files[i], img.width,
              img.height, n, secs);
      for (guint b = 0; b < MIN (n, 5u); b++)
        printf ("  #%u x=%.0f y=%.0f w=%.0f h=%.0f\n", b + 1, boxes[b].x,
                boxes[b].y, boxes[b].w, boxes[b].h);
    }
    fflush (stdout);
    g_free (boxes);
  }
#else
  fprintf (stderr, "spp proposals: built without GStreamer, cannot decode "
           "images\n");
  status = 1;
#endif
  g_free (mode);
  g_strfreev (files);
  return status;
}
