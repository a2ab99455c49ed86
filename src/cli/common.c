/* Helpers shared by the subcommands: decoding an image file to RGB
 * with GStreamer, and JSON string output. */
#include "cli.h"
#include "spp/error.h"
#include "spp/detector.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#ifdef HAVE_GST
struct _SppCliDecoder {
  char *path;
  GstElement *pipe, *sink;
  GstBus *bus;
};

SppCliDecoder *
spp_cli_decoder_new (const char *path, guint max_buffers, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s: no such file", path);
    return NULL;
  }
  g_autofree char *launch = g_strdup_printf (
      "filesrc name=src ! decodebin ! videoconvert ! video/x-raw,format=RGB "
      "! appsink name=sink sync=false max-buffers=%u", max_buffers);
  GstElement *pipe = gst_parse_launch (launch, error);
  if (pipe == NULL)
    return NULL;
  SppCliDecoder *d = g_new0 (SppCliDecoder, 1);
  d->path = g_strdup (path);
  d->pipe = pipe;
  d->sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  d->bus = gst_element_get_bus (pipe);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  /* A property, not the launch string, so no path needs escaping. */
  g_object_set (src, "location", path, NULL);
  gst_object_unref (src);
  if (gst_element_set_state (pipe, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s: cannot start decoding",
                 path);
    spp_cli_decoder_free (d);
    return NULL;
  }
  return d;
}

GstSample *
spp_cli_decoder_next (SppCliDecoder *d, GError **error)
{
  const gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline) {
    GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (d->sink),
                                                 50 * GST_MSECOND);
    if (s)
      return s;
    g_autoptr (GstMessage) msg = gst_bus_pop_filtered (
        d->bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      g_autoptr (GError) e = NULL;
      gst_message_parse_error (msg, &e, NULL);
      g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s: cannot decode: %s",
                   d->path, e->message);
      return NULL;
    }
    /* EOS on the bus while the sink still holds frames: drain them. */
    if (gst_app_sink_is_eos (GST_APP_SINK (d->sink)))
      return NULL;
  }
  g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s: timed out decoding",
               d->path);
  return NULL;
}

void
spp_cli_decoder_free (SppCliDecoder *d)
{
  if (d == NULL)
    return;
  gst_element_set_state (d->pipe, GST_STATE_NULL);
  gst_object_unref (d->bus);
  gst_object_unref (d->sink);
  gst_object_unref (d->pipe);
  g_free (d->path);
  g_free (d);
}

GstSample *
spp_cli_decode_rgb (const char *path, GError **error)
{
  g_autoptr (SppCliDecoder) d = spp_cli_decoder_new (path, 1, error);
  if (d == NULL)
    return NULL;
  g_autoptr (GError) err = NULL;
  GstSample *sample = spp_cli_decoder_next (d, &err);
  if (sample == NULL && err == NULL)
    g_set_error (&err, SPP_ERROR, SPP_ERROR_IO, "%s: no video frame in the "
                 "file", path);
  if (err)
    g_propagate_error (error, g_steal_pointer (&err));
  return sample;
}

gboolean
spp_cli_sample_image (GstSample *sample, const char *name, SppImage *img,
                      GstMapInfo *map, GError **error)
{
  GstVideoInfo info;
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_RGB) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: the decoder gave no packed RGB video caps", name);
    return FALSE;
  }
  if (!gst_buffer_map (gst_sample_get_buffer (sample), map, GST_MAP_READ)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s: cannot map a frame",
                 name);
    return FALSE;
  }
  memset (img, 0, sizeof *img);
  img->format = SPP_PIXEL_RGB;
  img->width = GST_VIDEO_INFO_WIDTH (&info);
  img->height = GST_VIDEO_INFO_HEIGHT (&info);
  img->planes[0] = map->data + GST_VIDEO_INFO_PLANE_OFFSET (&info, 0);
  img->strides[0] = GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
  return TRUE;
}
#endif

/* json-glib writes the string, so JSON escaping is not implemented again
 * here (the plugin, which has no json-glib, has its own in sppjsonlog). */
void
spp_cli_print_json_string (const char *s)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (node, s);
  g_autofree char *text = json_to_string (node, FALSE);
  fputs (text, stdout);
}

gboolean
spp_cli_set_box_options (SppDetector *det, const char *command,
                         double box_vote, int box_passes)
{
  if (box_vote > 1) {
    fprintf (stderr, "spp %s: --box-vote takes 0..1\n", command);
    return FALSE;
  }
  if (box_passes < 0 || box_passes > SPP_MAX_BOX_PASSES) {
    fprintf (stderr, "spp %s: --box-passes takes 1..%d\n", command,
             SPP_MAX_BOX_PASSES);
    return FALSE;
  }
  if (box_vote >= 0)
    spp_detector_set_box_vote (det, (float) box_vote);
  if (box_passes > 0)
    spp_detector_set_box_passes (det, (guint) box_passes);
  return TRUE;
}

int
spp_cli_parse_options (const char *command, const GOptionEntry *entries,
                       const char *parameter, void (*usage) (FILE *),
                       int *argc, char ***argv)
{
  /* Our own usage text, not GOption's generated help. */
  for (int i = 1; i < *argc; i++)
    if (!strcmp ((*argv)[i], "--help") || !strcmp ((*argv)[i], "-h")) {
      usage (stdout);
      return 0;
    }
  g_autoptr (GOptionContext) ctx = g_option_context_new (parameter);
  g_autoptr (GError) error = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_help_enabled (ctx, FALSE);
  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    fprintf (stderr, "spp %s: %s\n", command, error->message);
    usage (stderr);
    return 2;
  }
  return -1;
}
