/* sppdetect: the last detections of a stream, and the global motion that
 * carries them onto the frames that run no inference (docs/elements.md,
 * "inference-interval" and "async"). */
#pragma once

#include <glib.h>

#include "spp/detector.h"
#include "spp/image.h"

G_BEGIN_DECLS

/* One of the last detections, as it lies on a later frame */
typedef struct
{
  /* pixels, shifted by the motion since @source_frame, clipped to the
   * frame; x1 > x0 and y1 > y0 are not guaranteed (a box may have moved
   * out of the frame) */
  gdouble x0, y0, x1, y1;
  gint label_id;
  gfloat confidence;
  const gchar *label;           /* interned: outlives any model */
  gboolean propagated;          /* from an earlier frame than this one */
  guint64 source_frame;         /* the frame inference ran on */
} SppPropagatedBox;

typedef void (*SppPropagatedBoxFunc) (const SppPropagatedBox * box,
    gpointer user_data);

/* The streaming thread measures the motion; the results may be set from
 * another thread (the async worker): they have a lock of their own. */
typedef struct _SppPropagator SppPropagator;

/* @owner: only names the element in debug logs */
SppPropagator *spp_propagator_new (gpointer owner);
void spp_propagator_free (SppPropagator * propagator);

/* Records the global motion at @frame_no, every frame. When nothing will
 * be propagated (@needed FALSE) it costs nothing, and the motion starts
 * afresh on the next frame that needs it. An error in measuring leaves
 * the motion unchanged and is only worth a debug line. */
void spp_propagator_update_motion (SppPropagator * propagator,
    const SppImage * image, guint64 frame_no, gboolean needed,
    GError ** error);

/* Replaces the last detections with those of inference on @frame_no */
void spp_propagator_set_results (SppPropagator * propagator, guint64 frame_no,
    const SppDetection * dets, guint n_dets);
gboolean spp_propagator_has_results (SppPropagator * propagator);

/* Calls @func on each of the last detections as they lie on @frame_no (a
 * frame of @width x @height): nothing when they are too old, from a later
 * frame (a restart), or from before a scene cut. */
void spp_propagator_foreach (SppPropagator * propagator, guint64 frame_no,
    gint width, gint height, SppPropagatedBoxFunc func, gpointer user_data);

/* The stream jumped (flushing seek, new size): drops the last detections
 * and restarts the motion */
void spp_propagator_forget (SppPropagator * propagator);

G_END_DECLS
