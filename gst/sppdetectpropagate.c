/* sppdetect: motion history and propagation of boxes between inference
 * frames.
 *
 * Every frame's cumulative global motion is kept in a ring; boxes found on
 * frame s are shown on a later frame f shifted by motion(f) - motion(s),
 * as long as s is still in the ring and no scene cut came between them.
 * Motion and cuts are measured as for proposals on video (docs/method.md
 * 5); docs/elements.md says what the element makes of them. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include <gst/gst.h>

#include "spp/video-proposals.h"

#include "sppdetectpropagate.h"

GST_DEBUG_CATEGORY_EXTERN (gst_spp_detect_debug);
#define GST_CAT_DEFAULT gst_spp_detect_debug

/* Frames a propagated result may come from; older ones are dropped */
#define MOTION_HISTORY 1024

typedef struct
{
  SppBox box;
  gint label_id;
  gfloat confidence;
  const gchar *label;           /* interned: outlives any model */
} SppPropagatorDet;

/* Cumulative global motion at one frame */
typedef struct
{
  guint64 frame;
  gdouble x, y;
  guint cut_epoch;
} SppMotionEntry;

struct _SppPropagator
{
  gpointer owner;

  /* under results_lock */
  GMutex results_lock;
  GArray *results;              /* SppPropagatorDet */
  guint64 results_frame;
  gboolean have_results;

  /* streaming thread only */
  SppVideoProposals *motion;    /* global motion, every frame */
  gboolean motion_stale;        /* frames went by without it */
  SppMotionEntry history[MOTION_HISTORY];
  SppMotionEntry cur_motion;
};

SppPropagator *
spp_propagator_new (gpointer owner)
{
  SppPropagator *p = g_new0 (SppPropagator, 1);
  SppProposalParams params;

  p->owner = owner;
  g_mutex_init (&p->results_lock);
  p->results = g_array_new (FALSE, FALSE, sizeof (SppPropagatorDet));
  spp_proposal_params_init (&params);
  p->motion = spp_video_proposals_new (&params, 1);
  for (guint i = 0; i < MOTION_HISTORY; i++)
    p->history[i].frame = G_MAXUINT64;  /* matches no frame */
  return p;
}

void
spp_propagator_free (SppPropagator * p)
{
  if (!p)
    return;
  spp_video_proposals_free (p->motion);
  g_array_unref (p->results);
  g_mutex_clear (&p->results_lock);
  g_free (p);
}

static void
spp_propagator_record_motion (SppPropagator * p, guint64 frame_no)
{
  p->cur_motion.frame = frame_no;
  p->history[frame_no % MOTION_HISTORY] = p->cur_motion;
}

void
spp_propagator_update_motion (SppPropagator * p, const SppImage * image,
    guint64 frame_no, gboolean needed, GError ** error)
{
  GError *err = NULL;
  gfloat dx = 0, dy = 0;
  gboolean cut = FALSE;

  if (!needed) {
    p->motion_stale = TRUE;
    spp_propagator_record_motion (p, frame_no);
    return;
  }
  if (p->motion_stale) {
    /* Its last frame is not the previous one: start afresh */
    spp_video_proposals_reset (p->motion);
    p->motion_stale = FALSE;
  }
  spp_video_proposals_update (p->motion, image, FALSE, NULL, NULL, &err);
  if (err)
    g_propagate_error (error, err);
  else
    cut = spp_video_proposals_get_motion (p->motion, &dx, &dy);
  if (frame_no == 0)
    cut = FALSE;
  if (cut)
    p->cur_motion.cut_epoch++;
  if (isfinite (dx) && isfinite (dy)) {
    p->cur_motion.x += dx;
    p->cur_motion.y += dy;
  }
  spp_propagator_record_motion (p, frame_no);
}

void
spp_propagator_set_results (SppPropagator * p, guint64 frame_no,
    const SppDetection * dets, guint n_dets)
{
  g_mutex_lock (&p->results_lock);
  g_array_set_size (p->results, n_dets);
  for (guint i = 0; i < n_dets; i++) {
    SppPropagatorDet *r = &g_array_index (p->results, SppPropagatorDet, i);

    r->box = dets[i].box;
    r->label_id = dets[i].label_id;
    r->confidence = dets[i].confidence;
    r->label = g_intern_string (dets[i].label ? dets[i].label : "");
  }
  p->results_frame = frame_no;
  p->have_results = TRUE;
  g_mutex_unlock (&p->results_lock);
}

gboolean
spp_propagator_has_results (SppPropagator * p)
{
  gboolean have;

  g_mutex_lock (&p->results_lock);
  have = p->have_results;
  g_mutex_unlock (&p->results_lock);
  return have;
}

void
spp_propagator_foreach (SppPropagator * p, guint64 frame_no, gint width,
    gint height, SppPropagatedBoxFunc func, gpointer user_data)
{
  const SppMotionEntry *src;
  SppPropagatedBox out;
  gdouble dx = 0, dy = 0;

  g_mutex_lock (&p->results_lock);
  if (!p->have_results || p->results->len == 0)
    goto done;
  out.source_frame = p->results_frame;
  out.propagated = out.source_frame != frame_no;
  if (out.propagated) {
    if (out.source_frame > frame_no)
      goto done;                /* after a restart; never shift backwards */
    src = &p->history[out.source_frame % MOTION_HISTORY];
    if (src->frame != out.source_frame
        || frame_no - out.source_frame >= MOTION_HISTORY) {
      GST_DEBUG_OBJECT (p->owner, "results of frame %" G_GUINT64_FORMAT
          " too old to propagate", out.source_frame);
      goto done;
    }
    if (src->cut_epoch != p->cur_motion.cut_epoch)
      goto done;                /* a scene cut since: the boxes are stale */
    dx = p->cur_motion.x - src->x;
    dy = p->cur_motion.y - src->y;
  }

  for (guint i = 0; i < p->results->len; i++) {
    const SppPropagatorDet *d = &g_array_index (p->results,
        SppPropagatorDet, i);

    out.x0 = CLAMP (d->box.x + dx, 0, width);
    out.y0 = CLAMP (d->box.y + dy, 0, height);
    out.x1 = CLAMP (d->box.x + d->box.w + dx, 0, width);
    out.y1 = CLAMP (d->box.y + d->box.h + dy, 0, height);
    out.label_id = d->label_id;
    out.confidence = d->confidence;
    out.label = d->label;
    func (&out, user_data);
  }
done:
  g_mutex_unlock (&p->results_lock);
}

void
spp_propagator_forget (SppPropagator * p)
{
  g_mutex_lock (&p->results_lock);
  p->have_results = FALSE;
  g_mutex_unlock (&p->results_lock);
  p->motion_stale = TRUE;
}
