/* The detector's section of the model file (docs/model-format.md):
 * labels, thresholds, NMS and box voting, score calibration, scales,
 * proposal settings, and the SVM and box-regression tensors. */
#pragma once

#include "spp-engine/model.h"

typedef struct {
  guint *scales, n_scales;
  char **labels; /* NULL-terminated */
  guint n_classes;
  float *thresholds;
  float nms;
  float box_vote; /* detect.box_vote: box voting IoU, 0 off */
  guint box_passes; /* detect.box_passes: box regression passes (1) */
  float feature_scale, score_a, score_b;
  guint proposal_min_size, proposal_max_boxes; /* 0: the library's default */
  const SppTensor *svm_w, *svm_b, *bbox_w, *bbox_b; /* borrowed, or NULL */

  /* Copies of the weights that read pooled vectors (the head's first fc
   * layer, or the SVMs without a head, and the box regressors) with
   * columns in the pooling's bin-major order; made on first use, under
   * the lock. */
  GMutex lock;
  float *pooled_w_binmajor, *bbox_w_binmajor;
} SppDetectSection;

extern const SppModelSectionType spp_detect_section_type;

SppDetectSection *spp_detect_section_get (const SppModel *model);

/* The bin-major weights (see above); NULL for a matrix the model lacks.
 * When both exist, bbox_w directly follows pooled_w's rows in memory. */
void spp_detect_section_get_binmajor (const SppModel *model,
                                      const float **pooled_w,
                                      const float **bbox_w);
