/* Tracking by detection (docs/design.md, objects): each inference
 * frame's detections are assigned to the tracks by IoU against the
 * tracks' predicted boxes, per class, with an optimal assignment; each
 * track's box follows an alpha-beta filter (constant velocity) on its
 * centre and size, which predicts it through missed frames. */
#include "spp/object-tracker.h"

#include "hungarian-private.h"

#include <math.h>
#include <string.h>

/* The filter's gains: how far a measurement pulls the state (alpha) and
 * the velocity (beta) per frame. */
#define ALPHA 0.6
#define BETA 0.2
/* Cost of a pair the gate forbids: above any 1 - IoU. */
#define FORBIDDEN 1e6

typedef struct {
  double x[4], v[4]; /* centre x, centre y, width, height; their speeds */
} Motion;

struct _SppObjectTracker {
  SppObjectTrackerParams p;
  GArray *tracks; /* SppTrack */
  GArray *motion; /* Motion, parallel to tracks */
  guint64 next_id;
};

void
spp_object_tracker_params_init (SppObjectTrackerParams *p)
{
  g_return_if_fail (p != NULL);
  p->iou_gate = 0.3f;
  p->min_hits = 3;
  p->max_age = 30;
}

SppObjectTracker *
spp_object_tracker_new (const SppObjectTrackerParams *params)
{
  SppObjectTracker *t = g_new0 (SppObjectTracker, 1);
  if (params)
    t->p = *params;
  else
    spp_object_tracker_params_init (&t->p);
  t->p.iou_gate = CLAMP (t->p.iou_gate, 0.0f, 1.0f);
  t->p.min_hits = MAX (t->p.min_hits, 1);
  t->tracks = g_array_new (FALSE, FALSE, sizeof (SppTrack));
  t->motion = g_array_new (FALSE, FALSE, sizeof (Motion));
  t->next_id = 1;
  return t;
}

void
spp_object_tracker_free (SppObjectTracker *t)
{
  if (t == NULL)
    return;
  g_array_unref (t->tracks);
  g_array_unref (t->motion);
  g_free (t);
}

void
spp_object_tracker_reset (SppObjectTracker *t)
{
  g_return_if_fail (t != NULL);
  g_array_set_size (t->tracks, 0);
  g_array_set_size (t->motion, 0);
}

const SppTrack *
spp_object_tracker_get_tracks (const SppObjectTracker *t, guint *n)
{
  g_return_val_if_fail (t != NULL && n != NULL, NULL);
  *n = t->tracks->len;
  return (const SppTrack *) t->tracks->data;
}

static SppBox
motion_box (const Motion *m)
{
  const double w = MAX (m->x[2], 1.0), h = MAX (m->x[3], 1.0);
  return (SppBox) { m->x[0] - w / 2, m->x[1] - h / 2, w, h };
}

static void
motion_measure (const SppBox *b, double z[4])
{
  z[0] = b->x + b->w / 2;
  z[1] = b->y + b->h / 2;
  z[2] = b->w;
  z[3] = b->h;
}

static void
remove_track (SppObjectTracker *t, guint i)
{
  g_array_remove_index_fast (t->tracks, i);
  g_array_remove_index_fast (t->motion, i);
}

/* det_of_track[i]: the detection track i takes, or -1: an optimal
 * assignment on cost 1 - IoU, within the gate and the class. */
static void
assign (const SppObjectTracker *t, const SppDetection *dets, guint n_dets,
        int *det_of_track)
{
  const guint n_tracks = t->tracks->len;
  const SppTrack *tr = (const SppTrack *) t->tracks->data;
  for (guint i = 0; i < n_tracks; i++)
    det_of_track[i] = -1;
  if (n_tracks == 0 || n_dets == 0)
    return;
  g_autofree double *cost = g_new (double, (gsize) n_tracks * n_dets);
  for (guint i = 0; i < n_tracks; i++)
    for (guint j = 0; j < n_dets; j++) {
      const float iou = spp_box_iou (&tr[i].box, &dets[j].box);
      const gboolean ok = tr[i].label_id == dets[j].label_id
                          && iou >= t->p.iou_gate && iou > 0.0f;
      cost[(gsize) i * n_dets + j] = ok ? 1.0 - iou : FORBIDDEN;
    }
  spp_hungarian (cost, n_tracks, n_dets, det_of_track);
  for (guint i = 0; i < n_tracks; i++)
    if (det_of_track[i] >= 0
        && cost[(gsize) i * n_dets + det_of_track[i]] >= FORBIDDEN)
      det_of_track[i] = -1;
}

void
spp_object_tracker_match (const SppObjectTracker *t,
                          const SppDetection *boxes, guint n_boxes,
                          guint64 *ids)
{
  g_return_if_fail (t != NULL && (boxes != NULL || n_boxes == 0));
  g_return_if_fail (ids != NULL || n_boxes == 0);
  for (guint j = 0; j < n_boxes; j++)
    ids[j] = 0;
  g_autofree int *det_of_track = g_new (int, MAX (t->tracks->len, 1));
  assign (t, boxes, n_boxes, det_of_track);
  for (guint i = 0; i < t->tracks->len; i++)
    if (det_of_track[i] >= 0)
      ids[det_of_track[i]] = g_array_index (t->tracks, SppTrack, i).id;
}

void
spp_object_tracker_update (SppObjectTracker *t, const SppDetection *dets,
                           guint n_dets, guint64 *ids)
{
  g_return_if_fail (t != NULL && (dets != NULL || n_dets == 0));
  const guint n_tracks = t->tracks->len;
  SppTrack *tr = (SppTrack *) t->tracks->data;
  Motion *mo = (Motion *) t->motion->data;

  /* Predict one frame ahead. */
  for (guint i = 0; i < n_tracks; i++) {
    for (int k = 0; k < 4; k++)
      mo[i].x[k] += mo[i].v[k];
    tr[i].box = motion_box (&mo[i]);
    tr[i].detection = -1;
  }

  g_autofree int *det_of_track = g_new (int, MAX (n_tracks, 1));
  assign (t, dets, n_dets, det_of_track);

  g_autofree gboolean *taken = g_new0 (gboolean, MAX (n_dets, 1));
  for (guint i = 0; i < n_tracks; i++) {
    const int j = det_of_track[i];
    if (j < 0) {
      tr[i].misses++;
      continue;
    }
    taken[j] = TRUE;
    double z[4];
    motion_measure (&dets[j].box, z);
    for (int k = 0; k < 4; k++) {
      const double r = z[k] - mo[i].x[k];
      mo[i].x[k] += ALPHA * r;
      mo[i].v[k] += BETA * r;
    }
    tr[i].box = motion_box (&mo[i]);
    tr[i].confidence = dets[j].confidence;
    tr[i].hits++;
    tr[i].misses = 0;
    tr[i].detection = j;
    if (tr[i].id == 0 && tr[i].hits >= t->p.min_hits)
      tr[i].id = t->next_id++;
  }

  /* End the tracks that missed too long: a tentative one at its first
   * miss, a confirmed one after max_age. */
  for (guint i = t->tracks->len; i-- > 0;) {
    const SppTrack *k = &g_array_index (t->tracks, SppTrack, i);
    if (k->misses > 0 && (k->id == 0 || k->misses > t->p.max_age))
      remove_track (t, i);
  }

  /* New tentative tracks for the detections no track took. */
  for (guint j = 0; j < n_dets; j++) {
    if (taken[j])
      continue;
    SppTrack k = { 0, dets[j].box, dets[j].label_id, dets[j].confidence, 1,
                   0, (int) j };
    if (t->p.min_hits <= 1)
      k.id = t->next_id++;
    Motion m = { { 0 }, { 0 } };
    motion_measure (&dets[j].box, m.x);
    g_array_append_val (t->tracks, k);
    g_array_append_val (t->motion, m);
  }

  if (ids) {
    for (guint j = 0; j < n_dets; j++)
      ids[j] = 0;
    for (guint i = 0; i < t->tracks->len; i++) {
      const SppTrack *k = &g_array_index (t->tracks, SppTrack, i);
      if (k->detection >= 0)
        ids[k->detection] = k->id;
    }
  }
}
