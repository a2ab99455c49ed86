/* Spatial pyramid pooling (docs/method.md 1, paper Appendix A). */
#include "spp-engine/pyramid.h"

#include "layers-private.h"
#include "spp-engine/parallel.h"

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

void
spp_pool_map_init (SppPoolMap *pm)
{
  memset (pm, 0, sizeof *pm);
}

void
spp_pool_map_prepare (SppPoolMap *pm, const SppTensor *map)
{
  pm->c = map->c;
  pm->h = map->h;
  pm->w = map->w;
  pm->n_chunks = (map->c + SPP_POOL_LANES - 1) / SPP_POOL_LANES;
  pm->data = map->data;
}

void
spp_pyramid_permutation (int c, const guint *levels, guint n_levels,
                         guint *perm)
{
  const int L = SPP_POOL_LANES;
  const guint nb = spp_pyramid_get_n_bins (levels, n_levels);
  for (int c0 = 0; c0 < c; c0 += L) {
    const int v = MIN (L, c - c0);
    gsize level_off = 0, bin = 0;
    for (guint li = 0; li < n_levels; li++) {
      const int nn = levels[li] * levels[li];
      for (int b = 0; b < nn; b++, bin++)
        for (int k = 0; k < v; k++)
          perm[(gsize) c0 * nb + bin * v + k]
              = level_off + (gsize) (c0 + k) * nn + b;
      level_off += (gsize) c * nn;
    }
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

/* The public calls keep their scratch per calling thread: a fresh one
 * would cost a page fault per 4 KB, more than pooling 2,000 windows.
 * Freed when the thread exits. */
typedef struct {
  SppPoolMap pm;
  SppPoolScratch scratch;
  GArray *cells;
} PoolCache;

static void
pool_cache_free (gpointer data)
{
  PoolCache *pc = data;
  spp_pool_scratch_clear (&pc->scratch);
  g_array_unref (pc->cells);
  g_free (pc);
}

static GPrivate pool_cache = G_PRIVATE_INIT (pool_cache_free);

/* Checks the arguments, sizes out to n rows and returns the calling
 * thread's cache, its map prepared, with room for n windows' cells. */
static PoolCache *
pool_begin (const SppTensor *map, const guint *levels, guint n_levels,
            guint n, SppTensor *out, GError **error)
{
  if (!check_args (map, levels, n_levels, error))
    return NULL;
  const gsize d = (gsize) map->c * spp_pyramid_get_n_bins (levels, n_levels);
  if (!spp_tensor_reshape (out, n, (int) d, 1, 1, error))
    return NULL;
  PoolCache *pc = g_private_get (&pool_cache);
  if (pc == NULL) {
    pc = g_new0 (PoolCache, 1);
    spp_pool_map_init (&pc->pm);
    pc->cells = g_array_new (FALSE, FALSE, sizeof (int));
    g_private_set (&pool_cache, pc);
  }
  g_array_set_size (pc->cells, (gsize) 4 * n);
  spp_pool_map_prepare (&pc->pm, map);
  return pc;
}

gboolean
spp_pyramid_pool_windows (const SppTensor *map, const guint *levels,
                          guint n_levels, guint stride, float offset,
                          const SppBox *boxes, guint n_boxes, SppTensor *out,
                          GError **error)
{
  g_return_val_if_fail (map != NULL && out != NULL, FALSE);
  g_return_val_if_fail (boxes != NULL || n_boxes == 0, FALSE);
  if (stride < 1) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "SPP stride must be >= 1, got %u", stride);
    return FALSE;
  }
  PoolCache *pc = pool_begin (map, levels, n_levels, n_boxes, out, error);
  if (pc == NULL)
    return FALSE;
  int *cells = (int *) pc->cells->data;
  for (guint i = 0; i < n_boxes; i++)
    spp_pyramid_project_box (&boxes[i], stride, offset, map->w, map->h,
                             cells + 4 * i);
  spp_pool_map_windows (&pc->pm, levels, n_levels, cells, NULL, n_boxes,
                        SPP_POOL_CHANNEL_MAJOR, &pc->scratch, out->data);
  return TRUE;
}

gboolean
spp_pyramid_pool_cells (const SppTensor *map, const guint *levels,
                        guint n_levels, const int cells[4], SppTensor *out,
                        GError **error)
{
  g_return_val_if_fail (map != NULL && out != NULL && cells != NULL, FALSE);
  if (!check_args (map, levels, n_levels, error))
    return FALSE;
  if (cells[0] < 0 || cells[1] < 0 || cells[2] >= map->w
      || cells[3] >= map->h || cells[0] > cells[2] || cells[1] > cells[3]) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "SPP window cells (%d,%d)-(%d,%d) are not inside the %dx%d "
                 "map", cells[0], cells[1], cells[2], cells[3], map->w,
                 map->h);
    return FALSE;
  }
  PoolCache *pc = pool_begin (map, levels, n_levels, 1, out, error);
  if (pc == NULL)
    return FALSE;
  memcpy (pc->cells->data, cells, 4 * sizeof (int));
  spp_pool_map_windows (&pc->pm, levels, n_levels, (int *) pc->cells->data,
                        NULL, 1, SPP_POOL_CHANNEL_MAJOR, &pc->scratch,
                        out->data);
  return TRUE;
}

gboolean
spp_pyramid_pool (const SppTensor *map, const guint *levels, guint n_levels,
                  SppTensor *out, GError **error)
{
  g_return_val_if_fail (map != NULL && out != NULL, FALSE);
  const int cells[4] = { 0, 0, map->w - 1, map->h - 1 };
  return spp_pyramid_pool_cells (map, levels, n_levels, cells, out, error);
}
