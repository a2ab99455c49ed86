/* Writing a trained detector: a copy of an input .sppm (trunk, head,
 * metadata) with the SVMs, box regressors and their metadata added or
 * replaced (docs/model-format.md). */
#pragma once

#include <glib.h>

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
} SppCliDetectorParams;

/* Copies @in_path to @out_path (through a temporary file renamed into
 * place) without its svm.* / bbox.* tensors and the detect.labels,
 * detect.thresholds, detect.feature_scale, detect.score_a/b,
 * proposals.max_boxes, proposals.min_size and general.description
 * entries, then adds those from @p. The result is
 * loaded back with spp_model_load() as a check. */
gboolean spp_cli_model_write (const char *in_path, const char *out_path,
                              const SppCliDetectorParams *p, GError **error);
