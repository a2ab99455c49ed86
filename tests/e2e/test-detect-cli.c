/* `spp detect --json` prints exactly what the library call gives for the
 * same image, model and settings (the CLI is a thin front end). */
#include "spp/spp.h"
#include "cli.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <math.h>

static const char *image
    = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";

static void
test_cli_matches_library (void)
{
  if (!g_file_test (image, G_FILE_TEST_EXISTS)) {
    g_test_skip ("opencv-doc not installed");
    return;
  }
  g_autofree char *model = g_build_filename (g_getenv ("G_TEST_SRCDIR"),
                                             "data", "tiny.sppm", NULL);
  const char *spp = g_getenv ("SPP_CLI");
  g_autofree char *out = NULL;
  int status;
  const char *argv[] = { spp, "detect", "--json", "--model", model,
                         "--threshold", "0.55", image, NULL };
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL,
                               &out, NULL, &status, &error));
  g_assert_true (g_spawn_check_wait_status (status, &error));

  /* The same through the library, decoded as the CLI decodes. */
  GstSample *sample = spp_cli_decode_rgb (image, &error);
  g_assert_no_error (error);
  GstVideoInfo info;
  gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
  GstMapInfo map;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  SppImage img = { SPP_PIXEL_RGB, GST_VIDEO_INFO_WIDTH (&info),
                   GST_VIDEO_INFO_HEIGHT (&info), { map.data },
                   { GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) } };
  g_autoptr (SppModel) m = spp_model_load (model, &error);
  g_autoptr (SppDetector) d = spp_detector_new (m, &error);
  spp_detector_set_threshold (d, 0.55f);
  SppProposalParams pp;
  spp_proposal_params_init (&pp);
  spp_model_get_proposal_params (m, &pp);
  guint n_props, n;
  g_autofree SppBox *props = spp_proposals_compute (&img, &pp, &n_props,
                                                    &error);
  const SppDetection *dets;
  g_assert_true (spp_detector_detect (d, &img, props, n_props, &dets, &n,
                                      &error));
  g_assert_cmpuint (n, >, 0);

  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (o, "width"), ==, img.width);
  JsonArray *a = json_object_get_array_member (o, "detections");
  g_assert_cmpuint (json_array_get_length (a), ==, n);
  for (guint i = 0; i < n; i++) {
    JsonObject *e = json_array_get_object_element (a, i);
    g_assert_cmpstr (json_object_get_string_member (e, "label"), ==,
                     dets[i].label);
    g_assert_cmpint (json_object_get_int_member (e, "label_id"), ==,
                     dets[i].label_id);
    /* The CLI prints 5 and 2 decimals. */
    g_assert_cmpfloat_with_epsilon (
        json_object_get_double_member (e, "confidence"), dets[i].confidence,
        1e-5);
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (e, "x"),
                                    dets[i].box.x, 0.006);
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (e, "h"),
                                    dets[i].box.h, 0.006);
  }
  gst_buffer_unmap (buf, &map);
  gst_sample_unref (sample);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/detect-matches-library", test_cli_matches_library);
  return g_test_run ();
}
