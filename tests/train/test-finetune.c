/* fc fine-tuning (src/train/finetune.c, docs/method.md 2.8): two SGD
 * steps of a two-layer head plus softmax against the same steps written
 * out in NumPy (make_train_vectors.py), the input scale and the head's
 * initialisation by hand, and the refusal of one-sided data. */
#include "finetune-private.h"
#include "train-test.h"

#include "spp-engine/blas.h"
#include "spp/error.h"

#include <math.h>
#include <string.h>

static void
check_step (const SppFcHead *head, const SppFcTrainer *t, double loss,
            int step)
{
  static const char *const names[] = { "w0", "w1", "b0", "b1" };
  const float *got[] = { head->weight[0], head->weight[1], head->bias[0],
                         head->bias[1] };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree char *key = g_strdup_printf ("%s_step%d", names[i], step);
    gsize n;
    g_autofree double *want = spp_test_vector ("finetune", key, &n);
    spp_test_assert_close_f (key, got[i], want, n, 1e-6, 1e-4);
  }
  const float *b8;
  const float *w8 = spp_fc_trainer_get_softmax (t, &b8);
  g_autofree char *kw = g_strdup_printf ("w8_step%d", step);
  g_autofree char *kb = g_strdup_printf ("b8_step%d", step);
  g_autofree char *kl = g_strdup_printf ("loss_step%d", step);
  gsize n;
  g_autofree double *want_w8 = spp_test_vector ("finetune", kw, &n);
  spp_test_assert_close_f (kw, w8, want_w8, n, 1e-6, 1e-4);
  g_autofree double *want_b8 = spp_test_vector ("finetune", kb, &n);
  spp_test_assert_close_f (kb, b8, want_b8, n, 1e-6, 1e-4);
  g_autofree double *want_loss = spp_test_vector ("finetune", kl, &n);
  spp_test_assert_close (kl, &loss, want_loss, 1, 0, 1e-5);
}

static void
test_numpy_steps (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (spp_blas_init (&error));
  gsize n;
  g_autofree double *dims = spp_test_vector ("finetune", "dims", &n);
  const float lr = (float) spp_test_scalar ("finetune", "lr");
  const float momentum = (float) spp_test_scalar ("finetune", "momentum");
  const float decay = (float) spp_test_scalar ("finetune", "decay");
  g_autofree float *x = spp_test_vector_f ("finetune", "x", &n);
  g_autofree double *yd = spp_test_vector ("finetune", "y", &n);
  const guint B = (guint) n;
  g_autofree guint8 *y = g_new (guint8, B);
  for (guint i = 0; i < B; i++)
    y[i] = (guint8) yd[i];
  SppFcHead head = { .n_layers = 2,
                     .dims = { (guint) dims[0], (guint) dims[1],
                               (guint) dims[2] } };
  head.weight[0] = spp_test_vector_f ("finetune", "w0", &n);
  head.bias[0] = spp_test_vector_f ("finetune", "b0", &n);
  head.weight[1] = spp_test_vector_f ("finetune", "w1", &n);
  head.bias[1] = spp_test_vector_f ("finetune", "b1", &n);
  g_autofree float *w8 = spp_test_vector_f ("finetune", "w8", &n);
  g_autoptr (SppFcTrainer) t = spp_fc_trainer_new (
      &head, (guint) spp_test_scalar ("finetune", "n_classes"), w8, B);
  for (int step = 1; step <= 2; step++) {
    guint correct = 99;
    double loss = spp_fc_trainer_step (t, x, y, lr, momentum, decay, 0.0f,
                                       NULL, &correct);
    g_assert_cmpuint (correct, <=, B);
    check_step (&head, t, loss, step);
  }
  spp_fc_head_clear (&head);
}

/* 1 / RMS: (3, 4) has mean square 12.5. */
static void
test_input_scale (void)
{
  const float x[] = { 3, 4 }, zeros[] = { 0, 0, 0 };
  g_assert_cmpfloat_with_epsilon (spp_finetune_input_scale (x, 1, 2),
                                  1 / sqrt (12.5), 1e-7);
  g_assert_cmpfloat (spp_finetune_input_scale (zeros, 1, 3), ==, 1.0f);
}

/* He initialisation: zero biases, weights of standard deviation
 * sqrt(2 / fan-in) (times the input scale on the first layer), the same
 * for the same seed. */
static void
test_head_init (void)
{
  const guint widths[] = { 200, 50 };
  SppFcHead a, b;
  spp_fc_head_init (&a, 400, widths, 2, 0.5f, 11);
  spp_fc_head_init (&b, 400, widths, 2, 0.5f, 11);
  g_assert_cmpuint (a.n_layers, ==, 2);
  const guint dims[] = { 400, 200, 50 };
  g_assert_cmpmem (a.dims, 3 * sizeof (guint), dims, sizeof dims);
  for (guint l = 0; l < 2; l++) {
    const gsize n = (gsize) dims[l] * dims[l + 1];
    g_assert_cmpmem (a.weight[l], n * sizeof (float), b.weight[l],
                     n * sizeof (float));
    double s2 = 0;
    for (gsize i = 0; i < n; i++)
      s2 += (double) a.weight[l][i] * a.weight[l][i];
    const double want = sqrt (2.0 / dims[l]) * (l == 0 ? 0.5 : 1.0);
    g_assert_cmpfloat (fabs (sqrt (s2 / n) / want - 1), <, 0.02);
    for (guint j = 0; j < dims[l + 1]; j++)
      g_assert_cmpfloat (a.bias[l][j], ==, 0.0f);
  }
  spp_fc_head_clear (&a);
  spp_fc_head_clear (&b);
}

/* Without background (or without positives) there is nothing to learn
 * a softmax from. */
static void
test_one_sided (void)
{
  const guint widths[] = { 4 };
  SppFcHead head;
  spp_fc_head_init (&head, 3, widths, 1, 1.0f, 1);
  const float x[6] = { 1, 2, 3, 4, 5, 6 };
  const guint8 label[2] = { 1, 2 };
  SppFinetuneParams p;
  spp_finetune_params_init (&p);
  p.epochs = 1;
  g_autoptr (GError) error = NULL;
  g_assert_false (spp_finetune (&head, 2, x, label, 2, &p, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "2 positive and 0 background"));
  spp_fc_head_clear (&head);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/finetune/numpy-steps", test_numpy_steps);
  g_test_add_func ("/finetune/input-scale", test_input_scale);
  g_test_add_func ("/finetune/head-init", test_head_init);
  g_test_add_func ("/finetune/one-sided", test_one_sided);
  return g_test_run ();
}
