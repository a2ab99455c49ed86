/* sppdetect: detection quality, VOC-style average precision. */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/box.h"

G_BEGIN_DECLS

/**
 * SppEvaluator:
 *
 * Collects ground-truth boxes and scored detections over any number of
 * images and classes, then computes average precision (AP) per class:
 *
 * - the detections of a class are sorted by confidence, highest first
 *   (ties keep the order they were added in);
 * - each is compared with the ground truth of the same image and class
 *   that it overlaps most (spp_box_iou(), continuous coordinates),
 *   whether or not that box is already matched, as the PASCAL VOC
 *   devkit does: if the IoU is >= the threshold and the box is still
 *   free, the detection is a true positive and takes it; otherwise it
 *   is a false positive (a duplicate, or a poor box);
 * - AP is the area under the precision/recall curve with precision made
 *   monotone from the right, summed at every recall step ("all-point"
 *   interpolation, VOC2010 and later).
 *
 * A class with no ground truth has no AP (NaN) and is left out of the
 * means. Not thread-safe.
 */
typedef struct _SppEvaluator SppEvaluator;

/** spp_evaluator_new: an evaluator for classes 0 .. @n_classes - 1. */
SPP_API SppEvaluator *spp_evaluator_new (guint n_classes);
SPP_API void spp_evaluator_free (SppEvaluator *eval);
SPP_API guint spp_evaluator_get_n_classes (const SppEvaluator *eval);

/** spp_evaluator_add_ground_truth: a ground-truth box of @class_id in the
 * image @image_id (any caller-chosen number, the same for the image's
 * detections). Out-of-range classes are ignored. */
SPP_API void spp_evaluator_add_ground_truth (SppEvaluator *eval, guint image_id,
                                     guint class_id, const SppBox *box);
/** spp_evaluator_add_detection: a detection with its confidence (any
 * real; only the order matters). */
SPP_API void spp_evaluator_add_detection (SppEvaluator *eval, guint image_id,
                                  guint class_id, const SppBox *box,
                                  float confidence);

/** spp_evaluator_get_n_ground_truth: boxes of @class_id added so far. */
SPP_API guint spp_evaluator_get_n_ground_truth (const SppEvaluator *eval,
                                        guint class_id);

/**
 * spp_evaluator_average_precision:
 * @iou: match threshold, e.g. 0.5 (a match needs IoU >= @iou).
 *
 * Returns: AP of @class_id in [0, 1], or NaN when it has no ground truth.
 */
SPP_API double spp_evaluator_average_precision (SppEvaluator *eval, guint class_id,
                                        float iou);
/** spp_evaluator_mean_ap: mean of the classes' AP at @iou over the
 * classes with ground truth (NaN if none has any). */
SPP_API double spp_evaluator_mean_ap (SppEvaluator *eval, float iou);
/** spp_evaluator_mean_ap_coco: mean of spp_evaluator_mean_ap() at IoU
 * 0.50, 0.55, ..., 0.95 (COCO's mAP@[.5:.95], with VOC all-point AP). */
SPP_API double spp_evaluator_mean_ap_coco (SppEvaluator *eval);

/**
 * spp_evaluator_best_f1:
 * @threshold: (out) (optional): the confidence at which F1 is highest
 *   (keep detections with confidence >= it).
 * @precision: (out) (optional): precision there.
 * @recall: (out) (optional): recall there.
 *
 * The best F1 = 2PR / (P + R) over all confidence cut-offs of
 * @class_id's detections, matched as for AP. Returns 0 (and @threshold
 * +inf) when no cut-off finds a true positive, NaN without ground truth.
 */
SPP_API double spp_evaluator_best_f1 (SppEvaluator *eval, guint class_id, float iou,
                              float *threshold, double *precision,
                              double *recall);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppEvaluator, spp_evaluator_free)

G_END_DECLS
