/* sppdetect: selective search internals, exposed for the unit tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Similarity terms of docs/method.md 4, combined by OR-ing these. */
enum {
  SPP_SS_COLOUR = 1 << 0,
  SPP_SS_TEXTURE = 1 << 1,
  SPP_SS_SIZE = 1 << 2,
  SPP_SS_FILL = 1 << 3,
};

#define SPP_SS_COLOUR_BINS 25
#define SPP_SS_TEXTURE_ORIENTATIONS 8
#define SPP_SS_TEXTURE_BINS 10

/* Per-pixel histogram bin indices of one colour space, the inputs of
 * hierarchical grouping. */
typedef struct {
  int width, height, nc;
  const guint8 *cbin; /* w*h*nc, 0..24 */
  const guint8 *tbin; /* w*h*nc*8, 0..9, channel-major then orientation */
} SppSsFeatures;

/* Histogram intersection sum(min(a, b)) of two L1-normalised histograms. */
float spp_ss_sim_hist (const float *a, const float *b, int n);
/* 1 - (size_a + size_b) / image_size */
float spp_ss_sim_size (int size_a, int size_b, int image_size);
/* 1 - (|BB(a u b)| - size_a - size_b) / image_size; boxes are inclusive
 * x0, y0, x1, y1. */
float spp_ss_sim_fill (int size_a, const int *box_a, int size_b,
                       const int *box_b, int image_size);

/*
 * spp_ss_group:
 * @labels: w*h initial region ids 0..@n_regions-1 (from segmentation).
 * @sims: which similarity terms to add up.
 * @boxes: (out caller-allocates): (2 n - 1) * 4 ints, every region's
 *   inclusive box x0, y0, x1, y1 in creation order: the initial regions,
 *   then one per merge.
 * @merges: (out caller-allocates) (optional): (n - 1) * 2 ints, the two
 *   regions merged at each step.
 * @merge_sims: (out caller-allocates) (optional): n - 1 floats, the
 *   similarity of each merged pair.
 *
 * Greedy merging of the most similar adjacent pair until none is left.
 * Returns the number of regions written (2 n - 1 for a connected image).
 */
int spp_ss_group (const SppSsFeatures *f, const int *labels, int n_regions,
                  guint sims, int *boxes, int *merges,
                  float *merge_sims);

/*
 * spp_ss_features_compute:
 * @rgb: packed RGB u8, @w x @h, stride 3 w.
 * @space: 0 HSV, 1 Lab, 2 rgI, 3 H, 4 I.
 * @img: (out): the image in that space, 0..255 floats (g_free).
 * @f: filled; its arrays are g_malloc'ed (free with spp_ss_features_clear).
 */
void spp_ss_features_compute (const guint8 *rgb, int w, int h, int space,
                              float **img, SppSsFeatures *f);
void spp_ss_features_clear (SppSsFeatures *f);

G_END_DECLS
