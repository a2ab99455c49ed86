#pragma once

#include "spp/pyramid.h"
#include "tensor-private.h"

/* Window pooling reads the map channel-last (H x W x C) so each bin's max
 * runs over contiguous channels; spp_pyramid_to_hwc makes that copy once
 * per feature map. */
gboolean spp_pyramid_to_hwc (const SppTensor *map, SppTensor *hwc,
                             GError **error);

/* A feature map prepared for pooling many windows: channel-last, plus
 * the maxima of every 2x2, 4x4 and 8x8 block (anchored at its top-left
 * cell). Max is idempotent, so any rectangle of at least b x b cells is
 * the max of a few overlapping b x b blocks: a bin costs a handful of
 * reads instead of one per cell. */
#define SPP_POOL_MAX_BLOCK_LEVELS 4 /* blocks of 1, 2, 4, 8 cells */
typedef struct {
  int c, h, w;
  int n_blocks;
  SppTensor *blocks[SPP_POOL_MAX_BLOCK_LEVELS]; /* [0] is the HWC map */
} SppPoolMap;

void spp_pool_map_init (SppPoolMap *pm);
void spp_pool_map_clear (SppPoolMap *pm);
gboolean spp_pool_map_prepare (SppPoolMap *pm, const SppTensor *map,
                               GError **error);

/* Pools one window into out. Scratch: C * finest^2 floats.
 * channel_major: the file layout (c * n * n + bin); otherwise bin-major
 * (bin * C + c), which avoids a scatter when the consumer's weights are
 * permuted to match (spp_pyramid_permutation). */
void spp_pool_map_window (const SppPoolMap *pm, const guint *levels,
                          guint n_levels, const int cells[4],
                          gboolean channel_major, float *scratch, float *out);
gsize spp_pyramid_scratch_size (int c, const guint *levels, guint n_levels);

/* perm[bin-major index] = channel-major index, for c channels. */
void spp_pyramid_permutation (int c, const guint *levels, guint n_levels,
                              guint *perm);
