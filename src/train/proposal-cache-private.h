/* The proposal cache of `spp train --cache DIR` (docs/training.md, "The
 * proposal cache"): one file per image holding its selective search
 * boxes and the settings they were computed with. */
#pragma once

#include <glib.h>
#include "spp/box.h"
#include "spp/proposals.h"

#define SPP_PROPOSAL_CACHE_MAGIC 0x50505053u /* "SPPP" little-endian */
#define SPP_PROPOSAL_CACHE_VERSION 1
#define SPP_PROPOSAL_CACHE_HEADER 28

/* Reads @path, which must hold boxes computed with @params' max_boxes
 * and seed on a @width x @height frame. Fails with SPP_ERROR_IO when it
 * cannot be read and SPP_ERROR_FORMAT, naming the file, the field and
 * the value expected, when its bytes do not match (another run's
 * settings, or a damaged file). Returns: (transfer full): the boxes, *@n
 * of them. */
SppBox *spp_proposal_cache_read (const char *path,
                                 const SppProposalParams *params, int width,
                                 int height, guint *n, GError **error);

/* Writes @n @boxes to @path (atomically) with the header that
 * spp_proposal_cache_read() checks. */
gboolean spp_proposal_cache_write (const char *path,
                                   const SppProposalParams *params, int width,
                                   int height, const SppBox *boxes, guint n,
                                   GError **error);
