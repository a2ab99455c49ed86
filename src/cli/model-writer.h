/* Writing a trained detector: a copy of an input .sppm (trunk, head,
 * metadata) with the SVMs, box regressors and their metadata added or
 * replaced (docs/model-format.md). */
#pragma once

#include <glib.h>

#define SPP_CLI_FC_MAX 4

/* A head of fc layers with ReLU (fc6, fc7, ... in ZF-5 terms): layer i
 * maps dims[i] floats to dims[i + 1]; weight[i] is dims[i + 1] x dims[i],
 * row-major, as the model file stores it. */
typedef struct {
  guint n_layers;
  guint dims[SPP_CLI_FC_MAX + 1];
  float *weight[SPP_CLI_FC_MAX];
  float *bias[SPP_CLI_FC_MAX];
} SppCliFcHead;

void spp_cli_fc_head_clear (SppCliFcHead *head);
/* Reads the head of the model at @path: fc layers with ReLU only (an
 * INVAL error for any other head); none gives n_layers 0. */
gboolean spp_cli_model_read_head (const char *path, SppCliFcHead *head,
                                  GError **error);

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
  const SppCliFcHead *head;
  /* detect.box_vote (0: not written; any in the input is dropped). */
  float box_vote;
} SppCliDetectorParams;

/* Copies @in_path to @out_path (through a temporary file renamed into
 * place) without its svm.* / bbox.* tensors and the detect.labels,
 * detect.thresholds, detect.feature_scale, detect.score_a/b, detect.box_vote,
 * proposals.max_boxes, proposals.min_size and general.description
 * entries, then adds those from @p. The result is
 * loaded back with spp_model_load() as a check. */
gboolean spp_cli_model_write (const char *in_path, const char *out_path,
                              const SppCliDetectorParams *p, GError **error);
