/* sppdetect: object identities across frames (docs/design.md). */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/box.h"
#include "spp/detector.h"

G_BEGIN_DECLS

/**
 * SppObjectTrackerParams:
 * @iou_gate: a detection joins a track of its class only if their IoU
 *   (against the track's predicted box) is at least this (0.3).
 * @min_hits: detections a track needs before it is confirmed and gets an
 *   id (3); a tentative track that misses a frame is dropped.
 * @max_age: inference frames a confirmed track survives without a
 *   detection, predicted by its motion, before it ends (30).
 *
 * Association is by IoU and class with an optimal assignment (Hungarian
 * method); each track's box follows a constant-velocity alpha-beta
 * filter on its centre and size.
 */
typedef struct {
  float iou_gate;
  guint min_hits;
  guint max_age;
} SppObjectTrackerParams;

SPP_API void spp_object_tracker_params_init (SppObjectTrackerParams *params);

/**
 * SppTrack:
 * @id: the object's id, from 1, unique for the tracker's life; 0 while
 *   the track is tentative.
 * @box: the filtered box (after spp_object_tracker_update()) or the
 *   predicted one (after spp_object_tracker_predict()).
 * @label_id: the class of the detections it follows.
 * @confidence: the last matched detection's.
 * @hits: detections matched so far.
 * @misses: inference frames since the last match.
 * @detection: index of the detection matched in the last update, or -1.
 */
typedef struct {
  guint64 id;
  SppBox box;
  int label_id;
  float confidence;
  guint hits, misses;
  int detection;
} SppTrack;

typedef struct _SppObjectTracker SppObjectTracker;

SPP_API SppObjectTracker *spp_object_tracker_new (
    const SppObjectTrackerParams *params);
SPP_API void spp_object_tracker_free (SppObjectTracker *tracker);

/**
 * spp_object_tracker_update:
 * @ids: (out caller-allocates) (nullable): @n_detections ids, the id of
 *   the confirmed track each detection joined, or 0.
 *
 * One inference frame: predicts every track one step, assigns the
 * detections, updates matched tracks, starts tentative tracks for the
 * rest and ends those that missed too long.
 */
SPP_API void spp_object_tracker_update (SppObjectTracker *tracker,
                                        const SppDetection *detections,
                                        guint n_detections, guint64 *ids);

/**
 * spp_object_tracker_match:
 * @ids: (out caller-allocates): @n_boxes ids, or 0.
 *
 * Gives boxes that are not new detections (boxes moved between
 * inference frames) the ids of the confirmed tracks they match, by the
 * same gated assignment, without changing any track.
 */
SPP_API void spp_object_tracker_match (const SppObjectTracker *tracker,
                                       const SppDetection *boxes,
                                       guint n_boxes, guint64 *ids);

/**
 * spp_object_tracker_get_tracks:
 * Returns: (transfer none): the live tracks, confirmed and tentative, in
 * no particular order, valid until the next call on @tracker.
 */
SPP_API const SppTrack *spp_object_tracker_get_tracks (
    const SppObjectTracker *tracker, guint *n_tracks);

/** spp_object_tracker_reset: forgets every track (a new segment); ids
 * keep counting up. */
SPP_API void spp_object_tracker_reset (SppObjectTracker *tracker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppObjectTracker, spp_object_tracker_free)

G_END_DECLS
