/* sppdetect: the spatial pyramid pooling layer (docs/method.md 1). */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/box.h"
#include "spp/tensor.h"

G_BEGIN_DECLS

/** spp_pyramid_get_n_bins: sum of n*n over the levels (50 for 1,2,3,6). */
SPP_API guint spp_pyramid_get_n_bins (const guint *levels, guint n_levels);

/**
 * spp_pyramid_bin_range:
 * @extent: window size in cells along one axis (>= 1).
 * @n: bins along that axis.
 * @i: bin index, 0-based.
 *
 * Bin i covers [floor(i*extent/n), ceil((i+1)*extent/n)) (paper App. A).
 */
SPP_API void spp_pyramid_bin_range (int extent, int n, int i, int *start, int *end);

/**
 * spp_pyramid_project_box:
 * @box: a window in pixels of the image the map was computed from.
 * @stride: the trunk's total stride S.
 * @offset: pixels added to the box's edges first.
 * @cells: (out): x0, y0, x1, y1, inclusive feature-map cells.
 *
 * Paper App. A: left/top = floor(x/S) + 1, right/bottom = ceil(x/S) - 1,
 * where x is the first (last) pixel the window covers. A window that
 * collapses gets the integer mean of its ends; the result is clamped to
 * the map, so it always covers at least one cell.
 */
SPP_API void spp_pyramid_project_box (const SppBox *box, guint stride, float offset,
                              int map_w, int map_h, int cells[4]);

/**
 * spp_pyramid_pool_cells:
 * @map: 1 x C x H x W feature map.
 * @cells: x0, y0, x1, y1 inclusive, inside the map (else an error).
 * @out: becomes 1 x (C * bins) x 1 x 1, written level by level, each
 *   level channel-major (c * n * n + y * n + x), as the released SPP-net.
 *
 * SPP of one window given in feature-map cells.
 */
SPP_API gboolean spp_pyramid_pool_cells (const SppTensor *map, const guint *levels,
                                 guint n_levels, const int cells[4],
                                 SppTensor *out, GError **error);

/**
 * spp_pyramid_pool:
 *
 * Whole-map SPP: @out becomes 1 x (C * bins) x 1 x 1.
 */
SPP_API gboolean spp_pyramid_pool (const SppTensor *map, const guint *levels,
                           guint n_levels, SppTensor *out, GError **error);

/**
 * spp_pyramid_pool_windows:
 *
 * Window SPP: projects each of @n_boxes boxes onto @map and pools it;
 * @out becomes n_boxes x (C * bins) x 1 x 1, one row per box, ready for
 * the fc GEMM. The work is split over libspp's worker threads. The
 * scratch (block tables of 16 channels of @map per worker thread, nine
 * times that slice's size, and a few hundred bytes per window) is kept
 * for the calling thread's next call and freed when that thread exits.
 */
SPP_API gboolean spp_pyramid_pool_windows (const SppTensor *map, const guint *levels,
                                   guint n_levels, guint stride, float offset,
                                   const SppBox *boxes, guint n_boxes,
                                   SppTensor *out, GError **error);

G_END_DECLS
