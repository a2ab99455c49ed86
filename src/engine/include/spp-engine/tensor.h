#pragma once

#include "spp/tensor.h"
#include "spp/error.h"

/* Inside the library the fields are open: kernels index them directly. */
struct _SppTensor {
  int n, c, h, w;
  float *data;
  gsize capacity;   /* floats allocated */
  gboolean borrowed; /* data belongs to someone else (a mapped model) */
};

#define SPP_ALIGN 64
/* A tensor larger than this is refused: no frame or model needs 4 GiB. */
#define SPP_TENSOR_MAX_ELEMS ((gsize) 1 << 30)

void *spp_aligned_alloc (gsize bytes);
void spp_aligned_free (void *p);

/* A view over memory the caller keeps alive; freeing it leaves the data. */
void spp_tensor_init_view (SppTensor *t, float *data, int n, int c, int h,
                           int w);
