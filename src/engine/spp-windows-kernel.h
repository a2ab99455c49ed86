/* Window-pooling kernels, compiled once per instruction set: included by
 * spp-windows.c only, inside a #pragma GCC target region, with
 * KERNEL (name) naming this copy's functions, STREAM_LINE (dst, src)
 * storing one 64-byte line without reading it first (a plain copy where
 * the set has no such store), STREAM_FENCE () ordering those stores, and
 * TRANSPOSE_BINS and GATHER_CELLS the transposes to use. No include
 * guard, on purpose. */

/* d = max (d, a) over one chunk's lanes. The pragma keeps GCC from
 * unrolling the loop into 16 scalar maxima before the vectoriser sees it:
 * as a loop it becomes one zmm (two ymm, four xmm) vmaxps, and a local d
 * stays in a register. */
static inline __attribute__ ((always_inline)) void
KERNEL (vmax_into) (float *restrict d, const float *restrict a)
{
#pragma GCC unroll 1
  for (int k = 0; k < SPP_POOL_LANES; k++)
    d[k] = a[k] > d[k] ? a[k] : d[k];
}

/* One chunk's tables into buf: the chunk's cells channel-last (straight
 * from the map's planes into this core's cache), then each table from the
 * one of half its width (or height). */
static void
KERNEL (build_tables) (const SppPoolMap *pm, int chunk, float *buf)
{
  Geometry g;
  geometry (pm, &g);
  const int h = g.h, w = g.w, L = SPP_POOL_LANES;
  const int c0 = chunk * L;
  const gsize plane = (gsize) h * w;
  GATHER_CELLS (pm->data + c0 * plane, plane, MIN (L, pm->c - c0), buf);
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
          float acc[SPP_POOL_LANES];
          memcpy (acc, src + o, sizeof acc);
          KERNEL (vmax_into) (acc, src + o + step);
          memcpy (dst + o, acc, sizeof acc);
        }
    }
}

/* dst = the max of a far bin (window_reads): bin (j, i) of level li of
 * the window's cells, from the largest blocks every b cells, the last
 * pulled back to end at the edge. */
static void
KERNEL (max_far) (const Geometry *g, const float *buf, const Plan *p,
                  const int cells[4], guint64 v, float *restrict dst)
{
  const int L = SPP_POOL_LANES, n = p->lv[(v >> 12) & 15].n;
  int x0, x1, y0, y1;
  spp_pyramid_bin_range (cells[2] - cells[0] + 1, n, v & 63, &x0, &x1);
  spp_pyramid_bin_range (cells[3] - cells[1] + 1, n, (v >> 6) & 63, &y0, &y1);
  x0 += cells[0];
  x1 += cells[0];
  y0 += cells[1];
  y1 += cells[1];
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
      KERNEL (vmax_into) (acc, t + (yy * w + xx) * L);
      if (xx + bx >= x1)
        break;
    }
    if (yy + by >= y1)
      break;
  }
  memcpy (dst, acc, sizeof acc);
}

/* The merged level's bins from its source's, k x k each (k constant in
 * the common calls, so the loops unroll); each also streamed to lines,
 * or paired with one pending line (pool_chunk_body). */
static inline __attribute__ ((always_inline)) void
KERNEL (merge_level) (const float *src, int m, int n, int k, float *out,
                      float *lines, const Pending *pend, int *q)
{
  const int L = SPP_POOL_LANES;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++) {
      float acc[SPP_POOL_LANES];
      memcpy (acc, src + (gsize) (j * k * m + i * k) * L, sizeof acc);
      for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++)
          if (a || b)
            KERNEL (vmax_into) (acc,
                                src + (gsize) ((j * k + a) * m + i * k + b) * L);
      memcpy (out + (gsize) (j * n + i) * L, acc, sizeof acc);
      if (lines)
        STREAM_LINE (lines + (gsize) (j * n + i) * L, acc);
      if (pend)
        STREAM_LINE (pend->dst[*q], pend->src + (gsize) *q * L);
      ++*q;
    }
}

/* Every bin of one window for one chunk into bins[bin][lane]. With lines
 * (the chunk's run of a BLOCKED row), each bin also goes straight out as
 * it is made: spread between the maxima, the stores drain while the core
 * computes, instead of stalling it in one burst of 50 lines. With pend
 * (the previous window's lines, transposed into channel-major order),
 * one of those goes out per bin made, for the same reason. */
static inline __attribute__ ((always_inline)) void
KERNEL (pool_chunk_body) (const Geometry *g, const float *buf, const Plan *p,
                          const int *cells, const guint64 *r, float *bins,
                          float *lines, const Pending *pend)
{
  const int L = SPP_POOL_LANES;
  int q = 0;
  for (guint li = 0; li < p->n_levels; li++) {
    if (p->lv[li].src >= 0)
      continue;
    const int nn = p->lv[li].n * p->lv[li].n;
    float *out = bins + (gsize) p->lv[li].bin * L;
    float *line = lines ? lines + (gsize) p->lv[li].bin * L : NULL;
    for (int b = 0; b < nn; b++, r++) {
      const guint64 v = *r;
      if (G_UNLIKELY (v & FAR_BIN)) {
        /* Out of line, into the bins: a0 below never has its address
         * taken, so it stays in registers. */
        KERNEL (max_far) (g, buf, p, cells, v, out + b * L);
        if (lines)
          STREAM_LINE (line + b * L, out + b * L);
      } else {
        /* The four corner blocks; two chains for the latency. The top
         * bit is clear here, so dy needs no mask. */
        const float *c00 = buf + (guint32) v;
        const gsize dx = (v >> 32) & 127, dy = v >> 39;
        float a0[SPP_POOL_LANES], a1[SPP_POOL_LANES];
        memcpy (a0, c00, sizeof a0);
        memcpy (a1, c00 + dy, sizeof a1);
        KERNEL (vmax_into) (a0, c00 + dx);
        KERNEL (vmax_into) (a1, c00 + dy + dx);
        KERNEL (vmax_into) (a0, a1);
        memcpy (out + b * L, a0, sizeof a0);
        if (lines)
          STREAM_LINE (line + b * L, a0);
      }
      if (pend)
        STREAM_LINE (pend->dst[q], pend->src + (gsize) q * L);
      q++;
    }
  }
  for (int o = 0; o < p->n_merged; o++) {
    const int li = p->order[o], n = p->lv[li].n;
    const int m = p->lv[p->lv[li].src].n, k = m / n;
    const float *src = bins + (gsize) p->lv[p->lv[li].src].bin * L;
    float *out = bins + (gsize) p->lv[li].bin * L;
    float *line = lines ? lines + (gsize) p->lv[li].bin * L : NULL;
    if (k == 2)
      KERNEL (merge_level) (src, m, n, 2, out, line, pend, &q);
    else if (k == 3)
      KERNEL (merge_level) (src, m, n, 3, out, line, pend, &q);
    else
      KERNEL (merge_level) (src, m, n, k, out, line, pend, &q);
  }
}

/* Out of line, one copy per way of storing, so the registers are
 * allocated for this loop alone. */
static __attribute__ ((noinline)) void
KERNEL (pool_chunk) (const Geometry *g, const float *buf, const Plan *p,
                     const int *cells, const guint64 *r, float *bins)
{
  KERNEL (pool_chunk_body) (g, buf, p, cells, r, bins, NULL, NULL);
}

static __attribute__ ((noinline)) void
KERNEL (pool_chunk_stream) (const Geometry *g, const float *buf,
                            const Plan *p, const int *cells, const guint64 *r,
                            float *bins, float *lines)
{
  /* Lets the compiler drop the per-bin test of lines. */
  if (lines == NULL)
    __builtin_unreachable ();
  KERNEL (pool_chunk_body) (g, buf, p, cells, r, bins, lines, NULL);
}

static __attribute__ ((noinline)) void
KERNEL (pool_chunk_pend) (const Geometry *g, const float *buf,
                          const Plan *p, const int *cells, const guint64 *r,
                          float *bins, const Pending *pend)
{
  KERNEL (pool_chunk_body) (g, buf, p, cells, r, bins, NULL, pend);
}

/* A full chunk's channel-major lines into pend: each level's 16 x n*n
 * block is contiguous in the row, so it is transposed in cache; its
 * lines go out while the next window is pooled. */
static void
KERNEL (stage_channel_major) (const Plan *p, int c, int c0,
                              const float *bins, float *row, Pending *pend)
{
  const int L = SPP_POOL_LANES;
  for (guint li = 0; li < p->n_levels; li++) {
    const int nn = p->lv[li].n * p->lv[li].n, bin = p->lv[li].bin;
    float *t = pend->src + (gsize) bin * L;
    float *dst = row + (gsize) bin * c + (gsize) c0 * nn;
    if (nn > 1)
      TRANSPOSE_BINS (bins + (gsize) bin * L, nn, L, t);
    else
      memcpy (t, bins + (gsize) bin * L, L * sizeof (float));
    for (int i = 0; i < nn; i++)
      pend->dst[bin + i] = dst + i * L;
  }
}

static void
KERNEL (flush_pending) (const Plan *p, const Pending *pend)
{
  for (int q = 0; q < p->n_bins; q++)
    STREAM_LINE (pend->dst[q], pend->src + (gsize) q * SPP_POOL_LANES);
}

/* One chunk of one share of the windows into the matrix. */
static inline __attribute__ ((always_inline)) void
KERNEL (rows_unit) (const RunJob *j, const Geometry *g, Work *w, int share,
                    int chunk, Pending **cur, Pending **prev)
{
  const Plan *p = j->p;
  const gsize d = (gsize) j->pm->c * p->n_bins;
  const int c0 = chunk * SPP_POOL_LANES;
  const guint i0 = (guint) ((guint64) j->n * share / j->groups);
  const guint i1 = (guint) ((guint64) j->n * (share + 1) / j->groups);
  if (i0 == i1)
    return;
  KERNEL (build_tables) (j->pm, chunk, w->tables);
  for (guint i = i0; i < i1; i++) {
    const guint64 *r = j->s->reads + (gsize) i * p->n_direct;
    const int *cells = j->cells + 4 * i;
    float *row = j->out + (j->rows ? j->rows[i] : i) * d;
    if (j->st.stream && j->st.layout == SPP_POOL_BLOCKED) {
      KERNEL (pool_chunk_stream) (g, w->tables, p, cells, r, w->bins,
                                  row + (gsize) c0 * p->n_bins);
    } else if (j->st.stream) {
      KERNEL (pool_chunk_pend) (g, w->tables, p, cells, r, w->bins, *prev);
      KERNEL (stage_channel_major) (p, j->pm->c, c0, w->bins, row, *cur);
      *prev = *cur;
      *cur = *cur == &w->pend[0] ? &w->pend[1] : &w->pend[0];
    } else {
      KERNEL (pool_chunk) (g, w->tables, p, cells, r, w->bins);
      store_chunk (&j->st, p, chunk, w->bins, w->pend[0].src, row);
    }
  }
}

/* The matrix: item t starts on share t % groups of the windows and takes
 * its chunks one at a time from the share's counter, then what is left of
 * the other shares' (spp_pool_map_windows says why). Each (share, chunk)
 * is pooled once, by whichever core takes it. */
static void
KERNEL (run_rows) (gpointer data, int begin, int end, int worker)
{
  RunJob *j = data;
  Work w;
  work_area (j, worker, &w);
  Pending *cur = &w.pend[0], *prev = NULL;
  Geometry g;
  geometry (j->pm, &g);
  for (int t = begin; t < end; t++) {
    for (int k = 0; k < j->groups; k++) {
      const int share = (t + k) % j->groups;
      int chunk;
      while ((chunk = g_atomic_int_add (&j->next[share], 1))
             < j->pm->n_chunks)
        KERNEL (rows_unit) (j, &g, &w, share, chunk, &cur, &prev);
    }
  }
  if (prev)
    KERNEL (flush_pending) (j->p, prev);
  if (j->st.stream)
    STREAM_FENCE ();
}

/* The sink: task t is the t-th share of the windows, every chunk. */
static void
KERNEL (run_sink) (gpointer data, int begin, int end, int worker)
{
  const RunJob *j = data;
  const Plan *p = j->p;
  const int c = j->pm->c, L = SPP_POOL_LANES;
  Work w;
  work_area (j, worker, &w);
  float *tables = w.tables, *bins = w.bins, *stage = w.pend[0].src;
  Geometry g;
  geometry (j->pm, &g);
  for (int t = begin; t < end; t++) {
    const guint i0 = (guint) ((guint64) j->n * t / j->groups);
    const guint i1 = (guint) ((guint64) j->n * (t + 1) / j->groups);
    for (int chunk = 0; chunk < j->pm->n_chunks && i0 < i1; chunk++) {
      const int c0 = chunk * L, valid = MIN (L, c - c0);
      KERNEL (build_tables) (j->pm, chunk, tables);
      for (guint i = i0; i < i1; i++) {
        KERNEL (pool_chunk) (&g, tables, p, j->cells + 4 * i,
                             j->s->reads + (gsize) i * p->n_direct, bins);
        j->sink (j->sink_data, i, blocked_values (p, bins, valid, stage),
                 (gsize) c0 * p->n_bins, (gsize) valid * p->n_bins, worker);
      }
    }
  }
}
