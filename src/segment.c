/* sppdetect: Felzenszwalb-Huttenlocher segmentation (IJCV 2004), the
 * initial regions of selective search (SPEC §5: sigma 0.8, min size k). */
#include "segment-private.h"

#include <math.h>
#include <string.h>

/* Edge weights are quantised to 1/8 grey level so that a counting sort
 * orders them in linear time; 3 channels of 0..255 need < 3600 buckets. */
#define WEIGHT_SCALE 8.0f
#define N_BUCKETS 4096
#define NO_EDGE 0xFFFFu

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
  float *tmp = g_new (float, row * h);
  for (int y = 0; y < h; y++) {
    const float *s = in + y * row;
    float *d = tmp + y * row;
    for (int x = 0; x < w; x++)
      for (int c = 0; c < nc; c++) {
        float acc = 0;
        for (int i = -r; i <= r; i++) {
          int xx = CLAMP (x + i, 0, w - 1);
          acc += kern[i + r] * s[xx * nc + c];
        }
        d[x * nc + c] = acc;
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
  g_free (tmp);
}

static inline int
uf_find (int *parent, int x)
{
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

int
spp_segment_image (const float *img, int w, int h, int nc, float sigma,
                   float k, int min_size, int *labels)
{
  if (w < 1 || h < 1)
    return 0;
  gsize n = (gsize) w * h;
  float *sm;
  if (sigma > 0) {
    sm = g_new (float, n * nc);
    spp_segment_smooth (img, w, h, nc, sigma, sm);
  } else {
    sm = g_memdup2 (img, n * nc * sizeof (float));
  }

  /* Four edges per pixel cover the 8-neighbourhood: right, down-right,
   * down, up-right. An edge id is pixel * 4 + direction. */
  static const int ddx[4] = { 1, 1, 0, 1 }, ddy[4] = { 0, 1, 1, -1 };
  guint16 *q = g_new (guint16, n * 4);
  guint32 count[N_BUCKETS] = { 0 };
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
  g_free (sm);

  /* Counting sort, stable in edge id so ties break the same way on every
   * machine. */
  guint32 start[N_BUCKETS];
  guint32 acc = 0;
  for (int b = 0; b < N_BUCKETS; b++) {
    start[b] = acc;
    acc += count[b];
  }
  guint32 *order = g_new (guint32, MAX (n_edges, 1));
  for (gsize e = 0; e < n * 4; e++)
    if (q[e] != NO_EDGE)
      order[start[q[e]]++] = (guint32) e;

  int *parent = g_new (int, n);
  int *size = g_new (int, n);
  float *thresh = g_new (float, n);
  for (gsize i = 0; i < n; i++) {
    parent[i] = (int) i;
    size[i] = 1;
    thresh[i] = k;
  }
  for (gsize e = 0; e < n_edges; e++) {
    guint32 id = order[e];
    gsize i = id >> 2;
    int d = id & 3;
    int a = uf_find (parent, (int) i);
    int b = uf_find (parent, (int) (i + ddy[d] * (gssize) w + ddx[d]));
    if (a == b)
      continue;
    float wt = q[id] / WEIGHT_SCALE;
    if (wt <= thresh[a] && wt <= thresh[b]) {
      /* Union by size: the larger root survives. */
      if (size[a] < size[b]) {
        int t = a; a = b; b = t;
      }
      parent[b] = a;
      size[a] += size[b];
      thresh[a] = wt + k / size[a];
    }
  }
  /* Felzenszwalb's post-processing: join small components along the
   * cheapest edges first. */
  for (gsize e = 0; e < n_edges; e++) {
    guint32 id = order[e];
    gsize i = id >> 2;
    int d = id & 3;
    int a = uf_find (parent, (int) i);
    int b = uf_find (parent, (int) (i + ddy[d] * (gssize) w + ddx[d]));
    if (a != b && (size[a] < min_size || size[b] < min_size)) {
      if (size[a] < size[b]) {
        int t = a; a = b; b = t;
      }
      parent[b] = a;
      size[a] += size[b];
    }
  }
  /* Raster-order numbering; size[] is free to reuse as root -> label. */
  int n_comp = 0;
  for (gsize i = 0; i < n; i++)
    size[i] = -1;
  for (gsize i = 0; i < n; i++) {
    int r = uf_find (parent, (int) i);
    if (size[r] < 0)
      size[r] = n_comp++;
    labels[i] = size[r];
  }
  g_free (thresh);
  g_free (size);
  g_free (parent);
  g_free (order);
  g_free (q);
  return n_comp;
}
