/* Linear SVMs (liblinear's dual coordinate descent) and hard-negative
 * mining on their scores (docs/method.md 2.7). */
#include "svm-private.h"

#include <math.h>
#include <string.h>

void
spp_rows_init (SppRows *r, guint dim, gboolean keys)
{
  r->x = g_array_new (FALSE, FALSE, sizeof (float) * dim);
  r->keys = keys ? g_array_new (FALSE, FALSE, sizeof (guint64)) : NULL;
  r->n = 0;
}

void
spp_rows_clear (SppRows *r)
{
  g_clear_pointer (&r->x, g_array_unref);
  g_clear_pointer (&r->keys, g_array_unref);
}

void
spp_rows_add (SppRows *r, const float *row, guint64 key)
{
  g_array_append_vals (r->x, row, 1);
  if (r->keys)
    g_array_append_val (r->keys, key);
  r->n++;
}

void
spp_rows_scale (SppRows *r, guint dim, float s)
{
  float *x = (float *) r->x->data;
  for (gsize i = 0; i < (gsize) r->n * dim; i++)
    x[i] *= s;
}

static double
dot (const float *a, const double *w, guint n)
{
  double s = 0;
  for (guint j = 0; j < n; j++)
    s += a[j] * w[j];
  return s;
}

/* liblinear's solve_l2r_l1l2_svc for the L1 loss, with shrinking. */
void
spp_svm_train (const SppRows *pos, const SppRows *neg, guint dim, double c,
               double eps, guint32 seed, float *w_out)
{
  const guint F = dim, np = pos->n, l = np + neg->n;
  g_autofree double *w = g_new0 (double, F + 1);
  g_autofree double *alpha = g_new0 (double, MAX (l, 1));
  g_autofree double *qd = g_new (double, MAX (l, 1));
  g_autofree guint *index = g_new (guint, MAX (l, 1));
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (guint i = 0; i < l; i++) {
    const float *x = i < np ? spp_rows_get (pos, i, F)
                            : spp_rows_get (neg, i - np, F);
    double s = SPP_SVM_BIAS_MULT * SPP_SVM_BIAS_MULT;
    for (guint j = 0; j < F; j++)
      s += (double) x[j] * x[j];
    qd[i] = s;
    index[i] = i;
  }
  double pg_max_old = INFINITY, pg_min_old = -INFINITY;
  guint active = l;
  for (int iter = 0; iter < SPP_SVM_MAX_ITER && l > 0; iter++) {
    double pg_max = -INFINITY, pg_min = INFINITY;
    for (guint i = 0; i < active; i++) {
      guint j = i + g_rand_int_range (rand, 0, active - i);
      guint t = index[i];
      index[i] = index[j];
      index[j] = t;
    }
    for (guint s = 0; s < active; s++) {
      guint i = index[s];
      const gboolean is_pos = i < np;
      const float *x = is_pos ? spp_rows_get (pos, i, F)
                              : spp_rows_get (neg, i - np, F);
      const double y = is_pos ? 1.0 : -1.0;
      const double C = is_pos ? c * SPP_SVM_POS_WEIGHT : c;
      double G = y * (dot (x, w, F) + w[F] * SPP_SVM_BIAS_MULT) - 1.0;
      double PG = 0;
      if (alpha[i] == 0) {
        if (G > pg_max_old) {
          active--;
          index[s] = index[active];
          index[active] = i;
          s--;
          continue;
        }
        if (G < 0)
          PG = G;
      } else if (alpha[i] == C) {
        if (G < pg_min_old) {
          active--;
          index[s] = index[active];
          index[active] = i;
          s--;
          continue;
        }
        if (G > 0)
          PG = G;
      } else {
        PG = G;
      }
      pg_max = MAX (pg_max, PG);
      pg_min = MIN (pg_min, PG);
      if (fabs (PG) > 1e-12) {
        double old = alpha[i];
        alpha[i] = MIN (MAX (alpha[i] - G / qd[i], 0.0), C);
        double d = (alpha[i] - old) * y;
        for (guint j = 0; j < F; j++)
          w[j] += d * x[j];
        w[F] += d * SPP_SVM_BIAS_MULT;
      }
    }
    if (pg_max - pg_min <= eps) {
      if (active == l)
        break;
      active = l;
      pg_max_old = INFINITY;
      pg_min_old = -INFINITY;
      continue;
    }
    pg_max_old = pg_max <= 0 ? INFINITY : pg_max;
    pg_min_old = pg_min >= 0 ? -INFINITY : pg_min;
  }
  for (guint j = 0; j < F; j++)
    w_out[j] = (float) w[j];
  w_out[F] = (float) (w[F] * SPP_SVM_BIAS_MULT);
}

float
spp_svm_score (const float *w, const float *x, guint dim)
{
  double s = w[dim];
  for (guint j = 0; j < dim; j++)
    s += (double) x[j] * w[j];
  return (float) s;
}

static guint64 *
key_new (guint64 k)
{
  return g_memdup2 (&k, sizeof k);
}

void
spp_svm_class_init (SppSvmClass *c, guint dim)
{
  spp_rows_init (&c->pos, dim, FALSE);
  spp_rows_init (&c->neg, dim, TRUE);
  c->neg_keys = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                       NULL);
  c->new_since_train = 0;
  c->w = g_new0 (float, dim + 1);
}

void
spp_svm_class_clear (SppSvmClass *c)
{
  spp_rows_clear (&c->pos);
  spp_rows_clear (&c->neg);
  g_clear_pointer (&c->neg_keys, g_hash_table_unref);
  g_clear_pointer (&c->w, g_free);
}

gboolean
spp_svm_class_has_negative (const SppSvmClass *c, guint64 key)
{
  return g_hash_table_contains (c->neg_keys, &key);
}

void
spp_svm_class_add_negative (SppSvmClass *c, const float *x, guint64 key)
{
  spp_rows_add (&c->neg, x, key);
  g_hash_table_add (c->neg_keys, key_new (key));
}

guint
spp_svm_class_evict_easy (SppSvmClass *c, guint dim)
{
  const guint F = dim, n = c->neg.n;
  guint kept = 0;
  float *x = (float *) c->neg.x->data;
  guint64 *keys = (guint64 *) c->neg.keys->data;
  for (guint i = 0; i < n; i++) {
    if (spp_svm_score (c->w, x + (gsize) i * F, F) < SPP_MINE_EASY) {
      g_hash_table_remove (c->neg_keys, &keys[i]);
      continue;
    }
    if (kept != i) {
      memcpy (x + (gsize) kept * F, x + (gsize) i * F, F * sizeof (float));
      keys[kept] = keys[i];
    }
    kept++;
  }
  g_array_set_size (c->neg.x, kept);
  g_array_set_size (c->neg.keys, kept);
  c->neg.n = kept;
  return n - kept;
}

gboolean
spp_svm_class_mine (SppSvmClass *c, const float *x, guint64 key, guint dim,
                    guint max_neg)
{
  if (spp_svm_score (c->w, x, dim) <= SPP_MINE_HARD)
    return FALSE;
  if (c->neg.n >= max_neg)
    spp_svm_class_evict_easy (c, dim);
  if (c->neg.n >= max_neg)
    return FALSE;
  spp_svm_class_add_negative (c, x, key);
  c->new_since_train++;
  return TRUE;
}
