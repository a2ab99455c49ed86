/* sppdetect: running a model's layers with a reusable arena. */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/model.h"
#include "spp/tensor.h"

G_BEGIN_DECLS

/**
 * SppNet:
 *
 * The per-thread (per-stream) state that runs a shared #SppModel: its
 * intermediate buffers are an arena reused from call to call, so steady
 * state allocates nothing. Not thread-safe: one SppNet per thread.
 */
typedef struct _SppNet SppNet;

/** spp_net_new: Returns: (transfer full): a runner holding a ref on
 * @model, or %NULL (with error) when OpenBLAS cannot be opened. */
SPP_API SppNet *spp_net_new (SppModel *model, GError **error);
SPP_API void spp_net_free (SppNet *net);

/**
 * spp_net_get_output_shape:
 *
 * Size of the trunk's feature map for an @in_h x @in_w input. Fails with
 * %SPP_ERROR_SHAPE when the input is too small for some layer.
 */
SPP_API gboolean spp_net_get_output_shape (const SppModel *model, int in_h, int in_w,
                                   int *c, int *h, int *w, GError **error);

/**
 * spp_net_forward:
 * @input: 1 x 3 x H x W, normalised, in the model's channel order.
 * @out: resized to 1 x C x H' x W' and filled with the feature map.
 *
 * Runs the conv trunk once.
 */
SPP_API gboolean spp_net_forward (SppNet *net, const SppTensor *input, SppTensor *out,
                          GError **error);

/**
 * spp_net_forward_head:
 * @pooled: N x D x 1 x 1 (D = spp_model_get_pooled_size()).
 * @out: resized to N x F x 1 x 1, the head's output (fc7 in ZF-5 terms).
 *
 * Runs the fully connected layers over all N windows, one GEMM per layer.
 * With no head layers, @out is a copy of @pooled.
 */
SPP_API gboolean spp_net_forward_head (SppNet *net, const SppTensor *pooled,
                               SppTensor *out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppNet, spp_net_free)

G_END_DECLS
