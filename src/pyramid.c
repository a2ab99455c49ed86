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

void
spp_pool_map_init (SppPoolMap *pm)
{
  memset (pm, 0, sizeof *pm);
  for (int i = 0; i < SPP_POOL_MAX_BLOCK_LEVELS; i++)
    pm->blocks[i] = spp_tensor_new (0, 0, 0, 0);
}

void
spp_pool_map_clear (SppPoolMap *pm)
{
  for (int i = 0; i < SPP_POOL_MAX_BLOCK_LEVELS; i++)
    g_clear_pointer (&pm->blocks[i], spp_tensor_free);
}

static inline void
vmax (float *restrict d, const float *restrict a, const float *restrict b,
      int c)
{
  for (int k = 0; k < c; k++)
    d[k] = a[k] > b[k] ? a[k] : b[k];
}

static inline void
vmax_into (float *restrict d, const float *restrict a, int c)
{
  for (int k = 0; k < c; k++)
    d[k] = a[k] > d[k] ? a[k] : d[k];
}

gboolean
spp_pool_map_prepare (SppPoolMap *pm, const SppTensor *map, GError **error)
{
  const int c = map->c, h = map->h, w = map->w;
  if (!spp_pyramid_to_hwc (map, pm->blocks[0], error))
    return FALSE;
  pm->c = c;
  pm->h = h;
  pm->w = w;
  pm->n_blocks = 1;
  for (int k = 1; k < SPP_POOL_MAX_BLOCK_LEVELS; k++) {
    const int half = 1 << (k - 1), b = 1 << k;
    if (b > h || b > w)
      break;
    if (!spp_tensor_reshape (pm->blocks[k], 1, h, w, c, error))
      return FALSE;
    const float *src = pm->blocks[k - 1]->data;
    float *dst = pm->blocks[k]->data;
    /* Block b at (y, x) = max of the four b/2 blocks it is made of. */
    for (int y = 0; y + b <= h; y++)
      for (int x = 0; x + b <= w; x++) {
        float *o = dst + ((gsize) y * w + x) * c;
        vmax (o, src + ((gsize) y * w + x) * c,
              src + ((gsize) y * w + x + half) * c, c);
        vmax_into (o, src + ((gsize) (y + half) * w + x) * c, c);
        vmax_into (o, src + ((gsize) (y + half) * w + x + half) * c, c);
      }
    pm->n_blocks = k + 1;
  }
  return TRUE;
}

static inline int
block_level (int extent)
{
  return extent >= 8 ? 3 : extent >= 4 ? 2 : extent >= 2 ? 1 : 0;
}

/* dst[c] = max over the cells [y0,y1) x [x0,x1). */
static void
max_region (const SppPoolMap *pm, int x0, int y0, int x1, int y1, float *dst)
{
  const int c = pm->c, w = pm->w;
  int k = MIN (block_level (MIN (x1 - x0, y1 - y0)), pm->n_blocks - 1);
  const int b = 1 << k;
  const float *t = pm->blocks[k]->data;
  gboolean first = TRUE;
  /* Blocks start every b cells; the last is pulled back to end at the
   * edge, overlapping its neighbour. */
  for (int y = y0;; y += b) {
    int yy = MIN (y, y1 - b);
    for (int x = x0;; x += b) {
      int xx = MIN (x, x1 - b);
      const float *p = t + ((gsize) yy * w + xx) * c;
      if (first) {
        memcpy (dst, p, c * sizeof (float));
        first = FALSE;
      } else {
        vmax_into (dst, p, c);
      }
      if (xx + b >= x1)
        break;
    }
    if (yy + b >= y1)
      break;
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
spp_pyramid_permutation (int c, const guint *levels, guint n_levels,
                         guint *perm)
{
  gsize off = 0;
  for (guint li = 0; li < n_levels; li++) {
    const int nn = levels[li] * levels[li];
    for (int bin = 0; bin < nn; bin++)
      for (int k = 0; k < c; k++)
        perm[off + (gsize) bin * c + k] = off + (gsize) k * nn + bin;
    off += (gsize) c * nn;
  }
}

void
spp_pool_map_window (const SppPoolMap *pm, const guint *levels,
                     guint n_levels, const int cells[4],
                     gboolean channel_major, float *scratch, float *out)
{
  const int c = pm->c;
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
      max_region (pm, wx + x0, wy + y0, wx + x1, wy + y1,
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
          float *dst = channel_major ? acc
                                     : level_out + (gsize) (j * n + i) * c;
          memcpy (dst, fine + (gsize) (j * k * f + i * k) * c,
                  c * sizeof (float));
          for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++)
              if (a || b)
                vmax_into (dst,
                           fine + (gsize) ((j * k + a) * f + i * k + b) * c,
                           c);
          if (channel_major)
            store_bin (acc, c, n, j * n + i, TRUE, level_out);
        }
    } else {
      float *buf = acc ? acc : g_new (float, c);
      for (int j = 0; j < n; j++) {
        int y0, y1;
        spp_pyramid_bin_range (wh, n, j, &y0, &y1);
        for (int i = 0; i < n; i++) {
          int x0, x1;
          spp_pyramid_bin_range (ww, n, i, &x0, &x1);
          max_region (pm, wx + x0, wy + y0, wx + x1, wy + y1, buf);
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
  SppPoolMap pm;
  spp_pool_map_init (&pm);
  if (!spp_pool_map_prepare (&pm, map, error)) {
    spp_pool_map_clear (&pm);
    return FALSE;
  }
  g_autofree float *scratch
      = g_new (float, spp_pyramid_scratch_size (map->c, levels, n_levels));
  for (guint i = 0; i < n_boxes; i++) {
    int cells[4];
    spp_pyramid_project_box (&boxes[i], stride, offset, map->w, map->h, cells);
    spp_pool_map_window (&pm, levels, n_levels, cells, TRUE, scratch,
                         out->data + i * d);
  }
  spp_pool_map_clear (&pm);
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
  SppPoolMap pm;
  spp_pool_map_init (&pm);
  if (!spp_pool_map_prepare (&pm, map, error)) {
    spp_pool_map_clear (&pm);
    return FALSE;
  }
  g_autofree float *scratch
      = g_new (float, spp_pyramid_scratch_size (map->c, levels, n_levels));
  int cells[4] = { 0, 0, map->w - 1, map->h - 1 };
  spp_pool_map_window (&pm, levels, n_levels, cells, TRUE, scratch, out->data);
  spp_pool_map_clear (&pm);
  return TRUE;
}
