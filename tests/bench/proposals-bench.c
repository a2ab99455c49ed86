/* Proposal reuse on video: the tracker against selective search on every
 * frame, same frames, same parameters.
 *
 *   proposals-bench --raw W H N [--interval K[:full][,K...]] [--threads T]
 *       [--per-frame] < frames.bgr
 *     reads N packed BGR frames from stdin (tests/bench/proposals_bench.py
 *     pipes vtest.avi in);
 *   proposals-bench --synthetic
 *     makes 60 frames of a panning synthetic scene (the meson benchmark).
 *
 * Each K is one tracker on the same frames; K:full turns its partial key
 * frames off (a full selective search on every key frame). --per-frame
 * adds each frame's action and recall on stderr.
 *
 * Prints one JSON object: ms per frame for both, each tracker's actions,
 * the recall of the full run's boxes by the tracker's boxes at IoU >= 0.5
 * (mean over frames), and, for reference, the same recall of each full
 * run by the previous frame's full run (selective search's own
 * frame-to-frame consistency). */
#include "spp/proposals.h"
#include "spp/video-proposals.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* Process CPU time: steadier than wall time on a shared machine, and the
 * same thing with one thread. */
static double
cpu (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
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

#define MAX_TRACKERS 8

typedef struct {
  int interval;
  gboolean full; /* partial key frames off */
  SppVideoProposals *tr;
  double t, c, rec_sum, rec_min, boxes;
  int counts[SPP_VIDEO_PROPOSALS_PARTIAL + 1];
} Run;

int
main (int argc, char **argv)
{
  int w = 320, h = 240, n = 60, threads = 1, n_runs = 0;
  Run runs[MAX_TRACKERS] = { 0 };
  gboolean raw = FALSE, per_frame = FALSE;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--raw") && i + 3 < argc) {
      raw = TRUE;
      w = atoi (argv[i + 1]);
      h = atoi (argv[i + 2]);
      n = atoi (argv[i + 3]);
      i += 3;
    } else if (!strcmp (argv[i], "--interval") && i + 1 < argc) {
      /* A comma-separated list: one tracker each, on the same frames. */
      char **parts = g_strsplit (argv[++i], ",", -1);
      for (int k = 0; parts[k] && n_runs < MAX_TRACKERS; k++) {
        runs[n_runs].full = g_str_has_suffix (parts[k], ":full");
        runs[n_runs++].interval = atoi (parts[k]);
      }
      g_strfreev (parts);
    } else if (!strcmp (argv[i], "--per-frame")) {
      per_frame = TRUE;
    } else if (!strcmp (argv[i], "--threads") && i + 1 < argc) {
      threads = atoi (argv[++i]);
    } else if (strcmp (argv[i], "--synthetic")) {
      fprintf (stderr, "usage: %s --synthetic | --raw W H N "
               "[--interval K[:full][,K...]] [--threads T] [--per-frame]\n",
               argv[0]);
      return 2;
    }
  }
  if (n_runs == 0)
    runs[n_runs++].interval = 10;
  if (w < 1 || h < 1 || n < 1 || threads < 0) {
    fprintf (stderr, "proposals-bench: bad sizes\n");
    return 2;
  }
  SppProposalParams p;
  spp_proposal_params_init (&p);
  p.n_threads = (guint) threads;
  for (int k = 0; k < n_runs; k++) {
    if (runs[k].interval < 1) {
      fprintf (stderr, "proposals-bench: interval must be >= 1\n");
      return 2;
    }
    runs[k].tr = spp_video_proposals_new (&p, (guint)runs[k].interval);
    spp_video_proposals_set_partial (runs[k].tr, !runs[k].full);
    runs[k].rec_min = 1;
  }
  gsize fsz = (gsize) w * h * 3;
  guint8 *frame = g_malloc (fsz);
  double t_full = 0, c_full = 0, adj_sum = 0, full_boxes = 0;
  int done = 0;
  /* Reference: how well one full run's boxes cover the next frame's. */
  SppBox *prev_full = NULL;
  guint n_prev = 0;
  for (int f = 0; f < n; f++) {
    if (raw) {
      if (fread (frame, 1, fsz, stdin) != fsz)
        break;
    } else {
      synth_frame (frame, w, h, f);
    }
    SppImage img = { SPP_PIXEL_BGR, w, h, { frame }, { w * 3 } };
    guint nf = 0;
    GError *err = NULL;
    double t0 = now (), u0 = cpu ();
    SppBox *full = spp_proposals_compute (&img, &p, &nf, &err);
    t_full += now () - t0;
    c_full += cpu () - u0;
    full_boxes += nf;
    if (full == NULL) {
      fprintf (stderr, "proposals-bench: %s\n", err->message);
      return 1;
    }
    for (int k = 0; k < n_runs; k++) {
      Run *r = &runs[k];
      guint nt = 0;
      SppVideoProposalsAction act;
      double t1 = now (), u1 = cpu ();
      const SppBox *tb
          = spp_video_proposals_update (r->tr, &img, TRUE, &nt, &act, &err);
      r->t += now () - t1;
      r->c += cpu () - u1;
      if (tb == NULL) {
        fprintf (stderr, "proposals-bench: %s\n", err->message);
        return 1;
      }
      r->counts[act]++;
      r->boxes += nt;
      double rc = recall (full, nf, tb, nt, 0.5f);
      if (per_frame)
        fprintf (stderr, "frame %d tracker %d action %d boxes %u recall %.4f"
                 "\n", f, k, (int) act, nt, rc);
      r->rec_sum += rc;
      r->rec_min = MIN (r->rec_min, rc);
    }
    if (prev_full)
      adj_sum += recall (full, nf, prev_full, n_prev, 0.5f);
    g_free (prev_full);
    prev_full = full;
    n_prev = nf;
    done++;
  }
  if (done == 0) {
    fprintf (stderr, "proposals-bench: no frames\n");
    return 1;
  }
  printf ("{\"frames\":%d,\"width\":%d,\"height\":%d,\"threads\":%d,"
          "\"full_ms_per_frame\":%.2f,\"full_cpu_ms_per_frame\":%.2f,"
          "\"full_boxes_mean\":%.1f,"
          "\"adjacent_full_recall50_mean\":%.4f,\"trackers\":[", done, w, h,
          threads, 1e3 * t_full / done, 1e3 * c_full / done,
          full_boxes / done, done > 1 ? adj_sum / (done - 1) : 1.0);
  for (int k = 0; k < n_runs; k++) {
    Run *r = &runs[k];
    printf ("%s{\"interval\":%d,\"partial\":%s,\"ms_per_frame\":%.2f,"
            "\"cpu_ms_per_frame\":%.2f,\"speedup\":%.2f,"
            "\"cpu_speedup\":%.2f,\"recall50_mean\":%.4f,"
            "\"recall50_min\":%.4f,\"boxes_mean\":%.1f,\"reused\":%d,"
            "\"shifted\":%d,\"recomputed\":%d,\"partial_recomputed\":%d}",
            k ? "," : "", r->interval, r->full ? "false" : "true",
            1e3 * r->t / done, 1e3 * r->c / done, t_full / MAX (r->t, 1e-9),
            c_full / MAX (r->c, 1e-9), r->rec_sum / done, r->rec_min,
            r->boxes / done, r->counts[SPP_VIDEO_PROPOSALS_REUSED],
            r->counts[SPP_VIDEO_PROPOSALS_SHIFTED],
            r->counts[SPP_VIDEO_PROPOSALS_RECOMPUTED],
            r->counts[SPP_VIDEO_PROPOSALS_PARTIAL]);
    spp_video_proposals_free (r->tr);
  }
  printf ("]}\n");
  g_free (prev_full);
  g_free (frame);
  return 0;
}
