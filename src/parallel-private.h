#pragma once

#include <glib.h>

/* Runs fn (data, begin, end, worker) over [0, n) split into at most
 * spp_parallel_get_n_workers() contiguous ranges, one per worker, and
 * returns when all are done. The caller's thread runs range 0. Workers
 * are a process-wide pool, sized to the cores (at most 8). worker is the
 * range index, for per-worker scratch. */
typedef void (*SppRangeFunc) (gpointer data, int begin, int end, int worker);

void spp_parallel_for (int n, SppRangeFunc fn, gpointer data);
int spp_parallel_get_n_workers (void);
/* Caps the ranges per call (1 = run on the caller only); 0 = all cores. */
void spp_parallel_set_n_workers (int n);
