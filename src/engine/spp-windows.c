/* The window pooler (pyramid-private.h says how it works): plans the
 * levels, works out each window's table reads once, and runs the kernels
 * of the best instruction set the CPU has (spp-windows-kernel.h, compiled
 * once per set). */
#include "spp-engine/pyramid.h"

#include "spp-engine/parallel.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86_KERNELS 1
/* A region of functions compiled for one instruction set. */
#ifdef __clang__
#define TARGET_BEGIN(isa)                                                    \
  _Pragma (G_STRINGIFY (clang attribute push (                               \
      __attribute__ ((target (isa))), apply_to = function)))
#define TARGET_END _Pragma ("clang attribute pop")
#else
#define TARGET_BEGIN(isa)                                                    \
  _Pragma ("GCC push_options") _Pragma (G_STRINGIFY (GCC target (isa)))
#define TARGET_END _Pragma ("GCC pop_options")
#endif
#endif

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

/* Each direct bin of a window costs four reads in the tables: the blocks
 * at its corners, (kx, ky) the largest that fit, cover it (they coincide
 * where it is one block wide). Where they are is the same for every
 * chunk, so it is worked out once per window, one 64-bit word per bin:
 * the top-left block's offset in floats (bits 0-31), the step to the
 * right corners (bits 32-38) and to the bottom ones (bits 39-62), also in
 * floats. A bin past twice the largest blocks (or tables of 2^31 floats
 * or more) is marked FAR_BIN instead, with its level and position, and
 * pooled from the window's cells. Eight bytes per bin keep this
 * per-window state small (288 bytes for the default levels): it is the
 * part of the detector's memory that grows with the number of windows. */
#define FAR_BIN (G_GUINT64_CONSTANT (1) << 63)

static inline guint64
far_bin (guint li, int j, int i)
{
  return FAR_BIN | li << 12 | (guint32) j << 6 | (guint32) i;
}

static void
window_reads (const Plan *p, const Geometry *g, const int cells[4],
              guint64 *r)
{
  const int ww = cells[2] - cells[0] + 1, wh = cells[3] - cells[1] + 1;
  const gsize L = SPP_POOL_LANES, row = (gsize) g->w * L;
  const gboolean fits = g->size * g->nx * g->ny < G_MAXINT32
                        && 4 * row < (1u << 24);
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
      for (int i = 0; i < n; i++, r++) {
        const int x0 = cells[0] + xs[i], x1 = cells[0] + xe[i];
        const int y0 = cells[1] + ys[j], y1 = cells[1] + ye[j];
        const int kx = MIN (block_level (x1 - x0), g->nx - 1);
        const int ky = MIN (block_level (y1 - y0), g->ny - 1);
        const int bx = 1 << kx, by = 1 << ky;
        if (!fits || x1 - x0 > 2 * bx || y1 - y0 > 2 * by) {
          *r = far_bin (li, j, i);
          continue;
        }
        const gsize c00 = (ky * g->nx + kx) * g->size + (y0 * row + x0 * L);
        *r = c00 | (guint64) ((x1 - bx - x0) * L) << 32
             | (guint64) ((y1 - by - y0) * row) << 39;
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

/* Cells i0.. of a chunk's planes (valid of them, stride plane) into
 * channel-last lines dst[cell * 16 + k], zero past valid. */
static void
gather_cells_tail (const float *restrict src, gsize plane, int valid,
                   gsize i0, float *restrict dst)
{
  for (int k = 0; k < SPP_POOL_LANES; k++)
    for (gsize i = i0; i < plane; i++)
      dst[i * SPP_POOL_LANES + k] = k < valid ? src[k * plane + i] : 0.0f;
}

static void
gather_cells (const float *restrict src, gsize plane, int valid,
              float *restrict dst)
{
  gather_cells_tail (src, plane, valid, 0, dst);
}

#ifdef HAVE_X86_KERNELS
TARGET_BEGIN ("avx512f")
/* r = r^T, 16 x 16, in registers: unpack, then 128-bit lane shuffles. */
static inline __attribute__ ((always_inline)) void
transpose16 (__m512 r[16])
{
  __m512 t[16];
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
}

/* transpose_bins with in-register transposes: scalar element moves cost
 * more than the pooling. */
static void
transpose_bins_avx512 (const float *restrict src, int nn, int valid,
                       float *restrict dst)
{
  for (int b0 = 0; b0 < nn; b0 += 16) {
    const int nb = MIN (16, nn - b0);
    __m512 r[16];
    for (int i = 0; i < 16; i++)
      r[i] = i < nb ? _mm512_loadu_ps (src + (gsize) (b0 + i) * 16)
                    : _mm512_setzero_ps ();
    transpose16 (r);
    const __mmask16 m = (__mmask16) ((1u << nb) - 1);
    for (int k = 0; k < valid; k++)
      _mm512_mask_storeu_ps (dst + (gsize) k * nn + b0, m, r[k]);
  }
}

/* gather_cells with in-register transposes, 16 cells at a time. */
static void
gather_cells_avx512 (const float *restrict src, gsize plane, int valid,
                     float *restrict dst)
{
  gsize i = 0;
  for (; i + 16 <= plane; i += 16) {
    __m512 r[16];
    for (int k = 0; k < 16; k++)
      r[k] = k < valid ? _mm512_loadu_ps (src + k * plane + i)
                       : _mm512_setzero_ps ();
    transpose16 (r);
    for (int t = 0; t < 16; t++)
      _mm512_storeu_ps (dst + (i + t) * 16, r[t]);
  }
  gather_cells_tail (src, plane, valid, i, dst);
}

TARGET_END
#endif

/* How one window's chunk reaches its row. */
typedef struct {
  SppPoolLayout layout;
  int c;
  gboolean stream; /* whole aligned lines: C % 16 == 0, rows 64-aligned */
  gboolean avx512;
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

/* Rows that take no streaming: partial chunks, unaligned rows. */
static void
store_chunk (const Store *st, const Plan *p, int chunk, const float *bins,
             float *stage, float *row)
{
  const int L = SPP_POOL_LANES, c0 = chunk * L, valid = MIN (L, st->c - c0);
  if (st->layout == SPP_POOL_BLOCKED) {
    memcpy (row + (gsize) c0 * p->n_bins,
            blocked_values (p, bins, valid, stage),
            (gsize) p->n_bins * valid * sizeof (float));
    return;
  }
  for (guint li = 0; li < p->n_levels; li++) {
    const int nn = p->lv[li].n * p->lv[li].n;
    const float *src = bins + (gsize) p->lv[li].bin * L;
    float *dst = row + (gsize) p->lv[li].bin * st->c + (gsize) c0 * nn;
#ifdef HAVE_X86_KERNELS
    if (st->avx512) {
      transpose_bins_avx512 (src, nn, valid, dst);
      continue;
    }
#endif
    transpose_bins (src, nn, valid, dst);
  }
}

void
spp_pool_scratch_clear (SppPoolScratch *s)
{
  g_clear_pointer (&s->reads, g_free);
  g_clear_pointer (&s->work, g_aligned_free);
  s->reads_size = s->work_size = s->work_stride = 0;
}

/* Sizes the scratch for n windows and each worker's share of the work
 * area (64-byte aligned, see work_area). */
static void
scratch_ensure (SppPoolScratch *s, const SppPoolMap *pm, const Plan *p,
                guint n)
{
  const gsize reads = (gsize) MAX (n, SPP_POOL_RESERVED_WINDOWS) * p->n_direct;
  if (s->reads_size < reads) {
    g_free (s->reads);
    s->reads = g_new (guint64, reads);
    /* Touched now, so that resident memory does not creep up as the
     * number of windows per frame reaches new highs. */
    memset (s->reads, 0, reads * sizeof (guint64));
    s->reads_size = reads;
  }
  const gsize bins = (gsize) p->n_bins * SPP_POOL_LANES;
  const gsize dsts = (gsize) p->n_bins * sizeof (float *) / sizeof (float);
  const gsize stride = (tables_size (pm) + 3 * bins + 2 * dsts + 15) / 16 * 16;
  const gsize size = stride * spp_parallel_get_n_workers ();
  if (s->work_size < size) {
    g_aligned_free (s->work);
    s->work = g_aligned_alloc (size, sizeof (float), 64);
    s->work_size = size;
  }
  s->work_stride = stride;
}

#define SPP_POOL_MAX_GROUPS 16

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
  gint next[SPP_POOL_MAX_GROUPS]; /* run_rows: each share's next chunk */
} RunJob;

/* A window's lines waiting to be streamed: line q from src + 16 q to
 * dst[q]. */
typedef struct {
  float *src;
  float **dst;
} Pending;

/* A worker's share of the scratch: the chunk's tables, one window's bins,
 * two sets of pending lines (the window being staged, the one going
 * out). */
typedef struct {
  float *tables, *bins;
  Pending pend[2];
} Work;

static void
work_area (const RunJob *j, int worker, Work *w)
{
  const gsize bins = (gsize) j->p->n_bins * SPP_POOL_LANES;
  w->tables = j->s->work + j->s->work_stride * worker;
  w->bins = w->tables + tables_size (j->pm);
  w->pend[0].src = w->bins + bins;
  w->pend[1].src = w->pend[0].src + bins;
  w->pend[0].dst = (float **) (void *) (w->pend[1].src + bins);
  w->pend[1].dst = w->pend[0].dst + j->p->n_bins;
}

static void
run_reads (gpointer data, int begin, int end, int worker)
{
  const RunJob *j = data;
  Geometry g;
  geometry (j->pm, &g);
  for (int i = begin; i < end; i++)
    window_reads (j->p, &g, j->cells + 4 * i,
                  j->s->reads + (gsize) i * j->p->n_direct);
}

/* The kernels, once per instruction set. */
#define KERNEL(name) name##_generic
#define STREAM_LINE(dst, src) memcpy ((dst), (src), 64)
#define STREAM_FENCE() ((void) 0)
#define TRANSPOSE_BINS transpose_bins
#define GATHER_CELLS gather_cells
#include "spp-windows-kernel.h"
#undef KERNEL
#undef STREAM_LINE
#undef STREAM_FENCE
#undef TRANSPOSE_BINS
#undef GATHER_CELLS

#ifdef HAVE_X86_KERNELS
TARGET_BEGIN ("avx2")
#define KERNEL(name) name##_avx2
#define STREAM_LINE(dst, src)                                                \
  (_mm256_stream_ps ((dst), _mm256_loadu_ps (src)),                          \
   _mm256_stream_ps ((dst) + 8, _mm256_loadu_ps ((src) + 8)))
#define STREAM_FENCE() _mm_sfence ()
#define TRANSPOSE_BINS transpose_bins
#define GATHER_CELLS gather_cells
#include "spp-windows-kernel.h"
#undef KERNEL
#undef STREAM_LINE
#undef TRANSPOSE_BINS
#undef GATHER_CELLS
TARGET_END

TARGET_BEGIN ("avx512f")
#define KERNEL(name) name##_avx512
#define STREAM_LINE(dst, src) _mm512_stream_ps ((dst), _mm512_loadu_ps (src))
#define TRANSPOSE_BINS transpose_bins_avx512
#define GATHER_CELLS gather_cells_avx512
#include "spp-windows-kernel.h"
#undef KERNEL
#undef STREAM_LINE
#undef STREAM_FENCE
#undef TRANSPOSE_BINS
#undef GATHER_CELLS
TARGET_END
#endif

typedef struct {
  SppRangeFunc rows, sink;
  gboolean stream, avx512;
} Kernels;

static const Kernels generic_kernels = { run_rows_generic, run_sink_generic,
                                         FALSE, FALSE };
#ifdef HAVE_X86_KERNELS
static const Kernels avx2_kernels = { run_rows_avx2, run_sink_avx2, TRUE,
                                      FALSE };
static const Kernels avx512_kernels = { run_rows_avx512, run_sink_avx512, TRUE,
                                        TRUE };
#endif
static const Kernels *forced_kernels;

static const Kernels *
kernels (void)
{
  if (forced_kernels)
    return forced_kernels;
#ifdef HAVE_X86_KERNELS
  if (__builtin_cpu_supports ("avx512f"))
    return &avx512_kernels;
  if (__builtin_cpu_supports ("avx2"))
    return &avx2_kernels;
#endif
  return &generic_kernels;
}

gboolean
spp_pool_force_kernels (const char *isa)
{
  forced_kernels = NULL;
  if (isa == NULL)
    return TRUE;
  if (g_str_equal (isa, "generic"))
    forced_kernels = &generic_kernels;
#ifdef HAVE_X86_KERNELS
  else if (g_str_equal (isa, "avx2") && __builtin_cpu_supports ("avx2"))
    forced_kernels = &avx2_kernels;
  else if (g_str_equal (isa, "avx512") && __builtin_cpu_supports ("avx512f"))
    forced_kernels = &avx512_kernels;
#endif
  return forced_kernels != NULL;
}

/* Plans the levels and sizes the scratch; FALSE: no windows. */
static gboolean
run_begin (const SppPoolMap *pm, const guint *levels, guint n_levels,
           guint n, SppPoolScratch *scratch, Plan *p)
{
  if (n == 0)
    return FALSE;
  plan_levels (levels, n_levels, p);
  scratch_ensure (scratch, pm, p, n);
  return TRUE;
}

void
spp_pool_map_windows (const SppPoolMap *pm, const guint *levels,
                      guint n_levels, const int *cells, const guint *rows,
                      guint n, SppPoolLayout layout, SppPoolScratch *scratch,
                      float *out)
{
  Plan p;
  if (!run_begin (pm, levels, n_levels, n, scratch, &p))
    return;
  const int workers = spp_parallel_get_n_workers ();
  const Kernels *k = kernels ();
  /* Many windows are split into shares, at least one per worker, each
   * share pooled chunk after chunk (its own tables for each): each core
   * then streams into its own rows of the matrix, which was steadier than
   * both cores writing every row. A few windows (one, for whole-map SPP)
   * are split by chunks instead. A core that is done with its share takes
   * chunks left in the others': the cores of these machines do not
   * always run at one speed, and the pool thread can wake late; with
   * cores at one speed this costs nothing measurable (figures in
   * docs/performance.md, core section). The per-share counters, not spp_parallel_for's grains, do this sharing:
   * grains of chunks would put both cores in one share's rows from the
   * start, which is what the split by shares avoids. */
  const int by_chunks = (2 * workers + pm->n_chunks - 1) / pm->n_chunks;
  const int groups = MIN (n >= 64 * (guint) workers
                              ? MAX (workers, by_chunks)
                              : MAX (1, by_chunks),
                          SPP_POOL_MAX_GROUPS);
  RunJob job = { pm, &p, cells, rows, n, groups,
                 { layout, pm->c,
                   k->stream && pm->c % SPP_POOL_LANES == 0
                       && (guintptr) out % 64 == 0,
                   k->avx512 },
                 NULL, NULL, scratch, out, { 0 } };
  spp_parallel_for (n, run_reads, &job);
  spp_parallel_for (MAX (groups, workers), k->rows, &job);
}

void
spp_pool_map_sink (const SppPoolMap *pm, const guint *levels,
                   guint n_levels, const int *cells, guint n,
                   SppPoolSink sink, gpointer data, SppPoolScratch *scratch)
{
  Plan p;
  if (!run_begin (pm, levels, n_levels, n, scratch, &p))
    return;
  const int groups = spp_parallel_get_n_workers ();
  RunJob job = { pm, &p, cells, NULL, n, groups,
                 { SPP_POOL_BLOCKED, pm->c, FALSE, FALSE }, sink, data,
                 scratch, NULL, { 0 } };
  spp_parallel_for (n, run_reads, &job);
  spp_parallel_for (groups, kernels ()->sink, &job);
}

