/* The evaluator (src/train/eval.c) against AP values worked out by hand. */
#include "spp/eval.h"

#include <math.h>

#define B(x, y, w, h) (&(SppBox) { x, y, w, h })

/* Image 0: GT A = (0,0,10,10), B = (20,20,10,10); image 1: GT C =
 * (0,0,10,10). Five detections, best first:
 *   d1 0.9 image 0 (0,0,10,10)    IoU 1 with A                -> TP
 *   d2 0.8 image 0 (0,0,10,10)    A taken, IoU 0 with B       -> FP
 *   d3 0.7 image 1 (1,0,10,10)    IoU 90/110 = 0.818 with C   -> TP
 *   d4 0.6 image 0 (50,50,10,10)  no overlap                  -> FP
 *   d5 0.5 image 0 (20,20,10,10)  IoU 1 with B                -> TP
 * (added out of order, so the sort is exercised). */
static SppEvaluator *
make_case (void)
{
  SppEvaluator *e = spp_evaluator_new (1);
  spp_evaluator_add_ground_truth (e, 0, 0, B (0, 0, 10, 10));
  spp_evaluator_add_ground_truth (e, 1, 0, B (0, 0, 10, 10));
  spp_evaluator_add_ground_truth (e, 0, 0, B (20, 20, 10, 10));
  spp_evaluator_add_detection (e, 0, 0, B (50, 50, 10, 10), 0.6f);
  spp_evaluator_add_detection (e, 0, 0, B (0, 0, 10, 10), 0.9f);
  spp_evaluator_add_detection (e, 0, 0, B (20, 20, 10, 10), 0.5f);
  spp_evaluator_add_detection (e, 1, 0, B (1, 0, 10, 10), 0.7f);
  spp_evaluator_add_detection (e, 0, 0, B (0, 0, 10, 10), 0.8f);
  return e;
}

static void
test_ap_hand (void)
{
  g_autoptr (SppEvaluator) e = make_case ();
  g_assert_cmpuint (spp_evaluator_get_n_ground_truth (e, 0), ==, 3);
  /* Precision / recall after each detection:
   *   1/1 1/3, 1/2 1/3, 2/3 2/3, 2/4 2/3, 3/5 3/3.
   * Envelope from the right: 1, 2/3, 2/3, 3/5, 3/5.
   * AP = 1/3 * 1 + 1/3 * 2/3 + 1/3 * 3/5 = 15/45 + 10/45 + 9/45 = 34/45. */
  g_assert_cmpfloat_with_epsilon (spp_evaluator_average_precision (e, 0, 0.5f),
                                  34.0 / 45.0, 1e-9);
  /* At IoU 0.85 d3 (0.818) becomes a false positive: TPs are d1, d5.
   *   P/R: 1 1/3, 1/2 1/3, 1/3 1/3, 1/4 1/3, 2/5 2/3.
   *   Envelope: 1, 1/2, 2/5, 2/5, 2/5.
   * AP = 1/3 * 1 + 1/3 * 2/5 = 7/15. */
  g_assert_cmpfloat_with_epsilon (spp_evaluator_average_precision (e, 0, 0.85f),
                                  7.0 / 15.0, 1e-9);
  /* Repeatable: matching again gives the same. */
  g_assert_cmpfloat_with_epsilon (spp_evaluator_average_precision (e, 0, 0.5f),
                                  34.0 / 45.0, 1e-9);
  /* mAP@[.5:.95]: d3 is a TP at 0.50 ... 0.80 (7 thresholds, AP 34/45)
   * and a FP at 0.85, 0.90, 0.95 (AP 7/15); d1 and d5 are exact. */
  g_assert_cmpfloat_with_epsilon (spp_evaluator_mean_ap_coco (e),
                                  (7 * 34.0 / 45.0 + 3 * 7.0 / 15.0) / 10.0,
                                  1e-9);
}

/* A dip in precision before the last true positives: TP, FP, FP, TP,
 * TP on 3 boxes. P/R: 1 1/3, 1/2 1/3, 1/3 1/3, 2/4 2/3, 3/5 3/3; the
 * envelope from the right lifts 2/4 at recall 2/3 to 3/5, so AP = 1/3 *
 * 1 + 1/3 * 3/5 + 1/3 * 3/5 = 11/15 (0.7 without it). */
static void
test_ap_envelope (void)
{
  g_autoptr (SppEvaluator) e = spp_evaluator_new (1);
  for (int i = 0; i < 3; i++)
    spp_evaluator_add_ground_truth (e, 0, 0, B (20 * i, 0, 10, 10));
  spp_evaluator_add_detection (e, 0, 0, B (0, 0, 10, 10), 0.9f);
  spp_evaluator_add_detection (e, 0, 0, B (100, 100, 10, 10), 0.8f);
  spp_evaluator_add_detection (e, 0, 0, B (200, 200, 10, 10), 0.7f);
  spp_evaluator_add_detection (e, 0, 0, B (20, 0, 10, 10), 0.6f);
  spp_evaluator_add_detection (e, 0, 0, B (40, 0, 10, 10), 0.5f);
  g_assert_cmpfloat_with_epsilon (spp_evaluator_average_precision (e, 0, 0.5f),
                                  11.0 / 15.0, 1e-9);
}

static void
test_best_f1 (void)
{
  g_autoptr (SppEvaluator) e = make_case ();
  float thr;
  double p, r;
  /* Cut-offs: after d1 P 1 R 1/3 -> F1 1/2; d2 1/2 1/3 -> 2/5;
   * d3 2/3 2/3 -> 2/3; d4 1/2 2/3 -> 4/7; d5 3/5 1 -> 3/4 (the best,
   * at confidence 0.5). */
  double f1 = spp_evaluator_best_f1 (e, 0, 0.5f, &thr, &p, &r);
  g_assert_cmpfloat_with_epsilon (f1, 0.75, 1e-9);
  g_assert_cmpfloat (thr, ==, 0.5f);
  g_assert_cmpfloat_with_epsilon (p, 0.6, 1e-9);
  g_assert_cmpfloat_with_epsilon (r, 1.0, 1e-9);
  /* At IoU 0.85: d1 1/2, d5 at 5 detections P 2/5 R 2/3 -> F1 1/2 too;
   * the first (higher) cut-off wins a tie. */
  f1 = spp_evaluator_best_f1 (e, 0, 0.85f, &thr, NULL, NULL);
  g_assert_cmpfloat_with_epsilon (f1, 0.5, 1e-9);
  g_assert_cmpfloat (thr, ==, 0.9f);
}

/* Two overlapping GT: G1 (0,0,10,10), G2 (2,0,10,10). d1 (2,0,10,10)
 * at 0.9 takes G2 (IoU 1). d2 (1.5,0,10,10) at 0.8 overlaps G2 most
 * (95/105 = 0.905), and G2 is taken: a duplicate, so a false positive,
 * although G1 (85/115 = 0.739) is still free (the VOC devkit's rule).
 * d3 (0,0,10,10) at 0.7 overlaps G1 most (IoU 1, G2 80/120): a TP.
 *   P/R: 1 1/2, 1/2 1/2, 2/3 1; envelope 1, 2/3, 2/3;
 *   AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
 * Matching each detection to the best *unmatched* box instead would
 * give d2 G1 and d3 nothing: AP 1. */
static void
test_duplicate_is_false_positive (void)
{
  g_autoptr (SppEvaluator) e = spp_evaluator_new (1);
  spp_evaluator_add_ground_truth (e, 3, 0, B (0, 0, 10, 10));
  spp_evaluator_add_ground_truth (e, 3, 0, B (2, 0, 10, 10));
  spp_evaluator_add_detection (e, 3, 0, B (2, 0, 10, 10), 0.9f);
  spp_evaluator_add_detection (e, 3, 0, B (1.5f, 0, 10, 10), 0.8f);
  spp_evaluator_add_detection (e, 3, 0, B (0, 0, 10, 10), 0.7f);
  g_assert_cmpfloat_with_epsilon (spp_evaluator_average_precision (e, 0, 0.5f),
                                  5.0 / 6.0, 1e-9);
  /* Best F1: after d1 2/3, d2 1/2, d3 2 * 2 / (3 + 2) = 4/5. */
  float thr;
  g_assert_cmpfloat_with_epsilon (spp_evaluator_best_f1 (e, 0, 0.5f, &thr,
                                                         NULL, NULL),
                                  0.8, 1e-9);
  g_assert_cmpfloat (thr, ==, 0.7f);
}

/* Class 0: one GT and two tied detections, the false positive added
 * first: ties keep insertion order, so P/R = 0 0, 1/2 1 and AP = 1/2.
 * Class 1: GT but no detections: AP 0. Class 2: detections but no GT:
 * NaN, left out of the mean. Detections in image 1 cannot match GT in
 * image 0. */
static void
test_edge_cases (void)
{
  g_autoptr (SppEvaluator) e = spp_evaluator_new (3);
  spp_evaluator_add_ground_truth (e, 0, 0, B (0, 0, 10, 10));
  spp_evaluator_add_detection (e, 1, 0, B (0, 0, 10, 10), 0.7f);
  spp_evaluator_add_detection (e, 0, 0, B (0, 0, 10, 10), 0.7f);
  spp_evaluator_add_ground_truth (e, 0, 1, B (0, 0, 10, 10));
  spp_evaluator_add_detection (e, 0, 2, B (0, 0, 10, 10), 0.9f);
  /* Out of range: ignored. */
  spp_evaluator_add_detection (e, 0, 7, B (0, 0, 10, 10), 0.9f);
  spp_evaluator_add_ground_truth (e, 0, 7, B (0, 0, 10, 10));
  g_assert_cmpfloat_with_epsilon (spp_evaluator_average_precision (e, 0, 0.5f),
                                  0.5, 1e-9);
  g_assert_cmpfloat (spp_evaluator_average_precision (e, 1, 0.5f), ==, 0.0);
  g_assert_true (isnan (spp_evaluator_average_precision (e, 2, 0.5f)));
  g_assert_true (isnan (spp_evaluator_average_precision (e, 9, 0.5f)));
  g_assert_cmpfloat_with_epsilon (spp_evaluator_mean_ap (e, 0.5f), 0.25,
                                  1e-9);
  float thr;
  g_assert_cmpfloat (spp_evaluator_best_f1 (e, 1, 0.5f, &thr, NULL, NULL),
                     ==, 0.0);
  g_assert_true (isinf (thr));
  g_assert_true (isnan (spp_evaluator_best_f1 (e, 2, 0.5f, NULL, NULL, NULL)));

  /* No classes with GT at all. */
  g_autoptr (SppEvaluator) empty = spp_evaluator_new (2);
  g_assert_true (isnan (spp_evaluator_mean_ap (empty, 0.5f)));
  /* A NaN confidence ranks last instead of breaking the sort. */
  g_autoptr (SppEvaluator) e2 = spp_evaluator_new (1);
  spp_evaluator_add_ground_truth (e2, 0, 0, B (0, 0, 10, 10));
  spp_evaluator_add_detection (e2, 0, 0, B (0, 0, 10, 10), NAN);
  spp_evaluator_add_detection (e2, 0, 0, B (30, 0, 10, 10), 0.1f);
  /* Order: FP (0.1), then TP (NaN): AP = 1 * 1/2. */
  g_assert_cmpfloat_with_epsilon (spp_evaluator_average_precision (e2, 0,
                                                                   0.5f),
                                  0.5, 1e-9);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/eval/ap-hand", test_ap_hand);
  g_test_add_func ("/eval/ap-envelope", test_ap_envelope);
  g_test_add_func ("/eval/best-f1", test_best_f1);
  g_test_add_func ("/eval/duplicate-is-false-positive",
                   test_duplicate_is_false_positive);
  g_test_add_func ("/eval/edge-cases", test_edge_cases);
  return g_test_run ();
}
