/* Multi-scale sizes and the per-window scale choice (docs/method.md 2). */
#include "detector-private.h"

#include <math.h>

void
spp_scale_resized_size (int width, int height, guint scale, guint min_size,
                        guint multiple, int *out_w, int *out_h)
{
  double shorter = MIN (width, height), longer = MAX (width, height);
  double f = scale / shorter;
  if (longer * f > SPP_MAX_SIDE)
    f = SPP_MAX_SIDE / longer;
  int w = MAX ((int) lround (width * f), (int) min_size);
  int h = MAX ((int) lround (height * f), (int) min_size);
  w = MAX (w, 1);
  h = MAX (h, 1);
  if (multiple > 1) {
    w = (w + multiple - 1) / multiple * multiple;
    h = (h + multiple - 1) / multiple * multiple;
  }
  *out_w = w;
  *out_h = h;
}

guint
spp_scale_choose (const SppBox *box, int width, int height,
                  const guint *scales, guint n_scales)
{
  /* docs/method.md 2.3, the paper's rule (not the released code's): the
   * scaled area w*h*(s/min(W,H))^2 closest to 224^2. */
  const double target = 224.0 * 224.0;
  double area = (double) box->w * box->h;
  double shorter = MIN (width, height);
  guint best = 0;
  double best_d = INFINITY;
  for (guint i = 0; i < n_scales; i++) {
    double f = scales[i] / shorter;
    double d = fabs (area * f * f - target);
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  return best;
}
