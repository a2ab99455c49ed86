/* SPP-net vs R-CNN on one frame, and the SPP stage breakdown.
 * Usage: detector-bench MODEL FRAME.rgb WIDTH HEIGHT [RCNN_WINDOWS [SCALE
 *        [MAX_PROPOSALS]]]
 * FRAME.rgb is packed RGB. Proposals: selective search fast, 2000 boxes
 * (or MAX_PROPOSALS); the one-scale run uses 688 (or SCALE).
 * Prints "key value" lines (detector_bench.py formats them). */
#include "spp/spp.h"
#include "detector-private.h"

#include <stdio.h>
#include <stdlib.h>

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static void
print_timings (const char *tag, const SppDetectorTimings *t, double total)
{
  printf ("%s_total_ms %.2f\n", tag, total * 1e3);
  printf ("%s_resize_ms %.2f\n", tag, t->resize * 1e3);
  printf ("%s_conv_ms %.2f\n", tag, t->conv * 1e3);
  printf ("%s_spp_ms %.2f\n", tag, t->spp * 1e3);
  printf ("%s_fc_ms %.2f\n", tag, t->fc * 1e3);
  printf ("%s_svm_bbox_ms %.2f\n", tag, t->svm * 1e3);
  printf ("%s_nms_ms %.2f\n", tag, t->nms * 1e3);
  printf ("%s_forwards %u\n", tag, t->n_forwards);
  printf ("%s_windows %u\n", tag, t->n_windows);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  if (argc < 5) {
    fprintf (stderr, "usage: %s MODEL FRAME.rgb W H [RCNN_WINDOWS]\n",
             argv[0]);
    return 2;
  }
  int w = atoi (argv[3]), h = atoi (argv[4]);
  int rcnn_n = argc > 5 ? atoi (argv[5]) : 100;
  static guint one[] = { 688 };
  if (argc > 6)
    one[0] = (guint) atoi (argv[6]);
  guint max_props = argc > 7 ? (guint) atoi (argv[7]) : 2000;
  g_autofree char *rgb = NULL;
  gsize len;
  if (!g_file_get_contents (argv[2], &rgb, &len, &error)
      || len != (gsize) w * h * 3) {
    fprintf (stderr, "bad frame file\n");
    return 1;
  }
  g_autoptr (SppModel) model = spp_model_load (argv[1], &error);
  g_autoptr (SppDetector) det = model ? spp_detector_new (model, &error) : NULL;
  if (!det) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  SppImage img = { SPP_PIXEL_RGB, w, h, { (guint8 *) rgb }, { w * 3 } };
  SppProposalParams pp;
  spp_proposal_params_init (&pp);
  pp.max_boxes = max_props;
  guint n_props;
  double t0 = now ();
  g_autofree SppBox *props = spp_proposals_compute (&img, &pp, &n_props,
                                                    &error);
  printf ("proposals %u\nproposals_ms %.1f\n", n_props, (now () - t0) * 1e3);
  const SppDetection *dets;
  guint n_dets;
  spp_detector_set_threshold (det, 0.5f);

  static const guint five[] = { 480, 576, 688, 864, 1200 };
  const struct { const char *tag; const guint *s; guint n; } runs[] = {
    { "spp1", one, 1 }, { "spp5", five, 5 },
  };
  for (gsize r = 0; r < G_N_ELEMENTS (runs); r++) {
    spp_detector_set_scales (det, runs[r].s, runs[r].n, NULL);
    spp_detector_detect (det, &img, props, n_props, &dets, &n_dets, NULL);
    double best = 1e9;
    SppDetectorTimings bt = { 0 };
    for (int k = 0; k < 3; k++) {
      double t = now ();
      if (!spp_detector_detect (det, &img, props, n_props, &dets, &n_dets,
                                &error)) {
        fprintf (stderr, "%s\n", error->message);
        return 1;
      }
      t = now () - t;
      if (t < best) {
        best = t;
        bt = *spp_detector_get_timings (det);
      }
    }
    print_timings (runs[r].tag, &bt, best);
  }
  /* R-CNN on the first rcnn_n proposals (every window costs the same
   * warp and forward, so the per-window time scales to 2000). */
  spp_detector_set_scales (det, one, 1, NULL);
  guint m = MIN ((guint) rcnn_n, n_props);
  double t = now ();
  if (!spp_detector_detect_rcnn (det, &img, props, m, &dets, &n_dets,
                                 &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  t = now () - t;
  print_timings ("rcnn_subset", spp_detector_get_timings (det), t);
  printf ("rcnn_per_window_ms %.3f\n", t / m * 1e3);
  printf ("rcnn_2000_est_ms %.1f\n", t / m * 2000 * 1e3);
  return 0;
}
