/* sppdetect: the SPP-net detector (multi-scale shared conv, SVMs, NMS). */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/box.h"
#include "spp/image.h"
#include "spp/model.h"
#include "spp/proposals.h"
#include "spp/tensor.h"

G_BEGIN_DECLS

/* The model's detector section (docs/model-format.md: detect.*,
 * proposals.*, svm.*, bbox.*), read and checked when the model loads. */
SPP_API guint spp_model_get_n_classes (const SppModel *model);
/** spp_model_get_label: label of class @id (0-based), or %NULL. */
SPP_API const char *spp_model_get_label (const SppModel *model, guint id);
/** spp_model_find_label: class id of @label, or -1. */
SPP_API int spp_model_find_label (const SppModel *model, const char *label);
/** spp_model_get_threshold: the class's default score threshold. */
SPP_API float spp_model_get_threshold (const SppModel *model, guint id);
SPP_API float spp_model_get_nms_threshold (const SppModel *model);
/* detect.box_vote: IoU for box voting after NMS, 0 (off) when absent. */
SPP_API float spp_model_get_box_vote (const SppModel *model);
/* detect.box_passes: box regression passes, 1 when absent (see
 * spp_detector_set_box_passes()). */
SPP_API guint spp_model_get_box_passes (const SppModel *model);
/** spp_model_get_scales: default shorter-side scales for detection. */
SPP_API const guint *spp_model_get_scales (const SppModel *model, guint *n_scales);
/** spp_model_has_detector: the file has SVMs (it can detect, not only
 * compute features). */
SPP_API gboolean spp_model_has_detector (const SppModel *model);
/**
 * spp_model_get_proposal_params:
 * @params: (inout): filled by spp_proposal_params_init() first.
 *
 * Overrides the proposal settings the model was trained with (metadata
 * `proposals.min_size`, `proposals.max_boxes`), leaving the others.
 */
SPP_API void spp_model_get_proposal_params (const SppModel *model,
                                    SppProposalParams *params);

/**
 * SppDetection:
 * @box: the detection in frame pixels.
 * @label_id: class id, 0-based, as in the model's labels.
 * @confidence: score in [0, 1] (the SVM margin through a logistic).
 * @label: (transfer none): the class label, owned by the model.
 */
typedef struct {
  SppBox box;
  int label_id;
  float confidence;
  const char *label;
} SppDetection;

/**
 * SppDetector:
 *
 * Runs one #SppModel on frames. Holds a reference on the model and its own
 * buffers (no allocation in steady state); not thread-safe: one per
 * stream or thread. Several detectors share a model read-only.
 */
typedef struct _SppDetector SppDetector;

SPP_API SppDetector *spp_detector_new (SppModel *model, GError **error);
/** spp_detector_new_for_features: a detector that only computes features
 * (spp_detector_compute_features()), for models without SVMs yet, as
 * training starts from. */
SPP_API SppDetector *spp_detector_new_for_features (SppModel *model, GError **error);
SPP_API void spp_detector_free (SppDetector *detector);
SPP_API SppModel *spp_detector_get_model (const SppDetector *detector);

/** spp_scales_parse: a comma-separated list of shorter-side scales
 * ("480, 688") into @scales (room for @max); each an integer in
 * [32, 4096], spaces around items allowed. An empty or NULL @text gives
 * *@n = 0. FALSE with an SPP_ERROR_INVAL error naming the bad item, or
 * saying there are more than @max. */
SPP_API gboolean spp_scales_parse (const char *text, guint *scales, guint max,
                           guint *n, GError **error);
/** spp_detector_set_scales: shorter-side scales in pixels, each in
 * [32, 4096]; at least one. Default: the model's. */
SPP_API gboolean spp_detector_set_scales (SppDetector *detector, const guint *scales,
                                  guint n_scales, GError **error);
/** spp_detector_set_threshold: minimum confidence in [0, 1]; a negative
 * value means each class's own threshold from the model (the default). */
SPP_API void spp_detector_set_threshold (SppDetector *detector, float threshold);
/** spp_detector_set_nms_threshold: IoU above which per-class NMS
 * suppresses (default: the model's, 0.3 in the paper). */
SPP_API void spp_detector_set_nms_threshold (SppDetector *detector, float iou);
/** spp_detector_set_box_vote: after NMS, move each box to the
 * confidence-weighted mean of the candidates of its class that overlap it
 * by at least @iou and are at least half as confident (box voting); 0
 * turns it off. Default: the model's
 * `detect.box_vote`, 0 when the model has none. */
SPP_API void spp_detector_set_box_vote (SppDetector *detector, float iou);
/** SPP_MAX_BOX_PASSES: the most box regression passes. */
#define SPP_MAX_BOX_PASSES 4
/**
 * spp_detector_set_box_passes:
 * @passes: 1 (the usual single regression) to %SPP_MAX_BOX_PASSES.
 *
 * With more than one pass, each box kept after NMS and voting is pooled
 * again where the regressor put it and regressed again, @passes - 1
 * times (iterative box regression). Defaults to the model's
 * `detect.box_passes`, 1 when the model has none.
 */
SPP_API void spp_detector_set_box_passes (SppDetector *detector,
                                          guint passes);
/** spp_detector_set_max_detections: top-k per frame (default 100). */
SPP_API void spp_detector_set_max_detections (SppDetector *detector, guint max);

/**
 * spp_detector_detect:
 * @frame: the frame.
 * @proposals: candidate windows in frame pixels.
 * @detections: (out) (transfer none): results, best first, valid until the
 *   next call on @detector.
 * @n_detections: (out): their number.
 *
 * Zero proposals or proposals entirely outside the frame give no
 * detections, not an error.
 */
SPP_API gboolean spp_detector_detect (SppDetector *detector, const SppImage *frame,
                              const SppBox *proposals, guint n_proposals,
                              const SppDetection **detections,
                              guint *n_detections, GError **error);

/**
 * spp_detector_compute_features:
 * @boxes: windows in frame pixels (clipped to the frame; a box with
 *   nothing inside the frame gets a zero row).
 * @pooled: (out caller-allocates): resized to n_boxes x D x 1 x 1 and
 *   filled with each window's SPP vector in the model file's layout
 *   (levels in order, each channel-major), D = spp_model_get_pooled_size().
 * @features: (out caller-allocates) (nullable): if not %NULL, resized to
 *   n_boxes x F x 1 x 1 and filled with the head's output (fc7 in ZF-5
 *   terms) times the model's feature scale, what the SVMs read.
 *
 * The features exactly as spp_detector_detect() computes them (same
 * scales, scale choice, projection and pooling), for training SVMs and box
 * regressors. The model needs no SVMs for this.
 */
SPP_API gboolean spp_detector_compute_features (SppDetector *detector,
                                        const SppImage *frame,
                                        const SppBox *boxes, guint n_boxes,
                                        SppTensor *pooled, SppTensor *features,
                                        GError **error);

/**
 * spp_detector_detect_rcnn:
 *
 * The R-CNN baseline the paper compares with: the same model, but every
 * window is cropped from the frame, warped to 224 x 224 and run through
 * the conv layers on its own (pooled over its whole map). Slow by design;
 * for speed comparisons and for checking that window projection agrees
 * with warped crops. Same arguments and results as spp_detector_detect().
 */
SPP_API gboolean spp_detector_detect_rcnn (SppDetector *detector,
                                   const SppImage *frame,
                                   const SppBox *proposals, guint n_proposals,
                                   const SppDetection **detections,
                                   guint *n_detections, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppDetector, spp_detector_free)

G_END_DECLS
