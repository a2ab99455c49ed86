/* Class-specific bounding-box regression, R-CNN parameterisation. */
#include "detector-private.h"

#include <math.h>

SppBox
spp_bbox_apply (const SppBox *box, const float d[4])
{
  float cx = box->x + 0.5f * box->w, cy = box->y + 0.5f * box->h;
  float dw = MIN (d[2], SPP_BBOX_MAX_LOG_SCALE);
  float dh = MIN (d[3], SPP_BBOX_MAX_LOG_SCALE);
  float w = box->w * expf (dw), h = box->h * expf (dh);
  cx += d[0] * box->w;
  cy += d[1] * box->h;
  return (SppBox) { cx - 0.5f * w, cy - 0.5f * h, w, h };
}

gboolean
spp_bbox_clip (SppBox *b, int width, int height)
{
  if (!(isfinite (b->x) && isfinite (b->y) && isfinite (b->w)
        && isfinite (b->h)))
    return FALSE;
  float x0 = CLAMP (b->x, 0.0f, (float) width);
  float y0 = CLAMP (b->y, 0.0f, (float) height);
  float x1 = CLAMP (b->x + b->w, 0.0f, (float) width);
  float y1 = CLAMP (b->y + b->h, 0.0f, (float) height);
  *b = (SppBox) { x0, y0, x1 - x0, y1 - y0 };
  return b->w > 0 && b->h > 0;
}
