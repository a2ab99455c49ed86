/* The linear SVMs and hard-negative mining (src/train/svm.c) against a
 * hand-worked separable case, the NumPy optimum of the same objective
 * (make_train_vectors.py) and hand-worked mining rules (docs/method.md
 * 2.7). */
#include "svm-private.h"
#include "train-test.h"

#include <math.h>

static void
rows_from (SppRows *r, const float *x, guint n, guint dim, gboolean keys)
{
  spp_rows_init (r, dim, keys);
  for (guint i = 0; i < n; i++)
    spp_rows_add (r, x + (gsize) i * dim, i + 1);
}

/* The hinge-loss objective the solver minimises (svm-private.h), for w
 * as spp_svm_train() writes it. */
static double
objective (const SppRows *pos, const SppRows *neg, guint dim, double c,
           const float *w)
{
  const double wb = w[dim] / SPP_SVM_BIAS_MULT;
  double f = 0.5 * wb * wb;
  for (guint j = 0; j < dim; j++)
    f += 0.5 * (double) w[j] * w[j];
  for (guint i = 0; i < pos->n; i++)
    f += c * SPP_SVM_POS_WEIGHT
         * MAX (0.0, 1 - spp_svm_score (w, spp_rows_get (pos, i, dim), dim));
  for (guint i = 0; i < neg->n; i++)
    f += c * MAX (0.0, 1 + spp_svm_score (w, spp_rows_get (neg, i, dim), dim));
  return f;
}

/* x = +1 positive, x = -1 negative, bias feature 10: the hard margin on
 * (x, 10) is w = (1, 0) by symmetry (margins exactly 1, alphas 1/2 each,
 * under both caps for C = 1). */
static void
test_hand (void)
{
  const float p[] = { 1 }, n[] = { -1 };
  SppRows pos, neg;
  rows_from (&pos, p, 1, 1, FALSE);
  rows_from (&neg, n, 1, 1, TRUE);
  float w[2];
  spp_svm_train (&pos, &neg, 1, 1.0, 1e-9, 1, w);
  const double want[] = { 1, 0 };
  spp_test_assert_close_f ("w", w, want, 2, 1e-6, 0);
  g_assert_cmpfloat_with_epsilon (spp_svm_score (w, p, 1), 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (spp_svm_score (w, n, 1), -1.0, 1e-6);
  spp_rows_clear (&pos);
  spp_rows_clear (&neg);
}

typedef struct {
  SppRows pos, neg;
  guint dim;
  double c, objective;
  double *w;
} NumpyCase;

static void
numpy_case (NumpyCase *k)
{
  gsize n, np, nn;
  k->dim = (guint) spp_test_scalar ("svm", "dim");
  k->c = spp_test_scalar ("svm", "c");
  k->objective = spp_test_scalar ("svm", "objective");
  g_autofree float *pos = spp_test_vector_f ("svm", "pos", &np);
  g_autofree float *neg = spp_test_vector_f ("svm", "neg", &nn);
  rows_from (&k->pos, pos, np / k->dim, k->dim, FALSE);
  rows_from (&k->neg, neg, nn / k->dim, k->dim, TRUE);
  k->w = spp_test_vector ("svm", "w", &n);
  g_assert_cmpuint (n, ==, k->dim + 1);
}

static void
numpy_case_clear (NumpyCase *k)
{
  spp_rows_clear (&k->pos);
  spp_rows_clear (&k->neg);
  g_free (k->w);
}

/* Overlapping classes: run to a tight tolerance, the solver reaches the
 * optimum NumPy found by another method. */
static void
test_numpy (void)
{
  NumpyCase k;
  numpy_case (&k);
  float w[8];
  spp_svm_train (&k.pos, &k.neg, k.dim, k.c, 1e-9, 3, w);
  spp_test_assert_close_f ("w", w, k.w, k.dim + 1, 1e-4, 1e-4);
  double f = objective (&k.pos, &k.neg, k.dim, k.c, w);
  spp_test_assert_close ("objective", &f, &k.objective, 1, 0, 1e-6);
  numpy_case_clear (&k);
}

/* With the recipe's tolerance (SPP_SVM_EPS, liblinear's 0.1) the
 * solver stops early: its objective is at least the optimum and within
 * 1% of it here, whatever the coordinate order. */
static void
test_recipe_tolerance (void)
{
  NumpyCase k;
  numpy_case (&k);
  for (guint32 seed = 1; seed <= 5; seed++) {
    float w[8];
    spp_svm_train (&k.pos, &k.neg, k.dim, k.c, SPP_SVM_EPS, seed, w);
    double f = objective (&k.pos, &k.neg, k.dim, k.c, w);
    g_assert_cmpfloat (f, >=, k.objective * (1 - 1e-6));
    g_assert_cmpfloat (f, <=, k.objective * 1.01);
  }
  numpy_case_clear (&k);
}

/* score = w . x + bias */
static void
test_score (void)
{
  const float w[] = { 1, 2, 3, 0.5f }, x[] = { 1, -1, 2 };
  g_assert_cmpfloat (spp_svm_score (w, x, 3), ==, 5.5f);
}

/* A 1-D class scoring x itself: w = (1, bias 0). */
static void
class_with (SppSvmClass *c, const float *neg, guint n)
{
  spp_svm_class_init (c, 1);
  c->w[0] = 1;
  c->w[1] = 0;
  for (guint i = 0; i < n; i++)
    spp_svm_class_add_negative (c, &neg[i], 100 + i);
}

/* Scores below -1.2 go, the rest stay in order with their keys; -1.2
 * itself is not below. */
static void
test_evict (void)
{
  const float neg[] = { -2.0f, -1.1f, -1.3f, 0.5f, -1.2f };
  SppSvmClass c;
  class_with (&c, neg, G_N_ELEMENTS (neg));
  g_assert_cmpuint (spp_svm_class_evict_easy (&c, 1), ==, 2);
  g_assert_cmpuint (c.neg.n, ==, 3);
  const double want[] = { -1.1f, 0.5f, -1.2f };
  spp_test_assert_close_f ("kept", (const float *) c.neg.x->data, want, 3, 0,
                           0);
  const guint64 want_keys[] = { 101, 103, 104 };
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpuint (g_array_index (c.neg.keys, guint64, i), ==,
                      want_keys[i]);
    g_assert_true (spp_svm_class_has_negative (&c, want_keys[i]));
  }
  g_assert_false (spp_svm_class_has_negative (&c, 100));
  g_assert_false (spp_svm_class_has_negative (&c, 102));
  g_assert_cmpuint (g_hash_table_size (c.neg_keys), ==, 3);
  spp_svm_class_clear (&c);
}

/* A cache of 3: -1.0001 is not hard (kept only above it); a hard one
 * finds the cache full, evicts the easy -2 and takes its place; the next
 * finds it full of non-easy ones and is dropped. */
static void
test_mine (void)
{
  const float neg[] = { 0.0f, -2.0f, 0.0f };
  SppSvmClass c;
  class_with (&c, neg, 3);
  const float borderline = SPP_MINE_HARD, hard = -0.5f, harder = 0.3f;
  g_assert_false (spp_svm_class_mine (&c, &borderline, 200, 1, 3));
  g_assert_cmpuint (c.neg.n, ==, 3);
  g_assert_true (spp_svm_class_mine (&c, &hard, 201, 1, 3));
  g_assert_cmpuint (c.neg.n, ==, 3);
  g_assert_false (spp_svm_class_has_negative (&c, 101));
  g_assert_true (spp_svm_class_has_negative (&c, 201));
  g_assert_cmpfloat (((float *) c.neg.x->data)[2], ==, hard);
  g_assert_false (spp_svm_class_mine (&c, &harder, 202, 1, 3));
  g_assert_false (spp_svm_class_has_negative (&c, 202));
  g_assert_cmpuint (c.new_since_train, ==, 1);
  spp_svm_class_clear (&c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/svm/hand", test_hand);
  g_test_add_func ("/svm/numpy", test_numpy);
  g_test_add_func ("/svm/recipe-tolerance", test_recipe_tolerance);
  g_test_add_func ("/svm/score", test_score);
  g_test_add_func ("/mining/evict", test_evict);
  g_test_add_func ("/mining/mine", test_mine);
  return g_test_run ();
}
