#pragma once

#include "spp/pyramid.h"
#include "tensor-private.h"

/* Window pooling reads the map channel-last (H x W x C) so each bin's max
 * runs over contiguous channels; spp_pyramid_to_hwc makes that copy once
 * per feature map. */
gboolean spp_pyramid_to_hwc (const SppTensor *map, SppTensor *hwc,
                             GError **error);

/* Pools one window of an HWC map into out. Scratch: C * finest^2 floats.
 * channel_major: the file layout (c * n * n + bin); otherwise bin-major
 * (bin * C + c), which skips a transpose when fc weights are permuted to
 * match. */
void spp_pyramid_pool_hwc (const float *hwc, int c, int h, int w,
                           const guint *levels, guint n_levels,
                           const int cells[4], gboolean channel_major,
                           float *scratch, float *out);
gsize spp_pyramid_scratch_size (int c, const guint *levels, guint n_levels);
