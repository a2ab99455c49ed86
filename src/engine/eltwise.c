/* Activations and element-wise sums: ORC kernels where ORC has the
 * opcodes (ReLU, ReLU6, LeakyReLU with slope <= 1, bias, add), C for the
 * transcendental ones. */
#include "layers-private.h"

#include "spp-orc.h"
#include "spp-engine/parallel.h"

#include <math.h>
#include <string.h>

static void
act_c (SppAct act, float slope, float *x, gsize n)
{
  switch (act) {
  case SPP_ACT_LEAKY:
    for (gsize i = 0; i < n; i++)
      x[i] = x[i] > 0 ? x[i] : x[i] * slope;
    break;
  case SPP_ACT_HARDSWISH:
    for (gsize i = 0; i < n; i++) {
      float r = MIN (MAX (x[i] + 3.0f, 0.0f), 6.0f);
      x[i] = x[i] * r * (1.0f / 6.0f);
    }
    break;
  case SPP_ACT_SIGMOID:
    for (gsize i = 0; i < n; i++)
      x[i] = 1.0f / (1.0f + expf (-x[i]));
    break;
  default:
    break;
  }
}

/* ORC takes an int count; split huge planes. */
#define ORC_CHUNK (1 << 30)

void
spp_act_forward (SppAct act, float slope, float *x, gsize n)
{
  for (gsize off = 0; off < n; off += ORC_CHUNK) {
    int m = (int) MIN (n - off, (gsize) ORC_CHUNK);
    float *p = x + off;
    switch (act) {
    case SPP_ACT_NONE:
      break;
    case SPP_ACT_RELU:
      spp_orc_relu_ip_f32 (p, m);
      break;
    case SPP_ACT_RELU6:
      spp_orc_relu6_ip_f32 (p, m);
      break;
    case SPP_ACT_LEAKY:
      /* max (x, slope*x) is LeakyReLU only for 0 <= slope <= 1. */
      if (slope >= 0.0f && slope <= 1.0f)
        spp_orc_leaky_ip_f32 (p, slope, m);
      else
        act_c (act, slope, p, m);
      break;
    default:
      act_c (act, slope, p, m);
      break;
    }
  }
}

typedef struct {
  SppAct act;
  float slope;
  const float *bias;
  float *x;
  gsize plane_size;
} BiasJob;

void
spp_bias_act_run (SppAct act, float slope, float bias, float *x, gsize n)
{
  for (gsize off = 0; off < n; off += ORC_CHUNK) {
    int m = (int) MIN (n - off, (gsize) ORC_CHUNK);
    float *p = x + off;
    if (act == SPP_ACT_RELU) {
      spp_orc_add_scalar_relu_ip_f32 (p, bias, m);
    } else {
      spp_orc_add_scalar_ip_f32 (p, bias, m);
      spp_act_forward (act, slope, p, m);
    }
  }
}

static void
bias_act (gpointer data, int c0, int c1, int worker)
{
  const BiasJob *j = data;
  for (int ch = c0; ch < c1; ch++)
    spp_bias_act_run (j->act, j->slope, j->bias[ch],
                      j->x + (gsize) ch * j->plane_size, j->plane_size);
}

void
spp_bias_act_forward (SppAct act, float slope, const float *bias, float *x,
                      int c, gsize plane_size)
{
  BiasJob job = { act, slope, bias, x, plane_size };
  /* Small maps are not worth a thread hand-off. */
  if ((gsize) c * plane_size < 65536)
    bias_act (&job, 0, c, 0);
  else
    spp_parallel_for (c, bias_act, &job);
}

void
spp_add_forward (const float *a, const float *b, float *out, gsize n)
{
  for (gsize off = 0; off < n; off += ORC_CHUNK)
    spp_orc_add_f32 (out + off, a + off, b + off,
                     (int) MIN (n - off, (gsize) ORC_CHUNK));
}

void
spp_softmax_forward (float *x, int n, int d)
{
  for (int i = 0; i < n; i++) {
    float *row = x + (gsize) i * d;
    float m = row[0], s = 0.0f;
    for (int j = 1; j < d; j++)
      m = MAX (m, row[j]);
    for (int j = 0; j < d; j++) {
      row[j] = expf (row[j] - m);
      s += row[j];
    }
    for (int j = 0; j < d; j++)
      row[j] /= s;
  }
}

/* The layer table's entries (docs/model-format.md, ops 2, 8 and 10). */
static const SppIntParam act_params[] = {
  { "act", 1, -1, 0, SPP_ACT_LAST, FALSE },
};
static const SppIntParam add_params[] = {
  { "act", 0, -1, 0, SPP_ACT_LAST, FALSE },
};

static gboolean
act_parse (SppLayer *l, const SppLayerArgs *a)
{
  l->act = a->ip[0];
  l->slope = a->fp[0];
  return TRUE;
}

static void
act_run (const SppLayerRun *r)
{
  const gsize n = (gsize) r->out.c * r->out.h * r->out.w;
  memcpy (r->out.data, r->in[0].data, n * sizeof (float));
  spp_act_forward (r->layer->act, r->layer->slope, r->out.data, n);
}

static void
act_head (const SppLayer *l, const float *weight, const float *in, int n,
          float *out)
{
  const gsize len = (gsize) n * l->out_c;
  memcpy (out, in, len * sizeof (float));
  spp_act_forward (l->act, l->slope, out, len);
}

const SppLayerType spp_layer_act = {
  .op = SPP_OP_ACT, .name = "act",
  .sections = SPP_LAYER_TRUNK | SPP_LAYER_HEAD, .trunk_inputs = 1,
  .int_params = act_params, .n_int = 1,
  .float_params = spp_layer_slope_param, .n_float = 1,
  .placeable = TRUE,
  .parse = act_parse, .forward = act_run, .forward_head = act_head,
};

static gboolean
add_parse (SppLayer *l, const SppLayerArgs *a)
{
  if (a->in_c[1] != l->in_c)
    return spp_layer_fail (l, a, "adds %d and %d channels", l->in_c,
                           a->in_c[1]);
  return act_parse (l, a);
}

static void
add_run (const SppLayerRun *r)
{
  const gsize n = (gsize) r->out.c * r->out.h * r->out.w;
  spp_add_forward (r->in[0].data, r->in[1].data, r->out.data, n);
  spp_act_forward (r->layer->act, r->layer->slope, r->out.data, n);
}

const SppLayerType spp_layer_add = {
  .op = SPP_OP_ADD, .name = "add", .sections = SPP_LAYER_TRUNK,
  .trunk_inputs = 2,
  .int_params = add_params, .n_int = 1,
  .float_params = spp_layer_slope_param, .n_float = 1,
  .placeable = TRUE,
  .parse = add_parse, .forward = add_run,
};

static void
softmax_head (const SppLayer *l, const float *weight, const float *in, int n,
              float *out)
{
  memcpy (out, in, (gsize) n * l->out_c * sizeof (float));
  spp_softmax_forward (out, n, l->out_c);
}

const SppLayerType spp_layer_softmax = {
  .op = SPP_OP_SOFTMAX, .name = "softmax", .sections = SPP_LAYER_HEAD,
  .forward_head = softmax_head,
};
