#pragma once

#include "spp/image.h"

/* spp_image_resize_rgb() for output rows [row_begin, row_end) only, the
 * same pixels as the whole call gives there: bands of one frame can be
 * resized on several threads. */
gboolean spp_image_resize_rgb_rows (const SppImage *src, guint8 *dst,
                                    int dst_w, int dst_h, int dst_stride,
                                    int row_begin, int row_end,
                                    GError **error);
