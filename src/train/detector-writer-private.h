/* Writing a trained detector (docs/training.md section 3, step 7): a
 * copy of a model file with its SVMs, box regressors and their metadata
 * added or replaced, and its head replaced if asked. The file format is
 * the engine's (model-writer-private.h); this is what the detector's
 * part of it means. */
#pragma once

#include <glib.h>
#include "finetune-private.h"

typedef struct {
  guint n_classes;                /* K */
  const char *const *labels;      /* K */
  const float *thresholds;        /* K */
  guint feature_dim;              /* F: head width, or D without a head */
  const float *svm_weight;        /* K x F */
  const float *svm_bias;          /* K */
  guint pooled_dim;               /* D */
  const float *bbox_weight;       /* 4K x D, or NULL for no regression */
  const float *bbox_bias;         /* 4K */
  /* feature_scale is relative to the features spp_detector_compute_features()
   * gave: the file gets it times the input's own detect.feature_scale. */
  float feature_scale, score_a, score_b;
  const char *description;        /* general.description, or NULL */
  /* proposals.max_boxes / proposals.min_size: the selective search
   * settings trained with, so detection uses the same (0: not written) */
  guint proposals_max_boxes, proposals_min_size;
  /* detect.scales trained with (NULL: keep the input's). */
  const guint *scales;
  guint n_scales;
  /* TRUE: the input's head layers and their tensors are dropped and @head
   * (NULL or no layers: none, the SVMs read the pooled vector) is written
   * in their place; feature_scale is then not multiplied by the input's. */
  gboolean replace_head;
  const SppFcHead *head;
  /* detect.box_vote (0: not written; any in the input is dropped). */
  float box_vote;
  /* detect.box_passes (0 or 1: not written; any in the input is
   * dropped). */
  guint box_passes;
} SppDetectorSection;

/* The model file @in (@in_name in errors) without its svm.* / bbox.*
 * tensors and the detect.labels, detect.thresholds, detect.feature_scale,
 * detect.score_a/b, detect.box_vote, proposals.max_boxes,
 * proposals.min_size and general.description entries (detect.scales too
 * when @p has scales), plus those of @p, checked by loading it (@out_name
 * in errors). */
GBytes *spp_detector_section_write (GBytes *in, const char *in_name,
                                    const SppDetectorSection *p,
                                    const char *out_name, GError **error);

/* Reads the head of the model file @in: fc layers with ReLU only (an
 * INVAL error for any other head); none gives n_layers 0. */
gboolean spp_fc_head_read (GBytes *in, const char *in_name, SppFcHead *head,
                           GError **error);
