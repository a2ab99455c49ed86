/* SPP-net's window features against R-CNN's warped crops: on each image,
 * the same model scores the same proposals both ways; prints the Spearman rank correlation of the per-window best class
 * score and whether both modes rank the same window first.
 * Usage: rank-check MODEL MIN_RHO IMAGE... (exit 1 if the mean rho is
 * below MIN_RHO). */
#include "spp/spp.h"
#include "detector-private.h"
#include "cli.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int
cmp_idx (const void *a, const void *b, void *data)
{
  const float *v = data;
  float x = v[*(const int *) a], y = v[*(const int *) b];
  return (x > y) - (x < y);
}

static void
ranks (const float *v, int n, double *r)
{
  int *idx = g_new (int, n);
  for (int i = 0; i < n; i++)
    idx[i] = i;
  g_qsort_with_data (idx, n, sizeof (int), cmp_idx, (gpointer) v);
  for (int i = 0; i < n; i++)
    r[idx[i]] = i;
  g_free (idx);
}

static float *
best_scores (SppDetector *d, int *n_out)
{
  guint n, k;
  const float *s = spp_detector_get_window_scores (d, &n, &k);
  float *best = g_new (float, MAX (n, 1));
  for (guint i = 0; i < n; i++) {
    best[i] = s[i * k];
    for (guint j = 1; j < k; j++)
      best[i] = MAX (best[i], s[i * k + j]);
  }
  *n_out = n;
  return best;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc < 4) {
    fprintf (stderr, "usage: %s MODEL MIN_RHO IMAGE...\n", argv[0]);
    return 2;
  }
  GError *error = NULL;
  SppModel *m = spp_model_load (argv[1], &error);
  g_assert_no_error (error);
  SppDetector *d = spp_detector_new (m, &error);
  g_assert_no_error (error);
  double min_rho = atof (argv[2]), sum = 0;
  int n_img = 0, same_top = 0;
  for (int a = 3; a < argc; a++) {
    GstSample *sample = spp_cli_decode_rgb (argv[a], &error);
    g_assert_no_error (error);
    GstMapInfo map;
    SppImage img;
    GstBuffer *buf = gst_sample_get_buffer (sample);
    g_assert_true (spp_cli_sample_image (sample, argv[a], &img, &map, &error));
    g_assert_no_error (error);
    SppProposalParams pp;
    spp_proposal_params_init (&pp);
    pp.max_boxes = 200; /* R-CNN runs the trunk once per window */
    guint np;
    SppBox *props = spp_proposals_compute (&img, &pp, &np, &error);
    g_assert_no_error (error);
    g_assert_nonnull (props);
    const SppDetection *dets;
    guint nd;
    int n1, n2;
    /* Each path must run: a failed R-CNN pass would leave the SPP
     * scores in place and compare them with themselves (rho 1). */
    g_assert_true (spp_detector_detect (d, &img, props, np, &dets, &nd,
                                        &error));
    g_assert_no_error (error);
    float *s1 = best_scores (d, &n1);
    g_assert_true (spp_detector_detect_rcnn (d, &img, props, np, &dets, &nd,
                                             &error));
    g_assert_no_error (error);
    float *s2 = best_scores (d, &n2);
    g_assert_cmpint (n1, ==, n2);
    g_assert_cmpint (n1, >=, 2); /* a rank correlation needs two */
    double *r1 = g_new (double, n1), *r2 = g_new (double, n1), dd = 0;
    ranks (s1, n1, r1);
    ranks (s2, n1, r2);
    for (int i = 0; i < n1; i++)
      dd += (r1[i] - r2[i]) * (r1[i] - r2[i]);
    double rho = 1 - 6 * dd / ((double) n1 * ((double) n1 * n1 - 1));
    int t1 = 0, t2 = 0;
    for (int i = 1; i < n1; i++) {
      if (s1[i] > s1[t1]) t1 = i;
      if (s2[i] > s2[t2]) t2 = i;
    }
    same_top += t1 == t2;
    printf ("%s: %d windows, Spearman rho %.3f, top window %s\n", argv[a], n1,
            rho, t1 == t2 ? "same" : "differs");
    sum += rho;
    n_img++;
    g_free (r1); g_free (r2); g_free (s1); g_free (s2); g_free (props);
    gst_buffer_unmap (buf, &map);
    gst_sample_unref (sample);
  }
  printf ("mean rho %.3f over %d images, same top window on %d\n",
          sum / n_img, n_img, same_top);
  spp_detector_free (d);
  spp_model_unref (m);
  return sum / n_img >= min_rho ? 0 : 1;
}
