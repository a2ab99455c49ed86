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

/* Chunk rows are built split over the cores: ZF-5's 57 x 43 x 256 conv5
 * map is 2.5 MB, as much traffic as a few hundred windows. */
typedef struct {
  const float *src;
  float *dst;
  int c, h, w;
} MapJob;

SPP_HOT_LOOP
static void
chunk_rows (gpointer data, int r0, int r1, int worker)
{
  const MapJob *j = data;
  const int c = j->c, h = j->h, w = j->w, L = SPP_POOL_LANES;
  const gsize plane = (gsize) h * w;
  for (int r = r0; r < r1; r++) {
    const int chunk = r / h, y = r % h, c0 = chunk * L;
    const int valid = MIN (L, c - c0);
    float *dst = j->dst + (gsize) r * w * L;
    for (int k = 0; k < valid; k++) {
      const float *src = j->src + (c0 + k) * plane + (gsize) y * w;
      for (int x = 0; x < w; x++)
        dst[(gsize) x * L + k] = src[x];
    }
    for (int k = valid; k < L; k++)
      for (int x = 0; x < w; x++)
        dst[(gsize) x * L + k] = 0.0f;
  }
}

void
spp_pool_map_init (SppPoolMap *pm)
{
  memset (pm, 0, sizeof *pm);
  pm->cells = spp_tensor_new (0, 0, 0, 0);
}

void
spp_pool_map_clear (SppPoolMap *pm)
{
  g_clear_pointer (&pm->cells, spp_tensor_free);
}

gboolean
spp_pool_map_prepare (SppPoolMap *pm, const SppTensor *map, GError **error)
{
  const int c = map->c, h = map->h, w = map->w, L = SPP_POOL_LANES;
  const int n_chunks = (c + L - 1) / L;
  if (!spp_tensor_reshape (pm->cells, n_chunks, h, w, L, error))
    return FALSE;
  pm->c = c;
  pm->h = h;
  pm->w = w;
  pm->n_chunks = n_chunks;
  MapJob job = { map->data, pm->cells->data, c, h, w };
  spp_parallel_for (n_chunks * h, chunk_rows, &job);
  return TRUE;
}

/* d = max (d, a) over one chunk's lanes. The pragma keeps GCC from
 * unrolling the loop into 16 scalar maxima before the vectoriser sees it:
 * as a loop it becomes one zmm (two ymm, four xmm) vmaxps per clone, and
 * a local d stays in a register. */
static inline __attribute__ ((always_inline)) void
vmax_into (float *restrict d, const float *restrict a)
{
#pragma GCC unroll 1
  for (int k = 0; k < SPP_POOL_LANES; k++)
    d[k] = a[k] > d[k] ? a[k] : d[k];
}

/* How the levels are computed. The finest level, and any level that
 * divides no finer one, is pooled from the map ("direct"). A level n that
 * divides a finer level m is the union of k x k of m's bins, k = m / n:
 * the union of [floor(ik*e/m), ceil((ik+1)*e/m)) ... equals
 * [floor(i*e/n), ceil((i+1)*e/n)). It is built from the coarsest such m
 * (fewest bins to merge), finer levels first. */
typedef struct {
  int n_bins, n_direct; /* all bins; bins pooled from the map */
  guint n_levels;
  struct {
    int n, bin;
    int src; /* -1: direct, else the level it is merged from */
  } lv[16];
  int order[16]; /* merged levels, finest first */
  int n_merged;
} Plan;

static void
plan_levels (const guint *levels, guint n_levels, Plan *p)
{
  p->n_levels = n_levels;
  p->n_bins = 0;
  p->n_direct = 0;
  p->n_merged = 0;
  for (guint i = 0; i < n_levels; i++) {
    const int n = levels[i];
    p->lv[i].n = n;
    p->lv[i].bin = p->n_bins;
    p->n_bins += n * n;
    p->lv[i].src = -1;
    /* The first of equal levels is pooled or merged; repeats copy it. */
    for (guint j = 0; j < n_levels; j++) {
      const int m = levels[j];
      if ((m > n || (m == n && j < i)) && m % n == 0
          && (p->lv[i].src < 0 || m < (int) levels[p->lv[i].src]))
        p->lv[i].src = j;
    }
    if (p->lv[i].src < 0)
      p->n_direct += n * n;
  }
  /* Merge finest first, so every source is ready when it is read. */
  for (int n = 64; n >= 1; n--)
    for (guint i = 0; i < n_levels; i++)
      if (p->lv[i].src >= 0 && p->lv[i].n == n)
        p->order[p->n_merged++] = i;
}

/* log2 of the largest block that fits in extent cells (extent >= 1). */
static inline int
block_level (int extent)
{
  return 31 - __builtin_clz ((unsigned) extent);
}

static int
levels_for (int extent)
{
  return MIN (block_level (extent), SPP_POOL_BLOCK_LEVELS - 1) + 1;
}

/* One chunk's block tables, contiguous in a worker's scratch: table
 * (kx, ky) holds the max of the 2^kx x 2^ky block anchored at each cell
 * (valid where the block fits); table (0, 0) is a copy of the chunk. */
typedef struct {
  int h, w, nx, ny; /* nx x ny tables */
  gsize size;       /* floats per table */
} Geometry;

static void
geometry (const SppPoolMap *pm, Geometry *g)
{
  g->h = pm->h;
  g->w = pm->w;
  g->nx = levels_for (pm->w);
  g->ny = levels_for (pm->h);
  g->size = (gsize) pm->h * pm->w * SPP_POOL_LANES;
}

static gsize
tables_size (const SppPoolMap *pm)
{
  Geometry g;
  geometry (pm, &g);
  return g.size * g.nx * g.ny;
}

static inline const float *
table (const Geometry *g, const float *buf, int kx, int ky)
{
  return buf + (ky * g->nx + kx) * g->size;
}

SPP_HOT_LOOP
static void
build_tables (const SppPoolMap *pm, int chunk, float *buf)
{
  Geometry g;
  geometry (pm, &g);
  const int h = g.h, w = g.w, L = SPP_POOL_LANES;
  memcpy (buf, spp_tensor_const_data (pm->cells) + chunk * g.size,
          g.size * sizeof (float));
  /* Each from the table of half its width (or height). */
  for (int ky = 0; ky < g.ny; ky++)
    for (int kx = 0; kx < g.nx; kx++) {
      if (kx == 0 && ky == 0)
        continue;
      const int bx = 1 << kx, by = 1 << ky;
      const float *src = kx ? table (&g, buf, kx - 1, ky)
                            : table (&g, buf, 0, ky - 1);
      const gsize step = kx ? (gsize) (bx / 2) * L : (gsize) (by / 2) * w * L;
      float *dst = (float *) table (&g, buf, kx, ky);
      for (int y = 0; y + by <= h; y++)
        for (int x = 0; x + bx <= w; x++) {
          const gsize o = ((gsize) y * w + x) * L;
          memcpy (dst + o, src + o, L * sizeof (float));
          vmax_into (dst + o, src + o + step);
        }
    }
}

/* Each direct bin of a window costs four reads in the tables: the blocks
 * at its corners, (kx, ky) the largest that fit, cover it (they coincide
 * where it is one block wide). Their offsets are the same for every
 * chunk, so they are worked out once per window. A bin past twice the
 * largest blocks (or tables too large for 32-bit offsets) is marked
 * FAR_BIN and keeps its cell range instead. */
#define FAR_BIN 0x80000000u

static void
window_reads (const Plan *p, const Geometry *g, const int cells[4],
              guint32 *r)
{
  const int ww = cells[2] - cells[0] + 1, wh = cells[3] - cells[1] + 1;
  const gboolean fits = g->size * g->nx * g->ny < FAR_BIN;
  for (guint li = 0; li < p->n_levels; li++) {
    const int n = p->lv[li].n;
    if (p->lv[li].src >= 0)
      continue;
    int xs[64], xe[64], ys[64], ye[64];
    for (int i = 0; i < n; i++) {
      spp_pyramid_bin_range (ww, n, i, &xs[i], &xe[i]);
      spp_pyramid_bin_range (wh, n, i, &ys[i], &ye[i]);
    }
    for (int j = 0; j < n; j++)
      for (int i = 0; i < n; i++, r += 4) {
        const int x0 = cells[0] + xs[i], x1 = cells[0] + xe[i];
        const int y0 = cells[1] + ys[j], y1 = cells[1] + ye[j];
        const int kx = MIN (block_level (x1 - x0), g->nx - 1);
        const int ky = MIN (block_level (y1 - y0), g->ny - 1);
        const int bx = 1 << kx, by = 1 << ky;
        if (!fits || x1 - x0 > 2 * bx || y1 - y0 > 2 * by) {
          r[0] = FAR_BIN | (guint32) x0;
          r[1] = y0;
          r[2] = x1;
          r[3] = y1;
          continue;
        }
        const gsize t = (ky * g->nx + kx) * g->size, L = SPP_POOL_LANES;
        r[0] = t + ((gsize) y0 * g->w + x0) * L;
        r[1] = t + ((gsize) y0 * g->w + x1 - bx) * L;
        r[2] = t + ((gsize) (y1 - by) * g->w + x0) * L;
        r[3] = t + ((gsize) (y1 - by) * g->w + x1 - bx) * L;
      }
  }
}

/* dst = max over the cells [y0,y1) x [x0,x1) of a far bin: the largest
 * blocks every b cells, the last pulled back to end at the edge. */
static inline __attribute__ ((always_inline)) void
max_far (const Geometry *g, const float *buf, int x0, int y0, int x1, int y1,
         float *restrict dst)
{
  const int L = SPP_POOL_LANES;
  const int kx = MIN (block_level (x1 - x0), g->nx - 1);
  const int ky = MIN (block_level (y1 - y0), g->ny - 1);
  const int bx = 1 << kx, by = 1 << ky;
  const float *t = table (g, buf, kx, ky);
  const gsize w = g->w;
  float acc[SPP_POOL_LANES];
  memcpy (acc, t + (y0 * w + x0) * L, sizeof acc);
  for (int y = y0;; y += by) {
    const int yy = MIN (y, y1 - by);
    for (int x = x0;; x += bx) {
      const int xx = MIN (x, x1 - bx);
      vmax_into (acc, t + (yy * w + xx) * L);
      if (xx + bx >= x1)
        break;
    }
    if (yy + by >= y1)
      break;
  }
  memcpy (dst, acc, sizeof acc);
}

/* Every bin of one window for one chunk: bins[bin][lane]. */
static inline __attribute__ ((always_inline)) void
pool_chunk (const Geometry *g, const float *buf, const Plan *p,
            const guint32 *r, float *bins)
{
  const int L = SPP_POOL_LANES;
  for (guint li = 0; li < p->n_levels; li++) {
    if (p->lv[li].src >= 0)
      continue;
    const int nn = p->lv[li].n * p->lv[li].n;
    float *out = bins + (gsize) p->lv[li].bin * L;
    for (int b = 0; b < nn; b++, r += 4) {
      if (G_UNLIKELY (r[0] & FAR_BIN)) {
        max_far (g, buf, r[0] & ~FAR_BIN, r[1], r[2], r[3], out + b * L);
        continue;
      }
      /* Two chains for the latency. */
      float a0[SPP_POOL_LANES], a1[SPP_POOL_LANES];
      memcpy (a0, buf + r[0], sizeof a0);
      memcpy (a1, buf + r[2], sizeof a1);
      vmax_into (a0, buf + r[1]);
      vmax_into (a1, buf + r[3]);
      vmax_into (a0, a1);
      memcpy (out + b * L, a0, sizeof a0);
    }
  }
  for (int o = 0; o < p->n_merged; o++) {
    const int li = p->order[o], n = p->lv[li].n;
    const int m = p->lv[p->lv[li].src].n, k = m / n;
    const float *src = bins + (gsize) p->lv[p->lv[li].src].bin * L;
    float *out = bins + (gsize) p->lv[li].bin * L;
    for (int j = 0; j < n; j++)
      for (int i = 0; i < n; i++) {
        float acc[SPP_POOL_LANES];
        memcpy (acc, src + (gsize) (j * k * m + i * k) * L, sizeof acc);
        for (int a = 0; a < k; a++)
          for (int b = 0; b < k; b++)
            vmax_into (acc, src + (gsize) ((j * k + a) * m + i * k + b) * L);
        memcpy (out + (gsize) (j * n + i) * L, acc, sizeof acc);
      }
  }
}

/* dst[k * nn + b] = src[b * lanes + k] for k < valid: a level's bins,
 * lane-major, into its channel-major place. */
static void
transpose_bins (const float *restrict src, int nn, int valid,
                float *restrict dst)
{
  for (int k = 0; k < valid; k++)
    for (int b = 0; b < nn; b++)
      dst[(gsize) k * nn + b] = src[(gsize) b * SPP_POOL_LANES + k];
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_STORES 1

/* The same with 16 x 16 in-register transposes (unpack, then 128-bit
 * lane shuffles): scalar element moves cost more than the pooling. */
__attribute__ ((target ("avx512f"))) static void
transpose_bins_avx512 (const float *restrict src, int nn, int valid,
                       float *restrict dst)
{
  for (int b0 = 0; b0 < nn; b0 += 16) {
    const int nb = MIN (16, nn - b0);
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++)
      r[i] = i < nb ? _mm512_loadu_ps (src + (gsize) (b0 + i) * 16)
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
    for (int k = 0; k < valid; k++)
      _mm512_mask_storeu_ps (dst + (gsize) k * nn + b0, m, r[k]);
  }
}

/* Non-temporal copy of whole 64-byte lines to an aligned dst: no read
 * for ownership, and the output (100 MB for 2,000 ZF-5 windows) does not
 * push the tables out of the cache. */
__attribute__ ((target ("avx512f"))) static void
stream_lines (float *dst, const float *src, gsize n_lines)
{
  for (gsize i = 0; i < n_lines; i++)
    _mm512_stream_ps (dst + 16 * i, _mm512_loadu_ps (src + 16 * i));
}

__attribute__ ((target ("avx512f"))) static void
stream_fence (void)
{
  /* Non-temporal stores are weakly ordered: publish them before another
   * thread reads the rows. */
  _mm_sfence ();
}
#endif

static gboolean
have_avx512 (void)
{
#ifdef HAVE_AVX512_STORES
  return __builtin_cpu_supports ("avx512f");
#else
  return FALSE;
#endif
}

/* How one window's chunk reaches its row. */
typedef struct {
  SppPoolLayout layout;
  int c;
  gboolean avx512;
  gboolean stream; /* whole aligned lines: C % 16 == 0, row 64-aligned */
} Store;

/* The chunk's values in the BLOCKED layout: bins itself for a full chunk,
 * else compacted into stage. */
static const float *
blocked_values (const Plan *p, const float *bins, int valid, float *stage)
{
  if (valid == SPP_POOL_LANES)
    return bins;
  for (int b = 0; b < p->n_bins; b++)
    memcpy (stage + (gsize) b * valid, bins + (gsize) b * SPP_POOL_LANES,
            valid * sizeof (float));
  return stage;
}

static void
store_chunk (const Store *st, const Plan *p, int chunk, const float *bins,
             float *stage, float *row)
{
  const int L = SPP_POOL_LANES, c0 = chunk * L, valid = MIN (L, st->c - c0);
  if (st->layout == SPP_POOL_BLOCKED) {
    float *dst = row + (gsize) c0 * p->n_bins;
#ifdef HAVE_AVX512_STORES
    if (st->stream) {
      stream_lines (dst, bins, p->n_bins);
      return;
    }
#endif
    memcpy (dst, blocked_values (p, bins, valid, stage),
            (gsize) p->n_bins * valid * sizeof (float));
    return;
  }
  for (guint li = 0; li < p->n_levels; li++) {
    const int nn = p->lv[li].n * p->lv[li].n;
    const float *src = bins + (gsize) p->lv[li].bin * L;
    float *dst = row + (gsize) p->lv[li].bin * st->c + (gsize) c0 * nn;
#ifdef HAVE_AVX512_STORES
    if (st->stream) {
      /* Transposed in cache, then whole lines out (16 * nn floats, the
       * chunk's contiguous place in this level). */
      float *t = stage + (gsize) p->lv[li].bin * L;
      if (nn > 1)
        transpose_bins_avx512 (src, nn, L, t);
      stream_lines (dst, nn > 1 ? t : src, nn);
      continue;
    }
    if (st->avx512) {
      transpose_bins_avx512 (src, nn, valid, dst);
      continue;
    }
#endif
    transpose_bins (src, nn, valid, dst);
  }
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

void
spp_pool_scratch_clear (SppPoolScratch *s)
{
  g_clear_pointer (&s->reads, g_free);
  g_clear_pointer (&s->work, g_aligned_free);
  s->reads_size = s->work_size = s->work_stride = 0;
}

/* Sizes the scratch for n windows and returns each worker's share of the
 * work area: tables, then bins, then staging (64-byte aligned). */
static void
scratch_ensure (SppPoolScratch *s, const SppPoolMap *pm, const Plan *p,
                guint n)
{
  const gsize reads = (gsize) MAX (n, 1) * 4 * p->n_direct;
  if (s->reads_size < reads) {
    g_free (s->reads);
    s->reads = g_new (guint32, reads);
    s->reads_size = reads;
  }
  const gsize bins = (gsize) p->n_bins * SPP_POOL_LANES;
  const gsize stride = (tables_size (pm) + 2 * bins + 15) / 16 * 16;
  const gsize size = stride * spp_parallel_get_n_workers ();
  if (s->work_size < size) {
    g_aligned_free (s->work);
    s->work = g_aligned_alloc (size, sizeof (float), 64);
    s->work_size = size;
  }
  s->work_stride = stride;
}

typedef struct {
  const SppPoolMap *pm;
  const Plan *p;
  const int *cells;
  const guint *rows;
  guint n;
  int groups;
  Store st;
  SppPoolSink sink;
  gpointer sink_data;
  SppPoolScratch *s;
  float *out;
} RunJob;

static void
run_reads (gpointer data, int begin, int end, int worker)
{
  const RunJob *j = data;
  Geometry g;
  geometry (j->pm, &g);
  for (int i = begin; i < end; i++)
    window_reads (j->p, &g, j->cells + 4 * i,
                  j->s->reads + (gsize) i * 4 * j->p->n_direct);
}

/* The matrix: task t is chunk t / groups and the (t % groups)-th share of
 * the windows, so a worker builds each of its chunks' tables once. */
SPP_HOT_LOOP
static void
run_rows (gpointer data, int begin, int end, int worker)
{
  const RunJob *j = data;
  const Plan *p = j->p;
  const gsize d = (gsize) j->pm->c * p->n_bins;
  float *tables = j->s->work + j->s->work_stride * worker;
  float *bins = tables + tables_size (j->pm);
  float *stage = bins + (gsize) p->n_bins * SPP_POOL_LANES;
  Geometry g;
  geometry (j->pm, &g);
  int built = -1;
  for (int t = begin; t < end; t++) {
    const int chunk = t / j->groups, share = t % j->groups;
    const guint i0 = (guint) ((guint64) j->n * share / j->groups);
    const guint i1 = (guint) ((guint64) j->n * (share + 1) / j->groups);
    if (i0 == i1)
      continue;
    if (chunk != built)
      build_tables (j->pm, chunk, tables);
    built = chunk;
    for (guint i = i0; i < i1; i++) {
      pool_chunk (&g, tables, p, j->s->reads + (gsize) i * 4 * p->n_direct,
                  bins);
      store_chunk (&j->st, p, chunk, bins, stage,
                   j->out + (j->rows ? j->rows[i] : i) * d);
    }
  }
#ifdef HAVE_AVX512_STORES
  if (j->st.stream)
    stream_fence ();
#endif
}

/* The sink: task t is the t-th share of the windows, every chunk. */
SPP_HOT_LOOP
static void
run_sink (gpointer data, int begin, int end, int worker)
{
  const RunJob *j = data;
  const Plan *p = j->p;
  const int c = j->pm->c, L = SPP_POOL_LANES;
  float *tables = j->s->work + j->s->work_stride * worker;
  float *bins = tables + tables_size (j->pm);
  float *stage = bins + (gsize) p->n_bins * L;
  Geometry g;
  geometry (j->pm, &g);
  for (int t = begin; t < end; t++) {
    const guint i0 = (guint) ((guint64) j->n * t / j->groups);
    const guint i1 = (guint) ((guint64) j->n * (t + 1) / j->groups);
    for (int chunk = 0; chunk < j->pm->n_chunks && i0 < i1; chunk++) {
      const int c0 = chunk * L, valid = MIN (L, c - c0);
      build_tables (j->pm, chunk, tables);
      for (guint i = i0; i < i1; i++) {
        pool_chunk (&g, tables, p,
                    j->s->reads + (gsize) i * 4 * p->n_direct, bins);
        j->sink (j->sink_data, i, blocked_values (p, bins, valid, stage),
                 (gsize) c0 * p->n_bins, (gsize) valid * p->n_bins, worker);
      }
    }
  }
}

void
spp_pool_map_windows (const SppPoolMap *pm, const guint *levels,
                      guint n_levels, const int *cells, const guint *rows,
                      guint n, SppPoolLayout layout, SppPoolScratch *scratch,
                      float *out)
{
  if (n == 0)
    return;
  Plan p;
  plan_levels (levels, n_levels, &p);
  scratch_ensure (scratch, pm, &p, n);
  const int workers = spp_parallel_get_n_workers ();
  const gboolean avx512 = have_avx512 ();
  /* Whole chunks per worker where there are enough; with few channels
   * the windows are split too (each share rebuilds its chunk's tables). */
  const int groups = MAX (1, (2 * workers + pm->n_chunks - 1) / pm->n_chunks);
  RunJob job = { pm, &p, cells, rows, n, groups,
                 { layout, pm->c, avx512,
                   avx512 && pm->c % SPP_POOL_LANES == 0
                       && (guintptr) out % 64 == 0 },
                 NULL, NULL, scratch, out };
  spp_parallel_for (n, run_reads, &job);
  spp_parallel_for (pm->n_chunks * groups, run_rows, &job);
}

void
spp_pool_map_sink (const SppPoolMap *pm, const guint *levels,
                   guint n_levels, const int *cells, guint n,
                   SppPoolSink sink, gpointer data, SppPoolScratch *scratch)
{
  if (n == 0)
    return;
  Plan p;
  plan_levels (levels, n_levels, &p);
  scratch_ensure (scratch, pm, &p, n);
  const int groups = spp_parallel_get_n_workers ();
  RunJob job = { pm, &p, cells, NULL, n, groups,
                 { SPP_POOL_BLOCKED, pm->c, FALSE, FALSE }, sink, data,
                 scratch, NULL };
  spp_parallel_for (n, run_reads, &job);
  spp_parallel_for (groups, run_sink, &job);
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

/* The public calls keep their chunked map and scratch per calling
 * thread: fresh ones would cost a page fault per 4 KB, more than pooling
 * 2,000 windows. Freed when the thread exits. */
typedef struct {
  SppPoolMap pm;
  SppPoolScratch scratch;
  GArray *cells;
} PoolCache;

static void
pool_cache_free (gpointer data)
{
  PoolCache *pc = data;
  spp_pool_map_clear (&pc->pm);
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
  return spp_pool_map_prepare (&pc->pm, map, error) ? pc : NULL;
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
