/* sppdetect: reusing proposals across video frames (docs/method.md 5):
 * key frames run selective search; in between, the key
 * frame's boxes follow the global translation estimated on small luma
 * thumbnails. With a still camera, key frames re-run selective search
 * only around what changed (a difference mask). */
#include "spp/video-proposals.h"
#include "spp/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Thumbnails are at most THUMB_MAX on the longer side, so the tracker's
 * memory does not depend on the frame size. */
#define THUMB_MAX 192
#define HIST_BINS 32
/* Coarse search, in half-thumbnail pixels (+-16 thumbnail pixels, about
 * 1/12 of the frame per frame). */
#define COARSE_RANGE 8
#define FINE_RANGE 2
/* docs/method.md 5, step 4: cut thresholds. The histogram L1 distance is in
 * [0, 2]; MAD is on 0..255 luma after motion compensation. */
#define CUT_HIST_L1 0.5f
#define CUT_MAD 28.0f
/* docs/method.md 5, steps 2 and 4: drop boxes more than 50% outside,
 * recompute when more than 30% left. */
#define MAX_OUTSIDE 0.5f
#define MAX_LOST 0.3f
/* Sub-pixel noise below this (frame pixels) is taken as no motion, so a
 * static camera does not drift. */
#define DEAD_ZONE 0.25f

/* Pool and hand-out. Selective search's top-N cut is a random draw among
 * about 1.6 N candidates (docs/method.md 4, ranking), and both the
 * candidates and the draw vary frame to frame with noise, so the tracker
 * keeps up to POOL_FACTOR * max_boxes candidates of its last few runs and hands
 * out max_boxes of them that cover the pool: greedily in rank order, skipping
 * a box within DIVERSE_IOU of one already taken while others are left.
 * On vtest.avi this lifts the recall of the next frames' own runs from
 * 0.92 to 0.98 at interval 10 (docs/performance.md). */
#define POOL_FACTOR 6
#define DIVERSE_IOU 0.6f

/* Partial key frames: a difference mask of BLOCK x BLOCK thumbnail
 * pixels (16 frame pixels at 768 wide) against the luma each area's
 * boxes were made on. CHANGE_MAD is well above the block-mean noise of a
 * compressed still camera (under 1 in 90% of blocks of vtest.avi). */
#define BLOCK 4
#define MASK_MAX (THUMB_MAX / BLOCK)
#define CHANGE_MAD 6.0f
/* Context around a change, in blocks, so that a moved object lies whole
 * inside the area searched again. */
#define CHANGE_DILATE 2
/* Above this share of the frame a full run costs about the same. */
#define MAX_PARTIAL_AREA 0.5f
#define MAX_RECTS 32
/* A full run at least every this many key frames: boxes of regions that
 * straddle a changed area are never redone by a partial run. */
#define FULL_EVERY 4

struct _SppVideoProposals {
  SppProposalParams params;
  guint interval;

  int frame_w, frame_h;
  SppPixelFormat format;
  int tw, th;
  gboolean have_prev;
  guint8 rgb[THUMB_MAX * THUMB_MAX * 3];
  guint8 luma[2][THUMB_MAX * THUMB_MAX];
  guint8 half[2][(THUMB_MAX / 2) * (THUMB_MAX / 2)];
  float hist[2][HIST_BINS];
  int cur; /* index of the current frame's buffers */

  float dx, dy;
  gboolean cut;

  gboolean have_key;
  guint since_key;
  float acc_dx, acc_dy;
  SppBox *key;
  guint n_key;
  SppBox *out;
  guint n_out, out_cap;
  gboolean last_out_valid;

  /* Candidates of the last key frames, best first, with their rank in
   * [0, 1) within the run that made them (runs on crops and older runs
   * merge by it) and the number of that run (the oldest go first). */
  gboolean partial;
  guint keys_since_full;
  guint32 n_runs;
  SppBox *pool;
  float *rank;
  guint32 *gen;
  guint n_pool;
  /* The thumbnail luma that each area's pool boxes were made on. */
  guint8 ref[THUMB_MAX * THUMB_MAX];
};

SppVideoProposals *
spp_video_proposals_new (const SppProposalParams *params, guint interval)
{
  SppVideoProposals *t = g_new0 (SppVideoProposals, 1);
  if (params)
    t->params = *params;
  else
    spp_proposal_params_init (&t->params);
  t->interval = MAX (interval, 1u);
  t->partial = TRUE;
  return t;
}

void
spp_video_proposals_free (SppVideoProposals *tracker)
{
  if (tracker == NULL)
    return;
  g_free (tracker->key);
  g_free (tracker->out);
  g_free (tracker->pool);
  g_free (tracker->rank);
  g_free (tracker->gen);
  g_free (tracker);
}

void
spp_video_proposals_set_params (SppVideoProposals *tracker,
                                const SppProposalParams *params)
{
  g_return_if_fail (tracker != NULL && params != NULL);
  tracker->params = *params;
  /* Boxes made with other parameters are stale. */
  tracker->have_key = FALSE;
}

void
spp_video_proposals_set_interval (SppVideoProposals *tracker, guint interval)
{
  g_return_if_fail (tracker != NULL);
  tracker->interval = MAX (interval, 1u);
}

void
spp_video_proposals_set_partial (SppVideoProposals *tracker, gboolean partial)
{
  g_return_if_fail (tracker != NULL);
  tracker->partial = partial;
}

void
spp_video_proposals_reset (SppVideoProposals *tracker)
{
  g_return_if_fail (tracker != NULL);
  tracker->have_prev = FALSE;
  tracker->have_key = FALSE;
  tracker->last_out_valid = FALSE;
  tracker->dx = tracker->dy = 0;
  tracker->cut = FALSE;
  tracker->acc_dx = tracker->acc_dy = 0;
  tracker->since_key = 0;
}

gboolean
spp_video_proposals_get_motion (const SppVideoProposals *tracker, float *dx,
                                float *dy)
{
  g_return_val_if_fail (tracker != NULL, FALSE);
  if (dx)
    *dx = tracker->dx;
  if (dy)
    *dy = tracker->dy;
  return tracker->cut;
}

/* Mean absolute difference of cur(x, y) and prev(x - dx, y - dy) over
 * their overlap; G_MAXFLOAT when the overlap is under half the image. */
static float
mad (const guint8 *prev, const guint8 *cur, int w, int h, int dx, int dy)
{
  int x0 = MAX (0, dx), x1 = MIN (w, w + dx);
  int y0 = MAX (0, dy), y1 = MIN (h, h + dy);
  if ((x1 - x0) * 2 < w || (y1 - y0) * 2 < h)
    return G_MAXFLOAT;
  guint64 sum = 0;
  for (int y = y0; y < y1; y++) {
    const guint8 *c = cur + y * w, *p = prev + (y - dy) * w - dx;
    guint32 rs = 0;
    for (int x = x0; x < x1; x++)
      rs += (guint32)abs ((int)c[x] - (int)p[x]);
    sum += rs;
  }
  return (float)sum / ((float)(x1 - x0) * (y1 - y0));
}

static void
search (const guint8 *prev, const guint8 *cur, int w, int h, int cx, int cy,
        int range, int *bx, int *by, float *best)
{
  *best = G_MAXFLOAT;
  *bx = cx;
  *by = cy;
  /* Ties go to the smallest displacement, so a flat image gives 0. */
  for (int r = 0; r <= range; r++)
    for (int dy = cy - r; dy <= cy + r; dy++)
      for (int dx = cx - r; dx <= cx + r; dx++) {
        if (abs (dx - cx) != r && abs (dy - cy) != r)
          continue;
        float c = mad (prev, cur, w, h, dx, dy);
        if (c < *best) {
          *best = c;
          *bx = dx;
          *by = dy;
        }
      }
}

/* Vertex of the parabola through (-1, a), (0, b), (1, c). */
static float
subpixel (float a, float b, float c)
{
  if (a == G_MAXFLOAT || c == G_MAXFLOAT)
    return 0;
  float d = a - 2 * b + c;
  if (d <= 0)
    return 0;
  return CLAMP (0.5f * (a - c) / d, -0.5f, 0.5f);
}

/* Thumbnail, half thumbnail and histogram of @frame into buffer @i. */
static gboolean
make_thumb (SppVideoProposals *t, const SppImage *frame, int i, GError **error)
{
  if (!spp_image_resize_rgb (frame, t->rgb, t->tw, t->th, t->tw * 3, error))
    return FALSE;
  guint8 *l = t->luma[i];
  float *hist = t->hist[i];
  int n = t->tw * t->th;
  memset (hist, 0, sizeof (float) * HIST_BINS);
  for (int p = 0; p < n; p++) {
    const guint8 *q = t->rgb + 3 * p;
    l[p] = (guint8)((77 * q[0] + 150 * q[1] + 29 * q[2] + 128) >> 8);
    hist[l[p] * HIST_BINS / 256] += 1.0f / n;
  }
  int hw = t->tw / 2, hh = t->th / 2;
  for (int y = 0; y < hh; y++)
    for (int x = 0; x < hw; x++) {
      const guint8 *a = l + 2 * y * t->tw + 2 * x;
      t->half[i][y * hw + x]
          = (guint8)((a[0] + a[1] + a[t->tw] + a[t->tw + 1] + 2) >> 2);
    }
  return TRUE;
}

/* Global translation prev -> cur in frame pixels, and whether it is a
 * cut. */
static void
estimate_motion (SppVideoProposals *t, float *dx, float *dy, gboolean *cut)
{
  int p = 1 - t->cur, c = t->cur;
  float hd = 0;
  for (int b = 0; b < HIST_BINS; b++)
    hd += fabsf (t->hist[p][b] - t->hist[c][b]);
  *dx = *dy = 0;
  *cut = hd > CUT_HIST_L1;
  if (*cut)
    return;
  int tw = t->tw, th = t->th;
  if (tw < 16 || th < 16) {
    /* Too small to align: only the plain difference. */
    *cut = mad (t->luma[p], t->luma[c], tw, th, 0, 0) > CUT_MAD;
    return;
  }
  int bx, by;
  float best;
  search (t->half[p], t->half[c], tw / 2, th / 2, 0, 0, COARSE_RANGE, &bx, &by,
          &best);
  search (t->luma[p], t->luma[c], tw, th, 2 * bx, 2 * by, FINE_RANGE, &bx, &by,
          &best);
  if (best > CUT_MAD) {
    *cut = TRUE;
    return;
  }
  float sx = subpixel (mad (t->luma[p], t->luma[c], tw, th, bx - 1, by), best,
                       mad (t->luma[p], t->luma[c], tw, th, bx + 1, by));
  float sy = subpixel (mad (t->luma[p], t->luma[c], tw, th, bx, by - 1), best,
                       mad (t->luma[p], t->luma[c], tw, th, bx, by + 1));
  *dx = (bx + sx) * (float)t->frame_w / tw;
  *dy = (by + sy) * (float)t->frame_h / th;
  if (fabsf (*dx) < DEAD_ZONE)
    *dx = 0;
  if (fabsf (*dy) < DEAD_ZONE)
    *dy = 0;
}

/* How many candidates the pool holds (0 stays 0, so that selective
 * search rejects it as it would without the tracker). */
static guint
pool_cap (const SppVideoProposals *t)
{
  guint m = t->params.max_boxes;
  return m > G_MAXUINT / POOL_FACTOR ? G_MAXUINT : m * POOL_FACTOR;
}

/* Whether IoU (@a, @b) >= @tau, without the division. */
static inline gboolean
overlaps (const SppBox *a, const SppBox *b, float tau)
{
  float iw = MIN (a->x + a->w, b->x + b->w) - MAX (a->x, b->x);
  float ih = MIN (a->y + a->h, b->y + b->h) - MAX (a->y, b->y);
  if (iw <= 0 || ih <= 0)
    return FALSE;
  float inter = iw * ih;
  return inter >= tau * (a->w * a->h + b->w * b->h - inter);
}

#define GRID 32

/* t->key: at most max_boxes of the pool; first, in rank order, those not
 * within DIVERSE_IOU of an earlier pick, then the skipped ones in rank
 * order while there is room. */
static void
select_boxes (SppVideoProposals *t)
{
  guint n = t->n_pool, max = MAX (t->params.max_boxes, 1u);
  guint m = 0;
  g_free (t->key);
  t->key = g_new (SppBox, MAX (MIN (n, max), 1u));
  if (n <= max) {
    memcpy (t->key, t->pool, n * sizeof (SppBox));
    t->n_key = n;
    return;
  }
  /* Picks are bucketed by top-left corner on a GRID x GRID grid: IoU >= tau
   * needs |xa - xb| <= (1 - tau) max (wa, wb) and wa <= wb / tau, so only
   * cells within (1 - tau) / tau * wb of xb (and likewise in y) can hold
   * a close one. The own cell goes first: a close pick is most often
   * there, and most candidates of a pool of several runs have one. */
  const float tau = DIVERSE_IOU, k = (1 - tau) / tau;
  float cw = MAX (t->frame_w / (float)GRID, 1.0f);
  float ch = MAX (t->frame_h / (float)GRID, 1.0f);
  int head[GRID * GRID];
  g_autofree int *next = g_new (int, n);
  g_autofree guint8 *taken = g_new0 (guint8, n);
  for (int c = 0; c < GRID * GRID; c++)
    head[c] = -1;
  for (guint i = 0; i < n && m < max; i++) {
    const SppBox *b = &t->pool[i];
    int cx = CLAMP ((int)(b->x / cw), 0, GRID - 1);
    int cy = CLAMP ((int)(b->y / ch), 0, GRID - 1);
    gboolean near = FALSE;
    for (int j = head[cy * GRID + cx]; j >= 0 && !near; j = next[j])
      near = overlaps (b, &t->pool[j], tau);
    int x0 = CLAMP ((int)((b->x - k * b->w) / cw), 0, GRID - 1);
    int x1 = CLAMP ((int)((b->x + k * b->w) / cw), 0, GRID - 1);
    int y0 = CLAMP ((int)((b->y - k * b->h) / ch), 0, GRID - 1);
    int y1 = CLAMP ((int)((b->y + k * b->h) / ch), 0, GRID - 1);
    for (int y = y0; y <= y1 && !near; y++)
      for (int x = x0; x <= x1 && !near; x++)
        if (x != cx || y != cy)
          for (int j = head[y * GRID + x]; j >= 0 && !near; j = next[j])
            near = overlaps (b, &t->pool[j], tau);
    if (near)
      continue;
    next[i] = head[cy * GRID + cx];
    head[cy * GRID + cx] = (int)i;
    taken[i] = 1;
    t->key[m++] = *b;
  }
  for (guint i = 0; i < n && m < max; i++)
    if (!taken[i])
      t->key[m++] = t->pool[i];
  t->n_key = m;
}

typedef struct {
  int x0, y0, x1, y1;
} Rect;

/* One pool candidate while a key frame rebuilds the pool. */
typedef struct {
  SppBox box;
  float rank;
  guint32 gen;
} Cand;

/* The newer run first; serial number order, so the counter may wrap. */
static int
cmp_gen (const Cand *p, const Cand *q)
{
  if (p->gen == q->gen)
    return 0;
  return (gint32)(p->gen - q->gen) > 0 ? -1 : 1;
}

/* Newest key frame first, then rank: what stays when the pool is full. */
static int
cmp_age (const void *a, const void *b)
{
  const Cand *p = a, *q = b;
  int c = cmp_gen (p, q);
  if (c != 0)
    return c;
  return p->rank < q->rank ? -1 : p->rank > q->rank;
}

/* Rank, ties to the newer box: the order of the hand-out. */
static int
cmp_rank (const void *a, const void *b)
{
  const Cand *p = a, *q = b;
  if (p->rank != q->rank)
    return p->rank < q->rank ? -1 : 1;
  return cmp_gen (p, q);
}

/* Same box together, the newest first. */
static int
cmp_box (const void *a, const void *b)
{
  const Cand *p = a, *q = b;
  const float u[4] = { p->box.x, p->box.y, p->box.w, p->box.h };
  const float v[4] = { q->box.x, q->box.y, q->box.w, q->box.h };
  for (int i = 0; i < 4; i++)
    if (u[i] != v[i])
      return u[i] < v[i] ? -1 : 1;
  return cmp_age (a, b);
}

/* Appends @n boxes of one selective search run, shifted by (@ox, @oy),
 * ranked by their position in the run. A box touching a side listed in
 * @cut_sides (the sides of a crop inside the frame; bits left, top,
 * right, bottom) may be a region the crop cut and is left out. */
static void
add_run (GArray *cands, const SppBox *b, guint n, guint32 gen, float ox,
         float oy, float cw, float ch, guint cut_sides, float tol)
{
  for (guint j = 0; j < n; j++) {
    if (((cut_sides & 1) && b[j].x < tol) || ((cut_sides & 2) && b[j].y < tol)
        || ((cut_sides & 4) && b[j].x + b[j].w > cw - tol)
        || ((cut_sides & 8) && b[j].y + b[j].h > ch - tol))
      continue;
    Cand c
        = { { b[j].x + ox, b[j].y + oy, b[j].w, b[j].h }, (float)j / n, gen };
    g_array_append_val (cands, c);
  }
}

/* Bounding rectangles of the 8-connected components of @grown (bw x bh
 * blocks), overlapping ones merged. Returns the count, or -1 past
 * MAX_RECTS. */
static int
component_rects (const guint8 *grown, int bw, int bh, Rect *rects)
{
  guint8 seen[MASK_MAX * MASK_MAX] = { 0 };
  int stack[MASK_MAX * MASK_MAX];
  int n = 0;
  for (int s = 0; s < bw * bh; s++) {
    if (!grown[s] || seen[s])
      continue;
    if (n == MAX_RECTS)
      return -1;
    Rect r = { bw, bh, 0, 0 };
    int sp = 0;
    stack[sp++] = s;
    seen[s] = 1;
    while (sp > 0) {
      int q = stack[--sp], x = q % bw, y = q / bw;
      r.x0 = MIN (r.x0, x);
      r.y0 = MIN (r.y0, y);
      r.x1 = MAX (r.x1, x + 1);
      r.y1 = MAX (r.y1, y + 1);
      for (int yy = MAX (y - 1, 0); yy <= MIN (y + 1, bh - 1); yy++)
        for (int xx = MAX (x - 1, 0); xx <= MIN (x + 1, bw - 1); xx++) {
          int o = yy * bw + xx;
          if (grown[o] && !seen[o]) {
            seen[o] = 1;
            stack[sp++] = o;
          }
        }
    }
    rects[n++] = r;
  }
  /* Separate components can still have overlapping bounding boxes; one
   * run on their union is cheaper than searching the overlap twice. */
  for (gboolean merged = TRUE; merged;) {
    merged = FALSE;
    for (int i = 0; i < n && !merged; i++)
      for (int j = i + 1; j < n && !merged; j++) {
        Rect *a = &rects[i], *b = &rects[j];
        if (a->x0 >= b->x1 || b->x0 >= a->x1 || a->y0 >= b->y1
            || b->y0 >= a->y1)
          continue;
        a->x0 = MIN (a->x0, b->x0);
        a->y0 = MIN (a->y0, b->y0);
        a->x1 = MAX (a->x1, b->x1);
        a->y1 = MAX (a->y1, b->y1);
        rects[j] = rects[--n];
        merged = TRUE;
      }
  }
  return n;
}

/* The areas that changed since their boxes were made: rectangles around
 * the blocks whose mean |luma - ref| exceeds CHANGE_MAD, in thumbnail
 * pixels (@thumb) and in even-aligned frame pixels (@px). Returns the
 * count (0: nothing changed), or -1 when more than MAX_PARTIAL_AREA of
 * the frame would have to be searched again. */
static int
change_rects (const SppVideoProposals *t, Rect *thumb, Rect *px)
{
  int tw = t->tw, th = t->th;
  int bw = (tw + BLOCK - 1) / BLOCK, bh = (th + BLOCK - 1) / BLOCK;
  const guint8 *cur = t->luma[t->cur];
  guint8 changed[MASK_MAX * MASK_MAX], grown[MASK_MAX * MASK_MAX];
  gboolean any = FALSE;
  for (int by = 0; by < bh; by++)
    for (int bx = 0; bx < bw; bx++) {
      int x1 = MIN ((bx + 1) * BLOCK, tw), y1 = MIN ((by + 1) * BLOCK, th);
      guint sum = 0;
      for (int y = by * BLOCK; y < y1; y++)
        for (int x = bx * BLOCK; x < x1; x++)
          sum += (guint)abs ((int)cur[y * tw + x] - (int)t->ref[y * tw + x]);
      int area = (x1 - bx * BLOCK) * (y1 - by * BLOCK);
      changed[by * bw + bx] = sum > CHANGE_MAD * area;
      any |= changed[by * bw + bx];
    }
  if (!any)
    return 0;
  for (int by = 0; by < bh; by++)
    for (int bx = 0; bx < bw; bx++) {
      gboolean g = FALSE;
      for (int y = MAX (by - CHANGE_DILATE, 0);
           y <= MIN (by + CHANGE_DILATE, bh - 1) && !g; y++)
        for (int x = MAX (bx - CHANGE_DILATE, 0);
             x <= MIN (bx + CHANGE_DILATE, bw - 1) && !g; x++)
          g = changed[y * bw + x];
      grown[by * bw + bx] = g;
    }
  Rect r[MAX_RECTS];
  int n = component_rects (grown, bw, bh, r), area = 0;
  for (int i = 0; i < n; i++)
    area += (r[i].x1 - r[i].x0) * (r[i].y1 - r[i].y0);
  if (n < 0 || area > MAX_PARTIAL_AREA * bw * bh)
    return -1;
  float fx = (float)t->frame_w / tw, fy = (float)t->frame_h / th;
  for (int i = 0; i < n; i++) {
    thumb[i] = (Rect){ r[i].x0 * BLOCK, r[i].y0 * BLOCK,
                       MIN (r[i].x1 * BLOCK, tw), MIN (r[i].y1 * BLOCK, th) };
    px[i] = (Rect){ (int)floorf (thumb[i].x0 * fx) & ~1,
                    (int)floorf (thumb[i].y0 * fy) & ~1,
                    MIN (t->frame_w, (int)ceilf (thumb[i].x1 * fx)),
                    MIN (t->frame_h, (int)ceilf (thumb[i].y1 * fy)) };
  }
  return n;
}

/* A view of @frame's pixels in @r; r->x0 and r->y0 even, so that 4:2:0
 * and 4:2:2 chroma start on a whole sample. */
static SppImage
crop_view (const SppImage *frame, const Rect *r)
{
  SppImage c = *frame;
  int x = r->x0, y = r->y0;
  c.width = r->x1 - x;
  c.height = r->y1 - y;
  switch (frame->format) {
  case SPP_PIXEL_RGB:
  case SPP_PIXEL_BGR:
    c.planes[0] += (gsize)y * frame->strides[0] + 3 * x;
    break;
  case SPP_PIXEL_RGBX:
  case SPP_PIXEL_BGRX:
  case SPP_PIXEL_RGBA:
  case SPP_PIXEL_BGRA:
    c.planes[0] += (gsize)y * frame->strides[0] + 4 * x;
    break;
  case SPP_PIXEL_YUY2:
    c.planes[0] += (gsize)y * frame->strides[0] + 2 * x;
    break;
  case SPP_PIXEL_GRAY8:
    c.planes[0] += (gsize)y * frame->strides[0] + x;
    break;
  case SPP_PIXEL_I420:
    c.planes[0] += (gsize)y * frame->strides[0] + x;
    c.planes[1] += (gsize)(y / 2) * frame->strides[1] + x / 2;
    c.planes[2] += (gsize)(y / 2) * frame->strides[2] + x / 2;
    break;
  case SPP_PIXEL_NV12:
    c.planes[0] += (gsize)y * frame->strides[0] + x;
    c.planes[1] += (gsize)(y / 2) * frame->strides[1] + x;
    break;
  }
  return c;
}

/* A key frame. With a still camera since the last one, only the areas
 * that changed since their boxes were made are searched again (the whole
 * frame when partial runs are off or due, or when most of it changed).
 * The pool keeps the older boxes unless the camera moved or most of the
 * frame changed: the union of several runs covers selective search's
 * frame-to-frame variation better than any one run. Sets *@act to
 * REUSED (partial runs on, nothing changed), PARTIAL or RECOMPUTED. */
static gboolean
key_frame (SppVideoProposals *t, const SppImage *frame,
           SppVideoProposalsAction *act, GError **error)
{
  Rect thumb[MAX_RECTS], px[MAX_RECTS];
  /* -1: no usable change mask, every old box goes. */
  int n_rects = -1;
  if (t->have_key && t->acc_dx == 0 && t->acc_dy == 0 && t->tw >= 16
      && t->th >= 16)
    n_rects = change_rects (t, thumb, px);
  if (n_rects == 0 && t->partial) {
    /* Nothing to redo: the key boxes stand. */
    t->since_key = 0;
    memcpy (t->out, t->key, t->n_key * sizeof (SppBox));
    t->n_out = t->n_key;
    *act = SPP_VIDEO_PROPOSALS_REUSED;
    return TRUE;
  }
  gboolean full
      = n_rects <= 0 || !t->partial || t->keys_since_full + 1 >= FULL_EVERY;

  guint cap = pool_cap (t);
  g_autoptr (GArray) cands
      = g_array_sized_new (FALSE, FALSE, sizeof (Cand), t->n_pool);
  /* Old boxes stay, inside changed areas as well: what moved through an
   * area mostly leaves it as it was, and the oldest go first anyway. */
  for (guint i = 0; i < t->n_pool && n_rects >= 0; i++) {
    Cand c = { t->pool[i], t->rank[i], t->gen[i] };
    g_array_append_val (cands, c);
  }
  guint32 gen = ++t->n_runs;
  SppProposalParams p = t->params;
  p.max_boxes = cap;
  if (full) {
    guint n = 0;
    g_autofree SppBox *b = spp_proposals_compute (frame, &p, &n, error);
    if (b == NULL)
      return FALSE;
    add_run (cands, b, n, gen, 0, 0, 0, 0, 0, 0);
    memcpy (t->ref, t->luma[t->cur], (gsize)t->tw * t->th);
    t->keys_since_full = 0;
    *act = SPP_VIDEO_PROPOSALS_RECOMPUTED;
  } else {
    /* Crops run at the full run's scale (selective search is not scale
     * invariant, docs/method.md 4). */
    int W = t->frame_w, H = t->frame_h;
    double scale = MIN (1.0, (double)t->params.work_size / MAX (W, H));
    for (int r = 0; r < n_rects; r++) {
      SppImage crop = crop_view (frame, &px[r]);
      p.work_size
          = MAX (1u, (guint)lround (MAX (crop.width, crop.height) * scale));
      guint n = 0;
      g_autofree SppBox *b = spp_proposals_compute (&crop, &p, &n, error);
      if (b == NULL)
        return FALSE;
      guint sides = (px[r].x0 > 0) | (px[r].y0 > 0) << 1 | (px[r].x1 < W) << 2
                    | (px[r].y1 < H) << 3;
      add_run (cands, b, n, gen, px[r].x0, px[r].y0, crop.width, crop.height,
               sides, 1.5f / (float)scale);
      for (int y = thumb[r].y0; y < thumb[r].y1; y++)
        memcpy (t->ref + y * t->tw + thumb[r].x0,
                t->luma[t->cur] + y * t->tw + thumb[r].x0,
                thumb[r].x1 - thumb[r].x0);
    }
    t->keys_since_full++;
    *act = SPP_VIDEO_PROPOSALS_PARTIAL;
  }

  /* A box that an older run found as well counts once, as the newest. */
  g_array_sort (cands, cmp_box);
  guint u = 0;
  for (guint i = 0; i < cands->len; i++) {
    const Cand *c = &g_array_index (cands, Cand, i);
    if (u > 0
        && !memcmp (&g_array_index (cands, Cand, u - 1).box, &c->box,
                    sizeof (SppBox)))
      continue;
    g_array_index (cands, Cand, u++) = *c;
  }
  g_array_set_size (cands, u);
  /* Bounded memory: past the cap, the oldest runs' boxes go first. */
  if (cands->len > cap) {
    g_array_sort (cands, cmp_age);
    g_array_set_size (cands, cap);
  }
  g_array_sort (cands, cmp_rank);
  guint n = cands->len;
  g_free (t->pool);
  g_free (t->rank);
  g_free (t->gen);
  t->pool = g_new (SppBox, MAX (n, 1u));
  t->rank = g_new (float, MAX (n, 1u));
  t->gen = g_new (guint32, MAX (n, 1u));
  for (guint i = 0; i < n; i++) {
    const Cand *c = &g_array_index (cands, Cand, i);
    t->pool[i] = c->box;
    t->rank[i] = c->rank;
    t->gen[i] = c->gen;
  }
  t->n_pool = n;

  select_boxes (t);
  t->have_key = TRUE;
  t->since_key = 0;
  t->acc_dx = t->acc_dy = 0;
  if (t->out_cap < MAX (t->n_key, 1u)) {
    t->out_cap = MAX (t->n_key, 1u);
    t->out = g_renew (SppBox, t->out, t->out_cap);
  }
  memcpy (t->out, t->key, t->n_key * sizeof (SppBox));
  t->n_out = t->n_key;
  return TRUE;
}

/* The key boxes moved by the accumulated motion, clipped; returns the
 * fraction that had to be dropped. */
static float
shift_boxes (SppVideoProposals *t)
{
  float W = t->frame_w, H = t->frame_h;
  /* min_size is in working-image pixels (proposals.h). */
  float longer = MAX (W, H);
  float work = MIN ((float)t->params.work_size, longer);
  float min_px = t->params.min_size * longer / MAX (work, 1.0f);
  guint m = 0;
  for (guint i = 0; i < t->n_key; i++) {
    const SppBox *k = &t->key[i];
    float x0 = k->x + t->acc_dx, y0 = k->y + t->acc_dy;
    float x1 = x0 + k->w, y1 = y0 + k->h;
    float cx0 = MAX (x0, 0), cy0 = MAX (y0, 0);
    float cx1 = MIN (x1, W), cy1 = MIN (y1, H);
    float cw = cx1 - cx0, ch = cy1 - cy0;
    if (cw < min_px || ch < min_px
        || cw * ch < (1.0f - MAX_OUTSIDE) * k->w * k->h)
      continue;
    t->out[m++] = (SppBox){ cx0, cy0, cw, ch };
  }
  t->n_out = m;
  return t->n_key ? 1.0f - (float)m / t->n_key : 0.0f;
}

const SppBox *
spp_video_proposals_update (SppVideoProposals *tracker, const SppImage *frame,
                            gboolean need_boxes, guint *n_boxes,
                            SppVideoProposalsAction *action, GError **error)
{
  g_return_val_if_fail (tracker != NULL, NULL);
  SppVideoProposals *t = tracker;
  if (n_boxes)
    *n_boxes = 0;
  if (!spp_image_validate (frame, error))
    return NULL;

  gboolean new_geometry = !t->have_prev || frame->width != t->frame_w
                          || frame->height != t->frame_h;
  if (new_geometry) {
    int longer = MAX (frame->width, frame->height);
    double s = longer > THUMB_MAX ? (double)THUMB_MAX / longer : 1.0;
    int tw = MAX (1, (int)lround (frame->width * s));
    int th = MAX (1, (int)lround (frame->height * s));
    t->tw = tw;
    t->th = th;
  }
  int next = t->have_prev && !new_geometry ? 1 - t->cur : t->cur;
  if (!make_thumb (t, frame, next, error))
    return NULL;

  gboolean cut = FALSE;
  float dx = 0, dy = 0;
  if (new_geometry) {
    /* A new stream or a size change: nothing to compare with. */
    cut = t->have_prev;
    t->have_key = FALSE;
    t->frame_w = frame->width;
    t->frame_h = frame->height;
  } else {
    t->cur = next;
    estimate_motion (t, &dx, &dy, &cut);
  }
  t->cur = next;
  t->have_prev = TRUE;
  t->format = frame->format;
  t->dx = dx;
  t->dy = dy;
  t->cut = cut;
  if (cut)
    t->have_key = FALSE;
  t->acc_dx += dx;
  t->acc_dy += dy;
  if (t->have_key)
    t->since_key++;

  if (!need_boxes) {
    /* Motion only: the last output is now stale for this frame. */
    t->last_out_valid = FALSE;
    return NULL;
  }

  SppVideoProposalsAction act;
  if (!t->have_key || t->since_key >= t->interval) {
    act = SPP_VIDEO_PROPOSALS_RECOMPUTED;
  } else if (dx == 0 && dy == 0 && t->last_out_valid) {
    act = SPP_VIDEO_PROPOSALS_REUSED;
  } else {
    act = SPP_VIDEO_PROPOSALS_SHIFTED;
    if (shift_boxes (t) > MAX_LOST)
      act = SPP_VIDEO_PROPOSALS_RECOMPUTED;
  }
  if (act == SPP_VIDEO_PROPOSALS_RECOMPUTED
      && !key_frame (t, frame, &act, error)) {
    t->last_out_valid = FALSE;
    return NULL;
  }
  g_debug ("tracker: %s, motion %.2f,%.2f, %u boxes",
           act == SPP_VIDEO_PROPOSALS_RECOMPUTED ? "recomputed"
           : act == SPP_VIDEO_PROPOSALS_PARTIAL  ? "partial"
           : act == SPP_VIDEO_PROPOSALS_SHIFTED  ? "shifted"
                                                 : "reused",
           dx, dy, t->n_out);
  t->last_out_valid = TRUE;
  if (n_boxes)
    *n_boxes = t->n_out;
  if (action)
    *action = act;
  return t->out;
}
