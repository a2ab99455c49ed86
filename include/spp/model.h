/* sppdetect: a loaded model file (see docs/model-format.md). */
#pragma once

#include <glib.h>
#include "spp/export.h"

G_BEGIN_DECLS

/**
 * SppModel:
 *
 * An immutable, reference-counted model: the conv trunk, the fc head and
 * their metadata, plus the sections other parts read (the detector's:
 * include/spp/detector.h). One model may be
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
/** spp_model_get_feature_channels: channels of the trunk's output map. */
SPP_API guint spp_model_get_feature_channels (const SppModel *model);
/** spp_model_get_pooled_size: length of one SPP vector (channels x bins). */
SPP_API guint spp_model_get_pooled_size (const SppModel *model);
/** spp_model_get_n_layers: layers in the trunk and in the head. */
SPP_API void spp_model_get_n_layers (const SppModel *model, guint *n_trunk,
                             guint *n_head);
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
