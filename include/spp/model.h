/* sppdetect: a loaded model file (see docs/model-format.md). */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/proposals.h"

G_BEGIN_DECLS

/**
 * SppModel:
 *
 * An immutable, reference-counted model: the conv trunk, the fc head, the
 * per-class SVMs and box regressors, and their metadata. One model may be
 * shared read-only by any number of #SppNet and #SppDetector instances in
 * any threads.
 */
typedef struct _SppModel SppModel;

/**
 * SppChannelOrder:
 * Order of the colour planes the network expects.
 */
typedef enum {
  SPP_CHANNEL_RGB,
  SPP_CHANNEL_BGR,
} SppChannelOrder;

/**
 * spp_model_load:
 * @path: a model file.
 *
 * Maps and validates @path. Any malformed, truncated or inconsistent file
 * fails with %SPP_ERROR_FORMAT (or %SPP_ERROR_IO), and the message names
 * the file and the field. Returns: (transfer full): the model, or %NULL.
 */
SPP_API SppModel *spp_model_load (const char *path, GError **error);

/**
 * spp_model_load_from_bytes:
 * @bytes: the whole file contents.
 * @name: what to call it in error messages.
 *
 * As spp_model_load(), from memory (keeps a reference to @bytes).
 */
SPP_API SppModel *spp_model_load_from_bytes (GBytes *bytes, const char *name,
                                     GError **error);

SPP_API SppModel *spp_model_ref (SppModel *model);
SPP_API void spp_model_unref (SppModel *model);

SPP_API const char *spp_model_get_name (const SppModel *model);
SPP_API const char *spp_model_get_path (const SppModel *model);
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

SPP_API SppChannelOrder spp_model_get_channel_order (const SppModel *model);
/** spp_model_get_normalization: input = (pixel - mean) / std, per channel
 * in the network's channel order. */
SPP_API void spp_model_get_normalization (const SppModel *model, float mean[3],
                                  float std[3]);
/** spp_model_get_stride: total stride S of the trunk (16 for ZF-5). */
SPP_API guint spp_model_get_stride (const SppModel *model);
/** spp_model_get_offset: pixels added to box edges before projecting
 * onto the feature map (0 when every layer pads floor(k/2)). */
SPP_API float spp_model_get_offset (const SppModel *model);
SPP_API const guint *spp_model_get_levels (const SppModel *model, guint *n_levels);
/** spp_model_get_scales: default shorter-side scales for detection. */
SPP_API const guint *spp_model_get_scales (const SppModel *model, guint *n_scales);
/** spp_model_get_feature_channels: channels of the trunk's output map. */
SPP_API guint spp_model_get_feature_channels (const SppModel *model);
/** spp_model_get_pooled_size: length of one SPP vector (channels x bins). */
SPP_API guint spp_model_get_pooled_size (const SppModel *model);
/** spp_model_get_n_layers: layers in the trunk and in the head. */
SPP_API void spp_model_get_n_layers (const SppModel *model, guint *n_trunk,
                             guint *n_head);
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

/** spp_model_describe: a human-readable multi-line summary. */
SPP_API char *spp_model_describe (const SppModel *model);

/**
 * spp_model_get_default_path:
 *
 * Where the bundled default model is: $SPP_MODEL_PATH if set, else the
 * installed copy, else the copy in the source tree this library was built
 * from. Returns: (transfer full): a path (it may not exist).
 */
SPP_API char *spp_model_get_default_path (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppModel, spp_model_unref)

G_END_DECLS
