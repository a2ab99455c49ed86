#pragma once

#include <glib.h>

/* Runs fn (data, begin, end, worker) over [0, n) and returns when all is
 * done. The range is cut into contiguous grains (about 4 per worker);
 * each of at most spp_parallel_get_n_workers() workers, the caller's
 * thread being worker 0, takes the next grain until none is left, so fn
 * may be called several times per worker, never twice at once with the
 * same worker. Workers are a process-wide pool, sized to the cores (at
 * most 8). worker indexes per-worker scratch. */
typedef void (*SppRangeFunc) (gpointer data, int begin, int end, int worker);

void spp_parallel_for (int n, SppRangeFunc fn, gpointer data);
int spp_parallel_get_n_workers (void);
/* Caps the ranges per call (1 = run on the caller only); 0 = all cores. */
void spp_parallel_set_n_workers (int n);
