/* sppdetect: reusing proposals across adjacent video frames. */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/box.h"
#include "spp/image.h"
#include "spp/proposals.h"

G_BEGIN_DECLS

/**
 * SppVideoProposals:
 *
 * Per-stream state: the last proposals and the previous frame's
 * downscaled luma. It estimates global motion between frames, detects
 * scene cuts, and decides per frame whether to reuse, shift or recompute
 * the proposals. Its memory is bounded whatever the frame size or rate.
 * Not thread-safe: one per stream.
 *
 * Key frames keep a pool of selective-search boxes from the last few
 * runs (at most six times the params' max_boxes; the oldest go first)
 * and hand out at most max_boxes of them, chosen to cover the pool (in
 * rank order, none within IoU 0.6 of an earlier pick while others are
 * left), so that they still cover the next frames' own runs. With a
 * still camera, a key frame re-runs selective search only on the areas
 * that changed since their boxes were made (spp_video_proposals_set_partial()).
 */
typedef struct _SppVideoProposals SppVideoProposals;

/* What spp_video_proposals_update() did for a frame's boxes. */
typedef enum {
  SPP_VIDEO_PROPOSALS_REUSED,     /* the last frame's boxes */
  SPP_VIDEO_PROPOSALS_SHIFTED,    /* the last boxes moved by global motion */
  SPP_VIDEO_PROPOSALS_RECOMPUTED, /* a full selective search ran */
  SPP_VIDEO_PROPOSALS_PARTIAL,    /* it ran only where the frame changed */
} SppVideoProposalsAction;

/** spp_video_proposals_new: @interval: recompute at least every this
 * many frames (>= 1; 1 = every frame). */
SPP_API SppVideoProposals *spp_video_proposals_new (const SppProposalParams *params,
                                            guint interval);
SPP_API void spp_video_proposals_free (SppVideoProposals *tracker);
SPP_API void spp_video_proposals_set_params (SppVideoProposals *tracker,
                                     const SppProposalParams *params);
SPP_API void spp_video_proposals_set_interval (SppVideoProposals *tracker,
                                       guint interval);
/**
 * spp_video_proposals_set_partial:
 * @partial: %TRUE (the default) to let key frames re-run selective search
 *   only on the rectangles around what changed since the boxes there were
 *   made; %FALSE for a full run on every key frame.
 *
 * A partial run needs a still camera since the last full run; a key
 * frame where the camera moved or more than half of the picture changed
 * runs in full, and so does one key frame in a few whatever happened, so
 * that regions straddling a changed area cannot drift for long. A key
 * frame where nothing changed keeps its boxes (%SPP_VIDEO_PROPOSALS_REUSED).
 */
SPP_API void spp_video_proposals_set_partial (SppVideoProposals *tracker,
                                      gboolean partial);

/** spp_video_proposals_reset: forget everything; the next frame recomputes. */
SPP_API void spp_video_proposals_reset (SppVideoProposals *tracker);

/**
 * spp_video_proposals_update:
 * @frame: the next frame of the stream.
 * @need_boxes: %FALSE to only estimate motion (cheap); %TRUE to also get
 *   proposals for this frame.
 * @n_boxes: (out) (optional): number of boxes.
 * @action: (out) (optional): what was done for the boxes.
 *
 * Returns: (transfer none): the proposals for @frame, valid until the next
 * call (%NULL when @need_boxes is %FALSE, or on error).
 */
SPP_API const SppBox *spp_video_proposals_update (SppVideoProposals *tracker,
                                          const SppImage *frame,
                                          gboolean need_boxes, guint *n_boxes,
                                          SppVideoProposalsAction *action,
                                          GError **error);

/**
 * spp_video_proposals_get_motion:
 *
 * Global translation, in frame pixels, between the two most recent frames
 * given to spp_video_proposals_update() (0, 0 after a cut or on the first
 * frame). Returns %TRUE when the last frame was judged a scene cut.
 */
SPP_API gboolean spp_video_proposals_get_motion (const SppVideoProposals *tracker,
                                         float *dx, float *dy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppVideoProposals, spp_video_proposals_free)

G_END_DECLS
