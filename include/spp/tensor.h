/* sppdetect: float32 NCHW tensors, 64-byte aligned. */
#pragma once

#include <glib.h>
#include "spp/export.h"

G_BEGIN_DECLS

/**
 * SppTensor:
 *
 * A dense float32 tensor in NCHW order whose data is 64-byte aligned.
 * Reshaping keeps the allocation when it is large enough, so a tensor
 * reused from frame to frame allocates only while sizes grow.
 */
typedef struct _SppTensor SppTensor;

/** spp_tensor_new: a zeroed n x c x h x w tensor; every dim >= 0. */
SPP_API SppTensor *spp_tensor_new (int n, int c, int h, int w);
SPP_API void spp_tensor_free (SppTensor *t);

/**
 * spp_tensor_reshape:
 *
 * Sets the shape, growing the allocation if needed (contents are then
 * undefined). Fails with %SPP_ERROR_NOMEM or %SPP_ERROR_INVAL on absurd
 * sizes.
 */
SPP_API gboolean spp_tensor_reshape (SppTensor *t, int n, int c, int h, int w,
                             GError **error);

SPP_API float *spp_tensor_data (SppTensor *t);
SPP_API const float *spp_tensor_const_data (const SppTensor *t);
SPP_API void spp_tensor_get_shape (const SppTensor *t, int *n, int *c, int *h,
                           int *w);
/** spp_tensor_get_size: number of elements, n*c*h*w. */
SPP_API gsize spp_tensor_get_size (const SppTensor *t);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppTensor, spp_tensor_free)

G_END_DECLS
