/* Spatial pyramid pooling (SPEC section 1, paper Appendix A). */
#include "pyramid-private.h"

#include "layers-private.h"
#include "parallel-private.h"

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

/* HWC copies and block tables are built in rows of the map, split over
 * the cores: at 56 x 42 x 256 each table is 2.4 MB, as much traffic as a
 * few hundred windows. */
typedef struct {
  const float *src;
  float *dst;
  int c, h, w, half, b;
} MapJob;

SPP_HOT_LOOP
static void
to_hwc_rows (gpointer data, int y0, int y1, int worker)
{
  const MapJob *j = data;
  const int c = j->c, w = j->w;
  const gsize plane = (gsize) j->h * w;
  for (int y = y0; y < y1; y++)
    for (int ch = 0; ch < c; ch++) {
      const float *src = j->src + ch * plane + (gsize) y * w;
      float *dst = j->dst + (gsize) y * w * c + ch;
      for (int x = 0; x < w; x++)
        dst[(gsize) x * c] = src[x];
    }
}

gboolean
spp_pyramid_to_hwc (const SppTensor *map, SppTensor *hwc, GError **error)
{
  const int c = map->c, h = map->h, w = map->w;
  if (!spp_tensor_reshape (hwc, 1, h, w, c, error))
    return FALSE;
  MapJob job = { map->data, hwc->data, c, h, w, 0, 0 };
  spp_parallel_for (h, to_hwc_rows, &job);
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
  /* The finest level's bins, then one window bin-major and one
   * channel-major (the transpose's source and destination). */
  return (gsize) c * (f * f + 2 * spp_pyramid_get_n_bins (levels, n_levels));
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

SPP_HOT_LOOP
static void
block_rows (gpointer data, int y0, int y1, int worker)
{
  const MapJob *j = data;
  const int c = j->c, w = j->w, half = j->half, b = j->b;
  const float *src = j->src;
  float *dst = j->dst;
  /* Block b at (y, x) = max of the four b/2 blocks it is made of. */
  for (int y = y0; y < y1; y++)
    for (int x = 0; x + b <= w; x++) {
      float *o = dst + ((gsize) y * w + x) * c;
      vmax (o, src + ((gsize) y * w + x) * c,
            src + ((gsize) y * w + x + half) * c, c);
      vmax_into (o, src + ((gsize) (y + half) * w + x) * c, c);
      vmax_into (o, src + ((gsize) (y + half) * w + x + half) * c, c);
    }
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
    MapJob job = { pm->blocks[k - 1]->data, pm->blocks[k]->data, c, h, w,
                   half, b };
    spp_parallel_for (h - b + 1, block_rows, &job);
    pm->n_blocks = k + 1;
  }
  return TRUE;
}

static inline int
block_level (int extent)
{
  return extent >= 8 ? 3 : extent >= 4 ? 2 : extent >= 2 ? 1 : 0;
}

/* dst[c] = max over the cells [y0,y1) x [x0,x1). Inlined into the
 * cloned window pooler so its loops get the wide vectors. */
static inline __attribute__ ((always_inline)) void
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

/* One window, bin-major (bin * C + c per level). */
static inline __attribute__ ((always_inline)) void
pool_window_bin_major (const SppPoolMap *pm, const guint *levels,
                       guint n_levels, const int cells[4], float *fine,
                       float *out)
{
  const int c = pm->c;
  const int wx = cells[0], wy = cells[1];
  const int ww = cells[2] - cells[0] + 1, wh = cells[3] - cells[1] + 1;
  const int f = (int) finest_level (levels, n_levels);

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
    if (f % n == 0) {
      /* A coarse bin is exactly the union of k x k fine bins: the union
       * of [floor(ik*e/f), ceil((ik+1)*e/f)) ... equals
       * [floor(i*e/n), ceil((i+1)*e/n)) when f = k*n. */
      const int k = f / n;
      for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
          float *dst = level_out + (gsize) (j * n + i) * c;
          memcpy (dst, fine + (gsize) (j * k * f + i * k) * c,
                  c * sizeof (float));
          for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++)
              if (a || b)
                vmax_into (dst,
                           fine + (gsize) ((j * k + a) * f + i * k + b) * c,
                           c);
        }
    } else {
      for (int j = 0; j < n; j++) {
        int y0, y1;
        spp_pyramid_bin_range (wh, n, j, &y0, &y1);
        for (int i = 0; i < n; i++) {
          int x0, x1;
          spp_pyramid_bin_range (ww, n, i, &x0, &x1);
          max_region (pm, wx + x0, wy + y0, wx + x1, wy + y1,
                      level_out + (gsize) (j * n + i) * c);
        }
      }
    }
    off += (gsize) c * n * n;
  }
}

/* dst (c x nn) = src (nn x c)^T, in 16 x 16 tiles that stay in L1. */
static void
transpose (const float *restrict src, int nn, int c, int k0,
           float *restrict dst)
{
  for (; k0 < c; k0 += 16) {
    const int k1 = MIN (k0 + 16, c);
    for (int b0 = 0; b0 < nn; b0 += 16) {
      const int b1 = MIN (b0 + 16, nn);
      for (int k = k0; k < k1; k++)
        for (int b = b0; b < b1; b++)
          dst[(gsize) k * nn + b] = src[(gsize) b * c + k];
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_TRANSPOSE_AVX512 1

/* The same with 16 x 16 in-register transposes (unpack, then 128-bit
 * lane shuffles): the scalar tiles above cost more than the pooling. */
__attribute__ ((target ("avx512f"))) static void
transpose_avx512 (const float *restrict src, int nn, int c,
                  float *restrict dst)
{
  int k0 = 0;
  for (; k0 + 16 <= c; k0 += 16)
    for (int b0 = 0; b0 < nn; b0 += 16) {
      const int nb = MIN (16, nn - b0);
      __m512 r[16], t[16];
      for (int i = 0; i < 16; i++)
        r[i] = i < nb ? _mm512_loadu_ps (src + (gsize) (b0 + i) * c + k0)
                      : _mm512_setzero_ps ();
      for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps (r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps (r[i], r[i + 1]);
      }
      for (int g = 0; g < 16; g += 4)
        for (int i = 0; i < 2; i++) {
          __m512d a = _mm512_castps_pd (t[g + i]);
          __m512d b = _mm512_castps_pd (t[g + i + 2]);
          r[g + 2 * i] = _mm512_castpd_ps (_mm512_unpacklo_pd (a, b));
          r[g + 2 * i + 1] = _mm512_castpd_ps (_mm512_unpackhi_pd (a, b));
        }
      for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
          t[h + i] = _mm512_shuffle_f32x4 (r[h + i], r[h + 4 + i], 0x88);
          t[h + 4 + i] = _mm512_shuffle_f32x4 (r[h + i], r[h + 4 + i], 0xdd);
        }
      for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4 (t[i], t[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_f32x4 (t[i], t[8 + i], 0xdd);
      }
      const __mmask16 m = (__mmask16) ((1u << nb) - 1);
      for (int k = 0; k < 16; k++)
        _mm512_mask_storeu_ps (dst + (gsize) (k0 + k) * nn + b0, m, r[k]);
    }
  transpose (src, nn, c, k0, dst);
}

/* Copies a finished row to memory the CPU will not read again soon with
 * non-temporal stores: no read-for-ownership, half the bus traffic of a
 * plain copy (2,000 windows are 100 MB). */
static void
stream_copy (float *dst, const float *src, gsize n)
{
  if (((guintptr) dst | (guintptr) src) % 16 != 0 || n % 4 != 0) {
    memcpy (dst, src, n * sizeof (float));
    return;
  }
  for (gsize i = 0; i < n; i += 4)
    _mm_stream_ps (dst + i, _mm_load_ps (src + i));
}
#endif

SPP_HOT_LOOP
void
spp_pool_map_window (const SppPoolMap *pm, const guint *levels,
                     guint n_levels, const int cells[4],
                     gboolean channel_major, float *scratch, float *out)
{
  const int c = pm->c;
  const int f = (int) finest_level (levels, n_levels);
  float *fine = scratch; /* f*f bins x c, the finest level's maxima */

  if (!channel_major) {
    pool_window_bin_major (pm, levels, n_levels, cells, fine, out);
    return;
  }
  /* Pool bin-major (vector maxima over contiguous channels), then
   * transpose each level in cache: a scatter straight into the
   * channel-major row would touch a new cache line per value. */
  float *bins = fine + (gsize) f * f * c;
  pool_window_bin_major (pm, levels, n_levels, cells, fine, bins);
  const gsize d = (gsize) c * spp_pyramid_get_n_bins (levels, n_levels);
#ifdef HAVE_TRANSPOSE_AVX512
  const gboolean avx512 = __builtin_cpu_supports ("avx512f");
  float *row = bins + d;
#else
  float *row = out;
#endif
  gsize off = 0;
  for (guint li = 0; li < n_levels; li++) {
    const int nn = levels[li] * levels[li];
#ifdef HAVE_TRANSPOSE_AVX512
    if (avx512)
      transpose_avx512 (bins + off, nn, c, row + off);
    else
#endif
      transpose (bins + off, nn, c, 0, row + off);
    off += (gsize) c * nn;
  }
#ifdef HAVE_TRANSPOSE_AVX512
  stream_copy (out, row, d);
#endif
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

/* The public calls keep their tables and scratch per calling thread:
 * fresh ones would cost a page fault per 4 KB of tables (10 MB for a
 * 56 x 42 x 256 map), more than pooling 2,000 windows. Freed when the
 * thread exits. */
typedef struct {
  SppPoolMap pm;
  SppTensor *scratch;
} PoolCache;

static void
pool_cache_free (gpointer data)
{
  PoolCache *pc = data;
  spp_pool_map_clear (&pc->pm);
  spp_tensor_free (pc->scratch);
  g_free (pc);
}

static GPrivate pool_cache = G_PRIVATE_INIT (pool_cache_free);

static PoolCache *
pool_cache_get (void)
{
  PoolCache *pc = g_private_get (&pool_cache);
  if (pc == NULL) {
    pc = g_new0 (PoolCache, 1);
    spp_pool_map_init (&pc->pm);
    pc->scratch = spp_tensor_new (0, 0, 0, 0);
    g_private_set (&pool_cache, pc);
  }
  return pc;
}

typedef struct {
  const SppPoolMap *pm;
  const guint *levels;
  guint n_levels, stride;
  float offset;
  const SppBox *boxes;
  gsize d;
  float *scratch;
  gsize scratch_size;
  float *out;
} WindowsJob;

static void
pool_windows_range (gpointer data, int begin, int end, int worker)
{
  const WindowsJob *j = data;
  float *scratch = j->scratch + j->scratch_size * worker;
  for (int i = begin; i < end; i++) {
    int cells[4];
    spp_pyramid_project_box (&j->boxes[i], j->stride, j->offset, j->pm->w,
                             j->pm->h, cells);
    spp_pool_map_window (j->pm, j->levels, j->n_levels, cells, TRUE, scratch,
                         j->out + i * j->d);
  }
#ifdef HAVE_TRANSPOSE_AVX512
  /* Non-temporal stores are weakly ordered: publish them before the
   * caller (another thread) reads the rows. */
  _mm_sfence ();
#endif
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
  const gsize scratch = spp_pyramid_scratch_size (map->c, levels, n_levels);
  const int workers = spp_parallel_get_n_workers ();
  PoolCache *pc = pool_cache_get ();
  if (!spp_pool_map_prepare (&pc->pm, map, error)
      || !spp_tensor_reshape (pc->scratch, 1, 1, 1, (int) (scratch * workers),
                              error))
    return FALSE;
  WindowsJob job = { &pc->pm, levels, n_levels, stride, offset, boxes, d,
                     pc->scratch->data, scratch, out->data };
  spp_parallel_for (n_boxes, pool_windows_range, &job);
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
  PoolCache *pc = pool_cache_get ();
  const gsize scratch = spp_pyramid_scratch_size (map->c, levels, n_levels);
  if (!spp_pool_map_prepare (&pc->pm, map, error)
      || !spp_tensor_reshape (pc->scratch, 1, 1, 1, (int) scratch, error))
    return FALSE;
  int cells[4] = { 0, 0, map->w - 1, map->h - 1 };
  spp_pool_map_window (&pc->pm, levels, n_levels, cells, TRUE,
                       pc->scratch->data, out->data);
  return TRUE;
}
