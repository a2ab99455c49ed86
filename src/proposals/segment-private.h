/* sppdetect: Felzenszwalb-Huttenlocher graph segmentation
 * (docs/method.md 4). */
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

/* The same in two steps, so that several k share one smoothed, sorted
 * graph (selective search runs k = 50 and 100 on each colour space). */
typedef struct _SppSegmentGraph SppSegmentGraph;
/* NULL when @w or @h < 1. */
SppSegmentGraph *spp_segment_graph_new (const float *img, int w, int h,
                                        int nc, float sigma);
int spp_segment_graph_run (const SppSegmentGraph *g, float k, int min_size,
                           int *labels);
void spp_segment_graph_free (SppSegmentGraph *g);

/* Separable Gaussian smoothing with clamped borders, as used before
 * segmentation; @out may not alias @in. */
void spp_segment_smooth (const float *in, int w, int h, int nc, float sigma,
                         float *out);

/* A small process-wide cache of large scratch blocks (at most
 * SPP_SCRATCH_MAX_BYTES kept, mutex-protected). Selective search needs
 * tens of MB of temporaries per image; returning them to the kernel and
 * faulting them in again on the next video frame cost ~40% of the run
 * time. spp_scratch_free() needs the size given to spp_scratch_alloc(). */
#define SPP_SCRATCH_MAX_BYTES ((gsize) 96 << 20)
gpointer spp_scratch_alloc (gsize size);
gpointer spp_scratch_alloc0 (gsize size);
void spp_scratch_free (gpointer p, gsize size);

G_END_DECLS
