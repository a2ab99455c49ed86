/* Selective search: similarities, merge order, ranking and determinism. */
#include <string.h>
#include "spp/error.h"
#include "spp/proposals.h"
#include "selsearch-private.h"

static void
test_similarities (void)
{
  /* Intersection: min(.5,.25) + min(.5,.25) + min(0,.5) = 0.5 */
  const float a[3] = { 0.5f, 0.5f, 0.0f }, b[3] = { 0.25f, 0.25f, 0.5f };
  g_assert_cmpfloat_with_epsilon (spp_ss_sim_hist (a, b, 3), 0.5f, 1e-6);
  g_assert_cmpfloat_with_epsilon (spp_ss_sim_hist (a, a, 3), 1.0f, 1e-6);
  /* Size: 1 - (10 + 20) / 100 */
  g_assert_cmpfloat_with_epsilon (spp_ss_sim_size (10, 20, 100), 0.7f, 1e-6);
  /* Fill: boxes 0..1 and 3..4 squared; the union box is 5x5 = 25, so
   * 1 - (25 - 4 - 4) / 100 = 0.83. */
  const int ba[4] = { 0, 0, 1, 1 }, bb[4] = { 3, 3, 4, 4 };
  g_assert_cmpfloat_with_epsilon (spp_ss_sim_fill (4, ba, 4, bb, 100), 0.83f,
                                  1e-6);
  /* Touching regions that fill their box: fill similarity 1. */
  const int bc[4] = { 2, 0, 3, 1 };
  g_assert_cmpfloat_with_epsilon (spp_ss_sim_fill (4, ba, 4, bc, 100), 1.0f,
                                  1e-6);
}

static void
test_merge_order_size (void)
{
  /* 8x1, regions 0 0 1 2 2 2 2 3 (sizes 2, 1, 4, 1), size only:
   * s(0,1) = 1 - 3/8 = .625, s(1,2) = s(2,3) = 1 - 5/8 = .375.
   * Merge 0+1 -> 4 (size 3); then s(4,2) = 1 - 7/8 < s(2,3): 2+3 -> 5;
   * then 4+5 -> 6. */
  const int labels[8] = { 0, 0, 1, 2, 2, 2, 2, 3 };
  guint8 cbin[8] = { 0 }, tbin[8 * 8] = { 0 };
  SppSsFeatures f = { 8, 1, 1, cbin, tbin };
  int boxes[7 * 4], merges[3 * 2];
  float sims[3];
  int n = spp_ss_group (&f, labels, 4, SPP_SS_SIZE, boxes, merges, sims);
  g_assert_cmpint (n, ==, 7);
  const int em[6] = { 0, 1, 2, 3, 4, 5 };
  g_assert_cmpmem (merges, sizeof merges, em, sizeof em);
  g_assert_cmpfloat_with_epsilon (sims[0], 0.625f, 1e-6);
  g_assert_cmpfloat_with_epsilon (sims[1], 0.375f, 1e-6);
  g_assert_cmpfloat_with_epsilon (sims[2], 0.0f, 1e-6);
  const int eb[7 * 4] = { 0, 0, 1, 0,  2, 0, 2, 0,  3, 0, 6, 0,  7, 0, 7, 0,
                          0, 0, 2, 0,  3, 0, 7, 0,  0, 0, 7, 0 };
  g_assert_cmpmem (boxes, sizeof boxes, eb, sizeof eb);
}

static void
test_merge_colour_weighted (void)
{
  /* 5x1, regions 0 0 1 2 3 with colour bins 0 3 | 0 | 3 | 3 (one
   * channel, colour only). Histograms: r0 = {b0 .5, b3 .5}, r1 = {b0 1},
   * r2 = r3 = {b3 1}. s(2,3) = 1 first -> 4; then s(0,1) = .5 -> 5, whose
   * size-weighted histogram is {b0 (2 * .5 + 1) / 3, b3 1 / 3}; so the
   * last merge s(5,4) = 1/3 (an unweighted mean would give .25). */
  const int labels[5] = { 0, 0, 1, 2, 3 };
  guint8 cbin[5] = { 0, 3, 0, 3, 3 }, tbin[5 * 8] = { 0 };
  SppSsFeatures f = { 5, 1, 1, cbin, tbin };
  int boxes[7 * 4], merges[3 * 2];
  float sims[3];
  int n = spp_ss_group (&f, labels, 4, SPP_SS_COLOUR, boxes, merges, sims);
  g_assert_cmpint (n, ==, 7);
  const int em[6] = { 2, 3, 0, 1, 4, 5 };
  g_assert_cmpmem (merges, sizeof merges, em, sizeof em);
  g_assert_cmpfloat_with_epsilon (sims[0], 1.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (sims[1], 0.5f, 1e-6);
  g_assert_cmpfloat_with_epsilon (sims[2], 1.0f / 3, 1e-6);
}

static void
test_merge_texture (void)
{
  /* 3x1, one region per pixel, texture only: all 8 orientation bins of
   * pixels 0 and 1 agree except one, pixel 2 differs in all. The
   * intersection of 8-entry histograms (1/8 each) is 7/8 for 0-1 and 0
   * for 1-2 (bins 1 vs 0 everywhere). */
  const int labels[3] = { 0, 1, 2 };
  guint8 cbin[3] = { 0 };
  guint8 tbin[3 * 8] = { 0, 0, 0, 0, 0, 0, 0, 0,
                         0, 0, 0, 0, 0, 0, 0, 5,
                         1, 1, 1, 1, 1, 1, 1, 1 };
  SppSsFeatures f = { 3, 1, 1, cbin, tbin };
  int boxes[5 * 4], merges[2 * 2];
  float sims[2];
  spp_ss_group (&f, labels, 3, SPP_SS_TEXTURE, boxes, merges, sims);
  g_assert_cmpint (merges[0], ==, 0);
  g_assert_cmpint (merges[1], ==, 1);
  g_assert_cmpfloat_with_epsilon (sims[0], 7.0f / 8, 1e-6);
  g_assert_cmpfloat_with_epsilon (sims[1], 0.0f, 1e-6);
}

/* 160x120 RGB: a noisy grey gradient with three flat rectangles. */
static const int rects[3][4] = {
  { 20, 15, 40, 30 }, { 90, 30, 50, 60 }, { 25, 70, 35, 35 },
};

static guint8 *
make_scene (int w, int h)
{
  static const guint8 col[3][3] = { { 220, 30, 30 }, { 30, 40, 200 },
                                    { 40, 190, 60 } };
  guint8 *p = g_new (guint8, w * h * 3);
  GRand *r = g_rand_new_with_seed (3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 *q = p + (y * w + x) * 3;
      int v = 100 + x / 4 + g_rand_int_range (r, -6, 7);
      q[0] = q[1] = q[2] = (guint8) v;
      for (int i = 0; i < 3; i++)
        if (x >= rects[i][0] && x < rects[i][0] + rects[i][2]
            && y >= rects[i][1] && y < rects[i][1] + rects[i][3])
          memcpy (q, col[i], 3);
    }
  g_rand_free (r);
  return p;
}

static void
test_finds_objects (void)
{
  int w = 160, h = 120;
  guint8 *px = make_scene (w, h);
  SppImage img = { SPP_PIXEL_RGB, w, h, { px }, { w * 3 } };
  SppProposalParams p;
  spp_proposal_params_init (&p);
  p.n_threads = 1;
  guint n = 0;
  GError *err = NULL;
  SppBox *b = spp_proposals_compute (&img, &p, &n, &err);
  g_assert_no_error (err);
  g_assert_nonnull (b);
  g_assert_cmpuint (n, >, 3);
  g_assert_cmpuint (n, <=, p.max_boxes);
  for (int i = 0; i < 3; i++) {
    SppBox gt = { rects[i][0], rects[i][1], rects[i][2], rects[i][3] };
    float best = 0;
    for (guint j = 0; j < n; j++)
      best = MAX (best, spp_box_iou (&gt, &b[j]));
    g_assert_cmpfloat (best, >, 0.95f);
  }
  for (guint j = 0; j < n; j++) {
    g_assert_cmpfloat (b[j].x, >=, 0);
    g_assert_cmpfloat (b[j].y, >=, 0);
    g_assert_cmpfloat (b[j].x + b[j].w, <=, w);
    g_assert_cmpfloat (b[j].y + b[j].h, <=, h);
    g_assert_cmpfloat (b[j].w, >=, p.min_size);
    g_assert_cmpfloat (b[j].h, >=, p.min_size);
    for (guint k = 0; k < j; k++)
      g_assert_false (memcmp (&b[j], &b[k], sizeof (SppBox)) == 0);
  }
  g_free (b);

  /* max_boxes keeps the best-ranked prefix. */
  guint n2 = 0;
  p.max_boxes = 5;
  SppBox *b2 = spp_proposals_compute (&img, &p, &n2, NULL);
  g_assert_cmpuint (n2, ==, 5);
  p.max_boxes = 2000;
  SppBox *b3 = spp_proposals_compute (&img, &p, &n, NULL);
  g_assert_cmpmem (b2, 5 * sizeof (SppBox), b3, 5 * sizeof (SppBox));
  g_free (b3);
  g_free (b2);

  /* Working-size mapping: at work_size 80 the image is halved, boxes come
   * back in original pixels and still find the rectangles. */
  p.work_size = 80;
  p.min_size = 10;
  b = spp_proposals_compute (&img, &p, &n, NULL);
  for (int i = 0; i < 3; i++) {
    SppBox gt = { rects[i][0], rects[i][1], rects[i][2], rects[i][3] };
    float best = 0;
    for (guint j = 0; j < n; j++)
      best = MAX (best, spp_box_iou (&gt, &b[j]));
    g_assert_cmpfloat (best, >, 0.85f);
  }
  g_free (b);
  g_free (px);
}

static void
test_deterministic (void)
{
  int w = 160, h = 120;
  guint8 *px = make_scene (w, h);
  SppImage img = { SPP_PIXEL_RGB, w, h, { px }, { w * 3 } };
  SppProposalParams p;
  spp_proposal_params_init (&p);
  p.seed = 1234;
  SppBox *ref = NULL;
  guint nref = 0;
  for (guint t = 1; t <= 4; t++) {
    p.n_threads = t;
    guint n = 0;
    SppBox *b = spp_proposals_compute (&img, &p, &n, NULL);
    if (ref == NULL) {
      ref = b;
      nref = n;
      continue;
    }
    g_assert_cmpuint (n, ==, nref);
    g_assert_cmpmem (b, n * sizeof (SppBox), ref, nref * sizeof (SppBox));
    g_free (b);
  }
  /* Another seed ranks differently (same set before the cut, though). */
  p.seed = 99;
  guint n = 0;
  SppBox *b = spp_proposals_compute (&img, &p, &n, NULL);
  g_assert_cmpuint (n, ==, nref);
  g_assert_false (memcmp (b, ref, n * sizeof (SppBox)) == 0);
  g_free (b);
  g_free (ref);
  g_free (px);
}

static void
test_modes (void)
{
  int w = 160, h = 120;
  guint8 *px = make_scene (w, h);
  SppImage img = { SPP_PIXEL_RGB, w, h, { px }, { w * 3 } };
  SppProposalParams p;
  spp_proposal_params_init (&p);
  p.max_boxes = 100000;
  guint ns = 0, nf = 0, nq = 0;
  p.mode = SPP_PROPOSAL_SINGLE;
  g_free (spp_proposals_compute (&img, &p, &ns, NULL));
  p.mode = SPP_PROPOSAL_FAST;
  g_free (spp_proposals_compute (&img, &p, &nf, NULL));
  p.mode = SPP_PROPOSAL_QUALITY;
  g_free (spp_proposals_compute (&img, &p, &nq, NULL));
  /* More hierarchies, more distinct boxes. */
  g_assert_cmpuint (ns, >, 0);
  g_assert_cmpuint (nf, >, ns);
  g_assert_cmpuint (nq, >, nf);
  g_free (px);
}

static void
test_degenerate (void)
{
  SppProposalParams p;
  spp_proposal_params_init (&p);
  guint8 px[3 * 64] = { 0 };
  guint n = 7;
  GError *err = NULL;

  SppImage empty = { SPP_PIXEL_RGB, 0, 0, { NULL }, { 0 } };
  SppBox *b = spp_proposals_compute (&empty, &p, &n, &err);
  g_assert_no_error (err);
  g_assert_nonnull (b);
  g_assert_cmpuint (n, ==, 0);
  g_free (b);

  SppImage one = { SPP_PIXEL_RGB, 1, 1, { px }, { 3 } };
  b = spp_proposals_compute (&one, &p, &n, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (n, ==, 0); /* smaller than min_size */
  g_free (b);

  SppImage row = { SPP_PIXEL_RGB, 64, 1, { px }, { 64 * 3 } };
  b = spp_proposals_compute (&row, &p, &n, &err);
  g_assert_no_error (err);
  g_free (b);
  p.min_size = 1;
  SppImage col = { SPP_PIXEL_GRAY8, 1, 64, { px }, { 1 } };
  b = spp_proposals_compute (&col, &p, &n, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (n, >=, 1); /* at least the whole column */
  g_free (b);

  SppImage bad = { SPP_PIXEL_RGB, 4, 4, { NULL }, { 12 } };
  g_assert_null (spp_proposals_compute (&bad, &p, &n, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);

  p.max_boxes = 0;
  g_assert_null (spp_proposals_compute (&one, &p, &n, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (err->message, "max_boxes"));
  g_clear_error (&err);
  spp_proposal_params_init (&p);
  p.work_size = 0;
  g_assert_null (spp_proposals_compute (&one, &p, &n, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);
  spp_proposal_params_init (&p);
  p.mode = (SppProposalMode) 9;
  g_assert_null (spp_proposals_compute (&one, &p, &n, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);
}

static void
test_mode_from_string (void)
{
  SppProposalMode m = SPP_PROPOSAL_SINGLE;
  g_autoptr (GError) error = NULL;
  g_assert_true (spp_proposal_mode_from_string (NULL, &m, NULL));
  g_assert_cmpint (m, ==, SPP_PROPOSAL_FAST);
  g_assert_true (spp_proposal_mode_from_string ("quality", &m, NULL));
  g_assert_cmpint (m, ==, SPP_PROPOSAL_QUALITY);
  g_assert_true (spp_proposal_mode_from_string ("single", &m, NULL));
  g_assert_cmpint (m, ==, SPP_PROPOSAL_SINGLE);
  g_assert_false (spp_proposal_mode_from_string ("Fast", &m, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "'Fast'"));
  g_assert_cmpint (m, ==, SPP_PROPOSAL_SINGLE); /* untouched */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/selsearch/similarities", test_similarities);
  g_test_add_func ("/selsearch/merge-order-size", test_merge_order_size);
  g_test_add_func ("/selsearch/merge-colour-weighted",
                   test_merge_colour_weighted);
  g_test_add_func ("/selsearch/merge-texture", test_merge_texture);
  g_test_add_func ("/selsearch/finds-objects", test_finds_objects);
  g_test_add_func ("/selsearch/deterministic", test_deterministic);
  g_test_add_func ("/selsearch/modes", test_modes);
  g_test_add_func ("/selsearch/degenerate", test_degenerate);
  g_test_add_func ("/selsearch/mode-from-string", test_mode_from_string);
  return g_test_run ();
}
