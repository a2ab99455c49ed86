#pragma once

#include "spp/pyramid.h"
#include "spp-engine/tensor.h"

/* Window pooling works on chunks of SPP_POOL_LANES channels. For each
 * chunk a worker copies the map's cells channel-last (a cell of a chunk is
 * one 64-byte line, a bin's max one vector max per cell; the last chunk is
 * zero-padded) and builds the maxima of every bx x by block (bx, by in 1,
 * 2, 4) anchored at each cell; max is idempotent, so a bin up to 2bx x 2by
 * cells is the max of the four blocks at its corners. One chunk's tables
 * are built once and stay in the core's cache while every window is
 * pooled from them. */
#define SPP_POOL_LANES 16
#define SPP_POOL_BLOCK_LEVELS 3 /* per axis: blocks of 1, 2, 4 cells */

/* A 1 x C x H x W map to pool from. It borrows the map's data: the map
 * must stay alive and unchanged until the pooling calls return. */
typedef struct {
  int c, h, w, n_chunks;
  const float *data;
} SppPoolMap;

void spp_pool_map_init (SppPoolMap *pm);
void spp_pool_map_prepare (SppPoolMap *pm, const SppTensor *map);

/* Row layouts of the pooled values (C channels, B bins over the levels):
 * CHANNEL_MAJOR is the file's (per level, c * n * n + bin), as the
 * released SPP-net; BLOCKED is chunk by chunk, bin-major inside a chunk
 * (c0 * B + bin * v + (c - c0) for the chunk [c0, c0 + v)), so a window's
 * chunk is one contiguous run: readers permute their weights to match
 * (spp_pyramid_permutation). */
typedef enum {
  SPP_POOL_CHANNEL_MAJOR,
  SPP_POOL_BLOCKED,
} SppPoolLayout;

/* perm[blocked index] = channel-major index, for c channels. */
void spp_pyramid_permutation (int c, const guint *levels, guint n_levels,
                              guint *perm);

/* Scratch of the poolers, kept by the caller: sized for at least
 * SPP_POOL_RESERVED_WINDOWS windows from the start (and grown beyond on
 * demand), so that a stream's memory is flat once it runs. */
#define SPP_POOL_RESERVED_WINDOWS 4096
typedef struct {
  guint64 *reads; /* per window: where its bins are in the tables */
  gsize reads_size;
  float *work; /* per worker: tables, bins, staging */
  gsize work_size, work_stride;
} SppPoolScratch;

void spp_pool_scratch_clear (SppPoolScratch *s);

/* Pools n windows (cells: x0, y0, x1, y1 inclusive, inside the map) into
 * the rows out + rows[i] * C * B (rows NULL: row i), every window a chunk
 * at a time, the chunks split over libspp's workers. */
void spp_pool_map_windows (const SppPoolMap *pm, const guint *levels,
                           guint n_levels, const int *cells,
                           const guint *rows, guint n, SppPoolLayout layout,
                           SppPoolScratch *scratch, float *out);

/* Window i's pooled values for one chunk, in the BLOCKED layout: row
 * [offset, offset + len). A worker gets every chunk of its windows, one
 * chunk after another, so a sink may accumulate per window. */
typedef void (*SppPoolSink) (gpointer data, guint i, const float *values,
                             gsize offset, gsize len, int worker);

/* Pools n windows into sink, the windows split over the workers. */
void spp_pool_map_sink (const SppPoolMap *pm, const guint *levels,
                        guint n_levels, const int *cells, guint n,
                        SppPoolSink sink, gpointer data,
                        SppPoolScratch *scratch);

/* Tests only: run the kernels of one instruction set ("generic", "avx2",
 * "avx512"; NULL: the best the CPU has). FALSE if the CPU lacks it. Not
 * thread-safe. */
gboolean spp_pool_force_kernels (const char *isa);
