/* Channel shuffle (ShuffleNet): channel g*cpg + i goes to i*groups + g.
 * Concat and slice need no kernel in NCHW batch 1: they are contiguous
 * copies or views, done in net.c. */
#include "layers-private.h"

#include <string.h>

void
spp_shuffle_forward (const float *in, float *out, int c, int groups,
                     gsize plane_size)
{
  const int cpg = c / groups;
  for (int g = 0; g < groups; g++)
    for (int i = 0; i < cpg; i++)
      memcpy (out + (gsize) (i * groups + g) * plane_size,
              in + (gsize) (g * cpg + i) * plane_size,
              plane_size * sizeof (float));
}
