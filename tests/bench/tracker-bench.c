/* SppObjectTracker's cost per inference frame: N objects (default 50)
 * walking in straight lines with jitter and 10% dropped detections, for
 * F frames (default 5000). Prints ms per frame, and, as the reference
 * measured in the same run, the time of the same frames' detections
 * copied and sorted by confidence, a floor any per-frame stage pays.
 * Usage: tracker-bench [N] [F] */
#include <spp/object-tracker.h>

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
by_confidence (const void *a, const void *b)
{
  const SppDetection *x = a, *y = b;
  return (x->confidence < y->confidence) - (x->confidence > y->confidence);
}

int
main (int argc, char **argv)
{
  const int n = argc > 1 ? atoi (argv[1]) : 50;
  const int frames = argc > 2 ? atoi (argv[2]) : 5000;
  GRand *rand = g_rand_new_with_seed (5);
  SppDetection *scene = g_new (SppDetection, (gsize) n * frames);
  guint *counts = g_new (guint, frames);
  double *vx = g_new (double, n), *x0 = g_new (double, n),
         *y0 = g_new (double, n);
  for (int o = 0; o < n; o++) {
    vx[o] = g_rand_double_range (rand, -3, 3);
    x0[o] = g_rand_double_range (rand, 0, 1800);
    y0[o] = g_rand_double_range (rand, 0, 1000);
  }
  for (int f = 0; f < frames; f++) {
    guint k = 0;
    for (int o = 0; o < n; o++) {
      if (g_rand_double (rand) < 0.1)
        continue;
      const double x = fmod (x0[o] + vx[o] * f + 4000, 1900);
      scene[(gsize) f * n + k++] = (SppDetection) {
        { x + g_rand_double_range (rand, -2, 2),
          y0[o] + g_rand_double_range (rand, -2, 2), 40, 90 }, 0,
        (float) g_rand_double (rand), "person" };
    }
    counts[f] = k;
  }
  g_autoptr (SppObjectTracker) t = spp_object_tracker_new (NULL);
  guint64 *ids = g_new (guint64, n);
  gint64 t0 = g_get_monotonic_time ();
  for (int f = 0; f < frames; f++)
    spp_object_tracker_update (t, scene + (gsize) f * n, counts[f], ids);
  const double track_ms = (g_get_monotonic_time () - t0) / 1e3 / frames;
  SppDetection *copy = g_new (SppDetection, n);
  t0 = g_get_monotonic_time ();
  for (int f = 0; f < frames; f++) {
    memcpy (copy, scene + (gsize) f * n, counts[f] * sizeof (SppDetection));
    qsort (copy, counts[f], sizeof (SppDetection), by_confidence);
  }
  const double sort_ms = (g_get_monotonic_time () - t0) / 1e3 / frames;
  guint live;
  spp_object_tracker_get_tracks (t, &live);
  printf ("objects %d, frames %d, live tracks at the end %u\n", n, frames,
          live);
  printf ("tracker %.4f ms/frame; copy+sort of the same detections %.4f "
          "ms/frame (ratio %.1fx); share of a 33.3 ms frame %.2f%%\n",
          track_ms, sort_ms, track_ms / MAX (sort_ms, 1e-9),
          100 * track_ms / 33.3);
  g_free (copy);
  g_free (ids);
  g_free (scene);
  g_free (counts);
  g_free (vx);
  g_free (x0);
  g_free (y0);
  g_rand_free (rand);
  return 0;
}
