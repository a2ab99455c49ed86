/* sppdetect: selective search region proposals (Uijlings et al. 2013). */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/box.h"
#include "spp/image.h"

G_BEGIN_DECLS

/**
 * SppProposalMode:
 * @SPP_PROPOSAL_FAST: HSV and Lab, k = 50 and 100, C+T+S+F and T+S+F
 *   (8 hierarchies, the paper's fast mode).
 * @SPP_PROPOSAL_QUALITY: the paper's quality mode (80 hierarchies).
 * @SPP_PROPOSAL_SINGLE: one hierarchy (HSV, C+T+S+F, k = 100).
 */
typedef enum {
  SPP_PROPOSAL_FAST,
  SPP_PROPOSAL_QUALITY,
  SPP_PROPOSAL_SINGLE,
} SppProposalMode;

/** spp_proposal_mode_from_string: "fast", "quality" or "single" (NULL is
 * "fast"); FALSE with an SPP_ERROR_INVAL error naming @name otherwise. */
SPP_API gboolean spp_proposal_mode_from_string (const char *name,
                                        SppProposalMode *mode,
                                        GError **error);

/**
 * SppProposalParams:
 * @mode: which strategies to run.
 * @max_boxes: keep at most this many (default 3000).
 * @work_size: longer side of the working image in pixels (default 500).
 * @min_size: drop boxes narrower or lower than this, in working-image
 *   pixels (default 8; selective search's own code uses 20).
 * @n_threads: threads for the independent hierarchies (0: all cores).
 * @seed: seed of the ranking's randomisation (results are deterministic
 *   for a fixed seed).
 */
typedef struct {
  SppProposalMode mode;
  guint max_boxes;
  guint work_size;
  guint min_size;
  guint n_threads;
  guint32 seed;
} SppProposalParams;

SPP_API void spp_proposal_params_init (SppProposalParams *params);

/**
 * spp_proposals_compute:
 * @n_boxes: (out): number of boxes returned.
 *
 * Runs selective search on @image. Returns: (transfer full): boxes in
 * @image's pixels, best first; free with g_free(). %NULL with error on
 * bad input (a 0-sized image is not an error: it gives 0 boxes).
 */
SPP_API SppBox *spp_proposals_compute (const SppImage *image,
                               const SppProposalParams *params,
                               guint *n_boxes, GError **error);

G_END_DECLS
