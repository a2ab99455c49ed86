/* sppdetect: axis-aligned boxes in image pixels. */
#pragma once

#include <glib.h>
#include "spp/export.h"

G_BEGIN_DECLS

/**
 * SppBox:
 * @x: left edge, pixels from the image's left.
 * @y: top edge.
 * @w: width in pixels (> 0 for a valid box).
 * @h: height in pixels.
 *
 * A window or detection in the pixel coordinates of one image. The box
 * covers [x, x + w) x [y, y + h).
 */
typedef struct {
  float x, y, w, h;
} SppBox;

/**
 * spp_box_iou:
 *
 * Intersection over union of two boxes, continuous coordinates
 * (no +1 pixel convention). 0 when either box is empty.
 */
SPP_API float spp_box_iou (const SppBox *a, const SppBox *b);

G_END_DECLS
