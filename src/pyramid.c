/* Spatial pyramid pooling (SPEC section 1, paper Appendix A). */
#include "pyramid-private.h"

#include <float.h>
#include <math.h>
#include <string.h>

guint
spp_pyramid_get_n_bins (const guint *levels, guint n_levels)
{
  guint n = 0;
  for (guint i = 0; i < n_levels; i++)
    n += levels[i] * levels[i];
  return n;
}

void
spp_pyramid_bin_range (int extent, int n, int i, int *start, int *end)
{
  /* floor(i*e/n) and ceil((i+1)*e/n): exactly n bins, each non-empty. */
  *start = (int) (((gint64) i * extent) / n);
  *end = (int) (((gint64) (i + 1) * extent + n - 1) / n);
}

static int
clampi (int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

void
spp_pyramid_project_box (const SppBox *box, guint stride, float offset,
                         int map_w, int map_h, int cells[4])
{
  const double s = stride;
  /* First and last covered pixels; Appendix A's corner formula. */
  double l = box->x + offset, t = box->y + offset;
  double r = box->x + box->w - 1 + offset, b = box->y + box->h - 1 + offset;
  double v[4] = { floor (l / s) + 1, floor (t / s) + 1, ceil (r / s) - 1,
                  ceil (b / s) - 1 };
  int c[4];
  for (int i = 0; i < 4; i++) {
    /* Boxes far outside (or NaN) must still give an in-map window. */
    double x = isfinite (v[i]) ? CLAMP (v[i], -1e6, 1e6) : 0;
    c[i] = (int) x;
  }
  /* A window smaller than a cell collapses: take the integer mean of its
   * ends, as the released spm_pool code does. */
  if (c[0] > c[2])
    c[0] = c[2] = (int) floor ((c[0] + c[2]) / 2.0);
  if (c[1] > c[3])
    c[1] = c[3] = (int) floor ((c[1] + c[3]) / 2.0);
  cells[0] = clampi (c[0], 0, map_w - 1);
  cells[1] = clampi (c[1], 0, map_h - 1);
  cells[2] = clampi (c[2], 0, map_w - 1);
  cells[3] = clampi (c[3], 0, map_h - 1);
}

gboolean
spp_pyramid_to_hwc (const SppTensor *map, SppTensor *hwc, GError **error)
{
  const int c = map->c, h = map->h, w = map->w;
  if (!spp_tensor_reshape (hwc, 1, h, w, c, error))
    return FALSE;
  const gsize plane = (gsize) h * w;
  for (int ch = 0; ch < c; ch++) {
    const float *src = map->data + ch * plane;
    for (gsize p = 0; p < plane; p++)
      hwc->data[p * c + ch] = src[p];
  }
  return TRUE;
}

static guint
finest_level (const guint *levels, guint n_levels)
{
  guint f = 0;
  for (guint i = 0; i < n_levels; i++)
    f = MAX (f, levels[i]);
  return f;
}

gsize
spp_pyramid_scratch_size (int c, const guint *levels, guint n_levels)
{
  guint f = finest_level (levels, n_levels);
  return (gsize) c * f * f;
}

/* dst[c] = max over the cells [y0,y1) x [x0,x1) of an HWC map. */
static void
max_region (const float *hwc, int c, int w, int x0, int y0, int x1, int y1,
            float *dst)
{
  const float *first = hwc + ((gsize) y0 * w + x0) * c;
  memcpy (dst, first, c * sizeof (float));
  for (int y = y0; y < y1; y++)
    for (int x = (y == y0 ? x0 + 1 : x0); x < x1; x++) {
      const float *p = hwc + ((gsize) y * w + x) * c;
      for (int k = 0; k < c; k++)
        dst[k] = p[k] > dst[k] ? p[k] : dst[k];
    }
}

static void
store_bin (const float *v, int c, int n, int bin, gboolean channel_major,
           float *level_out)
{
  if (channel_major) {
    for (int k = 0; k < c; k++)
      level_out[(gsize) k * n * n + bin] = v[k];
  } else {
    memcpy (level_out + (gsize) bin * c, v, c * sizeof (float));
  }
}

void
spp_pyramid_pool_hwc (const float *hwc, int c, int h, int w,
                      const guint *levels, guint n_levels, const int cells[4],
                      gboolean channel_major, float *scratch, float *out)
{
  const int wx = cells[0], wy = cells[1];
  const int ww = cells[2] - cells[0] + 1, wh = cells[3] - cells[1] + 1;
  const int f = (int) finest_level (levels, n_levels);
  float *fine = scratch; /* f*f bins x c, the finest level's maxima */
  float tmp[4096];
  float *acc = c <= 4096 ? tmp : NULL;

  for (int j = 0; j < f; j++) {
    int y0, y1;
    spp_pyramid_bin_range (wh, f, j, &y0, &y1);
    for (int i = 0; i < f; i++) {
      int x0, x1;
      spp_pyramid_bin_range (ww, f, i, &x0, &x1);
      max_region (hwc, c, w, wx + x0, wy + y0, wx + x1, wy + y1,
                  fine + (gsize) (j * f + i) * c);
    }
  }

  gsize off = 0;
  for (guint li = 0; li < n_levels; li++) {
    const int n = levels[li];
    float *level_out = out + off;
    if (f % n == 0 && acc != NULL) {
      /* A coarse bin is exactly the union of k x k fine bins: the union
       * of [floor(ik*e/f), ceil((ik+1)*e/f)) ... equals
       * [floor(i*e/n), ceil((i+1)*e/n)) when f = k*n. */
      const int k = f / n;
      for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
          memcpy (acc, fine + (gsize) (j * k * f + i * k) * c,
                  c * sizeof (float));
          for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) {
              const float *p = fine + (gsize) ((j * k + a) * f + i * k + b) * c;
              for (int q = 0; q < c; q++)
                acc[q] = p[q] > acc[q] ? p[q] : acc[q];
            }
          store_bin (acc, c, n, j * n + i, channel_major, level_out);
        }
    } else {
      float *buf = acc ? acc : g_new (float, c);
      for (int j = 0; j < n; j++) {
        int y0, y1;
        spp_pyramid_bin_range (wh, n, j, &y0, &y1);
        for (int i = 0; i < n; i++) {
          int x0, x1;
          spp_pyramid_bin_range (ww, n, i, &x0, &x1);
          max_region (hwc, c, w, wx + x0, wy + y0, wx + x1, wy + y1, buf);
          store_bin (buf, c, n, j * n + i, channel_major, level_out);
        }
      }
      if (buf != acc)
        g_free (buf);
    }
    off += (gsize) c * n * n;
  }
}

static gboolean
check_args (const SppTensor *map, const guint *levels, guint n_levels,
            GError **error)
{
  if (map->n != 1 || map->c < 1 || map->h < 1 || map->w < 1) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_SHAPE,
                 "SPP needs a 1 x C x H x W map with C, H, W >= 1, got "
                 "%dx%dx%dx%d", map->n, map->c, map->h, map->w);
    return FALSE;
  }
  if (n_levels == 0 || n_levels > 16) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "SPP needs 1..16 pyramid levels, got %u", n_levels);
    return FALSE;
  }
  for (guint i = 0; i < n_levels; i++)
    if (levels[i] < 1 || levels[i] > 64) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "SPP level %u is %u, expected 1..64", i, levels[i]);
      return FALSE;
    }
  return TRUE;
}

gboolean
spp_pyramid_pool_windows (const SppTensor *map, const guint *levels,
                          guint n_levels, guint stride, float offset,
                          const SppBox *boxes, guint n_boxes, SppTensor *out,
                          GError **error)
{
  g_return_val_if_fail (map != NULL && out != NULL, FALSE);
  if (!check_args (map, levels, n_levels, error))
    return FALSE;
  if (stride < 1) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "SPP stride must be >= 1, got %u", stride);
    return FALSE;
  }
  const gsize d = (gsize) map->c * spp_pyramid_get_n_bins (levels, n_levels);
  if (!spp_tensor_reshape (out, n_boxes, (int) d, 1, 1, error))
    return FALSE;
  g_autoptr (SppTensor) hwc = spp_tensor_new (0, 0, 0, 0);
  if (!spp_pyramid_to_hwc (map, hwc, error))
    return FALSE;
  g_autofree float *scratch
      = g_new (float, spp_pyramid_scratch_size (map->c, levels, n_levels));
  for (guint i = 0; i < n_boxes; i++) {
    int cells[4];
    spp_pyramid_project_box (&boxes[i], stride, offset, map->w, map->h, cells);
    spp_pyramid_pool_hwc (hwc->data, map->c, map->h, map->w, levels, n_levels,
                          cells, TRUE, scratch, out->data + i * d);
  }
  return TRUE;
}

gboolean
spp_pyramid_pool (const SppTensor *map, const guint *levels, guint n_levels,
                  SppTensor *out, GError **error)
{
  g_return_val_if_fail (map != NULL && out != NULL, FALSE);
  if (!check_args (map, levels, n_levels, error))
    return FALSE;
  const gsize d = (gsize) map->c * spp_pyramid_get_n_bins (levels, n_levels);
  if (!spp_tensor_reshape (out, 1, (int) d, 1, 1, error))
    return FALSE;
  g_autoptr (SppTensor) hwc = spp_tensor_new (0, 0, 0, 0);
  if (!spp_pyramid_to_hwc (map, hwc, error))
    return FALSE;
  g_autofree float *scratch
      = g_new (float, spp_pyramid_scratch_size (map->c, levels, n_levels));
  int cells[4] = { 0, 0, map->w - 1, map->h - 1 };
  spp_pyramid_pool_hwc (hwc->data, map->c, map->h, map->w, levels, n_levels,
                        cells, TRUE, scratch, out->data);
  return TRUE;
}
