/* Felzenszwalb-Huttenlocher segmentation on hand-checkable images. */
#include <string.h>
#include "segment-private.h"

static void
test_step_edge (void)
{
  /* 20x10, left half 50, right half 200 in all channels. Smoothing
   * turns the step into a ramp whose columns are flat (their vertical
   * edges weigh 0) but differ from each other by far more than
   * k / |C| (k = 100, |C| >= 10 -> <= 10), so each ramp column is its
   * own part until the min-size pass (25 > a column's 10 pixels) joins
   * it to the closer half: 2 parts, split at the step. */
  int w = 20, h = 10;
  float *img = g_new (float, w * h * 3);
  int *lab = g_new (int, w * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        img[(y * w + x) * 3 + c] = x < 10 ? 50.0f : 200.0f;
  int n = spp_segment_image (img, w, h, 3, 0.8f, 100.0f, 25, lab);
  g_assert_cmpint (n, ==, 2);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      g_assert_cmpint (lab[y * w + x], ==, x < 10 ? 0 : 1);

  /* With k huge the threshold k/|C| exceeds the step: one part. */
  n = spp_segment_image (img, w, h, 3, 0.8f, 1e6f, 25, lab);
  g_assert_cmpint (n, ==, 1);

  /* min_size above a half's size (100) forces the two to join. */
  n = spp_segment_image (img, w, h, 3, 0.8f, 100.0f, 101, lab);
  g_assert_cmpint (n, ==, 1);
  g_free (lab);
  g_free (img);
}

static void
test_both_thresholds (void)
{
  /* 11x1, no smoothing, k = 40: ten zeros then 30. The zeros join first
   * (weight 0), so their threshold is 0 + 40/10 = 4; the lone pixel's
   * is 40. The 30 edge is <= 40 but > 4, and a merge needs both, so
   * the pixel stays apart: 2 parts. */
  float row[11] = { 0 };
  int lab[11];
  row[10] = 30;
  g_assert_cmpint (spp_segment_image (row, 11, 1, 1, 0.0f, 40, 1, lab), ==,
                   2);
  g_assert_cmpint (lab[9], ==, 0);
  g_assert_cmpint (lab[10], ==, 1);
  /* k = 300: 0 + 300/10 = 30 >= 30, so it joins. */
  g_assert_cmpint (spp_segment_image (row, 11, 1, 1, 0.0f, 300, 1, lab), ==,
                   1);
  /* min_size 2 then folds the lone pixel in. */
  g_assert_cmpint (spp_segment_image (row, 11, 1, 1, 0.0f, 40, 2, lab), ==,
                   1);
  /* 8-connected: in [0 100; 100 0] the zeros touch diagonally (and the
   * hundreds anti-diagonally), so 2 parts, not 4. */
  float diag[4] = { 0, 100, 100, 0 };
  g_assert_cmpint (spp_segment_image (diag, 2, 2, 1, 0.0f, 1, 1, lab), ==,
                   2);
  g_assert_cmpint (lab[0], ==, lab[3]);
  g_assert_cmpint (lab[1], ==, lab[2]);
  /* Edge weights are Euclidean over channels: (3, 4) apart = 5. Two
   * pixels, k = 4.9 -> apart; k = 5 -> together. */
  float two[6] = { 0, 0, 0, 3, 4, 0 };
  g_assert_cmpint (spp_segment_image (two, 2, 1, 3, 0.0f, 4.9f, 1, lab), ==,
                   2);
  g_assert_cmpint (spp_segment_image (two, 2, 1, 3, 0.0f, 5.0f, 1, lab), ==,
                   1);
}

static void
test_noise (void)
{
  int w = 32, h = 32;
  float *img = g_new (float, w * h);
  int *lab = g_new (int, w * h);
  GRand *r = g_rand_new_with_seed (7);
  /* A checkerboard of two noise ranges so that every 8-neighbour pair
   * differs: with no smoothing, k = 0 and min size 1 nothing can merge
   * (a weight > 0 never is <= the 0 threshold), one part per pixel. */
  for (int i = 0; i < w * h; i++) {
    int x = i % w, y = i / w;
    img[i] = (float) g_rand_int_range (r, 0, 100) + ((x + y) % 2 ? 0 : 150);
  }
  int n = spp_segment_image (img, w, h, 1, 0.0f, 0.0f, 1, lab);
  /* Diagonal neighbours share the parity; count any equal pairs. */
  int equal = 0;
  for (int y = 0; y + 1 < h; y++)
    for (int x = 0; x < w; x++) {
      if (x + 1 < w && img[y * w + x] == img[(y + 1) * w + x + 1])
        equal++;
      if (x > 0 && img[y * w + x] == img[(y + 1) * w + x - 1])
        equal++;
    }
  if (equal == 0)
    g_assert_cmpint (n, ==, w * h);
  else
    g_assert_cmpint (n, <=, w * h);

  /* Min-size invariant: every part has >= min_size pixels, labels are
   * 0..n-1 in raster order of first appearance. */
  for (int i = 0; i < w * h; i++)
    img[i] = (float) g_rand_int_range (r, 0, 256);
  n = spp_segment_image (img, w, h, 1, 0.8f, 50.0f, 40, lab);
  g_assert_cmpint (n, >=, 1);
  g_assert_cmpint (n, <=, (w * h) / 40);
  int *count = g_new0 (int, n);
  int next = 0;
  for (int i = 0; i < w * h; i++) {
    g_assert_cmpint (lab[i], >=, 0);
    g_assert_cmpint (lab[i], <=, next);
    if (lab[i] == next)
      next++;
    count[lab[i]]++;
  }
  g_assert_cmpint (next, ==, n);
  for (int i = 0; i < n; i++)
    g_assert_cmpint (count[i], >=, 40);
  g_free (count);
  g_rand_free (r);
  g_free (lab);
  g_free (img);
}

static void
test_tiny (void)
{
  float one[3] = { 1, 2, 3 };
  int lab[16] = { -1 };
  g_assert_cmpint (spp_segment_image (one, 1, 1, 3, 0.8f, 100, 100, lab), ==,
                   1);
  g_assert_cmpint (lab[0], ==, 0);
  g_assert_cmpint (spp_segment_image (one, 0, 1, 3, 0.8f, 100, 100, lab), ==,
                   0);

  /* 1x8 and 8x1 with a step in the middle, no smoothing, k = 1: the
   * flat runs join (weight 0) and the step (200) stays. */
  float row[8] = { 0, 0, 0, 0, 200, 200, 200, 200 };
  g_assert_cmpint (spp_segment_image (row, 8, 1, 1, 0.0f, 1, 1, lab), ==, 2);
  g_assert_cmpint (lab[3], ==, 0);
  g_assert_cmpint (lab[4], ==, 1);
  g_assert_cmpint (spp_segment_image (row, 1, 8, 1, 0.0f, 1, 1, lab), ==, 2);
  /* Smoothing must handle a 1-pixel axis (clamped borders). */
  g_assert_cmpint (spp_segment_image (row, 1, 8, 1, 0.8f, 1, 1, lab), >=, 1);
}

static void
test_smooth (void)
{
  /* A flat image stays flat; an impulse spreads into a normalised
   * kernel symmetric about it. */
  float in[9 * 9], out[9 * 9];
  for (int i = 0; i < 81; i++)
    in[i] = 42.0f;
  spp_segment_smooth (in, 9, 9, 1, 0.8f, out);
  for (int i = 0; i < 81; i++)
    g_assert_cmpfloat_with_epsilon (out[i], 42.0f, 1e-4);
  memset (in, 0, sizeof in);
  in[4 * 9 + 4] = 1.0f;
  spp_segment_smooth (in, 9, 9, 1, 0.8f, out);
  float sum = 0;
  for (int i = 0; i < 81; i++)
    sum += out[i];
  g_assert_cmpfloat_with_epsilon (sum, 1.0f, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[4 * 9 + 3], out[4 * 9 + 5], 1e-7);
  g_assert_cmpfloat_with_epsilon (out[3 * 9 + 4], out[4 * 9 + 3], 1e-7);
  /* Centre weight: (1 / sum_i exp(-i^2 / 1.28))^2 with i = -4..4, i.e.
   * (1 / 2.00532)^2 = 0.24868. */
  g_assert_cmpfloat_with_epsilon (out[4 * 9 + 4], 0.24868f, 2e-4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/segment/step-edge", test_step_edge);
  g_test_add_func ("/segment/both-thresholds", test_both_thresholds);
  g_test_add_func ("/segment/noise", test_noise);
  g_test_add_func ("/segment/tiny", test_tiny);
  g_test_add_func ("/segment/smooth", test_smooth);
  return g_test_run ();
}
