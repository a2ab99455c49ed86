/* Fine-tuning the fc layers (docs/method.md 2.8, the paper's section
 * 4.1): on the cached pooled vectors, fc6, fc7 (ReLU, dropout) and a new (K + 1)-way
 * softmax layer initialised with sigma 0.01; mini-batches of 128 windows,
 * 25% of them positive; SGD with momentum 0.9 and weight decay 5e-4
 * (Caffe's update: v = m v + lr (g + wd w), w -= v); the learning rate
 * drops tenfold for the last third of the epochs. The softmax layer only
 * serves training: the SVMs are then trained on the new fc features. */
#include "finetune-private.h"

#include "spp-engine/blas.h"
#include "spp/error.h"

#include <math.h>
#include <string.h>

void
spp_finetune_params_init (SppFinetuneParams *p)
{
  *p = (SppFinetuneParams) { .epochs = 10, .batch = 128,
                             .pos_fraction = 0.25f, .lr = 0.01f,
                             .momentum = 0.9f, .weight_decay = 5e-4f,
                             .dropout = 0.5f, .seed = 1 };
}

float
spp_finetune_input_scale (const float *x, gsize n, guint dim)
{
  double s = 0;
  for (gsize i = 0; i < n * dim; i++)
    s += (double) x[i] * x[i];
  return s > 0 ? (float) sqrt ((double) n * dim / s) : 1.0f;
}

/* Box-Muller on GRand: the same numbers for the same seed everywhere. */
static double
gauss (GRand *rand)
{
  double u = g_rand_double (rand), v = g_rand_double (rand);
  return sqrt (-2.0 * log (1.0 - u)) * cos (2.0 * G_PI * v);
}

static void
fill_gauss (float *w, gsize n, double sigma, GRand *rand)
{
  for (gsize i = 0; i < n; i++)
    w[i] = (float) (sigma * gauss (rand));
}

void
spp_fc_head_init (SppFcHead *head, guint dim, const guint *widths,
                  guint n_widths, float input_scale, guint32 seed)
{
  g_return_if_fail (n_widths <= SPP_TRAIN_FC_MAX);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  memset (head, 0, sizeof *head);
  head->n_layers = n_widths;
  head->dims[0] = dim;
  for (guint i = 0; i < n_widths; i++) {
    guint in = head->dims[i], out = widths[i];
    head->dims[i + 1] = out;
    head->weight[i] = g_new (float, (gsize) out * in);
    head->bias[i] = g_new0 (float, out);
    /* He et al. 2015: variance 2 / fan-in keeps ReLU activations at scale. */
    fill_gauss (head->weight[i], (gsize) out * in,
                sqrt (2.0 / in) * (i == 0 ? input_scale : 1.0f), rand);
  }
}

void
spp_fc_head_clear (SppFcHead *head)
{
  for (guint i = 0; i < SPP_TRAIN_FC_MAX; i++) {
    g_clear_pointer (&head->weight[i], g_free);
    g_clear_pointer (&head->bias[i], g_free);
  }
  head->n_layers = 0;
}

typedef struct {
  float *w, *b;          /* parameters: out x in, out */
  float *gw, *gb, *vw, *vb;
  guint in, out;
} Fc;

static void
fc_alloc (Fc *f, float *w, float *b, guint in, guint out)
{
  f->w = w;
  f->b = b;
  f->in = in;
  f->out = out;
  f->gw = g_new (float, (gsize) in * out);
  f->vw = g_new0 (float, (gsize) in * out);
  f->gb = g_new (float, out);
  f->vb = g_new0 (float, out);
}

static void
fc_free (Fc *f)
{
  g_free (f->gw);
  g_free (f->vw);
  g_free (f->gb);
  g_free (f->vb);
}

/* y (B x out) = x (B x in) W^T + b */
static void
fc_forward (const Fc *f, const float *x, float *y, guint B)
{
  spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_TRANS, B, f->out, f->in, 1.0f, x,
             f->in, f->w, f->in, 0.0f, y, f->out);
  for (guint r = 0; r < B; r++)
    for (guint j = 0; j < f->out; j++)
      y[(gsize) r * f->out + j] += f->b[j];
}

/* From dy (B x out): gw = dy^T x, gb = column sums, and dx = dy W if
 * @dx is not NULL. */
static void
fc_backward (Fc *f, const float *x, const float *dy, float *dx, guint B)
{
  spp_sgemm (SPP_BLAS_TRANS, SPP_BLAS_NO_TRANS, f->out, f->in, B, 1.0f, dy,
             f->out, x, f->in, 0.0f, f->gw, f->in);
  memset (f->gb, 0, f->out * sizeof (float));
  for (guint r = 0; r < B; r++)
    for (guint j = 0; j < f->out; j++)
      f->gb[j] += dy[(gsize) r * f->out + j];
  if (dx)
    spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_NO_TRANS, B, f->in, f->out, 1.0f,
               dy, f->out, f->w, f->in, 0.0f, dx, f->in);
}

static void
fc_update (Fc *f, float lr, float momentum, float decay)
{
  const gsize n = (gsize) f->in * f->out;
  for (gsize i = 0; i < n; i++) {
    f->vw[i] = momentum * f->vw[i] + lr * (f->gw[i] + decay * f->w[i]);
    f->w[i] -= f->vw[i];
  }
  for (guint j = 0; j < f->out; j++) {
    f->vb[j] = momentum * f->vb[j] + lr * f->gb[j];
    f->b[j] -= f->vb[j];
  }
}

struct _SppFcTrainer {
  guint L, B, C;
  Fc fc[SPP_TRAIN_FC_MAX + 1]; /* the head's layers, then the softmax's */
  float *softmax_w, *softmax_b;
  /* Activations a[i] (output of layer i - 1; the input is the batch),
   * derivative multipliers m[i] of layer i's ReLU and dropout, and two
   * gradient buffers. */
  float *a[SPP_TRAIN_FC_MAX + 2], *m[SPP_TRAIN_FC_MAX + 1];
  float *g0, *g1;
};

SppFcTrainer *
spp_fc_trainer_new (SppFcHead *head, guint n_classes, const float *softmax_w,
                    guint batch)
{
  g_return_val_if_fail (head->n_layers >= 1, NULL);
  SppFcTrainer *t = g_new0 (SppFcTrainer, 1);
  const guint L = head->n_layers, H = head->dims[L], C = n_classes + 1;
  t->L = L;
  t->B = batch;
  t->C = C;
  for (guint i = 0; i < L; i++)
    fc_alloc (&t->fc[i], head->weight[i], head->bias[i], head->dims[i],
              head->dims[i + 1]);
  t->softmax_w = g_memdup2 (softmax_w, (gsize) C * H * sizeof (float));
  t->softmax_b = g_new0 (float, C);
  fc_alloc (&t->fc[L], t->softmax_w, t->softmax_b, H, C);
  guint widest = C;
  for (guint i = 0; i <= L; i++)
    widest = MAX (widest, head->dims[i]);
  for (guint i = 1; i <= L + 1; i++)
    t->a[i] = g_new (float, (gsize) batch * (i <= L ? head->dims[i] : C));
  for (guint i = 0; i < L; i++)
    t->m[i] = g_new (float, (gsize) batch * head->dims[i + 1]);
  t->g0 = g_new (float, (gsize) batch * widest);
  t->g1 = g_new (float, (gsize) batch * widest);
  return t;
}

void
spp_fc_trainer_free (SppFcTrainer *t)
{
  if (t == NULL)
    return;
  for (guint i = 0; i <= t->L; i++)
    fc_free (&t->fc[i]);
  for (guint i = 1; i <= t->L + 1; i++)
    g_free (t->a[i]);
  for (guint i = 0; i < t->L; i++)
    g_free (t->m[i]);
  g_free (t->g0);
  g_free (t->g1);
  g_free (t->softmax_w);
  g_free (t->softmax_b);
  g_free (t);
}

const float *
spp_fc_trainer_get_softmax (const SppFcTrainer *t, const float **bias)
{
  if (bias)
    *bias = t->softmax_b;
  return t->softmax_w;
}

double
spp_fc_trainer_step (SppFcTrainer *t, const float *x, const guint8 *y,
                     float lr, float momentum, float weight_decay,
                     float dropout, GRand *rand, guint *correct)
{
  const guint L = t->L, B = t->B, C = t->C;
  const float keep = 1.0f - dropout, inv_keep = 1.0f / keep;
  const float *in[SPP_TRAIN_FC_MAX + 1];
  in[0] = x;
  for (guint l = 1; l <= L; l++)
    in[l] = t->a[l];
  /* Forward: fc, ReLU, dropout (inverted: kept units scaled by 1 / keep,
   * so the test-time net needs no change). */
  for (guint l = 0; l < L; l++) {
    float *out = t->a[l + 1], *m = t->m[l];
    fc_forward (&t->fc[l], in[l], out, B);
    gsize cnt = (gsize) B * t->fc[l].out;
    for (gsize j = 0; j < cnt; j++) {
      float mul = out[j] > 0 ? 1.0f : 0.0f;
      if (dropout > 0 && mul > 0)
        mul = g_rand_double (rand) < keep ? inv_keep : 0.0f;
      m[j] = mul;
      out[j] *= mul;
    }
  }
  float *z = t->a[L + 1];
  fc_forward (&t->fc[L], in[L], z, B);
  /* Softmax cross-entropy, mean over the batch: dz = (p - onehot) / B. */
  double loss = 0;
  guint right = 0;
  for (guint r = 0; r < B; r++) {
    float *zr = z + (gsize) r * C, mx = zr[0];
    guint arg = 0;
    for (guint c = 1; c < C; c++)
      if (zr[c] > mx) {
        mx = zr[c];
        arg = c;
      }
    double sum = 0;
    for (guint c = 0; c < C; c++)
      sum += exp (zr[c] - mx);
    loss += log (sum) - (zr[y[r]] - mx);
    right += arg == y[r];
    for (guint c = 0; c < C; c++)
      t->g0[(gsize) r * C + c] = (float) ((exp (zr[c] - mx) / sum
                                           - (c == y[r])) / B);
  }
  /* Backward: every gradient first, then the updates. */
  float *dy = t->g0, *dx = t->g1;
  for (guint l = L + 1; l-- > 0;) {
    if (l < L)
      for (gsize j = 0; j < (gsize) B * t->fc[l].out; j++)
        dy[j] *= t->m[l][j];
    fc_backward (&t->fc[l], in[l], dy, l > 0 ? dx : NULL, B);
    float *tmp = dy;
    dy = dx;
    dx = tmp;
  }
  for (guint l = 0; l <= L; l++)
    fc_update (&t->fc[l], lr, momentum, l < L ? weight_decay : 0.0f);
  if (correct)
    *correct = right;
  return loss;
}

static void
shuffle (guint *a, gsize n, GRand *rand)
{
  for (gsize i = n; i > 1; i--) {
    gsize j = (gsize) g_rand_int_range (rand, 0, (gint32) i);
    guint t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}

gboolean
spp_finetune (SppFcHead *head, guint n_classes, const float *x,
              const guint8 *label, gsize n, const SppFinetuneParams *p,
              GError **error)
{
  g_return_val_if_fail (head->n_layers >= 1, FALSE);
  g_return_val_if_fail (p->batch >= 2 && p->epochs >= 1, FALSE);
  if (!spp_blas_init (error))
    return FALSE;
  const guint L = head->n_layers, D = head->dims[0], C = n_classes + 1;
  const guint B = p->batch;
  g_autoptr (GArray) pos = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) neg = g_array_new (FALSE, FALSE, sizeof (guint));
  g_return_val_if_fail (n <= G_MAXUINT, FALSE);
  for (guint i = 0; i < n; i++)
    g_array_append_val (label[i] ? pos : neg, i);
  if (pos->len == 0 || neg->len == 0) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "fine-tuning needs windows of both kinds, got %u positive "
                 "and %u background", pos->len, neg->len);
    return FALSE;
  }
  guint n_pos = (guint) CLAMP (lrintf (B * p->pos_fraction), 1, (long) B - 1);
  guint n_neg = B - n_pos;
  guint n_batches = (neg->len + n_neg - 1) / n_neg;

  /* Trained on inputs scaled to unit RMS (the first layer's weights are
   * divided by the scale now, multiplied back at the end), so one
   * learning rate suits any trunk. */
  const float s = spp_finetune_input_scale (x, n, D);
  for (gsize i = 0; i < (gsize) head->dims[1] * D; i++)
    head->weight[0][i] /= s;

  g_autoptr (GRand) rand = g_rand_new_with_seed (p->seed);
  const guint H = head->dims[L];
  g_autofree float *w8 = g_new (float, (gsize) C * H);
  /* docs/method.md 2.8: the new output layer, sigma 0.01 */
  fill_gauss (w8, (gsize) C * H, 0.01, rand);
  g_autoptr (SppFcTrainer) net = spp_fc_trainer_new (head, n_classes, w8, B);
  g_autofree float *xb = g_new (float, (gsize) B * D);
  g_autofree guint8 *y = g_new (guint8, B);

  guint pos_at = pos->len; /* reshuffle on first use */
  const gint64 t0 = g_get_monotonic_time ();
  gint64 last = t0;
  for (guint e = 0; e < p->epochs; e++) {
    const float lr = e < (2 * p->epochs + 2) / 3 ? p->lr : p->lr / 10;
    double loss = 0;
    guint correct = 0, seen = 0;
    shuffle ((guint *) neg->data, neg->len, rand);
    for (guint bi = 0; bi < n_batches; bi++) {
      for (guint r = 0; r < B; r++) {
        guint i;
        if (r < n_pos) {
          if (pos_at == pos->len) {
            shuffle ((guint *) pos->data, pos->len, rand);
            pos_at = 0;
          }
          i = g_array_index (pos, guint, pos_at++);
        } else {
          i = g_array_index (neg, guint,
                             ((gsize) bi * n_neg + r - n_pos) % neg->len);
        }
        y[r] = label[i];
        const float *xi = x + (gsize) i * D;
        float *xr = xb + (gsize) r * D;
        for (guint j = 0; j < D; j++)
          xr[j] = xi[j] * s;
      }
      guint right;
      loss += spp_fc_trainer_step (net, xb, y, lr, p->momentum,
                                   p->weight_decay, p->dropout, rand, &right);
      correct += right;
      seen += B;
      /* Long epochs (wide pooled vectors) also report within. */
      gint64 now = g_get_monotonic_time ();
      if (p->log && now - last > 10 * G_USEC_PER_SEC
          && bi + 1 < n_batches) {
        last = now;
        double el = (now - t0) / 1e6;
        double done = e + (bi + 1.0) / n_batches;
        g_autofree char *msg = g_strdup_printf (
            "fine-tuning fc: epoch %u/%u, batch %u/%u, loss %.4f, ETA %.0f s",
            e + 1, p->epochs, bi + 1, n_batches, loss / seen,
            el / done * (p->epochs - done));
        p->log (msg, p->log_data);
      }
    }
    if (p->log) {
      last = g_get_monotonic_time ();
      double el = (last - t0) / 1e6;
      g_autofree char *msg = g_strdup_printf (
          "fine-tuning fc: epoch %u/%u, %u batches, loss %.4f, accuracy %.3f, "
          "lr %g, %.1f s, ETA %.0f s", e + 1, p->epochs, n_batches,
          loss / MAX (seen, 1), (double) correct / MAX (seen, 1), lr, el,
          el / (e + 1) * (p->epochs - e - 1));
      p->log (msg, p->log_data);
    }
  }
  for (gsize i = 0; i < (gsize) head->dims[1] * D; i++)
    head->weight[0][i] *= s;
  return TRUE;
}
