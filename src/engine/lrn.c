/* Local response normalisation, Caffe semantics (docs/method.md 3).
 *   ACROSS_CHANNELS: b = a * (k + alpha/size * sum_{size channels} a^2)^-beta
 *   WITHIN_CHANNEL:  b = a * (1 + alpha/size^2 * sum_{size x size} a^2)^-beta
 * The within-channel form is Caffe's AVE pooling of a^2 with pad
 * (size-1)/2, whose divisor is always size^2 at stride 1. */
#include "layers-private.h"
#include "spp-engine/parallel.h"

#include <math.h>
#include <string.h>

/* x^-beta for x >= 1 (k >= 1 in practice); beta = 0.75 is ZF-5's and
 * AlexNet's value and is worth two square roots instead of a pow. */
SPP_HOT_LOOP
static void
pow_neg (float *restrict x, gsize n, float beta)
{
  if (beta == 0.75f) {
    for (gsize i = 0; i < n; i++) {
      float s = sqrtf (x[i]);
      x[i] = 1.0f / (s * sqrtf (s));
    }
  } else if (beta == 0.5f) {
    for (gsize i = 0; i < n; i++)
      x[i] = 1.0f / sqrtf (x[i]);
  } else {
    for (gsize i = 0; i < n; i++)
      x[i] = expf (-beta * logf (x[i]));
  }
}

/* r[x] = sum of s[x-half .. x+half] inside [0, w): one shifted,
 * vectorisable add per tap. Both within-channel kernels sum in this
 * order, so they give the same bits. */
static inline __attribute__ ((always_inline)) void
box_sum_row (const float *restrict s, float *restrict r, int w, int half)
{
  memcpy (r, s, w * sizeof (float));
  for (int d = 1; d <= half; d++) {
    for (int x = 0; x + d < w; x++)
      r[x] += s[x + d];
    for (int x = d; x < w; x++)
      r[x] += s[x - d];
  }
}

typedef struct {
  const SppLayer *l;
  const float *in;
  float *out, *scratch;
  int c, h, w;
} LrnJob;

SPP_HOT_LOOP
static void
lrn_within (gpointer data, int c0, int c1, int worker)
{
  const LrnJob *j = data;
  const SppLayer *l = j->l;
  const int h = j->h, w = j->w;
  const int half = l->lrn_size / 2;
  const gsize plane = (gsize) h * w;
  float *restrict sq = j->scratch + 2 * plane * worker;
  float *restrict rows = sq + plane;
  const float scale = l->lrn_alpha / (float) (l->lrn_size * l->lrn_size);
  const float *in = j->in;
  float *out = j->out;

  for (int ch = c0; ch < c1; ch++) {
    const float *restrict a = in + ch * plane;
    float *restrict b = out + ch * plane;
    for (gsize i = 0; i < plane; i++)
      sq[i] = a[i] * a[i];
    /* Separable box sum with zero padding: along rows, then down
     * columns. */
    for (int y = 0; y < h; y++)
      box_sum_row (sq + (gsize) y * w, rows + (gsize) y * w, w, half);
    for (int y = 0; y < h; y++) {
      float *restrict dst = sq + (gsize) y * w;
      int y0 = MAX (y - half, 0), y1 = MIN (y + half, h - 1);
      memcpy (dst, rows + (gsize) y0 * w, w * sizeof (float));
      for (int t = y0 + 1; t <= y1; t++) {
        const float *restrict r = rows + (gsize) t * w;
        for (int x = 0; x < w; x++)
          dst[x] += r[x];
      }
      for (int x = 0; x < w; x++)
        dst[x] = 1.0f + scale * dst[x];
    }
    pow_neg (sq, plane, l->lrn_beta);
    for (gsize i = 0; i < plane; i++)
      b[i] = a[i] * sq[i];
  }
}

/* Across channels, workers split the pixels; each keeps running sums
 * for its own range. */
SPP_HOT_LOOP
static void
lrn_across (gpointer data, int p0, int p1, int worker)
{
  const LrnJob *j = data;
  const SppLayer *l = j->l;
  const int c = j->c;
  const int half = l->lrn_size / 2;
  const gsize plane = (gsize) j->h * j->w;
  const gsize np = p1 - p0;
  float *sum = j->scratch + 2 * plane * worker, *scale = sum + np;
  const float alpha = l->lrn_alpha / (float) l->lrn_size;
  const float *in = j->in + p0;
  float *out = j->out + p0;

  memset (sum, 0, np * sizeof (float));
  for (int ch = 0; ch < MIN (half, c); ch++) {
    const float *a = in + ch * plane;
    for (gsize i = 0; i < np; i++)
      sum[i] += a[i] * a[i];
  }
  for (int ch = 0; ch < c; ch++) {
    /* Slide the channel window: add ch + half, drop ch - half - 1. */
    if (ch + half < c) {
      const float *a = in + (gsize) (ch + half) * plane;
      for (gsize i = 0; i < np; i++)
        sum[i] += a[i] * a[i];
    }
    if (ch - half - 1 >= 0) {
      const float *a = in + (gsize) (ch - half - 1) * plane;
      for (gsize i = 0; i < np; i++)
        sum[i] -= a[i] * a[i];
    }
    for (gsize i = 0; i < np; i++)
      scale[i] = l->lrn_k + alpha * MAX (sum[i], 0.0f);
    pow_neg (scale, np, l->lrn_beta);
    const float *a = in + ch * plane;
    float *b = out + ch * plane;
    for (gsize i = 0; i < np; i++)
      b[i] = a[i] * scale[i];
  }
}

/* The input rows are read once, from memory (ZF-5's conv1 map is 60 MB
 * at 688x917), and this pass waited on them: the hardware prefetcher did
 * not fetch them early enough. Asking for the rows two ahead saved about
 * a sixth of ZF-5's norm1+pool1; one row did as well, four or eight less
 * (docs/performance.md, core section). */
#define PREFETCH_ROWS 2

static inline void
prefetch_floats (const float *p, int n)
{
  const char *c = (const char *) p;
  for (gsize b = 0; b < (gsize) n * sizeof (float); b += 64)
    __builtin_prefetch (c + b);
}

/* Within-channel LRN streamed into the max pool that follows it, row by
 * row, so the LRN map (60 MB for ZF-5's conv1 at 688x917) is never
 * written or read back. Per channel: a ring of 2*half+1 rows of
 * horizontal sums of squares gives each LRN row, a ring of kh LRN rows
 * gives each pooled row as soon as its last input row exists. */
typedef struct {
  const SppLayer *lrn, *pool;
  const float *in;
  float *out;
  int h, w, out_h, out_w;
} LrnPoolJob;

SPP_HOT_LOOP
static void
lrn_pool_rows (gpointer data, int c0, int c1, int worker)
{
  const LrnPoolJob *j = data;
  const SppLayer *l = j->lrn;
  const SppWindow *pw = &j->pool->win;
  const int h = j->h, w = j->w, out_h = j->out_h, out_w = j->out_w;
  const int half = l->lrn_size / 2, n_hs = 2 * half + 1, kh = pw->kh;
  const float scale = l->lrn_alpha / (float) (l->lrn_size * l->lrn_size);
  const gsize plane = (gsize) h * w;
  /* n_hs sum rows, squares, scale, kh LRN rows, column maxima. */
  float *buf = g_new (float, (gsize) (n_hs + kh + 3) * w);
  float *hs = buf, *sq = hs + (gsize) n_hs * w, *sc = sq + w;
  float *lrows = sc + w, *vmax = lrows + (gsize) kh * w;

  for (int ch = c0; ch < c1; ch++) {
    const float *a = j->in + ch * plane;
    float *o = j->out + (gsize) ch * out_h * out_w;
    int oy = 0;
    for (int r = 0; r < h + half; r++) {
      if (r < h) {
        /* Row r's horizontal box sum of squares, zero padded. */
        const float *restrict src = a + (gsize) r * w;
        if (r + PREFETCH_ROWS < h)
          prefetch_floats (src + (gsize) PREFETCH_ROWS * w, w);
        for (int x = 0; x < w; x++)
          sq[x] = src[x] * src[x];
        box_sum_row (sq, hs + (gsize) (r % n_hs) * w, w, half);
      }
      const int y = r - half; /* the LRN row whose window is complete */
      if (y < 0)
        continue;
      const int y0 = MAX (y - half, 0), y1 = MIN (y + half, h - 1);
      memcpy (sc, hs + (gsize) (y0 % n_hs) * w, w * sizeof (float));
      for (int t = y0 + 1; t <= y1; t++) {
        const float *restrict s = hs + (gsize) (t % n_hs) * w;
        for (int x = 0; x < w; x++)
          sc[x] += s[x];
      }
      for (int x = 0; x < w; x++)
        sc[x] = 1.0f + scale * sc[x];
      pow_neg (sc, w, l->lrn_beta);
      const float *restrict src = a + (gsize) y * w;
      float *restrict b = lrows + (gsize) (y % kh) * w;
      for (int x = 0; x < w; x++)
        b[x] = src[x] * sc[x];
      /* Every pooled row whose window ends at row y (windows start inside
       * the map: spp_pool_out_size). */
      for (; oy < out_h && MIN (oy * pw->sh - pw->pad_t + kh, h) - 1 <= y;
           oy++) {
        int py0 = MAX (oy * pw->sh - pw->pad_t, 0);
        int py1 = MIN (oy * pw->sh - pw->pad_t + kh, h);
        memcpy (vmax, lrows + (gsize) (py0 % kh) * w, w * sizeof (float));
        for (int t = py0 + 1; t < py1; t++) {
          const float *restrict row = lrows + (gsize) (t % kh) * w;
          for (int x = 0; x < w; x++)
            vmax[x] = row[x] > vmax[x] ? row[x] : vmax[x];
        }
        spp_max_pool_row (vmax, w, pw, o + (gsize) oy * out_w, out_w);
      }
    }
  }
  g_free (buf);
}

void
spp_lrn_pool_forward (const SppLayer *lrn, const SppLayer *pool,
                      const float *in, int c, int h, int w, float *out,
                      int out_h, int out_w)
{
  LrnPoolJob job = { lrn, pool, in, out, h, w, out_h, out_w };
  spp_parallel_for (c, lrn_pool_rows, &job);
}

gsize
spp_lrn_scratch_size (int h, int w)
{
  return 2 * (gsize) h * w * spp_parallel_get_n_workers ();
}

void
spp_lrn_forward (const SppLayer *l, const float *in, int c, int h, int w,
                 float *out, float *scratch)
{
  LrnJob job = { l, in, out, scratch, c, h, w };
  if (l->lrn_within)
    spp_parallel_for (c, lrn_within, &job);
  else
    spp_parallel_for (h * w, lrn_across, &job);
}

/* The layer table's entry (docs/model-format.md, op 3). */
enum { LRN_MODE, LRN_SIZE };

static const SppIntParam lrn_params[] = {
  [LRN_MODE] = { "mode", 0, -1, 0, 1, FALSE },
  [LRN_SIZE] = { "size", 5, -1, 1, 63, FALSE },
};

static const SppFloatParam lrn_floats[] = {
  { "alpha", 1e-4f }, { "beta", 0.75f }, { "k", 1.0f },
};

static gboolean
lrn_parse (SppLayer *l, const SppLayerArgs *a)
{
  l->lrn_within = a->ip[LRN_MODE];
  l->lrn_size = a->ip[LRN_SIZE];
  l->lrn_alpha = a->fp[0];
  l->lrn_beta = a->fp[1];
  l->lrn_k = a->fp[2];
  /* The window is centred on its channel or pixel. */
  if (l->lrn_size % 2 == 0)
    return spp_layer_fail (l, a, "LRN size %d, expected odd 1..63",
                           l->lrn_size);
  if (l->lrn_k <= 0 && !l->lrn_within)
    return spp_layer_fail (l, a, "LRN k must be > 0");
  return TRUE;
}

static gsize
lrn_scratch (const SppLayer *l, int in_h, int in_w)
{
  return spp_lrn_scratch_size (in_h, in_w);
}

static void
lrn_run (const SppLayerRun *r)
{
  spp_lrn_forward (r->layer, r->in[0].data, r->in[0].c, r->in[0].h,
                   r->in[0].w, r->out.data, r->scratch);
}

const SppLayerType spp_layer_lrn = {
  .op = SPP_OP_LRN, .name = "lrn", .sections = SPP_LAYER_TRUNK,
  .trunk_inputs = 1,
  .int_params = lrn_params, .n_int = G_N_ELEMENTS (lrn_params),
  .float_params = lrn_floats, .n_float = G_N_ELEMENTS (lrn_floats),
  .placeable = TRUE,
  .parse = lrn_parse, .scratch_size = lrn_scratch, .forward = lrn_run,
};
