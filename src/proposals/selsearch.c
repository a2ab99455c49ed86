/* sppdetect: selective search (Uijlings et al. 2013), docs/method.md 4. */
#include "spp/proposals.h"
#include "spp/error.h"
#include "segment-private.h"
#include "selsearch-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORK_SIZE 16384
#define MAX_THREADS 256

enum { SPACE_HSV, SPACE_LAB, SPACE_RGI, SPACE_H, SPACE_I, N_SPACES };

void
spp_proposal_params_init (SppProposalParams *params)
{
  g_return_if_fail (params != NULL);
  params->mode = SPP_PROPOSAL_FAST;
  /* 3000 boxes of at least 8 working-image pixels: chosen on validation
   * images of several cameras (models/README.md, "Proposal defaults"):
   * selective search's own minimum of 20 lost small and far people. */
  params->max_boxes = 3000;
  params->work_size = 500;
  params->min_size = 8;
  params->n_threads = 0;
  params->seed = 0;
}

gboolean
spp_proposal_mode_from_string (const char *name, SppProposalMode *mode,
                               GError **error)
{
  g_return_val_if_fail (mode != NULL, FALSE);
  static const struct {
    const char *name;
    SppProposalMode mode;
  } modes[] = { { "fast", SPP_PROPOSAL_FAST },
                { "quality", SPP_PROPOSAL_QUALITY },
                { "single", SPP_PROPOSAL_SINGLE } };
  if (name == NULL) {
    *mode = SPP_PROPOSAL_FAST;
    return TRUE;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    if (strcmp (name, modes[i].name) == 0) {
      *mode = modes[i].mode;
      return TRUE;
    }
  g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
               "proposal mode '%s': expected fast, quality or single", name);
  return FALSE;
}

/* ---- colour spaces and per-pixel bins ---------------------------------- */

static void
rgb_to_hsv (float r, float g, float b, float *h, float *s, float *v)
{
  float mx = MAX (r, MAX (g, b)), mn = MIN (r, MIN (g, b));
  float d = mx - mn;
  *v = mx;
  *s = mx > 0 ? 255.0f * d / mx : 0.0f;
  float hh = 0;
  if (d > 0) {
    if (mx == r)
      hh = (g - b) / d;
    else if (mx == g)
      hh = 2.0f + (b - r) / d;
    else
      hh = 4.0f + (r - g) / d;
    hh /= 6.0f;
    if (hh < 0)
      hh += 1.0f;
  }
  /* 0..255 like the other channels, so k means the same in every space. */
  *h = hh * 255.0f;
}

static int
space_channels (int space)
{
  return space == SPACE_H || space == SPACE_I ? 1 : 3;
}

/* The image in @space, channels interleaved, each scaled to 0..255 as
 * selective search's uint8 colour images (its authors' colour
 * conversion). */
static void
convert_space (const guint8 *rgb, gsize n, int space, float *out)
{
  float lin[256];
  if (space == SPACE_LAB)
    for (int i = 0; i < 256; i++) {
      float c = i / 255.0f;
      lin[i] = c <= 0.04045f ? c / 12.92f : powf ((c + 0.055f) / 1.055f, 2.4f);
    }
  for (gsize i = 0; i < n; i++) {
    float r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
    switch (space) {
      case SPACE_HSV:
        rgb_to_hsv (r, g, b, &out[3 * i], &out[3 * i + 1], &out[3 * i + 2]);
        break;
      case SPACE_H: {
        float s, v;
        rgb_to_hsv (r, g, b, &out[i], &s, &v);
        break;
      }
      case SPACE_I:
        out[i] = (r + g + b) / 3.0f;
        break;
      case SPACE_RGI: {
        float sum = r + g + b;
        out[3 * i] = sum > 0 ? 255.0f * r / sum : 0.0f;
        out[3 * i + 1] = sum > 0 ? 255.0f * g / sum : 0.0f;
        out[3 * i + 2] = sum / 3.0f;
        break;
      }
      case SPACE_LAB: {
        /* sRGB D65 -> XYZ -> CIE Lab. */
        float lr = lin[rgb[3 * i]], lg = lin[rgb[3 * i + 1]],
              lb = lin[rgb[3 * i + 2]];
        float X = (0.4124f * lr + 0.3576f * lg + 0.1805f * lb) / 0.95047f;
        float Y = 0.2126f * lr + 0.7152f * lg + 0.0722f * lb;
        float Z = (0.0193f * lr + 0.1192f * lg + 0.9505f * lb) / 1.08883f;
        float fx = X > 0.008856f ? cbrtf (X) : 7.787f * X + 16.0f / 116.0f;
        float fy = Y > 0.008856f ? cbrtf (Y) : 7.787f * Y + 16.0f / 116.0f;
        float fz = Z > 0.008856f ? cbrtf (Z) : 7.787f * Z + 16.0f / 116.0f;
        float L = 116.0f * fy - 16.0f, A = 500.0f * (fx - fy),
              B = 200.0f * (fy - fz);
        out[3 * i] = CLAMP (L * 2.55f, 0.0f, 255.0f);
        out[3 * i + 1] = CLAMP (A + 128.0f, 0.0f, 255.0f);
        out[3 * i + 2] = CLAMP (B + 128.0f, 0.0f, 255.0f);
        break;
      }
    }
  }
}

/* out(x, y) = sign * sum_i k[i + r] * in(x + i, y), borders clamped. */
static void
conv_rows (const float *in, int w, int h, const float *k, int r, float sign,
           float *out)
{
  for (int y = 0; y < h; y++) {
    const float *s = in + (gsize) y * w;
    float *d = out + (gsize) y * w;
    for (int x = r; x < w - r; x++) {
      float a = 0;
      for (int i = -r; i <= r; i++)
        a += k[i + r] * s[x + i];
      d[x] = sign * a;
    }
    for (int x = 0; x < w; x++) {
      if (x >= r && x < w - r)
        continue;
      float a = 0;
      for (int i = -r; i <= r; i++)
        a += k[i + r] * s[CLAMP (x + i, 0, w - 1)];
      d[x] = sign * a;
    }
  }
}

/* out(x, y) = sum_i k[i + r] * in(x, y + i), borders clamped; row at a
 * time so the inner loop runs along x. */
static void
conv_cols (const float *in, int w, int h, const float *k, int r, float *out)
{
  for (int y = 0; y < h; y++) {
    float *d = out + (gsize) y * w;
    for (int x = 0; x < w; x++)
      d[x] = 0;
    for (int i = -r; i <= r; i++) {
      const float *s = in + (gsize) CLAMP (y + i, 0, h - 1) * w;
      float kv = k[i + r];
      for (int x = 0; x < w; x++)
        d[x] += kv * s[x];
    }
  }
}

/* Texture bins (docs/method.md 4): first Gaussian derivatives, sigma 1,
 * steered to 0, 45, 90 and 135 degrees; the positive and negative halves make the 8
 * orientations. Each orientation's response is scaled by its image-wide
 * maximum into 10 bins, as OpenCV's ximgproc does. */
static void
texture_bins (const float *img, int w, int h, int nc, guint8 *tbin)
{
  enum { R = 3 };
  float g[2 * R + 1], dg[2 * R + 1], sum = 0;
  for (int i = -R; i <= R; i++) {
    g[i + R] = expf (-0.5f * i * i);
    sum += g[i + R];
  }
  for (int i = -R; i <= R; i++) {
    g[i + R] /= sum;
    /* d/dx of the normalised Gaussian, sign so that a rising edge is
     * positive. */
    dg[i + R] = -(float) i * g[i + R];
  }
  gsize n = (gsize) w * h;
  float *plane = spp_scratch_alloc (sizeof (float) * n),
        *t1 = spp_scratch_alloc (sizeof (float) * n),
        *gx = spp_scratch_alloc (sizeof (float) * n),
        *gy = spp_scratch_alloc (sizeof (float) * n);
  for (int c = 0; c < nc; c++) {
    for (gsize i = 0; i < n; i++)
      plane[i] = img[i * nc + c];
    /* gx: smooth along y, differentiate along x (convolution flips
     * dg); gy the other way round. */
    conv_cols (plane, w, h, g, R, t1);
    conv_rows (t1, w, h, dg, R, -1.0f, gx);
    conv_rows (plane, w, h, g, R, 1.0f, t1);
    conv_cols (t1, w, h, dg, R, gy);
    for (gsize i = 0; i < n; i++)
      gy[i] = -gy[i];
    /* Two passes over gx, gy (the responses are cheap to recompute; a
     * stored copy would cost more in memory traffic). */
    float mx[8] = { 0 };
    for (gsize i = 0; i < n; i++) {
      float d[4] = { gx[i], 0.70710678f * (gx[i] + gy[i]), gy[i],
                     0.70710678f * (gy[i] - gx[i]) };
      for (int j = 0; j < 4; j++) {
        mx[2 * j] = MAX (mx[2 * j], d[j]);
        mx[2 * j + 1] = MAX (mx[2 * j + 1], -d[j]);
      }
    }
    float sc[8];
    for (int o = 0; o < 8; o++)
      sc[o] = mx[o] > 0 ? SPP_SS_TEXTURE_BINS / mx[o] : 0.0f;
    for (gsize i = 0; i < n; i++) {
      float d[4] = { gx[i], 0.70710678f * (gx[i] + gy[i]), gy[i],
                     0.70710678f * (gy[i] - gx[i]) };
      guint8 *tb = tbin + (i * nc + c) * 8;
      for (int j = 0; j < 4; j++) {
        int bp = (int) (MAX (d[j], 0.0f) * sc[2 * j]);
        int bn = (int) (MAX (-d[j], 0.0f) * sc[2 * j + 1]);
        tb[2 * j] = (guint8) MIN (bp, SPP_SS_TEXTURE_BINS - 1);
        tb[2 * j + 1] = (guint8) MIN (bn, SPP_SS_TEXTURE_BINS - 1);
      }
    }
  }
  spp_scratch_free (gy, sizeof (float) * n);
  spp_scratch_free (gx, sizeof (float) * n);
  spp_scratch_free (t1, sizeof (float) * n);
  spp_scratch_free (plane, sizeof (float) * n);
}

void
spp_ss_features_compute (const guint8 *rgb, int w, int h, int space,
                         float **img, SppSsFeatures *f)
{
  gsize n = (gsize) w * h;
  int nc = space_channels (space);
  float *im = g_new (float, n * nc);
  convert_space (rgb, n, space, im);
  guint8 *cbin = spp_scratch_alloc (n * nc);
  for (gsize i = 0; i < n * nc; i++) {
    int b = (int) (im[i] * (SPP_SS_COLOUR_BINS / 256.0f));
    cbin[i] = (guint8) CLAMP (b, 0, SPP_SS_COLOUR_BINS - 1);
  }
  guint8 *tbin = spp_scratch_alloc (n * nc * 8);
  texture_bins (im, w, h, nc, tbin);
  f->width = w;
  f->height = h;
  f->nc = nc;
  f->cbin = cbin;
  f->tbin = tbin;
  *img = im;
}

void
spp_ss_features_clear (SppSsFeatures *f)
{
  gsize n = (gsize) f->width * f->height * f->nc;
  spp_scratch_free ((gpointer) f->cbin, n);
  spp_scratch_free ((gpointer) f->tbin, n * 8);
  f->cbin = f->tbin = NULL;
}

/* ---- similarities ------------------------------------------------------ */

float
spp_ss_sim_hist (const float *a, const float *b, int n)
{
  float s = 0;
  for (int i = 0; i < n; i++)
    s += MIN (a[i], b[i]);
  return s;
}

float
spp_ss_sim_size (int size_a, int size_b, int image_size)
{
  return 1.0f - (float) (size_a + size_b) / image_size;
}

float
spp_ss_sim_fill (int size_a, const int *box_a, int size_b, const int *box_b,
                 int image_size)
{
  gint64 bw = MAX (box_a[2], box_b[2]) - MIN (box_a[0], box_b[0]) + 1;
  gint64 bh = MAX (box_a[3], box_b[3]) - MIN (box_a[1], box_b[1]) + 1;
  return 1.0f - (float) (bw * bh - size_a - size_b) / image_size;
}

/* ---- hierarchical grouping --------------------------------------------- */

typedef struct {
  float s;
  int a, b;
} HeapEnt;

typedef struct {
  HeapEnt *e;
  gsize n, cap;
} Heap;

static void
heap_push (Heap *h, float s, int a, int b)
{
  if (h->n == h->cap) {
    h->cap = MAX (64, h->cap * 2);
    h->e = g_renew (HeapEnt, h->e, h->cap);
  }
  gsize i = h->n++;
  /* Ties go to the older pair (smaller ids) so the order never depends on
   * the heap's shape. */
  while (i > 0) {
    gsize p = (i - 1) / 2;
    HeapEnt *q = &h->e[p];
    if (q->s > s || (q->s == s && (q->a < a || (q->a == a && q->b < b))))
      break;
    h->e[i] = *q;
    i = p;
  }
  h->e[i] = (HeapEnt) { s, a, b };
}

static inline gboolean
heap_before (const HeapEnt *x, const HeapEnt *y)
{
  return x->s > y->s
         || (x->s == y->s && (x->a < y->a || (x->a == y->a && x->b < y->b)));
}

static HeapEnt
heap_pop (Heap *h)
{
  HeapEnt top = h->e[0], last = h->e[--h->n];
  gsize i = 0;
  for (;;) {
    gsize l = 2 * i + 1, best;
    if (l >= h->n)
      break;
    best = l;
    if (l + 1 < h->n && heap_before (&h->e[l + 1], &h->e[l]))
      best = l + 1;
    if (!heap_before (&h->e[best], &last))
      break;
    h->e[i] = h->e[best];
    i = best;
  }
  if (h->n > 0)
    h->e[i] = last;
  return top;
}

typedef struct {
  int *v;
  int n, cap;
} IntList;

typedef struct {
  guint sims;
  int imsize, cdim, tdim;
  float *hc, *ht;
  int *size, *box;
  guint8 *alive;
  IntList *nb;
} Group;

static float
group_sim (const Group *g, int a, int b)
{
  float s = 0;
  if (g->sims & SPP_SS_COLOUR)
    s += spp_ss_sim_hist (g->hc + (gsize) a * g->cdim,
                          g->hc + (gsize) b * g->cdim, g->cdim);
  if (g->sims & SPP_SS_TEXTURE)
    s += spp_ss_sim_hist (g->ht + (gsize) a * g->tdim,
                          g->ht + (gsize) b * g->tdim, g->tdim);
  if (g->sims & SPP_SS_SIZE)
    s += spp_ss_sim_size (g->size[a], g->size[b], g->imsize);
  if (g->sims & SPP_SS_FILL)
    s += spp_ss_sim_fill (g->size[a], g->box + 4 * a, g->size[b],
                          g->box + 4 * b, g->imsize);
  return s;
}

static void
list_append (IntList *l, int x, const guint8 *alive)
{
  if (l->n == l->cap) {
    /* Dead neighbours are dropped lazily, when the list would grow. */
    int m = 0;
    for (int i = 0; i < l->n; i++)
      if (alive[l->v[i]])
        l->v[m++] = l->v[i];
    l->n = m;
    if (l->n * 2 > l->cap || l->cap == 0) {
      l->cap = MAX (8, l->cap * 2);
      l->v = g_renew (int, l->v, l->cap);
    }
  }
  l->v[l->n++] = x;
}

static int
cmp_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* What every strategy of one segmentation starts from: computed once per
 * (colour space, k), copied into each hierarchy. */
typedef struct {
  int w, h, nc, n;
  int *size, *box;
  float *hc, *ht; /* NULL when no strategy needs them */
  guint64 *pairs; /* sorted, distinct (a << 32 | b), a < b */
  gsize n_pairs;
} Initial;

static void
initial_clear (Initial *in)
{
  g_free (in->size);
  g_free (in->box);
  spp_scratch_free (in->hc, sizeof (float) * in->n * in->nc
                             * SPP_SS_COLOUR_BINS);
  spp_scratch_free (in->ht, sizeof (float) * in->n * in->nc
                             * SPP_SS_TEXTURE_ORIENTATIONS
                             * SPP_SS_TEXTURE_BINS);
  g_free (in->pairs);
  memset (in, 0, sizeof *in);
}

static void
initial_init (Initial *in, const SppSsFeatures *f, const int *labels,
              int n_regions, gboolean need_c, gboolean need_t)
{
  int w = f->width, h = f->height, nc = f->nc;
  gsize n = (gsize) w * h;
  memset (in, 0, sizeof *in);
  in->w = w;
  in->h = h;
  in->nc = nc;
  in->n = n_regions;
  in->size = g_new0 (int, n_regions);
  in->box = g_new (int, (gsize) n_regions * 4);
  for (int r = 0; r < n_regions; r++) {
    int *b = in->box + 4 * r;
    b[0] = w; b[1] = h; b[2] = -1; b[3] = -1;
  }
  for (int y = 0; y < h; y++) {
    const int *lr = labels + (gsize) y * w;
    for (int x = 0; x < w; x++) {
      int r = lr[x];
      int *b = in->box + 4 * r;
      in->size[r]++;
      if (x < b[0]) b[0] = x;
      if (y < b[1]) b[1] = y;
      if (x > b[2]) b[2] = x;
      if (y > b[3]) b[3] = y;
    }
  }
  int cdim = nc * SPP_SS_COLOUR_BINS;
  int tdim = nc * SPP_SS_TEXTURE_ORIENTATIONS * SPP_SS_TEXTURE_BINS;
  if (need_c) {
    in->hc = spp_scratch_alloc0 (sizeof (float) * n_regions * cdim);
    for (gsize i = 0; i < n; i++) {
      float *hr = in->hc + (gsize) labels[i] * cdim;
      for (int c = 0; c < nc; c++)
        hr[c * SPP_SS_COLOUR_BINS + f->cbin[i * nc + c]] += 1.0f;
    }
    /* L1 over the whole nc * 25 vector (as the authors' code does). */
    for (int r = 0; r < n_regions; r++) {
      float *hr = in->hc + (gsize) r * cdim;
      float inv = 1.0f / ((float) in->size[r] * nc);
      for (int j = 0; j < cdim; j++)
        hr[j] *= inv;
    }
  }
  if (need_t) {
    int per = nc * SPP_SS_TEXTURE_ORIENTATIONS;
    in->ht = spp_scratch_alloc0 (sizeof (float) * n_regions * tdim);
    for (gsize i = 0; i < n; i++) {
      float *hr = in->ht + (gsize) labels[i] * tdim;
      const guint8 *tb = f->tbin + i * per;
      for (int j = 0; j < per; j++)
        hr[j * SPP_SS_TEXTURE_BINS + tb[j]] += 1.0f;
    }
    for (int r = 0; r < n_regions; r++) {
      float *hr = in->ht + (gsize) r * tdim;
      float inv = 1.0f / ((float) in->size[r] * per);
      for (int j = 0; j < tdim; j++)
        hr[j] *= inv;
    }
  }

  /* Adjacency from 4-neighbours; consecutive repeats are skipped before
   * the sort, which leaves mostly distinct pairs. */
  gsize np = 0, pcap = 1024;
  guint64 *pairs = g_new (guint64, pcap);
  guint64 last = G_MAXUINT64;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int a = labels[(gsize) y * w + x];
      for (int d = 0; d < 2; d++) {
        int xx = x + (d == 0), yy = y + (d == 1);
        if (xx >= w || yy >= h)
          continue;
        int b = labels[(gsize) yy * w + xx];
        if (a == b)
          continue;
        guint64 key = a < b ? ((guint64) a << 32) | (guint32) b
                            : ((guint64) b << 32) | (guint32) a;
        if (key == last)
          continue;
        last = key;
        if (np == pcap) {
          pcap *= 2;
          pairs = g_renew (guint64, pairs, pcap);
        }
        pairs[np++] = key;
      }
    }
  qsort (pairs, np, sizeof (guint64), cmp_u64);
  gsize m = 0;
  for (gsize i = 0; i < np; i++)
    if (m == 0 || pairs[i] != pairs[m - 1])
      pairs[m++] = pairs[i];
  in->pairs = pairs;
  in->n_pairs = m;
}

/* One hierarchy from @in; see spp_ss_group(). */
static int
group_run (const Initial *in, guint sims, int *boxes, int *merges,
           float *merge_sims)
{
  int n_regions = in->n, nc = in->nc;
  int total = 2 * n_regions - 1;
  Group g = { 0 };
  g.sims = sims;
  g.imsize = in->w * in->h;
  g.cdim = nc * SPP_SS_COLOUR_BINS;
  g.tdim = nc * SPP_SS_TEXTURE_ORIENTATIONS * SPP_SS_TEXTURE_BINS;
  g.size = g_new (int, total);
  g.box = boxes;
  g.alive = g_new0 (guint8, total);
  g.nb = g_new0 (IntList, total);
  memcpy (g.size, in->size, sizeof (int) * n_regions);
  memcpy (boxes, in->box, sizeof (int) * 4 * n_regions);
  memset (g.alive, 1, n_regions);
  if ((sims & SPP_SS_COLOUR) && in->hc) {
    g.hc = spp_scratch_alloc (sizeof (float) * total * g.cdim);
    memcpy (g.hc, in->hc, sizeof (float) * n_regions * g.cdim);
  } else {
    g.sims &= ~(guint) SPP_SS_COLOUR;
  }
  if ((sims & SPP_SS_TEXTURE) && in->ht) {
    g.ht = spp_scratch_alloc (sizeof (float) * total * g.tdim);
    memcpy (g.ht, in->ht, sizeof (float) * n_regions * g.tdim);
  } else {
    g.sims &= ~(guint) SPP_SS_TEXTURE;
  }

  Heap heap = { 0 };
  heap.cap = in->n_pairs * 3 + 64;
  heap.e = g_new (HeapEnt, heap.cap);
  for (gsize i = 0; i < in->n_pairs; i++) {
    int a = (int) (in->pairs[i] >> 32), b = (int) (in->pairs[i] & 0xffffffffu);
    list_append (&g.nb[a], b, g.alive);
    list_append (&g.nb[b], a, g.alive);
    heap_push (&heap, group_sim (&g, a, b), a, b);
  }

  int *mark = g_new (int, total);
  for (int i = 0; i < total; i++)
    mark[i] = -1;
  int t = n_regions;
  while (heap.n > 0) {
    HeapEnt top = heap_pop (&heap);
    int a = top.a, b = top.b;
    if (!g.alive[a] || !g.alive[b])
      continue;
    if (t >= total)
      break;
    if (merges) {
      merges[2 * (t - n_regions)] = a;
      merges[2 * (t - n_regions) + 1] = b;
    }
    if (merge_sims)
      merge_sims[t - n_regions] = top.s;
    int sa = g.size[a], sb = g.size[b];
    g.size[t] = sa + sb;
    int *bt = boxes + 4 * t, *ba = boxes + 4 * a, *bb = boxes + 4 * b;
    bt[0] = MIN (ba[0], bb[0]);
    bt[1] = MIN (ba[1], bb[1]);
    bt[2] = MAX (ba[2], bb[2]);
    bt[3] = MAX (ba[3], bb[3]);
    /* Size-weighted means keep the merged histograms L1-normalised. */
    float wa = (float) sa / (sa + sb), wb = (float) sb / (sa + sb);
    if (g.hc) {
      float *ht = g.hc + (gsize) t * g.cdim;
      const float *ha = g.hc + (gsize) a * g.cdim,
                  *hb = g.hc + (gsize) b * g.cdim;
      for (int j = 0; j < g.cdim; j++)
        ht[j] = wa * ha[j] + wb * hb[j];
    }
    if (g.ht) {
      float *ht = g.ht + (gsize) t * g.tdim;
      const float *ha = g.ht + (gsize) a * g.tdim,
                  *hb = g.ht + (gsize) b * g.tdim;
      for (int j = 0; j < g.tdim; j++)
        ht[j] = wa * ha[j] + wb * hb[j];
    }
    g.alive[a] = g.alive[b] = 0;
    g.alive[t] = 1;
    IntList *nt = &g.nb[t];
    for (int s = 0; s < 2; s++) {
      IntList *src = &g.nb[s == 0 ? a : b];
      for (int i = 0; i < src->n; i++) {
        int r = src->v[i];
        if (!g.alive[r] || mark[r] == t)
          continue;
        mark[r] = t;
        list_append (nt, r, g.alive);
      }
      g_free (src->v);
      *src = (IntList) { 0 };
    }
    for (int i = 0; i < nt->n; i++) {
      int r = nt->v[i];
      list_append (&g.nb[r], t, g.alive);
      heap_push (&heap, group_sim (&g, r, t), r, t);
    }
    t++;
  }
  for (int i = 0; i < total; i++)
    g_free (g.nb[i].v);
  g_free (mark);
  g_free (heap.e);
  g_free (g.nb);
  g_free (g.alive);
  g_free (g.size);
  spp_scratch_free (g.hc, sizeof (float) * total * g.cdim);
  spp_scratch_free (g.ht, sizeof (float) * total * g.tdim);
  return t;
}


int
spp_ss_group (const SppSsFeatures *f, const int *labels, int n_regions,
              guint sims, int *boxes, int *merges, float *merge_sims)
{
  if (n_regions < 1 || f->width < 1 || f->height < 1)
    return 0;
  Initial in;
  initial_init (&in, f, labels, n_regions, (sims & SPP_SS_COLOUR) != 0,
                (sims & SPP_SS_TEXTURE) != 0);
  int n = group_run (&in, sims, boxes, merges, merge_sims);
  initial_clear (&in);
  return n;
}

/* ---- strategies, threads and ranking ----------------------------------- */

typedef struct {
  const guint8 *rgb;
  int w, h, space;
  float *img;
  SppSsFeatures f;
  SppSegmentGraph *graph;
} SpaceJob;

typedef struct {
  SpaceJob *sj;
  int k, n_strat, first_hier;
  const guint *strat;
  /* Per strategy: the region boxes in creation order. */
  int *boxes[4];
  int n_boxes[4];
} HierJob;

static void
space_job_run (gpointer data, gpointer user_data)
{
  SpaceJob *j = data;
  spp_ss_features_compute (j->rgb, j->w, j->h, j->space, &j->img, &j->f);
  /* docs/method.md 4: sigma 0.8; the smoothed, sorted graph serves every k. */
  j->graph = spp_segment_graph_new (j->img, j->w, j->h, j->f.nc, 0.8f);
}

static void
hier_job_run (gpointer data, gpointer user_data)
{
  HierJob *j = data;
  SpaceJob *sj = j->sj;
  gsize n = (gsize) sj->w * sj->h;
  int *labels = spp_scratch_alloc (sizeof (int) * n);
  /* docs/method.md 4: min size = k. */
  int nr = spp_segment_graph_run (sj->graph, (float) j->k, j->k, labels);
  gboolean need_c = FALSE, need_t = FALSE;
  for (int s = 0; s < j->n_strat; s++) {
    need_c |= (j->strat[s] & SPP_SS_COLOUR) != 0;
    need_t |= (j->strat[s] & SPP_SS_TEXTURE) != 0;
  }
  Initial in;
  initial_init (&in, &sj->f, labels, nr, need_c, need_t);
  spp_scratch_free (labels, sizeof (int) * n);
  for (int s = 0; s < j->n_strat; s++) {
    j->boxes[s] = g_new (int, (gsize) (2 * nr - 1) * 4);
    j->n_boxes[s] = group_run (&in, j->strat[s], j->boxes[s], NULL, NULL);
  }
  initial_clear (&in);
}

static void
run_jobs (GFunc func, gpointer *jobs, int n_jobs, guint n_threads)
{
  if (n_threads <= 1 || n_jobs <= 1) {
    for (int i = 0; i < n_jobs; i++)
      func (jobs[i], NULL);
    return;
  }
  GThreadPool *pool = g_thread_pool_new (func, NULL,
                                         (int) MIN (n_threads, (guint) n_jobs),
                                         TRUE, NULL);
  if (pool == NULL) {
    for (int i = 0; i < n_jobs; i++)
      func (jobs[i], NULL);
    return;
  }
  for (int i = 0; i < n_jobs; i++)
    g_thread_pool_push (pool, jobs[i], NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
}

typedef struct {
  float v;
  guint32 hier, pos;
  gint16 b[4];
} Ranked;

static int
cmp_ranked (const void *pa, const void *pb)
{
  const Ranked *a = pa, *b = pb;
  if (a->v != b->v)
    return a->v < b->v ? -1 : 1;
  if (a->hier != b->hier)
    return a->hier < b->hier ? -1 : 1;
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* splitmix64's output function, used as a keyed hash. */
static inline guint64
splitmix64 (guint64 *s)
{
  guint64 z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

SppBox *
spp_proposals_compute (const SppImage *image, const SppProposalParams *params,
                       guint *n_boxes, GError **error)
{
  g_return_val_if_fail (n_boxes != NULL, NULL);
  *n_boxes = 0;
  SppProposalParams def;
  if (params == NULL) {
    spp_proposal_params_init (&def);
    params = &def;
  }
  if ((guint) params->mode > SPP_PROPOSAL_SINGLE) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "proposals: mode %d, expected FAST, QUALITY or SINGLE",
                 (int) params->mode);
    return NULL;
  }
  if (params->max_boxes < 1) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "proposals: max_boxes 0, expected >= 1");
    return NULL;
  }
  if (params->work_size < 1 || params->work_size > MAX_WORK_SIZE) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "proposals: work_size %u, expected 1..%d",
                 params->work_size, MAX_WORK_SIZE);
    return NULL;
  }
  if (params->n_threads > MAX_THREADS) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "proposals: n_threads %u, expected 0..%d",
                 params->n_threads, MAX_THREADS);
    return NULL;
  }
  if (image == NULL) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL, "proposals: NULL image");
    return NULL;
  }
  /* An empty image is not an error: no boxes (non-NULL, so callers can
   * tell it from a failure). */
  if (image->width < 1 || image->height < 1)
    return g_new0 (SppBox, 1);
  if (!spp_image_validate (image, error))
    return NULL;

  /* Working image: longer side work_size, never enlarged
   * (docs/method.md 4: SS is not scale invariant; R-CNN ran it at width
   * 500). */
  int W = image->width, H = image->height;
  int longer = MAX (W, H);
  int ww = W, wh = H;
  if ((guint) longer > params->work_size) {
    double s = (double) params->work_size / longer;
    ww = MAX (1, (int) lround (W * s));
    wh = MAX (1, (int) lround (H * s));
  }
  guint8 *rgb = g_try_malloc ((gsize) ww * wh * 3);
  if (rgb == NULL) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_NOMEM,
                 "proposals: cannot allocate a %dx%d working image", ww, wh);
    return NULL;
  }
  if (!spp_image_resize_rgb (image, rgb, ww, wh, ww * 3, error)) {
    g_free (rgb);
    return NULL;
  }

  static const int fast_spaces[] = { SPACE_HSV, SPACE_LAB };
  static const int quality_spaces[] = { SPACE_HSV, SPACE_LAB, SPACE_RGI,
                                        SPACE_H, SPACE_I };
  static const int fast_k[] = { 50, 100 }, quality_k[] = { 50, 100, 150, 300 },
                   single_k[] = { 100 };
  static const guint ctsf = SPP_SS_COLOUR | SPP_SS_TEXTURE | SPP_SS_SIZE
                            | SPP_SS_FILL;
  static const guint fast_strat[] = { SPP_SS_COLOUR | SPP_SS_TEXTURE
                                      | SPP_SS_SIZE | SPP_SS_FILL,
                                      SPP_SS_TEXTURE | SPP_SS_SIZE
                                      | SPP_SS_FILL };
  static const guint quality_strat[] = { SPP_SS_COLOUR | SPP_SS_TEXTURE
                                         | SPP_SS_SIZE | SPP_SS_FILL,
                                         SPP_SS_TEXTURE | SPP_SS_SIZE
                                         | SPP_SS_FILL,
                                         SPP_SS_FILL, SPP_SS_SIZE };
  const int *spaces, *ks;
  const guint *strat;
  int n_spaces, n_k, n_strat;
  switch (params->mode) {
    case SPP_PROPOSAL_QUALITY:
      spaces = quality_spaces; n_spaces = 5;
      ks = quality_k; n_k = 4;
      strat = quality_strat; n_strat = 4;
      break;
    case SPP_PROPOSAL_SINGLE:
      spaces = fast_spaces; n_spaces = 1;
      ks = single_k; n_k = 1;
      strat = &ctsf; n_strat = 1;
      break;
    case SPP_PROPOSAL_FAST:
    default:
      spaces = fast_spaces; n_spaces = 2;
      ks = fast_k; n_k = 2;
      strat = fast_strat; n_strat = 2;
      break;
  }
  guint n_threads = params->n_threads ? params->n_threads
                                      : (guint) g_get_num_processors ();

  SpaceJob *sjobs = g_new0 (SpaceJob, n_spaces);
  gpointer *ptrs = g_new (gpointer, n_spaces * n_k);
  for (int i = 0; i < n_spaces; i++) {
    sjobs[i] = (SpaceJob) { rgb, ww, wh, spaces[i], NULL, { 0 }, NULL };
    ptrs[i] = &sjobs[i];
  }
  run_jobs (space_job_run, ptrs, n_spaces, n_threads);

  int n_hjobs = n_spaces * n_k;
  HierJob *hjobs = g_new0 (HierJob, n_hjobs);
  /* Hierarchies are numbered space-major, then k, then strategy; the
   * number seeds each one's random stream. Bigger k first in the queue:
   * not needed for determinism, only the numbering is. */
  for (int i = 0; i < n_spaces; i++)
    for (int j = 0; j < n_k; j++) {
      HierJob *hj = &hjobs[i * n_k + j];
      hj->sj = &sjobs[i];
      hj->k = ks[j];
      hj->strat = strat;
      hj->n_strat = n_strat;
      hj->first_hier = (i * n_k + j) * n_strat;
      ptrs[i * n_k + j] = hj;
    }
  run_jobs (hier_job_run, ptrs, n_hjobs, n_threads);

  gsize n_all = 0;
  for (int i = 0; i < n_hjobs; i++)
    for (int s = 0; s < n_strat; s++)
      n_all += hjobs[i].n_boxes[s];
  Ranked *all = g_new (Ranked, MAX (n_all, 1));
  gsize m = 0;
  guint min_size = params->min_size;
  for (int i = 0; i < n_hjobs; i++)
    for (int s = 0; s < n_strat; s++) {
      guint32 hier = (guint32) (hjobs[i].first_hier + s);
      guint64 hkey = ((guint64) params->seed << 32)
                     ^ (hier * 0x632BE59BD9B4E019ull);
      int nb = hjobs[i].n_boxes[s];
      const int *bx = hjobs[i].boxes[s];
      for (int r = 0; r < nb; r++) {
        const int *b = bx + 4 * r;
        /* docs/method.md 4 ranking: position 1 is the last merge; v = RND * i.
         * RND is a seeded hash of (seed, hierarchy, box) rather than the
         * next draw of a stream: the same for a fixed seed whatever the
         * threads, and the same box in the next video frame draws the
         * same number, so the top-N cut keeps it (proposal reuse,
         * docs/method.md 5, is measured against per-frame runs). */
        guint64 st = hkey ^ (((guint64) (guint16) b[0])
                             | ((guint64) (guint16) b[1] << 16)
                             | ((guint64) (guint16) b[2] << 32)
                             | ((guint64) (guint16) b[3] << 48));
        double rnd = (splitmix64 (&st) >> 11) * (1.0 / 9007199254740992.0);
        if ((guint) (b[2] - b[0] + 1) < min_size
            || (guint) (b[3] - b[1] + 1) < min_size)
          continue;
        Ranked *o = &all[m++];
        o->v = (float) (rnd * (nb - r));
        o->hier = hier;
        o->pos = (guint32) r;
        for (int c = 0; c < 4; c++)
          o->b[c] = (gint16) b[c];
      }
      g_free (hjobs[i].boxes[s]);
    }
  qsort (all, m, sizeof (Ranked), cmp_ranked);

  /* Dedupe with an open-addressing set of packed boxes. */
  gsize cap = 64;
  while (cap < 2 * m)
    cap *= 2;
  guint64 *set = g_new0 (guint64, cap);
  guint max_out = MIN ((guint) MIN (m, G_MAXUINT), params->max_boxes);
  SppBox *out = g_new (SppBox, MAX (max_out, 1));
  guint n_out = 0;
  float sx = (float) W / ww, sy = (float) H / wh;
  for (gsize i = 0; i < m && n_out < max_out; i++) {
    const gint16 *b = all[i].b;
    guint64 key = ((guint64) (guint16) b[0] << 48)
                  | ((guint64) (guint16) b[1] << 32)
                  | ((guint64) (guint16) b[2] << 16) | (guint16) b[3];
    key += 1;
    gsize hsh = (gsize) ((key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
    gboolean dup = FALSE;
    while (set[hsh] != 0) {
      if (set[hsh] == key) {
        dup = TRUE;
        break;
      }
      hsh = (hsh + 1) & (cap - 1);
    }
    if (dup)
      continue;
    set[hsh] = key;
    SppBox *o = &out[n_out++];
    o->x = b[0] * sx;
    o->y = b[1] * sy;
    o->w = MIN ((b[2] + 1) * sx, (float) W) - o->x;
    o->h = MIN ((b[3] + 1) * sy, (float) H) - o->y;
  }
  g_free (set);
  g_free (all);
  for (int i = 0; i < n_spaces; i++) {
    g_free (sjobs[i].img);
    spp_ss_features_clear (&sjobs[i].f);
    spp_segment_graph_free (sjobs[i].graph);
  }
  g_free (hjobs);
  g_free (sjobs);
  g_free (ptrs);
  g_free (rgb);
  g_debug ("proposals: %dx%d (working %dx%d), %" G_GSIZE_FORMAT
           " candidates, %u boxes", W, H, ww, wh, m, n_out);
  *n_boxes = n_out;
  return out;
}
