#include "spp/box.h"

float
spp_box_iou (const SppBox *a, const SppBox *b)
{
  float ix0 = MAX (a->x, b->x), iy0 = MAX (a->y, b->y);
  float ix1 = MIN (a->x + a->w, b->x + b->w);
  float iy1 = MIN (a->y + a->h, b->y + b->h);
  float aa = a->w * a->h, ab = b->w * b->h;
  if (!(a->w > 0 && a->h > 0 && b->w > 0 && b->h > 0))
    return 0.0f;
  if (ix1 <= ix0 || iy1 <= iy0)
    return 0.0f;
  float inter = (ix1 - ix0) * (iy1 - iy0);
  return inter / (aa + ab - inter);
}
