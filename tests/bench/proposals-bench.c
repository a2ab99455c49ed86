/* Proposal reuse on video: the tracker against selective search on every
 * frame, same frames, same parameters.
 *
 *   proposals-bench --raw W H N [--interval K] [--threads T] < frames.bgr
 *     reads N packed BGR frames from stdin (tests/bench/proposals-bench.py
 *     pipes vtest.avi in);
 *   proposals-bench --synthetic
 *     makes 60 frames of a panning synthetic scene (the meson benchmark).
 *
 * Prints one JSON object: ms per frame for both, the tracker's actions,
 * and the recall of the full run's boxes by the tracker's boxes at IoU
 * >= 0.5 (mean over frames). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spp/proposals.h"
#include "spp/tracker.h"

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* Fraction of @ref boxes that some box of @cand covers at IoU >= @t. */
static double
recall (const SppBox *ref, guint nr, const SppBox *cand, guint nc, float t)
{
  if (nr == 0)
    return 1.0;
  guint hit = 0;
  for (guint i = 0; i < nr; i++)
    for (guint j = 0; j < nc; j++)
      if (spp_box_iou (&ref[i], &cand[j]) >= t) {
        hit++;
        break;
      }
  return (double) hit / nr;
}

static void
synth_frame (guint8 *f, int w, int h, int t)
{
  /* Rectangles on a smooth background, the camera panning 3 px/frame
   * right and 1 px/frame down. */
  int ox = 3 * t, oy = t;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int X = x + ox, Y = y + oy;
      guint8 *p = f + (y * w + x) * 3;
      int v = 90 + (int) (50 * sin (X * 0.03) * cos (Y * 0.02));
      p[0] = (guint8) v; p[1] = (guint8) (v + 20); p[2] = (guint8) (v + 40);
      for (int i = 0; i < 12; i++) {
        int rx = (i * 97) % 700, ry = (i * 61) % 400, rw = 30 + (i * 13) % 70,
            rh = 25 + (i * 29) % 60;
        if (X >= rx && X < rx + rw && Y >= ry && Y < ry + rh) {
          p[0] = (guint8) (i * 40); p[1] = (guint8) (255 - i * 20);
          p[2] = (guint8) (i * 70);
        }
      }
    }
}

int
main (int argc, char **argv)
{
  int w = 320, h = 240, n = 60, interval = 10, threads = 1;
  gboolean raw = FALSE;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--raw") && i + 3 < argc) {
      raw = TRUE;
      w = atoi (argv[i + 1]);
      h = atoi (argv[i + 2]);
      n = atoi (argv[i + 3]);
      i += 3;
    } else if (!strcmp (argv[i], "--interval") && i + 1 < argc) {
      interval = atoi (argv[++i]);
    } else if (!strcmp (argv[i], "--threads") && i + 1 < argc) {
      threads = atoi (argv[++i]);
    } else if (strcmp (argv[i], "--synthetic")) {
      fprintf (stderr, "usage: %s --synthetic | --raw W H N "
               "[--interval K] [--threads T]\n", argv[0]);
      return 2;
    }
  }
  if (w < 1 || h < 1 || n < 1 || interval < 1 || threads < 0) {
    fprintf (stderr, "proposals-bench: bad sizes\n");
    return 2;
  }
  SppProposalParams p;
  spp_proposal_params_init (&p);
  p.n_threads = (guint) threads;
  SppTracker *tr = spp_tracker_new (&p, (guint) interval);
  gsize fsz = (gsize) w * h * 3;
  guint8 *frame = g_malloc (fsz);
  double t_full = 0, t_track = 0, rec_sum = 0, rec_min = 1;
  int counts[3] = { 0 }, done = 0;
  for (int f = 0; f < n; f++) {
    if (raw) {
      if (fread (frame, 1, fsz, stdin) != fsz)
        break;
    } else {
      synth_frame (frame, w, h, f);
    }
    SppImage img = { SPP_PIXEL_BGR, w, h, { frame }, { w * 3 } };
    guint nf = 0, nt = 0;
    SppTrackerAction act;
    GError *err = NULL;
    double t0 = now ();
    SppBox *full = spp_proposals_compute (&img, &p, &nf, &err);
    double t1 = now ();
    const SppBox *tb = spp_tracker_update (tr, &img, TRUE, &nt, &act, &err);
    double t2 = now ();
    if (full == NULL || tb == NULL) {
      fprintf (stderr, "proposals-bench: %s\n", err ? err->message : "?");
      return 1;
    }
    t_full += t1 - t0;
    t_track += t2 - t1;
    counts[act]++;
    double r = recall (full, nf, tb, nt, 0.5f);
    rec_sum += r;
    rec_min = MIN (rec_min, r);
    g_free (full);
    done++;
  }
  if (done == 0) {
    fprintf (stderr, "proposals-bench: no frames\n");
    return 1;
  }
  printf ("{\"frames\":%d,\"width\":%d,\"height\":%d,\"interval\":%d,"
          "\"threads\":%d,\"full_ms_per_frame\":%.2f,"
          "\"tracker_ms_per_frame\":%.2f,\"speedup\":%.2f,"
          "\"recall50_mean\":%.4f,\"recall50_min\":%.4f,"
          "\"reused\":%d,\"shifted\":%d,\"recomputed\":%d}\n",
          done, w, h, interval, threads, 1e3 * t_full / done,
          1e3 * t_track / done, t_full / MAX (t_track, 1e-9),
          rec_sum / done, rec_min, counts[SPP_TRACKER_REUSED],
          counts[SPP_TRACKER_SHIFTED], counts[SPP_TRACKER_RECOMPUTED]);
  spp_tracker_free (tr);
  g_free (frame);
  return 0;
}
