/* Per-class linear SVMs and hard-negative mining (docs/method.md 2.7,
 * docs/training.md section 3). */
#pragma once

#include <glib.h>

/* Rows of @dim floats, with a 64-bit key per row when asked for (the
 * cached negatives: (image << 32) | window). */
typedef struct {
  GArray *x;
  GArray *keys;
  guint n;
} SppRows;

void spp_rows_init (SppRows *r, guint dim, gboolean keys);
void spp_rows_clear (SppRows *r);
void spp_rows_add (SppRows *r, const float *row, guint64 key);
void spp_rows_scale (SppRows *r, guint dim, float s);

static inline const float *
spp_rows_get (const SppRows *r, guint i, guint dim)
{
  return (const float *) r->x->data + (gsize) i * dim;
}

/* docs/method.md 2.7: liblinear's L2-regularised hinge loss (type 3),
 * positive weight 2, bias feature 10, stopping tolerance 0.1. */
#define SPP_SVM_POS_WEIGHT 2.0
#define SPP_SVM_BIAS_MULT 10.0
#define SPP_SVM_EPS 0.1
#define SPP_SVM_MAX_ITER 1000

/* Dual coordinate descent for min 1/2 |w|^2 + sum C_i max(0, 1 - y_i
 * w.x_i), x_i extended with SPP_SVM_BIAS_MULT, C_i = @c * SPP_SVM_POS_WEIGHT
 * for @pos and @c for @neg; stops when the projected gradients are
 * within @eps (SPP_SVM_EPS) of each other. Writes @w: @dim weights, then
 * the bias (the bias feature's weight times SPP_SVM_BIAS_MULT). @seed
 * orders the coordinates. */
void spp_svm_train (const SppRows *pos, const SppRows *neg, guint dim,
                    double c, double eps, guint32 seed, float *w);

/* w . x + bias, for @w as spp_svm_train() writes it. */
float spp_svm_score (const float *w, const float *x, guint dim);

/* docs/method.md 2.7: a negative is hard above -1.0001, easy below -1.2;
 * a class retrains after more than 2000 new hard negatives. */
#define SPP_MINE_HARD -1.0001f
#define SPP_MINE_EASY -1.2f
#define SPP_MINE_RETRAIN_AFTER 2000

/* One class's SVM with its positives and the cache of negatives that
 * mining fills. */
typedef struct {
  SppRows pos, neg;
  GHashTable *neg_keys; /* the keys of neg's rows */
  guint new_since_train;
  float *w;             /* dim + 1, as spp_svm_train() writes it */
} SppSvmClass;

void spp_svm_class_init (SppSvmClass *c, guint dim);
void spp_svm_class_clear (SppSvmClass *c);
gboolean spp_svm_class_has_negative (const SppSvmClass *c, guint64 key);
/* Adds a negative to the cache unconditionally (the initial random ones). */
void spp_svm_class_add_negative (SppSvmClass *c, const float *x,
                                 guint64 key);
/* Drops the cached negatives scoring below SPP_MINE_EASY, keeping the
 * others in order. Returns how many were dropped. */
guint spp_svm_class_evict_easy (SppSvmClass *c, guint dim);
/* Mining one negative not in the cache: kept if it scores above
 * SPP_MINE_HARD and there is room in @max_neg, after evicting the easy
 * ones when the cache is full. TRUE when it was kept. */
gboolean spp_svm_class_mine (SppSvmClass *c, const float *x, guint64 key,
                             guint dim, guint max_neg);
