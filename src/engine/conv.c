/* Convolution as im2col + one sgemm per group (darknet's shape), with the
 * cases where im2col is waste handled apart: 1x1 stride-1 unpadded
 * convolutions multiply the input directly; depthwise convolutions (one
 * input channel per group) run a direct loop, since a GEMM with one
 * output row cannot use the machine; and convolutions with a deep input
 * (ZF-5's conv2-5) run one GEMM per kernel row on a matrix a fraction of
 * im2col's size (conv_rows). */
#include "layers-private.h"

#include "spp-engine/blas.h"
#include "spp-engine/parallel.h"

#include <string.h>

/* Column blocks bound the im2col buffer. Each block's GEMM packs the
 * whole weight matrix again (5 MB for ZF-5's conv4), so blocks are large:
 * 16 MB instead of 4 MB took a sixth off ZF-5's conv2-5, and larger ones
 * gained nothing measurable (docs/performance.md, core section). */
#define COL_BLOCK_BYTES (16u << 20)

/* Layers with small weights (ZF-5's conv1, most of NanoDet's) are
 * memory-bound in im2col, OpenBLAS's packing and the output passes, not
 * in the multiply: each core instead takes column panels of its own and
 * runs im2col, a one-thread GEMM, bias and activation on a panel that
 * stays in its L2 cache. */
#define PANEL_MAX_WEIGHTS (64u << 10) /* floats (256 KB) */
#define PANEL_BYTES (256u << 10)
#define PANEL_MIN_COLS 64

int
spp_conv_out_size (int in, int k, int s, int pad_a, int pad_b, int dil)
{
  int span = dil * (k - 1) + 1;
  if (in + pad_a + pad_b < span)
    return 0;
  return (in + pad_a + pad_b - span) / s + 1;
}

static gboolean
is_pointwise (const SppLayer *l)
{
  const SppWindow *w = &l->win;
  return w->kh == 1 && w->kw == 1 && w->sh == 1 && w->sw == 1 && !w->pad_t
         && !w->pad_l && !w->pad_b && !w->pad_r;
}

static gboolean
is_depthwise (const SppLayer *l)
{
  return l->groups > 1 && l->groups == l->in_c && l->out_c == l->in_c;
}

/* Columns per panel, or 0 when this layer runs in shared blocks. */
static int
panel_cols (const SppLayer *l, int out_h, int out_w)
{
  const gsize k = (gsize) (l->in_c / l->groups) * l->win.kh * l->win.kw;
  const gsize m = l->out_c / l->groups;
  const gsize plane = (gsize) out_h * out_w;
  if (spp_parallel_get_n_workers () < 2 || m * k > PANEL_MAX_WEIGHTS
      || !spp_blas_can_run_per_thread ())
    return 0;
  gsize cols = MAX (PANEL_BYTES / (k * sizeof (float)), PANEL_MIN_COLS);
  cols = (cols + 15) / 16 * 16;
  /* Worth it only with a few panels per core. */
  if (plane < 4 * cols * spp_parallel_get_n_workers ())
    return 0;
  return (int) cols;
}

static int
col_block (const SppLayer *l, int out_h, int out_w)
{
  gsize k = (gsize) (l->in_c / l->groups) * l->win.kh * l->win.kw;
  gsize cols = COL_BLOCK_BYTES / (k * sizeof (float));
  gsize total = (gsize) out_h * out_w;
  /* Whole output rows per block, at least one. */
  gsize rows = MAX (cols / (gsize) out_w, 1);
  return (int) MIN (rows * out_w, total);
}

/* Row r = (c*kh + i)*kw + j of the column block: col[r][p - p0] for
 * output pixels p in [p0, p1), zero where the tap falls in the padding. */
static inline __attribute__ ((always_inline)) void
im2col_row (const float *in, int in_h, int in_w, const SppWindow *w,
            int out_w, int p0, int p1, int r, float *col)
{
  const int n = p1 - p0;
  const int kj = r % w->kw, ki = (r / w->kw) % w->kh, c = r / (w->kw * w->kh);
  const float *plane = in + (gsize) c * in_h * in_w;
  float *dst = col + (gsize) r * n;
  int p = p0;
  while (p < p1) {
    int oy = p / out_w, ox = p % out_w;
    int run = MIN (out_w - ox, p1 - p);
    int iy = oy * w->sh - w->pad_t + ki * w->dil_h;
    int ix0 = ox * w->sw - w->pad_l + kj * w->dil_w;
    float *d = dst + (p - p0);
    if (iy < 0 || iy >= in_h) {
      memset (d, 0, run * sizeof (float));
    } else {
      const float *row = plane + (gsize) iy * in_w;
      /* Taps t in [t0, t1) land inside the row; zeros around. */
      const int sw = w->sw;
      int t0 = ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw;
      int t1 = ix0 >= in_w ? 0 : (in_w - 1 - ix0) / sw + 1;
      t0 = MIN (t0, run);
      t1 = CLAMP (t1, t0, run);
      for (int t = 0; t < t0; t++)
        d[t] = 0.0f;
      const float *src = row + ix0;
      if (sw == 1) {
        memcpy (d + t0, src + t0, (t1 - t0) * sizeof (float));
      } else if (sw == 2) {
        /* A constant stride vectorises (even-lane permutes). */
        for (int t = t0; t < t1; t++)
          d[t] = src[2 * t];
      } else {
        for (int t = t0; t < t1; t++)
          d[t] = src[t * sw];
      }
      for (int t = t1; t < run; t++)
        d[t] = 0.0f;
    }
    p += run;
  }
}

/* The row path: one GEMM per kernel row instead of one over the whole
 * kernel. Output pixel (y, x) reads input row y*sh + i*dil_h - pad_t at
 * kernel row i; writing i*dil_h = a*sh + py, that is row (y + a)*sh + py
 * - pad_t. So for each phase py a matrix X_py holds, per input channel c
 * and kernel column j, the im2col row of (c, j) over "rows" u and output
 * columns x: X_py[c*kw + j][u*out_w + x] = in[c][u*sh + py - pad_t]
 * [x*sw + j*dil_w - pad_l]. Kernel row i is then the GEMM
 *   out += W_i (out_c x in_c*kw) x (X_py shifted by a*out_w),
 * the shift a constant offset into the same matrix. X is kw/kh x (times
 * sh for strided layers, over the phases) the size of the im2col matrix,
 * so ZF-5's conv2-5 write 2.5-3x fewer floats before their GEMMs (95 MB
 * of im2col for conv2 at 688x917), and the GEMMs lose nothing where each
 * is deep (ROW_MIN_DEPTH): measured, ZF-5's conv2 as five GEMMs of depth
 * 480 ran in the time of its single one of depth 2400. Output rows go in
 * bands that bound X like the im2col blocks. */
#define ROW_MIN_DEPTH 128
#define ROW_MAX_STRIDE 8 /* phases; larger strides (the loader allows 64) use im2col */

gboolean
spp_conv_has_rows (const SppLayer *l)
{
  return l->groups == 1 && l->win.kh > 1 && l->win.sh <= ROW_MAX_STRIDE
         && l->in_c * l->win.kw >= ROW_MIN_DEPTH;
}

gboolean
spp_conv_uses_rows (const SppLayer *l, int in_h, int in_w)
{
  const SppWindow *w = &l->win;
  const int oh = spp_conv_out_size (in_h, w->kh, w->sh, w->pad_t, w->pad_b,
                                    w->dil_h);
  const int ow = spp_conv_out_size (in_w, w->kw, w->sw, w->pad_l, w->pad_r,
                                    w->dil_w);
  return spp_conv_has_rows (l) && oh > 0 && ow > 0
         && panel_cols (l, oh, ow) == 0;
}

float *
spp_conv_row_weights (const SppLayer *l)
{
  const int o = l->out_c, c = l->in_c, kh = l->win.kh, kw = l->win.kw;
  const float *src = l->weight->data;
  float *dst = g_new (float, (gsize) kh * o * c * kw);
  for (int i = 0; i < kh; i++)
    for (int m = 0; m < o; m++)
      for (int k = 0; k < c; k++)
        memcpy (dst + (((gsize) i * o + m) * c + k) * kw,
                src + (((gsize) m * c + k) * kh + i) * kw, kw * sizeof (float));
  return dst;
}

/* Extra rows past a band that phase py reads: the largest a of its
 * kernel rows, or -1 when no kernel row has this phase. */
static int
phase_reach (const SppWindow *w, int py)
{
  int reach = -1;
  for (int i = 0; i < w->kh; i++)
    if (i * w->dil_h % w->sh == py)
      reach = MAX (reach, i * w->dil_h / w->sh);
  return reach;
}

/* Output rows per band: X of every phase within COL_BLOCK_BYTES. */
static int
row_band (const SppLayer *l, int out_h, int out_w)
{
  const SppWindow *w = &l->win;
  const gsize per_row = (gsize) l->in_c * w->kw * out_w * sizeof (float);
  gsize extra = 0;
  int phases = 0;
  for (int py = 0; py < w->sh; py++)
    if (phase_reach (w, py) >= 0) {
      phases++;
      extra += phase_reach (w, py);
    }
  gsize rows = COL_BLOCK_BYTES / per_row;
  rows = rows > extra ? (rows - extra) / phases : 1;
  return (int) CLAMP (rows, 1, (gsize) out_h);
}

static gsize
row_scratch_size (const SppLayer *l, int out_h, int out_w)
{
  const SppWindow *w = &l->win;
  const int band = row_band (l, out_h, out_w);
  gsize rows = 0;
  for (int py = 0; py < w->sh; py++)
    if (phase_reach (w, py) >= 0)
      rows += band + phase_reach (w, py);
  return rows * l->in_c * w->kw * out_w;
}

/* Items: X rows of the band [y0, y1) (phase by phase, c*kw + j), then
 * the bias and activation of the previous band's output rows, one item
 * per output channel (as block_prep). */
typedef struct {
  const SppLayer *l;
  const float *in;
  int in_h, in_w, out_h, out_w;
  int y0, y1, prev_y0, prev_y1;
  int n_x;           /* X rows of this band, all phases */
  int reach[ROW_MAX_STRIDE]; /* phase_reach of each phase */
  float *x[ROW_MAX_STRIDE];  /* X_py of the band, NULL where unused */
  float *out;
} RowJob;

SPP_HOT_LOOP
static void
row_prep (gpointer data, int i0, int i1, int worker)
{
  const RowJob *j = data;
  const SppLayer *l = j->l;
  const SppWindow *w = &l->win;
  const int rows = l->in_c * w->kw;
  for (int i = i0; i < i1; i++) {
    if (i < j->n_x) {
      /* The phase's matrix is X_py = im2col of a one-row kernel whose
       * top padding is shifted by the phase. */
      int py = 0, r = i;
      while (j->x[py] == NULL || r >= rows) {
        if (j->x[py] != NULL)
          r -= rows;
        py++;
      }
      SppWindow one = *w;
      one.kh = 1;
      one.pad_t = w->pad_t - py;
      const int u1 = j->y1 + j->reach[py];
      im2col_row (j->in, j->in_h, j->in_w, &one, j->out_w, j->y0 * j->out_w,
                  u1 * j->out_w, r, j->x[py]);
    } else if (j->prev_y1 > j->prev_y0) {
      const int o = i - j->n_x;
      float *row = j->out + (gsize) o * j->out_h * j->out_w
                   + (gsize) j->prev_y0 * j->out_w;
      const gsize n = (gsize) (j->prev_y1 - j->prev_y0) * j->out_w;
      spp_bias_act_run (l->act, l->slope, l->bias ? l->bias->data[o] : 0.0f,
                        row, n);
    }
  }
}

static void
conv_rows (const SppLayer *l, const float *row_weight, const float *in,
           int in_h, int in_w, float *out, int out_h, int out_w,
           float *scratch)
{
  const SppWindow *w = &l->win;
  const int band = row_band (l, out_h, out_w);
  const int rows = l->in_c * w->kw;
  const gsize plane = (gsize) out_h * out_w;
  RowJob j = { .l = l, .in = in, .in_h = in_h, .in_w = in_w,
               .out_h = out_h, .out_w = out_w, .out = out };
  for (int py = 0; py < w->sh; py++)
    j.reach[py] = phase_reach (w, py);
  for (int y0 = 0; y0 < out_h; y0 += band) {
    const int y1 = MIN (y0 + band, out_h);
    float *x = scratch;
    j.y0 = y0;
    j.y1 = y1;
    j.n_x = 0;
    for (int py = 0; py < w->sh; py++) {
      j.x[py] = j.reach[py] >= 0 ? x : NULL;
      if (j.reach[py] >= 0) {
        x += (gsize) rows * (y1 - y0 + j.reach[py]) * out_w;
        j.n_x += rows;
      }
    }
    spp_parallel_for (j.n_x + l->out_c, row_prep, &j);
    for (int i = 0; i < w->kh; i++) {
      const int py = i * w->dil_h % w->sh, a = i * w->dil_h / w->sh;
      const gsize ld = (gsize) (y1 - y0 + j.reach[py]) * out_w;
      spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_NO_TRANS, l->out_c,
                 (y1 - y0) * out_w, rows, 1.0f,
                 row_weight + (gsize) i * l->out_c * rows, rows,
                 j.x[py] + (gsize) a * out_w, (int) ld, i ? 1.0f : 0.0f,
                 out + (gsize) y0 * out_w, (int) plane);
    }
    j.prev_y0 = y0;
    j.prev_y1 = y1;
  }
  /* The last band's bias and activation. */
  j.n_x = 0;
  spp_parallel_for (l->out_c, row_prep, &j);
}

gsize
spp_conv_scratch_size (const SppLayer *l, int in_h, int in_w)
{
  const SppWindow *w = &l->win;
  if (is_pointwise (l) || is_depthwise (l))
    return 0;
  int oh = spp_conv_out_size (in_h, w->kh, w->sh, w->pad_t, w->pad_b,
                              w->dil_h);
  int ow = spp_conv_out_size (in_w, w->kw, w->sw, w->pad_l, w->pad_r,
                              w->dil_w);
  gsize k = (gsize) (l->in_c / l->groups) * w->kh * w->kw;
  int panel = panel_cols (l, oh, ow);
  if (panel > 0)
    return k * panel * spp_parallel_get_n_workers ();
  gsize size = k * (gsize) col_block (l, oh, ow);
  /* Either path may run (the row path needs its weights). */
  if (spp_conv_uses_rows (l, in_h, in_w))
    size = MAX (size, row_scratch_size (l, oh, ow));
  return size;
}

/* One column block of the GEMM, out = W x col + bias:
 *   items [0, k): im2col rows of block (p0, p1);
 *   items [k, k + m): the block's output rows filled with the bias, so
 *     the GEMM accumulates onto them (beta 1: no separate zeroing pass
 *     in OpenBLAS and no bias pass over the whole map after);
 *   items [k + m, k + 2m): the activation of the previous block's output
 *     rows (prev_p0, prev_p1), still in cache from its GEMM.
 * One parallel hand-off per block does all three. */
typedef struct {
  const SppLayer *l;
  const float *in;
  int in_h, in_w, out_w;
  int k, m;            /* im2col rows, output rows of the group */
  int p0, p1;          /* this block; p1 == p0 when there is none */
  int prev_p0, prev_p1; /* previous block to activate; equal when none */
  float *col;
  float *out;          /* the group's output planes */
  const float *bias;   /* the group's biases, or NULL */
  gsize plane;
} BlockJob;

SPP_HOT_LOOP
static void
block_prep (gpointer data, int i0, int i1, int worker)
{
  const BlockJob *j = data;
  const SppLayer *l = j->l;
  for (int i = i0; i < i1; i++) {
    if (i < j->k) {
      if (j->p1 > j->p0)
        im2col_row (j->in, j->in_h, j->in_w, &l->win, j->out_w, j->p0,
                    j->p1, i, j->col);
    } else if (i < j->k + j->m) {
      if (j->p1 > j->p0) {
        const int o = i - j->k;
        const float b = j->bias ? j->bias[o] : 0.0f;
        float *row = j->out + (gsize) o * j->plane + j->p0;
        for (int t = 0; t < j->p1 - j->p0; t++)
          row[t] = b;
      }
    } else if (j->prev_p1 > j->prev_p0) {
      const int o = i - j->k - j->m;
      spp_act_forward (l->act, l->slope,
                       j->out + (gsize) o * j->plane + j->prev_p0,
                       j->prev_p1 - j->prev_p0);
    }
  }
}

/* Panel mode (PANEL_BYTES): items are column panels; each worker runs
 * the whole layer on its own panels with its own scratch. */
typedef struct {
  BlockJob b;
  const float *weight;
  int cols;
} PanelJob;

static void
panels (gpointer data, int q0, int q1, int worker)
{
  const PanelJob *j = data;
  BlockJob b = j->b;
  b.col = j->b.col + (gsize) worker * b.k * j->cols;
  for (int q = q0; q < q1; q++) {
    b.p0 = q * j->cols;
    b.p1 = MIN (b.p0 + j->cols, (int) b.plane);
    b.prev_p0 = b.prev_p1 = 0;
    block_prep (&b, 0, b.k + b.m, worker);
    spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_NO_TRANS, b.m, b.p1 - b.p0, b.k,
               1.0f, j->weight, b.k, b.col, b.p1 - b.p0, 1.0f,
               b.out + b.p0, (int) b.plane);
    if (b.l->act != SPP_ACT_NONE) {
      b.prev_p0 = b.p0;
      b.prev_p1 = b.p1;
      b.p0 = b.p1 = 0;
      block_prep (&b, b.k + b.m, b.k + 2 * b.m, worker);
    }
  }
}

typedef struct {
  const SppLayer *l;
  const float *in;
  float *out;
  int in_h, in_w, out_h, out_w;
} DepthwiseJob;

SPP_HOT_LOOP
static void
depthwise (gpointer data, int c0, int c1, int worker)
{
  const DepthwiseJob *j = data;
  const SppLayer *l = j->l;
  const float *in = j->in;
  float *out = j->out;
  const int in_h = j->in_h, in_w = j->in_w, out_h = j->out_h, out_w = j->out_w;
  const SppWindow *w = &l->win;
  const float *weight = l->weight->data;
  for (int c = c0; c < c1; c++) {
    const float *plane = in + (gsize) c * in_h * in_w;
    const float *k = weight + (gsize) c * w->kh * w->kw;
    float *o = out + (gsize) c * out_h * out_w;
    for (int oy = 0; oy < out_h; oy++) {
      float *orow = o + (gsize) oy * out_w;
      memset (orow, 0, out_w * sizeof (float));
      for (int ki = 0; ki < w->kh; ki++) {
        int iy = oy * w->sh - w->pad_t + ki * w->dil_h;
        if (iy < 0 || iy >= in_h)
          continue;
        const float *irow = plane + (gsize) iy * in_w;
        for (int kj = 0; kj < w->kw; kj++) {
          float kv = k[ki * w->kw + kj];
          int off = kj * w->dil_w - w->pad_l;
          /* Output columns whose tap lands inside the row. */
          int ox0 = off < 0 ? (-off + w->sw - 1) / w->sw : 0;
          int ox1 = (in_w - 1 - off) >= 0 ? (in_w - 1 - off) / w->sw + 1 : 0;
          ox1 = MIN (ox1, out_w);
          if (w->sw == 1)
            for (int ox = ox0; ox < ox1; ox++)
              orow[ox] += kv * irow[ox + off];
          else
            for (int ox = ox0; ox < ox1; ox++)
              orow[ox] += kv * irow[ox * w->sw + off];
        }
      }
    }
  }
}

void
spp_conv_forward (const SppLayer *l, const float *row_weight, const float *in,
                  int in_h, int in_w, float *out, int out_h, int out_w,
                  float *scratch)
{
  const SppWindow *w = &l->win;
  const int g = l->groups;
  const int icg = l->in_c / g, ocg = l->out_c / g;
  const int k = icg * w->kh * w->kw;
  const gsize plane = (gsize) out_h * out_w;
  const float *weight = l->weight->data;

  if (plane == 0)
    return;
  if (is_depthwise (l)) {
    DepthwiseJob job = { l, in, out, in_h, in_w, out_h, out_w };
    spp_parallel_for (l->out_c, depthwise, &job);
  } else if (is_pointwise (l)) {
    for (int gi = 0; gi < g; gi++)
      spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_NO_TRANS, ocg, (int) plane, icg,
                 1.0f, weight + (gsize) gi * ocg * k, k,
                 in + (gsize) gi * icg * plane, (int) plane, 0.0f,
                 out + (gsize) gi * ocg * plane, (int) plane);
  } else if (panel_cols (l, out_h, out_w) > 0) {
    const int cols = panel_cols (l, out_h, out_w);
    const gsize in_plane = (gsize) in_h * in_w;
    spp_blas_per_thread_begin ();
    for (int gi = 0; gi < g; gi++) {
      PanelJob job = { { l, in + (gsize) gi * icg * in_plane, in_h, in_w,
                         out_w, k, ocg, 0, 0, 0, 0, scratch,
                         out + (gsize) gi * ocg * plane,
                         l->bias ? l->bias->data + (gsize) gi * ocg : NULL,
                         plane },
                       weight + (gsize) gi * ocg * k, cols };
      spp_parallel_for ((int) ((plane + cols - 1) / cols), panels, &job);
    }
    spp_blas_per_thread_end ();
    return;
  } else if (row_weight && spp_conv_uses_rows (l, in_h, in_w)) {
    conv_rows (l, row_weight, in, in_h, in_w, out, out_h, out_w, scratch);
    return;
  } else {
    const int block = col_block (l, out_h, out_w);
    const gsize in_plane = (gsize) in_h * in_w;
    const int has_act = l->act != SPP_ACT_NONE;
    for (int gi = 0; gi < g; gi++) {
      BlockJob job = { l, in + (gsize) gi * icg * in_plane, in_h, in_w, out_w,
                       k, ocg, 0, 0, 0, 0, scratch,
                       out + (gsize) gi * ocg * plane,
                       l->bias ? l->bias->data + (gsize) gi * ocg : NULL,
                       plane };
      for (int p0 = 0; p0 < (int) plane; p0 += block) {
        job.p0 = p0;
        job.p1 = MIN (p0 + block, (int) plane);
        spp_parallel_for (k + ocg + (has_act ? ocg : 0), block_prep, &job);
        spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_NO_TRANS, ocg, job.p1 - p0, k,
                   1.0f, weight + (gsize) gi * ocg * k, k, scratch,
                   job.p1 - p0, 1.0f, job.out + p0, (int) plane);
        job.prev_p0 = p0;
        job.prev_p1 = job.p1;
      }
      if (has_act) {
        /* The last block's activation. */
        job.p0 = job.p1 = 0;
        job.k = 0;
        spp_parallel_for (2 * ocg, block_prep, &job);
      }
    }
    return;
  }
  if (l->bias)
    spp_bias_act_forward (l->act, l->slope, l->bias->data, out, l->out_c,
                          plane);
  else if (l->act != SPP_ACT_NONE)
    spp_act_forward (l->act, l->slope, out, plane * l->out_c);
}

/* The layer table's entry (docs/model-format.md, op 1). */
enum {
  CONV_OUT_C, CONV_KH, CONV_KW, CONV_SH, CONV_SW, CONV_PAD_T, CONV_PAD_L,
  CONV_PAD_B, CONV_PAD_R, CONV_DIL_H, CONV_DIL_W, CONV_GROUPS, CONV_ACT,
};

static const SppIntParam conv_params[] = {
  [CONV_OUT_C] = { "out_c", 0, -1, 1, 65536, TRUE },
  [CONV_KH] = { "kh", 1, -1, 1, 64, FALSE },
  [CONV_KW] = { "kw", 1, CONV_KH, 1, 64, FALSE },
  [CONV_SH] = { "sh", 1, -1, 1, 64, FALSE },
  [CONV_SW] = { "sw", 1, CONV_SH, 1, 64, FALSE },
  [CONV_PAD_T] = { "pad_t", 0, -1, 0, 64, FALSE },
  [CONV_PAD_L] = { "pad_l", 0, CONV_PAD_T, 0, 64, FALSE },
  [CONV_PAD_B] = { "pad_b", 0, CONV_PAD_T, 0, 64, FALSE },
  [CONV_PAD_R] = { "pad_r", 0, CONV_PAD_L, 0, 64, FALSE },
  [CONV_DIL_H] = { "dil_h", 1, -1, 1, 64, FALSE },
  [CONV_DIL_W] = { "dil_w", 1, CONV_DIL_H, 1, 64, FALSE },
  [CONV_GROUPS] = { "groups", 1, -1, 1, 65536, FALSE },
  [CONV_ACT] = { "act", 0, -1, 0, SPP_ACT_LAST, FALSE },
};


static gboolean
conv_parse (SppLayer *l, const SppLayerArgs *a)
{
  l->out_c = a->ip[CONV_OUT_C];
  spp_layer_read_window (l, a, CONV_KH, TRUE);
  l->groups = a->ip[CONV_GROUPS];
  if (l->in_c % l->groups || l->out_c % l->groups)
    return spp_layer_fail (l, a, "groups %d must divide in_c %d and out_c %d",
                           l->groups, l->in_c, l->out_c);
  l->act = a->ip[CONV_ACT];
  l->slope = a->fp[0];
  return spp_layer_take_weights (l, a, l->out_c, l->in_c / l->groups,
                                 l->win.kh, l->win.kw);
}

static void
conv_shape (const SppLayer *l, int in_h, int in_w, int *out_h, int *out_w)
{
  const SppWindow *w = &l->win;
  *out_h = spp_conv_out_size (in_h, w->kh, w->sh, w->pad_t, w->pad_b,
                              w->dil_h);
  *out_w = spp_conv_out_size (in_w, w->kw, w->sw, w->pad_l, w->pad_r,
                              w->dil_w);
}

static float *
conv_make_weights (const SppLayer *l)
{
  return spp_conv_has_rows (l) ? spp_conv_row_weights (l) : NULL;
}

static void
conv_run (const SppLayerRun *r)
{
  spp_conv_forward (r->layer, r->weights, r->in[0].data, r->in[0].h,
                    r->in[0].w, r->out.data, r->out.h, r->out.w, r->scratch);
}

const SppLayerType spp_layer_conv = {
  .op = SPP_OP_CONV, .name = "conv", .sections = SPP_LAYER_TRUNK,
  .trunk_inputs = 1, .min_tensors = 1, .max_tensors = 2,
  .int_params = conv_params, .n_int = G_N_ELEMENTS (conv_params),
  .float_params = spp_layer_slope_param, .n_float = 1,
  .placeable = TRUE,
  .parse = conv_parse, .shape = conv_shape,
  .scratch_size = spp_conv_scratch_size,
  .make_weights = conv_make_weights, .uses_weights = spp_conv_uses_rows,
  .forward = conv_run,
};
