/* Fully connected layers over all windows of a frame: one GEMM,
 * out[n x o] = in[n x i] * W[o x i]^T, then bias and activation. */
#include "layers-private.h"

#include "blas-private.h"
#include "spp-orc.h"

void
spp_fc_forward (const SppLayer *l, const float *weight, const float *in,
                int n, float *out)
{
  const int o = l->out_c, i = l->in_c;
  if (n == 0)
    return;
  spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_TRANS, n, o, i, 1.0f, in, i,
             weight ? weight : l->weight->data, i, 0.0f, out, o);
  for (int r = 0; r < n; r++) {
    float *row = out + (gsize) r * o;
    if (l->bias)
      spp_orc_add_ip_f32 (row, l->bias->data, o);
  }
  spp_act_forward (l->act, l->slope, out, (gsize) n * o);
}
