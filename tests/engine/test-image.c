/* Frame validation and RGB conversion/resizing, against hand-computed
 * values. */
#include <string.h>
#include "spp/error.h"
#include "spp/image.h"
#include "spp-engine/image.h"

/* BT.601 limited range, worked out by hand for Y = 16, 235, 128, 81 with
 * U = 90, V = 200: e.g. Y = 128: 1.164383 * 112 = 130.41; R = 130.41 +
 * 1.596027 * 72 = 245.3; G = 130.41 + 0.391762 * 38 - 0.812968 * 72 =
 * 86.8; B = 130.41 - 2.017232 * 38 = 53.7. */
static const guint8 yuv_expect[4][3] = {
  { 115, 0, 0 }, { 255, 211, 178 }, { 245, 87, 54 }, { 191, 32, 0 },
};

static void
check_yuv_2x2 (const guint8 *out)
{
  for (int i = 0; i < 4; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpint (out[(i / 2) * 6 + (i % 2) * 3 + c], ==,
                       yuv_expect[i][c]);
}

static void
test_i420 (void)
{
  guint8 y[4] = { 16, 235, 128, 81 }, u[1] = { 90 }, v[1] = { 200 };
  SppImage img = { SPP_PIXEL_I420, 2, 2, { y, u, v }, { 2, 1, 1 } };
  guint8 out[12];
  g_assert_true (spp_image_resize_rgb (&img, out, 2, 2, 6, NULL));
  check_yuv_2x2 (out);
}

static void
test_nv12 (void)
{
  guint8 y[4] = { 16, 235, 128, 81 }, uv[2] = { 90, 200 };
  SppImage img = { SPP_PIXEL_NV12, 2, 2, { y, uv }, { 2, 2 } };
  guint8 out[12];
  g_assert_true (spp_image_resize_rgb (&img, out, 2, 2, 6, NULL));
  check_yuv_2x2 (out);
}

static void
test_yuy2 (void)
{
  /* Two rows of one Y0 U Y1 V macropixel each. */
  guint8 p[8] = { 16, 90, 235, 200, 128, 90, 81, 200 };
  SppImage img = { SPP_PIXEL_YUY2, 2, 2, { p }, { 4 } };
  guint8 out[12];
  g_assert_true (spp_image_resize_rgb (&img, out, 2, 2, 6, NULL));
  check_yuv_2x2 (out);
}

static void
test_packed_orders (void)
{
  guint8 bgrx[2 * 4] = { 1, 2, 3, 99, 4, 5, 6, 99 };
  guint8 out[6];
  SppImage img = { SPP_PIXEL_BGRX, 2, 1, { bgrx }, { 8 } };
  g_assert_true (spp_image_resize_rgb (&img, out, 2, 1, 6, NULL));
  const guint8 e1[6] = { 3, 2, 1, 6, 5, 4 };
  g_assert_cmpmem (out, 6, e1, 6);

  img.format = SPP_PIXEL_RGBA;
  g_assert_true (spp_image_resize_rgb (&img, out, 2, 1, 6, NULL));
  const guint8 e2[6] = { 1, 2, 3, 4, 5, 6 };
  g_assert_cmpmem (out, 6, e2, 6);

  guint8 gray[2] = { 7, 200 };
  SppImage g = { SPP_PIXEL_GRAY8, 2, 1, { gray }, { 2 } };
  g_assert_true (spp_image_resize_rgb (&g, out, 2, 1, 6, NULL));
  const guint8 e3[6] = { 7, 7, 7, 200, 200, 200 };
  g_assert_cmpmem (out, 6, e3, 6);

  guint8 bgr[6] = { 10, 20, 30, 40, 50, 60 };
  SppImage b = { SPP_PIXEL_BGR, 2, 1, { bgr }, { 6 } };
  g_assert_true (spp_image_resize_rgb (&b, out, 2, 1, 6, NULL));
  const guint8 e4[6] = { 30, 20, 10, 60, 50, 40 };
  g_assert_cmpmem (out, 6, e4, 6);
}

static void
test_area_shrink (void)
{
  /* 4x4 grey with a padded stride (6): each 2x2 block's mean. */
  guint8 p[4 * 6];
  const guint8 v[16] = { 0, 10, 100, 110,
                         20, 30, 120, 130,
                         200, 200, 1, 2,
                         200, 201, 3, 4 };
  memset (p, 0xEE, sizeof p);
  for (int y = 0; y < 4; y++)
    memcpy (p + y * 6, v + y * 4, 4);
  SppImage img = { SPP_PIXEL_GRAY8, 4, 4, { p }, { 6 } };
  guint8 out[2 * 2 * 3];
  g_assert_true (spp_image_resize_rgb (&img, out, 2, 2, 6, NULL));
  /* (0+10+20+30)/4 = 15, (100+110+120+130)/4 = 115,
   * (200+200+200+201)/4 = 200.25, (1+2+3+4)/4 = 2.5 -> 3 (round half up) */
  const int e[4] = { 15, 115, 200, 3 };
  for (int i = 0; i < 4; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpint (out[i * 3 + c], ==, e[i]);

  /* 3 -> 2 area: output pixel 0 covers [0, 1.5): (a + b / 2) / 1.5. */
  guint8 q[3] = { 0, 90, 180 };
  SppImage r = { SPP_PIXEL_GRAY8, 3, 1, { q }, { 3 } };
  guint8 o2[6];
  g_assert_true (spp_image_resize_rgb (&r, o2, 2, 1, 6, NULL));
  g_assert_cmpint (o2[0], ==, 30);  /* (0 + 45) / 1.5 */
  g_assert_cmpint (o2[3], ==, 150); /* (45 + 180) / 1.5 */
}

static void
test_bilinear_enlarge (void)
{
  /* 2 -> 4: centres at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped). */
  guint8 q[2] = { 0, 100 };
  SppImage r = { SPP_PIXEL_GRAY8, 2, 1, { q }, { 2 } };
  guint8 o[4 * 3 * 2];
  g_assert_true (spp_image_resize_rgb (&r, o, 4, 2, 12, NULL));
  const int e[4] = { 0, 25, 75, 100 };
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 4; x++)
      g_assert_cmpint (o[y * 12 + x * 3], ==, e[x]);
}

static void
test_validate (void)
{
  guint8 buf[64] = { 0 };
  GError *err = NULL;
  SppImage img = { SPP_PIXEL_RGB, 4, 2, { buf }, { 12 } };
  g_assert_true (spp_image_validate (&img, NULL));

  img.strides[0] = 11;
  g_assert_false (spp_image_validate (&img, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (err->message, "stride"));
  g_clear_error (&err);

  img.strides[0] = 12;
  img.width = 0;
  g_assert_false (spp_image_validate (&img, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);

  SppImage i420 = { SPP_PIXEL_I420, 3, 3, { buf, buf, NULL }, { 3, 2, 2 } };
  g_assert_false (spp_image_validate (&i420, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (err->message, "plane 2"));
  g_clear_error (&err);
  i420.planes[2] = buf;
  i420.strides[1] = 1; /* chroma of a 3-wide frame is 2 wide */
  g_assert_false (spp_image_validate (&i420, &err));
  g_clear_error (&err);

  img.width = 4;
  img.format = (SppPixelFormat) 42;
  g_assert_false (spp_image_validate (&img, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);

  img.format = SPP_PIXEL_RGB;
  guint8 out[3];
  g_assert_false (spp_image_resize_rgb (&img, out, 1, 1, 2, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);
}

static void
test_odd_sizes (void)
{
  /* Odd-sized I420 (chroma rounds up) and large ratios in both
   * directions must stay in bounds (ASan checks) and give flat output
   * for a flat input. */
  guint8 y[5 * 3], u[3 * 2], v[3 * 2];
  memset (y, 126, sizeof y);
  memset (u, 128, sizeof u);
  memset (v, 128, sizeof v);
  SppImage img = { SPP_PIXEL_I420, 5, 3, { y, u, v }, { 5, 3, 3 } };
  guint8 big[17 * 11 * 3], small[3];
  g_assert_true (spp_image_resize_rgb (&img, big, 17, 11, 17 * 3, NULL));
  g_assert_true (spp_image_resize_rgb (&img, small, 1, 1, 3, NULL));
  /* 1.164383 * 110 = 128.08 */
  for (gsize i = 0; i < sizeof big; i++)
    g_assert_cmpint (big[i], ==, 128);
  g_assert_cmpint (small[0], ==, 128);
}

/* Bands resized separately (as the detector does on several threads)
 * must give the whole call's bytes: each band restarts the ring of
 * horizontally resampled rows at an arbitrary source row. */
static void
test_bands (void)
{
  enum { SW = 37, SH = 23 };
  guint8 px[SW * SH * 3];
  guint32 r = 12345;
  for (gsize i = 0; i < sizeof px; i++) {
    r = r * 1103515245u + 12345u;
    px[i] = (guint8) (r >> 16);
  }
  SppImage img = { SPP_PIXEL_RGB, SW, SH, { px }, { SW * 3 } };
  const int sizes[][2] = { { 19, 11 }, { 53, 31 }, { 37, 7 }, { 5, 40 } };
  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++) {
    int w = sizes[k][0], h = sizes[k][1];
    g_autofree guint8 *whole = g_malloc ((gsize) w * h * 3);
    g_autofree guint8 *bands = g_malloc ((gsize) w * h * 3);
    g_assert_true (spp_image_resize_rgb (&img, whole, w, h, w * 3, NULL));
    for (int split = 1; split < h; split += 3) {
      memset (bands, 0xAA, (gsize) w * h * 3);
      g_assert_true (spp_image_resize_rgb_rows (&img, bands, w, h, w * 3, 0,
                                                split, NULL));
      g_assert_true (spp_image_resize_rgb_rows (&img, bands, w, h, w * 3,
                                                split, h, NULL));
      g_assert_cmpmem (bands, (gsize) w * h * 3, whole, (gsize) w * h * 3);
    }
  }
  GError *err = NULL;
  guint8 out[3 * 4 * 3];
  g_assert_false (spp_image_resize_rgb_rows (&img, out, 3, 4, 9, 2, 5, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/i420", test_i420);
  g_test_add_func ("/image/nv12", test_nv12);
  g_test_add_func ("/image/yuy2", test_yuy2);
  g_test_add_func ("/image/packed-orders", test_packed_orders);
  g_test_add_func ("/image/area-shrink", test_area_shrink);
  g_test_add_func ("/image/bilinear-enlarge", test_bilinear_enlarge);
  g_test_add_func ("/image/validate", test_validate);
  g_test_add_func ("/image/odd-sizes", test_odd_sizes);
  g_test_add_func ("/image/bands", test_bands);
  return g_test_run ();
}
