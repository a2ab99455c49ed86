#pragma once

#include <glib.h>

/* The few OpenBLAS entry points we use, resolved once at run time. */
enum { SPP_BLAS_NO_TRANS = 111, SPP_BLAS_TRANS = 112 };

/* Row-major C = alpha * op(A) * op(B) + beta * C. */
void spp_sgemm (int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *a, int lda, const float *b, int ldb, float beta,
                float *c, int ldc);

/* FALSE (with error) when no OpenBLAS could be opened. */
gboolean spp_blas_init (GError **error);
const char *spp_blas_get_corename (void);
int spp_blas_get_num_threads (void);
