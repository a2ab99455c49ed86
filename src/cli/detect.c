/* spp detect: run the detector on image files. */
#include "cli.h"

#include "spp/spp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage (FILE *f)
{
  fprintf (f,
           "usage: spp detect [--model FILE] [--scales 480,688] "
           "[--threshold T]\n"
           "                  [--nms IOU] [--max-proposals N] "
           "[--max-detections N]\n"
           "                  [--mode fast|quality|single] [--json] [--rcnn] "
           "IMAGE...\n"
           "Runs selective search and the SPP-net detector on each image.\n"
           "--model defaults to the bundled default model; --threshold to\n"
           "each class's own threshold in the model. --rcnn runs the R-CNN\n"
           "baseline (every window warped and convolved on its own).\n"
           "--max-detections (100) caps each image's detections, all\n"
           "classes together, best first, as the element does.\n");
}

int
spp_cli_detect (int argc, char **argv)
{
#ifndef HAVE_GST
  fprintf (stderr, "spp detect: built without GStreamer, cannot decode "
           "images\n");
  return 1;
#else
  g_autofree char *model_path = NULL, *scales_arg = NULL, *mode = NULL;
  double threshold = -1, nms = -1, box_vote = -1;
  int box_passes = 0;
  int max_props = 0; /* 0: the model's (or the library's) */
  int max_dets = 100; /* the detector's and the element's default */
  gboolean json = FALSE, rcnn = FALSE;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "model file", "FILE" },
    { "scales", 's', 0, G_OPTION_ARG_STRING, &scales_arg, "shorter-side scales", "LIST" },
    { "threshold", 't', 0, G_OPTION_ARG_DOUBLE, &threshold, "confidence threshold 0..1", "T" },
    { "nms", 0, 0, G_OPTION_ARG_DOUBLE, &nms, "NMS IoU threshold", "IOU" },
    { "box-vote", 0, 0, G_OPTION_ARG_DOUBLE, &box_vote, "box voting IoU (0 off; default: the model's)", "IOU" },
    { "box-passes", 0, 0, G_OPTION_ARG_INT, &box_passes, "box regression passes, 1..4 (default: the model's)", "N" },
    { "max-proposals", 0, 0, G_OPTION_ARG_INT, &max_props, "proposals per image", "N" },
    { "max-detections", 0, 0, G_OPTION_ARG_INT, &max_dets, "detections kept per image, all classes (100)", "N" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "selective search mode", "MODE" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "JSON output, one object per line", NULL },
    { "rcnn", 0, 0, G_OPTION_ARG_NONE, &rcnn, "R-CNN baseline: conv per warped window (slow)", NULL },
    { NULL }
  };
  int parsed = spp_cli_parse_options ("detect", entries, "IMAGE...", usage, &argc,
                                      &argv);
  if (parsed >= 0)
    return parsed;
  if (argc < 2) {
    usage (stderr);
    return 2;
  }
  SppProposalParams pp;
  spp_proposal_params_init (&pp);
  if (!spp_proposal_mode_from_string (mode, &pp.mode, &error)) {
    fprintf (stderr, "spp detect: --mode: %s\n", error->message);
    return 2;
  }
  if (max_props < 0 || max_props > 100000) {
    fprintf (stderr, "spp detect: --max-proposals %d: expected 1..100000\n",
             max_props);
    return 2;
  }
  if (max_dets < 1 || max_dets > 100000) {
    fprintf (stderr, "spp detect: --max-detections %d: expected 1..100000\n",
             max_dets);
    return 2;
  }
  if (threshold > 1 || nms > 1) {
    fprintf (stderr, "spp detect: --threshold and --nms take 0..1\n");
    return 2;
  }
  if (model_path == NULL)
    model_path = spp_model_get_default_path ();
  g_autoptr (SppModel) model = spp_model_load (model_path, &error);
  if (model == NULL) {
    fprintf (stderr, "spp detect: %s\n", error->message);
    return 1;
  }
  /* The model's own proposal settings, unless given here. */
  spp_model_get_proposal_params (model, &pp);
  if (max_props > 0)
    pp.max_boxes = max_props;
  g_autoptr (SppDetector) det = spp_detector_new (model, &error);
  if (det == NULL) {
    fprintf (stderr, "spp detect: %s\n", error->message);
    return 1;
  }
  if (scales_arg) {
    guint scales[16], n;
    if (!spp_scales_parse (scales_arg, scales, 16, &n, &error)
        || !spp_detector_set_scales (det, scales, n, &error)) {
      fprintf (stderr, "spp detect: %s\n", error->message);
      return 2;
    }
  }
  spp_detector_set_max_detections (det, (guint) max_dets);
  if (threshold >= 0)
    spp_detector_set_threshold (det, threshold);
  if (nms >= 0)
    spp_detector_set_nms_threshold (det, nms);
  if (!spp_cli_set_box_options (det, "detect", box_vote, box_passes))
    return 2;

  gst_init (NULL, NULL);
  int status = 0;
  for (int i = 1; i < argc; i++) {
    g_autoptr (GError) err = NULL;
    GstSample *sample = spp_cli_decode_rgb (argv[i], &err);
    if (sample == NULL) {
      fprintf (stderr, "spp detect: %s\n", err->message);
      status = 1;
      continue;
    }
    GstMapInfo map;
    SppImage img;
    GstBuffer *buf = gst_sample_get_buffer (sample);
    if (!spp_cli_sample_image (sample, argv[i], &img, &map, &err)) {
      fprintf (stderr, "spp detect: %s\n", err->message);
      g_clear_error (&err);
      gst_sample_unref (sample);
      status = 1;
      continue;
    }
    gint64 t0 = g_get_monotonic_time ();
    guint n_props = 0, n_dets = 0;
    const SppDetection *dets = NULL;
    g_autofree SppBox *props = spp_proposals_compute (&img, &pp, &n_props,
                                                      &err);
    gint64 t1 = g_get_monotonic_time ();
    gboolean ok = props != NULL
                  && (rcnn ? spp_detector_detect_rcnn (det, &img, props, n_props,
                                                       &dets, &n_dets, &err)
                           : spp_detector_detect (det, &img, props, n_props,
                                                  &dets, &n_dets, &err));
    gint64 t2 = g_get_monotonic_time ();
    if (!ok) {
      fprintf (stderr, "spp detect: %s: %s\n", argv[i],
               err ? err->message : "failed");
      status = 1;
    } else if (json) {
      printf ("{\"image\":");
      spp_cli_print_json_string (argv[i]);
      printf (",\"width\":%d,\"height\":%d,\"seconds\":%.4f,"
              "\"proposal_seconds\":%.4f,\"proposals\":%u,\"detections\":[",
              img.width, img.height, (t2 - t0) / 1e6, (t1 - t0) / 1e6,
              n_props);
      for (guint k = 0; k < n_dets; k++) {
        printf ("%s{\"label\":", k ? "," : "");
        spp_cli_print_json_string (dets[k].label);
        printf (",\"label_id\":%d,\"confidence\":%.5f,\"x\":%.2f,\"y\":%.2f,"
                "\"w\":%.2f,\"h\":%.2f}", dets[k].label_id,
                dets[k].confidence, dets[k].box.x, dets[k].box.y,
                dets[k].box.w, dets[k].box.h);
      }
      printf ("]}\n");
    } else {
      printf ("%s: %dx%d, %u proposals, %u detections in %.3f s\n", argv[i],
              img.width, img.height, n_props, n_dets, (t2 - t0) / 1e6);
      for (guint k = 0; k < n_dets; k++)
        printf ("  %-12s %.3f  x %.0f y %.0f w %.0f h %.0f\n", dets[k].label,
                dets[k].confidence, dets[k].box.x, dets[k].box.y,
                dets[k].box.w, dets[k].box.h);
    }
    fflush (stdout);
    gst_buffer_unmap (buf, &map);
    gst_sample_unref (sample);
  }
  return status;
#endif
}
