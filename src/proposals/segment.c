/* sppdetect: Felzenszwalb-Huttenlocher segmentation (IJCV 2004), the
 * initial regions of selective search (docs/method.md 4: sigma 0.8,
 * min size k). */
#include "segment-private.h"

#include <math.h>
#include <string.h>

/* Edge weights are quantised to 1/8 grey level so that a counting sort
 * orders them in linear time; 3 channels of 0..255 need < 3600 buckets. */
#define WEIGHT_SCALE 8.0f
#define N_BUCKETS 4096
#define NO_EDGE 0xFFFFu

/* ---- scratch cache ------------------------------------------------------ */

#define SCRATCH_SLOTS 32

typedef struct {
  gpointer p;
  gsize size;
} ScratchBlock;

static GMutex scratch_lock;
static ScratchBlock scratch[SCRATCH_SLOTS];
static gsize scratch_bytes;

gpointer
spp_scratch_alloc (gsize size)
{
  size = MAX (size, 1);
  int best = -1;
  g_mutex_lock (&scratch_lock);
  /* The smallest cached block that fits without wasting over half. */
  for (int i = 0; i < SCRATCH_SLOTS; i++)
    if (scratch[i].p && scratch[i].size >= size && scratch[i].size / 2 <= size
        && (best < 0 || scratch[i].size < scratch[best].size))
      best = i;
  gpointer p = NULL;
  if (best >= 0) {
    p = scratch[best].p;
    scratch_bytes -= scratch[best].size;
    scratch[best].p = NULL;
  }
  g_mutex_unlock (&scratch_lock);
  return p ? p : g_malloc (size);
}

gpointer
spp_scratch_alloc0 (gsize size)
{
  gpointer p = spp_scratch_alloc (size);
  memset (p, 0, MAX (size, 1));
  return p;
}

void
spp_scratch_free (gpointer p, gsize size)
{
  if (p == NULL)
    return;
  size = MAX (size, 1);
  /* Blocks come back with the size they were asked with; a reused block
   * may be larger, which only wastes a little of the cache. */
  g_mutex_lock (&scratch_lock);
  int slot = -1;
  for (int i = 0; i < SCRATCH_SLOTS && slot < 0; i++)
    if (scratch[i].p == NULL)
      slot = i;
  if (slot >= 0 && scratch_bytes + size <= SPP_SCRATCH_MAX_BYTES) {
    scratch[slot] = (ScratchBlock) { p, size };
    scratch_bytes += size;
    p = NULL;
  }
  g_mutex_unlock (&scratch_lock);
  g_free (p);
}

void
spp_segment_smooth (const float *in, int w, int h, int nc, float sigma,
                    float *out)
{
  /* Felzenszwalb's own code: radius ceil(4 sigma), normalised mask. */
  int r = (int) ceil (4.0f * sigma);
  if (r > 32)
    r = 32;
  float kern[65];
  float sum = 0;
  for (int i = -r; i <= r; i++) {
    kern[i + r] = expf (-0.5f * (float) (i * i) / (sigma * sigma));
    sum += kern[i + r];
  }
  for (int i = 0; i <= 2 * r; i++)
    kern[i] /= sum;

  gsize row = (gsize) w * nc;
  float *tmp = spp_scratch_alloc (sizeof (float) * row * h);
  for (int y = 0; y < h; y++) {
    const float *s = in + y * row;
    float *d = tmp + y * row;
    /* Interior samples need no clamping: one tap loop over the whole
     * interleaved row, which the compiler vectorises. */
    gssize j0 = (gssize) r * nc, j1 = (gssize) (w - r) * nc;
    for (gssize j = j0; j < j1; j++) {
      float acc = 0;
      for (int i = -r; i <= r; i++)
        acc += kern[i + r] * s[j + i * nc];
      d[j] = acc;
    }
    for (int x = 0; x < w; x++) {
      if (x >= r && x < w - r)
        continue;
      for (int c = 0; c < nc; c++) {
        float acc = 0;
        for (int i = -r; i <= r; i++) {
          int xx = CLAMP (x + i, 0, w - 1);
          acc += kern[i + r] * s[xx * nc + c];
        }
        d[x * nc + c] = acc;
      }
    }
  }
  for (int y = 0; y < h; y++) {
    float *d = out + y * row;
    for (gsize i = 0; i < row; i++)
      d[i] = 0;
    for (int i = -r; i <= r; i++) {
      int yy = CLAMP (y + i, 0, h - 1);
      const float *s = tmp + yy * row;
      float kv = kern[i + r];
      for (gsize j = 0; j < row; j++)
        d[j] += kv * s[j];
    }
  }
  spp_scratch_free (tmp, sizeof (float) * row * h);
}

/* Parents apart from the roots' size and threshold: finds, the bulk of
 * the work, then walk an array a third the size (it stays in cache). */
typedef struct {
  int size;
  float thresh;
} UfRoot;

static inline int
uf_find (int *parent, int x)
{
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

struct _SppSegmentGraph {
  int w, h;
  gsize n_edges;
  guint32 *order;  /* edge ids, pixel * 4 + direction, by weight */
  guint16 *weight; /* quantised weight of order[i] */
};

/* Four edges per pixel cover the 8-neighbourhood: right, down-right,
 * down, up-right. */
static const int ddx[4] = { 1, 1, 0, 1 }, ddy[4] = { 0, 1, 1, -1 };

SppSegmentGraph *
spp_segment_graph_new (const float *img, int w, int h, int nc, float sigma)
{
  if (w < 1 || h < 1)
    return NULL;
  gsize n = (gsize) w * h;
  float *sm;
  if (sigma > 0) {
    sm = spp_scratch_alloc (sizeof (float) * n * nc);
    spp_segment_smooth (img, w, h, nc, sigma, sm);
  } else {
    sm = spp_scratch_alloc (sizeof (float) * n * nc);
    memcpy (sm, img, sizeof (float) * n * nc);
  }

  guint16 *q = spp_scratch_alloc (sizeof (guint16) * n * 4);
  guint32 *count = g_new0 (guint32, N_BUCKETS);
  gsize n_edges = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      gsize i = (gsize) y * w + x;
      const float *a = sm + i * nc;
      for (int d = 0; d < 4; d++) {
        int xx = x + ddx[d], yy = y + ddy[d];
        if (xx >= w || yy < 0 || yy >= h) {
          q[i * 4 + d] = NO_EDGE;
          continue;
        }
        const float *b = sm + ((gsize) yy * w + xx) * nc;
        float s2 = 0;
        for (int c = 0; c < nc; c++)
          s2 += (a[c] - b[c]) * (a[c] - b[c]);
        int qq = (int) (sqrtf (s2) * WEIGHT_SCALE + 0.5f);
        if (qq >= N_BUCKETS)
          qq = N_BUCKETS - 1;
        q[i * 4 + d] = (guint16) qq;
        count[qq]++;
        n_edges++;
      }
    }
  spp_scratch_free (sm, sizeof (float) * n * nc);

  /* Counting sort, stable in edge id so ties break the same way on every
   * machine. */
  guint32 acc = 0;
  for (int b = 0; b < N_BUCKETS; b++) {
    guint32 c = count[b];
    count[b] = acc;
    acc += c;
  }
  SppSegmentGraph *g = g_new0 (SppSegmentGraph, 1);
  g->w = w;
  g->h = h;
  g->n_edges = n_edges;
  g->order = spp_scratch_alloc (sizeof (guint32) * n_edges);
  g->weight = spp_scratch_alloc (sizeof (guint16) * n_edges);
  for (gsize e = 0; e < n * 4; e++)
    if (q[e] != NO_EDGE) {
      guint32 at = count[q[e]]++;
      g->order[at] = (guint32) e;
      g->weight[at] = q[e];
    }
  g_free (count);
  spp_scratch_free (q, sizeof (guint16) * n * 4);
  return g;
}

void
spp_segment_graph_free (SppSegmentGraph *g)
{
  if (g == NULL)
    return;
  spp_scratch_free (g->order, sizeof (guint32) * g->n_edges);
  spp_scratch_free (g->weight, sizeof (guint16) * g->n_edges);
  g_free (g);
}

int
spp_segment_graph_run (const SppSegmentGraph *g, float k, int min_size,
                       int *labels)
{
  if (g == NULL)
    return 0;
  int w = g->w;
  gsize n = (gsize) g->w * g->h, n_edges = g->n_edges;
  const guint32 *order = g->order;
  int *parent = spp_scratch_alloc (sizeof (int) * n);
  UfRoot *u = spp_scratch_alloc (sizeof (UfRoot) * n);
  for (gsize i = 0; i < n; i++) {
    parent[i] = (int) i;
    u[i] = (UfRoot) { 1, k };
  }
  /* Edges left between two parts, in weight order: the only ones the
   * min-size pass can use, since parts only ever grow. */
  gsize n_rej = 0, cap_rej = MAX (n_edges / 4, 16);
  guint32 *rej = g_new (guint32, cap_rej);
  const gssize off[4] = { ddx[0] + ddy[0] * (gssize) w,
                          ddx[1] + ddy[1] * (gssize) w,
                          ddx[2] + ddy[2] * (gssize) w,
                          ddx[3] + ddy[3] * (gssize) w };
  for (gsize e = 0; e < n_edges; e++) {
    guint32 id = order[e];
    gsize i = id >> 2;
    int a = uf_find (parent, (int) i);
    int b = uf_find (parent, (int) (i + off[id & 3]));
    if (a == b)
      continue;
    float wt = g->weight[e] * (1.0f / WEIGHT_SCALE);
    if (!(wt <= u[a].thresh && wt <= u[b].thresh)) {
      if (n_rej == cap_rej) {
        cap_rej *= 2;
        rej = g_renew (guint32, rej, cap_rej);
      }
      rej[n_rej++] = id;
    } else {
      /* Union by size: the larger root survives. */
      if (u[a].size < u[b].size) {
        int t = a; a = b; b = t;
      }
      parent[b] = a;
      u[a].size += u[b].size;
      u[a].thresh = wt + k / u[a].size;
    }
  }
  /* Felzenszwalb's post-processing: join small components along the
   * cheapest edges first. */
  if (min_size > 1)
    for (gsize e = 0; e < n_rej; e++) {
      guint32 id = rej[e];
      gsize i = id >> 2;
      int a = uf_find (parent, (int) i);
      int b = uf_find (parent, (int) (i + off[id & 3]));
      if (a != b && (u[a].size < min_size || u[b].size < min_size)) {
        if (u[a].size < u[b].size) {
          int t = a; a = b; b = t;
        }
        parent[b] = a;
        u[a].size += u[b].size;
      }
    }
  /* Labels in raster order of first appearance. */
  int n_comp = 0;
  int *root_label = spp_scratch_alloc (sizeof (int) * n);
  for (gsize i = 0; i < n; i++)
    if ((gsize) parent[i] == i)
      root_label[i] = -1;
  for (gsize i = 0; i < n; i++) {
    int r = uf_find (parent, (int) i);
    if (root_label[r] < 0)
      root_label[r] = n_comp++;
    labels[i] = root_label[r];
  }
  spp_scratch_free (root_label, sizeof (int) * n);
  g_free (rej);
  spp_scratch_free (u, sizeof (UfRoot) * n);
  spp_scratch_free (parent, sizeof (int) * n);
  return n_comp;
}

int
spp_segment_image (const float *img, int w, int h, int nc, float sigma,
                   float k, int min_size, int *labels)
{
  SppSegmentGraph *g = spp_segment_graph_new (img, w, h, nc, sigma);
  int n = spp_segment_graph_run (g, k, min_size, labels);
  spp_segment_graph_free (g);
  return n;
}
