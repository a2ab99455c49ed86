/* sppdetect: reusing proposals across video frames (SPEC §6, "a workable
 * strategy"): key frames run selective search; in between, the key
 * frame's boxes follow the global translation estimated on small luma
 * thumbnails. */
#include "spp/tracker.h"
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
/* SPEC §6 step 4: cut thresholds. The histogram L1 distance is in
 * [0, 2]; MAD is on 0..255 luma after motion compensation. */
#define CUT_HIST_L1 0.5f
#define CUT_MAD 28.0f
/* SPEC §6 step 2 and 4: drop boxes more than 50% outside, recompute when
 * more than 30% left. */
#define MAX_OUTSIDE 0.5f
#define MAX_LOST 0.3f
/* Sub-pixel noise below this (frame pixels) is taken as no motion, so a
 * static camera does not drift. */
#define DEAD_ZONE 0.25f

struct _SppTracker {
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
};

SppTracker *
spp_tracker_new (const SppProposalParams *params, guint interval)
{
  SppTracker *t = g_new0 (SppTracker, 1);
  if (params)
    t->params = *params;
  else
    spp_proposal_params_init (&t->params);
  t->interval = MAX (interval, 1u);
  return t;
}

void
spp_tracker_free (SppTracker *tracker)
{
  if (tracker == NULL)
    return;
  g_free (tracker->key);
  g_free (tracker->out);
  g_free (tracker);
}

void
spp_tracker_set_params (SppTracker *tracker, const SppProposalParams *params)
{
  g_return_if_fail (tracker != NULL && params != NULL);
  tracker->params = *params;
  /* Boxes made with other parameters are stale. */
  tracker->have_key = FALSE;
}

void
spp_tracker_set_interval (SppTracker *tracker, guint interval)
{
  g_return_if_fail (tracker != NULL);
  tracker->interval = MAX (interval, 1u);
}

void
spp_tracker_reset (SppTracker *tracker)
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
spp_tracker_get_motion (const SppTracker *tracker, float *dx, float *dy)
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
      rs += (guint32) abs ((int) c[x] - (int) p[x]);
    sum += rs;
  }
  return (float) sum / ((float) (x1 - x0) * (y1 - y0));
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
make_thumb (SppTracker *t, const SppImage *frame, int i, GError **error)
{
  if (!spp_image_resize_rgb (frame, t->rgb, t->tw, t->th, t->tw * 3, error))
    return FALSE;
  guint8 *l = t->luma[i];
  float *hist = t->hist[i];
  int n = t->tw * t->th;
  memset (hist, 0, sizeof (float) * HIST_BINS);
  for (int p = 0; p < n; p++) {
    const guint8 *q = t->rgb + 3 * p;
    l[p] = (guint8) ((77 * q[0] + 150 * q[1] + 29 * q[2] + 128) >> 8);
    hist[l[p] * HIST_BINS / 256] += 1.0f / n;
  }
  int hw = t->tw / 2, hh = t->th / 2;
  for (int y = 0; y < hh; y++)
    for (int x = 0; x < hw; x++) {
      const guint8 *a = l + 2 * y * t->tw + 2 * x;
      t->half[i][y * hw + x] =
          (guint8) ((a[0] + a[1] + a[t->tw] + a[t->tw + 1] + 2) >> 2);
    }
  return TRUE;
}

/* Global translation prev -> cur in frame pixels, and whether it is a
 * cut. */
static void
estimate_motion (SppTracker *t, float *dx, float *dy, gboolean *cut)
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
  search (t->half[p], t->half[c], tw / 2, th / 2, 0, 0, COARSE_RANGE, &bx,
          &by, &best);
  search (t->luma[p], t->luma[c], tw, th, 2 * bx, 2 * by, FINE_RANGE, &bx,
          &by, &best);
  if (best > CUT_MAD) {
    *cut = TRUE;
    return;
  }
  float sx = subpixel (mad (t->luma[p], t->luma[c], tw, th, bx - 1, by), best,
                       mad (t->luma[p], t->luma[c], tw, th, bx + 1, by));
  float sy = subpixel (mad (t->luma[p], t->luma[c], tw, th, bx, by - 1), best,
                       mad (t->luma[p], t->luma[c], tw, th, bx, by + 1));
  *dx = (bx + sx) * (float) t->frame_w / tw;
  *dy = (by + sy) * (float) t->frame_h / th;
  if (fabsf (*dx) < DEAD_ZONE)
    *dx = 0;
  if (fabsf (*dy) < DEAD_ZONE)
    *dy = 0;
}

static gboolean
recompute (SppTracker *t, const SppImage *frame, GError **error)
{
  guint n = 0;
  SppBox *b = spp_proposals_compute (frame, &t->params, &n, error);
  if (b == NULL)
    return FALSE;
  g_free (t->key);
  t->key = b;
  t->n_key = n;
  t->have_key = TRUE;
  t->since_key = 0;
  t->acc_dx = t->acc_dy = 0;
  if (t->out_cap < MAX (n, 1u)) {
    t->out_cap = MAX (n, 1u);
    t->out = g_renew (SppBox, t->out, t->out_cap);
  }
  memcpy (t->out, b, n * sizeof (SppBox));
  t->n_out = n;
  return TRUE;
}

/* The key boxes moved by the accumulated motion, clipped; returns the
 * fraction that had to be dropped. */
static float
shift_boxes (SppTracker *t)
{
  float W = t->frame_w, H = t->frame_h;
  /* min_size is in working-image pixels (proposals.h). */
  float longer = MAX (W, H);
  float work = MIN ((float) t->params.work_size, longer);
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
    t->out[m++] = (SppBox) { cx0, cy0, cw, ch };
  }
  t->n_out = m;
  return t->n_key ? 1.0f - (float) m / t->n_key : 0.0f;
}

const SppBox *
spp_tracker_update (SppTracker *tracker, const SppImage *frame,
                    gboolean need_boxes, guint *n_boxes,
                    SppTrackerAction *action, GError **error)
{
  g_return_val_if_fail (tracker != NULL, NULL);
  SppTracker *t = tracker;
  if (n_boxes)
    *n_boxes = 0;
  if (!spp_image_validate (frame, error))
    return NULL;

  gboolean new_geometry = !t->have_prev || frame->width != t->frame_w
                          || frame->height != t->frame_h;
  if (new_geometry) {
    int longer = MAX (frame->width, frame->height);
    double s = longer > THUMB_MAX ? (double) THUMB_MAX / longer : 1.0;
    int tw = MAX (1, (int) lround (frame->width * s));
    int th = MAX (1, (int) lround (frame->height * s));
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

  SppTrackerAction act;
  if (!t->have_key || t->since_key >= t->interval) {
    act = SPP_TRACKER_RECOMPUTED;
  } else if (dx == 0 && dy == 0 && t->last_out_valid) {
    act = SPP_TRACKER_REUSED;
  } else {
    act = SPP_TRACKER_SHIFTED;
    if (shift_boxes (t) > MAX_LOST)
      act = SPP_TRACKER_RECOMPUTED;
  }
  if (act == SPP_TRACKER_RECOMPUTED && !recompute (t, frame, error)) {
    t->last_out_valid = FALSE;
    return NULL;
  }
  g_debug ("tracker: %s, motion %.2f,%.2f, %u boxes",
           act == SPP_TRACKER_RECOMPUTED ? "recomputed"
           : act == SPP_TRACKER_SHIFTED ? "shifted" : "reused",
           dx, dy, t->n_out);
  t->last_out_valid = TRUE;
  if (n_boxes)
    *n_boxes = t->n_out;
  if (action)
    *action = act;
  return t->out;
}
