/* Proposal reuse across frames: shift, cut, interval, motion-only. */
#include <math.h>
#include <string.h>
#include "spp/error.h"
#include "spp/tracker.h"

#define CW 480
#define CH 360
#define FW 320
#define FH 240

/* A canvas of random coloured rectangles over a smooth pattern: enough
 * structure for both selective search and block matching. */
static guint8 *
make_canvas (guint32 seed)
{
  guint8 *c = g_new (guint8, CW * CH * 3);
  GRand *r = g_rand_new_with_seed (seed);
  double fx = g_rand_double_range (r, 0.02, 0.06);
  double fy = g_rand_double_range (r, 0.02, 0.06);
  int base = g_rand_int_range (r, 60, 160);
  for (int y = 0; y < CH; y++)
    for (int x = 0; x < CW; x++) {
      double v = base + 40 * sin (x * fx) * cos (y * fy);
      for (int k = 0; k < 3; k++)
        c[(y * CW + x) * 3 + k] = (guint8) CLAMP (v + 15 * k, 0, 255);
    }
  for (int i = 0; i < 30; i++) {
    int w = g_rand_int_range (r, 15, 80), h = g_rand_int_range (r, 15, 80);
    int x0 = g_rand_int_range (r, 0, CW - w), y0 = g_rand_int_range (r, 0, CH - h);
    guint8 col[3] = { g_rand_int_range (r, 0, 256), g_rand_int_range (r, 0, 256),
                      g_rand_int_range (r, 0, 256) };
    for (int y = y0; y < y0 + h; y++)
      for (int x = x0; x < x0 + w; x++)
        memcpy (c + (y * CW + x) * 3, col, 3);
  }
  g_rand_free (r);
  return c;
}

/* The FW x FH window of @canvas whose top-left is (@ox, @oy). */
static SppImage
crop (const guint8 *canvas, int ox, int oy)
{
  SppImage img = { SPP_PIXEL_RGB, FW, FH, { canvas + (oy * CW + ox) * 3 },
                   { CW * 3 } };
  return img;
}

static void
params (SppProposalParams *p)
{
  spp_proposal_params_init (p);
  p->mode = SPP_PROPOSAL_SINGLE;
  p->n_threads = 1;
}

static void
test_shift (void)
{
  guint8 *c = make_canvas (1);
  SppProposalParams p;
  params (&p);
  g_autoptr (SppTracker) t = spp_tracker_new (&p, 10);
  SppTrackerAction act;
  guint n0 = 0, n1 = 0;
  GError *err = NULL;

  SppImage f0 = crop (c, 80, 60);
  const SppBox *b = spp_tracker_update (t, &f0, TRUE, &n0, &act, &err);
  g_assert_no_error (err);
  g_assert_nonnull (b);
  g_assert_cmpint (act, ==, SPP_TRACKER_RECOMPUTED);
  g_assert_cmpuint (n0, >, 10);
  SppBox *key = g_memdup2 (b, n0 * sizeof (SppBox));
  float dx, dy;
  g_assert_false (spp_tracker_get_motion (t, &dx, &dy));
  g_assert_cmpfloat (dx, ==, 0);

  /* The camera pans so that content moves by (+7, -4). */
  SppImage f1 = crop (c, 80 - 7, 60 + 4);
  b = spp_tracker_update (t, &f1, TRUE, &n1, &act, &err);
  g_assert_no_error (err);
  g_assert_cmpint (act, ==, SPP_TRACKER_SHIFTED);
  g_assert_false (spp_tracker_get_motion (t, &dx, &dy));
  g_assert_cmpfloat_with_epsilon (dx, 7.0f, 1.0f);
  g_assert_cmpfloat_with_epsilon (dy, -4.0f, 1.0f);
  /* Every box away from the borders is a key box moved by (7, -4), to
   * within a pixel, in the same order. */
  guint j = 0, checked = 0;
  for (guint i = 0; i < n1; i++) {
    if (b[i].x <= 0 || b[i].y <= 0 || b[i].x + b[i].w >= FW
        || b[i].y + b[i].h >= FH)
      continue;
    gboolean found = FALSE;
    for (; j < n0 && !found; j++)
      found = fabsf (key[j].x + 7 - b[i].x) <= 1
              && fabsf (key[j].y - 4 - b[i].y) <= 1
              && fabsf (key[j].w - b[i].w) < 1e-3
              && fabsf (key[j].h - b[i].h) < 1e-3;
    g_assert_true (found);
    checked++;
  }
  g_assert_cmpuint (checked, >, n1 / 2);

  /* No motion: the same boxes again. */
  guint n2 = 0;
  SppBox *prev = g_memdup2 (b, n1 * sizeof (SppBox));
  b = spp_tracker_update (t, &f1, TRUE, &n2, &act, &err);
  g_assert_cmpint (act, ==, SPP_TRACKER_REUSED);
  g_assert_cmpuint (n2, ==, n1);
  g_assert_cmpmem (b, n2 * sizeof (SppBox), prev, n1 * sizeof (SppBox));
  g_free (prev);
  g_free (key);
  g_free (c);
}

static void
test_cut (void)
{
  guint8 *a = make_canvas (1), *z = make_canvas (2);
  SppProposalParams p;
  params (&p);
  SppTracker *t = spp_tracker_new (&p, 100);
  SppTrackerAction act;
  guint n = 0;
  SppImage fa = crop (a, 80, 60), fz = crop (z, 80, 60);
  g_assert_nonnull (spp_tracker_update (t, &fa, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_TRACKER_RECOMPUTED);
  g_assert_nonnull (spp_tracker_update (t, &fa, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_TRACKER_REUSED);
  g_assert_false (spp_tracker_get_motion (t, NULL, NULL));
  g_assert_nonnull (spp_tracker_update (t, &fz, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_TRACKER_RECOMPUTED);
  float dx = 1, dy = 1;
  g_assert_true (spp_tracker_get_motion (t, &dx, &dy));
  g_assert_cmpfloat (dx, ==, 0);
  g_assert_cmpfloat (dy, ==, 0);

  /* A frame-size change is a cut as well. */
  SppImage small = fz;
  small.width = 200;
  g_assert_nonnull (spp_tracker_update (t, &small, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_TRACKER_RECOMPUTED);

  /* After reset the next frame recomputes. */
  spp_tracker_reset (t);
  g_assert_nonnull (spp_tracker_update (t, &small, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_TRACKER_RECOMPUTED);
  spp_tracker_free (t);
  g_free (a);
  g_free (z);
}

static void
test_interval (void)
{
  guint8 *a = make_canvas (3);
  SppProposalParams p;
  params (&p);
  SppTracker *t = spp_tracker_new (&p, 3);
  SppImage f = crop (a, 80, 60);
  const SppTrackerAction expect[7] = {
    SPP_TRACKER_RECOMPUTED, SPP_TRACKER_REUSED, SPP_TRACKER_REUSED,
    SPP_TRACKER_RECOMPUTED, SPP_TRACKER_REUSED, SPP_TRACKER_REUSED,
    SPP_TRACKER_RECOMPUTED,
  };
  for (int i = 0; i < 7; i++) {
    SppTrackerAction act;
    guint n = 0;
    g_assert_nonnull (spp_tracker_update (t, &f, TRUE, &n, &act, NULL));
    g_assert_cmpint (act, ==, expect[i]);
  }
  /* interval 1: every frame. */
  spp_tracker_set_interval (t, 1);
  SppTrackerAction act;
  spp_tracker_update (t, &f, TRUE, NULL, &act, NULL);
  g_assert_cmpint (act, ==, SPP_TRACKER_RECOMPUTED);
  spp_tracker_update (t, &f, TRUE, NULL, &act, NULL);
  g_assert_cmpint (act, ==, SPP_TRACKER_RECOMPUTED);
  spp_tracker_free (t);
  g_free (a);
}

static void
test_motion_only_and_leaving (void)
{
  guint8 *a = make_canvas (4);
  SppProposalParams p;
  params (&p);
  SppTracker *t = spp_tracker_new (&p, 1000);
  SppTrackerAction act;
  guint n = 0;
  GError *err = NULL;
  SppImage f = crop (a, 150, 100);
  g_assert_nonnull (spp_tracker_update (t, &f, TRUE, &n, &act, NULL));
  /* Motion only: no boxes, no error, but the motion is measured. */
  f = crop (a, 140, 100);
  g_assert_null (spp_tracker_update (t, &f, FALSE, &n, &act, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (n, ==, 0);
  float dx, dy;
  spp_tracker_get_motion (t, &dx, &dy);
  g_assert_cmpfloat_with_epsilon (dx, 10.0f, 1.0f);
  g_assert_cmpfloat_with_epsilon (dy, 0.0f, 1.0f);

  /* Keep panning 10 px a frame: boxes drift out of the frame until more
   * than 30% are gone, which forces a recompute long before the
   * interval. */
  int shifted = 0, recomputed_at = -1;
  for (int i = 2; i <= 15 && recomputed_at < 0; i++) {
    f = crop (a, 150 - 10 * i, 100);
    g_assert_nonnull (spp_tracker_update (t, &f, TRUE, &n, &act, NULL));
    if (act == SPP_TRACKER_SHIFTED)
      shifted++;
    else if (act == SPP_TRACKER_RECOMPUTED)
      recomputed_at = i;
  }
  g_assert_cmpint (shifted, >=, 1);
  g_assert_cmpint (recomputed_at, >, 2);

  /* A bad frame fails cleanly and leaves the tracker usable. */
  SppImage bad = f;
  bad.planes[0] = NULL;
  g_assert_null (spp_tracker_update (t, &bad, TRUE, &n, &act, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);
  g_assert_nonnull (spp_tracker_update (t, &f, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_TRACKER_REUSED);
  spp_tracker_free (t);
  g_free (a);
}

static void
test_tiny_frames (void)
{
  guint8 px[3 * 8] = { 0 };
  SppProposalParams p;
  params (&p);
  SppTracker *t = spp_tracker_new (&p, 2);
  SppImage one = { SPP_PIXEL_RGB, 1, 1, { px }, { 3 } };
  SppImage row = { SPP_PIXEL_RGB, 8, 1, { px }, { 24 } };
  guint n = 5;
  SppTrackerAction act;
  for (int i = 0; i < 3; i++) {
    g_assert_nonnull (spp_tracker_update (t, &one, TRUE, &n, &act, NULL));
    g_assert_cmpuint (n, ==, 0);
  }
  g_assert_nonnull (spp_tracker_update (t, &row, TRUE, &n, &act, NULL));
  spp_tracker_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tracker/shift", test_shift);
  g_test_add_func ("/tracker/cut", test_cut);
  g_test_add_func ("/tracker/interval", test_interval);
  g_test_add_func ("/tracker/motion-only-and-leaving",
                   test_motion_only_and_leaving);
  g_test_add_func ("/tracker/tiny-frames", test_tiny_frames);
  return g_test_run ();
}
