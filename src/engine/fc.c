/* Fully connected layers over all windows of a frame: one GEMM,
 * out[n x o] = in[n x i] * W[o x i]^T, then bias and activation. */
#include "layers-private.h"

#include "spp-engine/blas.h"
#include "spp-engine/parallel.h"

#include <string.h>

typedef struct {
  const float *bias;
  float *out;
  int o;
} FillJob;

static void
fill_rows (gpointer data, int r0, int r1, int worker)
{
  const FillJob *j = data;
  for (int r = r0; r < r1; r++)
    memcpy (j->out + (gsize) r * j->o, j->bias, j->o * sizeof (float));
}

void
spp_fc_forward (const SppLayer *l, const float *weight, const float *in,
                int n, float *out)
{
  const int o = l->out_c, i = l->in_c;
  if (n == 0)
    return;
  /* Rows start as the bias and the GEMM accumulates onto them (beta 1):
   * one pass over the output instead of OpenBLAS's zeroing (beta 0)
   * and a bias pass after. */
  if (l->bias) {
    FillJob job = { l->bias->data, out, o };
    spp_parallel_for (n, fill_rows, &job);
  }
  spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_TRANS, n, o, i, 1.0f, in, i,
             weight ? weight : l->weight->data, i, l->bias ? 1.0f : 0.0f,
             out, o);
  spp_act_forward (l->act, l->slope, out, (gsize) n * o);
}

/* The layer table's entry (docs/model-format.md, op 9). */
enum { FC_OUT, FC_ACT };

static const SppIntParam fc_params[] = {
  [FC_OUT] = { "out", 0, -1, 1, 65536, TRUE },
  [FC_ACT] = { "act", 0, -1, 0, SPP_ACT_LAST, FALSE },
};

static gboolean
fc_parse (SppLayer *l, const SppLayerArgs *a)
{
  l->out_c = a->ip[FC_OUT];
  l->act = a->ip[FC_ACT];
  l->slope = a->fp[0];
  /* The first head layer reads the pooled vector, whose size the loader
   * checks against the SPP levels afterwards. */
  if (l->in_c < 0)
    l->in_c = a->tensors[0]->c;
  return spp_layer_take_weights (l, a, l->out_c, l->in_c, 1, 1);
}

const SppLayerType spp_layer_fc = {
  .op = SPP_OP_FC, .name = "fc", .sections = SPP_LAYER_HEAD,
  .min_tensors = 1, .max_tensors = 2,
  .int_params = fc_params, .n_int = G_N_ELEMENTS (fc_params),
  .float_params = spp_layer_slope_param, .n_float = 1,
  .parse = fc_parse, .forward_head = spp_fc_forward,
};
