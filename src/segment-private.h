/* sppdetect: Felzenszwalb-Huttenlocher graph segmentation (SPEC §5). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * spp_segment_image:
 * @img: @w x @h pixels of @nc interleaved float channels (0..255 scale).
 * @sigma: Gaussian pre-smoothing (0.8 in selective search; <= 0: none).
 * @k: the k of the k/|C| merge threshold.
 * @min_size: components smaller than this are merged into a neighbour.
 * @labels: (out caller-allocates): @w * @h component ids, numbered
 *   0, 1, ... in raster order of first appearance.
 *
 * 8-connected graph, Euclidean colour distance. Returns the number of
 * components (0 when @w or @h < 1).
 */
int spp_segment_image (const float *img, int w, int h, int nc, float sigma,
                       float k, int min_size, int *labels);

/* Separable Gaussian smoothing with clamped borders, as used before
 * segmentation; @out may not alias @in. */
void spp_segment_smooth (const float *in, int w, int h, int nc, float sigma,
                         float *out);

G_END_DECLS
