#pragma once

#include "spp/detector.h"

/* scales.c: docs/method.md 2.2-2.3. */

/* Size of the frame resized so its shorter side is @scale, each side at
 * least @min_size and rounded up to @multiple, the longer side capped at
 * SPP_MAX_SIDE (shrinking the scale to keep the aspect). */
#define SPP_MAX_SIDE 4096
void spp_scale_resized_size (int width, int height, guint scale,
                             guint min_size, guint multiple, int *out_w,
                             int *out_h);

/* The paper's rule: the index of the scale at which the box's scaled area
 * is closest to 224 x 224. */
guint spp_scale_choose (const SppBox *box, int width, int height,
                        const guint *scales, guint n_scales);

/* box-regression.c: R-CNN box regression. (dx, dy) move the centre by a fraction
 * of the width/height, (dw, dh) scale them by exp(); dw and dh are
 * capped at 4 (e^4 = 55x) so a wild regressor cannot make huge boxes. */
#define SPP_BBOX_MAX_LOG_SCALE 4.0f
SppBox spp_bbox_apply (const SppBox *box, const float delta[4]);
/* Clips to [0, width) x [0, height); FALSE when nothing is left. */
gboolean spp_bbox_clip (SppBox *box, int width, int height);

/* nms.c: greedy NMS, one class at a time. @dets are sorted by confidence
 * (descending) within each class in place; survivors are moved to the
 * front, in descending confidence over all classes. Returns their
 * number, at most @max_out. */
guint spp_nms (SppDetection *dets, guint n, float iou_threshold,
               guint max_out);

/* nms.c: moves each of the @n_kept boxes to the confidence-weighted mean
 * of the @cands of its class that overlap it by IoU >= @iou and are at
 * least half as confident. */
void spp_box_vote (SppDetection *kept, guint n_kept,
                   const SppDetection *cands, guint n_cands, float iou);

/* Seconds spent in each stage by the last detect call. */
typedef struct {
  double resize, conv, spp, fc, svm, nms;
  guint n_forwards, n_windows;
} SppDetectorTimings;
const SppDetectorTimings *spp_detector_get_timings (const SppDetector *d);

/* Side of the square R-CNN warps every window to. */
#define SPP_RCNN_SIZE 224

/* The raw SVM scores (n_windows x n_classes, before calibration and
 * threshold) of the last detect call, one row per kept (clipped,
 * non-empty) proposal in proposal order. */
const float *spp_detector_get_window_scores (const SppDetector *d,
                                             guint *n_windows,
                                             guint *n_classes);
