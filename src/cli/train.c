/* spp train: the paper's recipe on fixed conv features (docs/method.md
 * 2.5-2.9): per-class linear SVMs with hard-negative mining, R-CNN box regression
 * on the pooled SPP vector, then Platt scaling and per-class thresholds
 * on a validation split; optionally the fc layers are fine-tuned first
 * (docs/method.md 2.8, finetune.c). docs/training.md is the user's guide. */
#include "cli.h"
#include "coco.h"
#include "finetune.h"
#include "model-writer.h"
#include "platt.h"

#include "spp/spp.h"
#include "spp/eval.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* docs/method.md 2.7 (liblinear's L2-regularised hinge loss, C 0.001,
 * positive weight 2, bias feature 10). C is
 * per example, so with a few dozen positives instead of VOC's thousands
 * 1e-3 under-fits: --svm-c overrides it. */
#define SVM_C_DEFAULT 1e-3
#define SVM_POS_WEIGHT 2.0
#define SVM_BIAS_MULT 10.0
#define SVM_EPS 0.1
#define SVM_MAX_ITER 1000
#define NEG_IOU 0.3f
#define HARD_THRESH -1.0001f
#define EASY_THRESH -1.2f
#define RETRAIN_AFTER 2000
#define MAX_NEG 50000
/* docs/method.md 2.5: features scaled to this mean L2 norm. */
#define TARGET_NORM 20.0
/* docs/method.md 2.9: R-CNN's regression pairs, IoU >= 0.6. */
#define BBOX_IOU 0.6f
/* R-CNN's ridge lambda, 1000 on features of mean norm 20; we scale the
 * pooled vectors to that norm so the same lambda means the same thing
 * for any trunk (SPP's released code uses 4000 with whitened targets,
 * a different normalisation). */
#define BBOX_LAMBDA 1000.0
#define BBOX_PER_GT 8
/* Box pairs are taken in image order until the budget is full: a small
 * cap left the last images of a mixed set (a second camera) without any.
 * 20,000 pairs of 3,200 floats are 256 MB per class. */
#define MAX_BBOX 20000
#define CG_MAX_ITER 200
#define CACHE_MAGIC 0x50505053u /* "SPPP" little-endian */

typedef struct {
  GArray *x;    /* float rows of dim */
  GArray *keys; /* guint64, negatives only: (image << 32) | proposal */
  guint n;
} Rows;

typedef struct {
  Rows pos, neg;
  GHashTable *neg_keys; /* keys in the cache */
  guint new_since_train;
  float *w; /* dim + 1: weights, bias last (already times bias_mult) */
  Rows bbox_x;  /* pooled rows, raw */
  GArray *bbox_t; /* float[4] targets */
} Class;

typedef struct {
  SppBox *boxes;
  guint n;
} Props;

typedef struct {
  /* options */
  const char *images_root, *cache_dir;
  SppProposalParams pp;
  guint32 seed;
  double svm_c;
  /* data */
  SppCoco *coco;
  SppModel *model;
  SppDetector *det;
  guint K, F, D;
  int *cat_class; /* coco category -> class or -1 */
  Class *cls;
  Props *props;   /* per coco image */
  guint max_neg, max_bbox, neg_init;
  double norm_sum;
  guint64 norm_n;
  float scale; /* 20 / mean norm, applied to the features we got */
  SppTensor *pooled, *feat;
  SppCliProgress progress;
  /* Fine-tuning (docs/method.md 2.8): the head, the model file holding
   * it, and the windows collected for it (pooled rows of D, labels 0 = background). */
  SppCliFcHead head;
  char *head_path;
  GArray *ft_x, *ft_y;
  guint ft_pos_cap, ft_neg_cap;
  gsize ft_budget; /* bytes */
} Train;

static void
rows_init (Rows *r, guint dim, gboolean keys)
{
  r->x = g_array_new (FALSE, FALSE, sizeof (float) * dim);
  r->keys = keys ? g_array_new (FALSE, FALSE, sizeof (guint64)) : NULL;
  r->n = 0;
}

static void
rows_clear (Rows *r)
{
  g_clear_pointer (&r->x, g_array_unref);
  g_clear_pointer (&r->keys, g_array_unref);
}

static void
rows_add (Rows *r, const float *row, guint64 key)
{
  g_array_append_vals (r->x, row, 1);
  if (r->keys)
    g_array_append_val (r->keys, key);
  r->n++;
}

static const float *
rows_get (const Rows *r, guint i, guint dim)
{
  return (const float *) r->x->data + (gsize) i * dim;
}

static double
dot (const float *a, const double *w, guint n)
{
  double s = 0;
  for (guint j = 0; j < n; j++)
    s += a[j] * w[j];
  return s;
}

/* Dual coordinate descent for the L2-regularised L1-loss (hinge) SVM,
 * liblinear's solve_l2r_l1l2_svc with shrinking: min 1/2 |w|^2 +
 * sum C_i max(0, 1 - y_i w.x_i), x_i extended with SVM_BIAS_MULT. */
static void
svm_train (Class *c, guint F, double svm_c, guint32 seed)
{
  const guint np = c->pos.n, l = np + c->neg.n;
  g_autofree double *w = g_new0 (double, F + 1);
  g_autofree double *alpha = g_new0 (double, MAX (l, 1));
  g_autofree double *qd = g_new (double, MAX (l, 1));
  g_autofree guint *index = g_new (guint, MAX (l, 1));
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (guint i = 0; i < l; i++) {
    const float *x = i < np ? rows_get (&c->pos, i, F)
                            : rows_get (&c->neg, i - np, F);
    double s = SVM_BIAS_MULT * SVM_BIAS_MULT;
    for (guint j = 0; j < F; j++)
      s += (double) x[j] * x[j];
    qd[i] = s;
    index[i] = i;
  }
  double pg_max_old = INFINITY, pg_min_old = -INFINITY;
  guint active = l;
  for (int iter = 0; iter < SVM_MAX_ITER && l > 0; iter++) {
    double pg_max = -INFINITY, pg_min = INFINITY;
    for (guint i = 0; i < active; i++) {
      guint j = i + g_rand_int_range (rand, 0, active - i);
      guint t = index[i];
      index[i] = index[j];
      index[j] = t;
    }
    for (guint s = 0; s < active; s++) {
      guint i = index[s];
      const gboolean pos = i < np;
      const float *x = pos ? rows_get (&c->pos, i, F)
                           : rows_get (&c->neg, i - np, F);
      const double y = pos ? 1.0 : -1.0;
      const double C = pos ? svm_c * SVM_POS_WEIGHT : svm_c;
      double G = y * (dot (x, w, F) + w[F] * SVM_BIAS_MULT) - 1.0;
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
        w[F] += d * SVM_BIAS_MULT;
      }
    }
    if (pg_max - pg_min <= SVM_EPS) {
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
    c->w[j] = (float) w[j];
  c->w[F] = (float) (w[F] * SVM_BIAS_MULT);
}

static float
svm_score (const Class *c, const float *x, guint F)
{
  double s = c->w[F];
  for (guint j = 0; j < F; j++)
    s += (double) x[j] * c->w[j];
  return (float) s;
}

/* Drops cached negatives scoring below EASY_THRESH. */
static void
evict_easy (Class *c, guint F)
{
  guint kept = 0;
  float *x = (float *) c->neg.x->data;
  guint64 *keys = (guint64 *) c->neg.keys->data;
  for (guint i = 0; i < c->neg.n; i++) {
    if (svm_score (c, x + (gsize) i * F, F) < EASY_THRESH) {
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
}

static guint64 *
key_new (guint64 k)
{
  return g_memdup2 (&k, sizeof k);
}

/* --cache DIR: one file per image, "<image id>.props": u32 magic
 * "SPPP", u32 version 1, u32 max_boxes, u32 seed, u32 width, u32 height,
 * u32 n, then n boxes of 4 f32 (x, y, w, h), little-endian. A file whose
 * parameters differ is recomputed and replaced. */
static SppBox *
cache_read (Train *t, const SppCocoImage *im, const SppImage *frame,
            guint *n)
{
  if (t->cache_dir == NULL)
    return NULL;
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".props",
                                           im->id);
  g_autofree char *path = g_build_filename (t->cache_dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len;
  if (!g_file_get_contents (path, &data, &len, NULL) || len < 28)
    return NULL;
  guint32 h[7];
  memcpy (h, data, sizeof h);
  if (h[0] != CACHE_MAGIC || h[1] != 1 || h[2] != t->pp.max_boxes
      || h[3] != t->pp.seed || h[4] != (guint32) frame->width
      || h[5] != (guint32) frame->height || h[6] > t->pp.max_boxes
      || len != 28 + (gsize) h[6] * sizeof (SppBox))
    return NULL;
  *n = h[6];
  return g_memdup2 (data + 28, MAX (h[6], 1) * sizeof (SppBox));
}

static void
cache_write (Train *t, const SppCocoImage *im, const SppImage *frame,
             const SppBox *b, guint n)
{
  if (t->cache_dir == NULL)
    return;
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".props",
                                           im->id);
  g_autofree char *path = g_build_filename (t->cache_dir, name, NULL);
  gsize len = 28 + (gsize) n * sizeof (SppBox);
  g_autofree char *data = g_malloc (len);
  guint32 h[7] = { CACHE_MAGIC, 1, t->pp.max_boxes, t->pp.seed,
                   (guint32) frame->width, (guint32) frame->height, n };
  memcpy (data, h, sizeof h);
  memcpy (data + 28, b, (gsize) n * sizeof (SppBox));
  g_autoptr (GError) err = NULL;
  if (!g_file_set_contents (path, data, len, &err))
    fprintf (stderr, "spp train: cache: %s (continuing)\n", err->message);
}

static gboolean
get_props (Train *t, guint index, const SppImage *frame, GError **error)
{
  Props *p = &t->props[index];
  if (p->boxes)
    return TRUE;
  const SppCocoImage *im = g_ptr_array_index (t->coco->images, index);
  p->boxes = cache_read (t, im, frame, &p->n);
  if (p->boxes)
    return TRUE;
  p->boxes = spp_proposals_compute (frame, &t->pp, &p->n, error);
  if (p->boxes == NULL)
    return FALSE;
  cache_write (t, im, frame, p->boxes, p->n);
  return TRUE;
}

/* As the detector clips windows (src/box-regression.c spp_bbox_clip). */
static gboolean
clip_box (SppBox *b, int width, int height)
{
  float x0 = CLAMP (b->x, 0.0f, (float) width);
  float y0 = CLAMP (b->y, 0.0f, (float) height);
  float x1 = CLAMP (b->x + b->w, 0.0f, (float) width);
  float y1 = CLAMP (b->y + b->h, 0.0f, (float) height);
  *b = (SppBox) { x0, y0, x1 - x0, y1 - y0 };
  return isfinite (b->w) && isfinite (b->h) && b->w > 0 && b->h > 0;
}

/* Max IoU of @b with the image's ground truth of class @k. */
static float
max_iou (const SppCocoImage *im, const int *cat_class, int k, const SppBox *b,
         int *which)
{
  float best = 0;
  if (which)
    *which = -1;
  for (guint j = 0; j < im->boxes->len; j++) {
    if (cat_class[g_array_index (im->category, guint, j)] != k)
      continue;
    float o = spp_box_iou (b, &g_array_index (im->boxes, SppBox, j));
    if (o > best) {
      best = o;
      if (which)
        *which = (int) j;
    }
  }
  return best;
}

/* The windows of image @index: its ground-truth boxes (as annotated),
 * then its proposals (computed or read on first use) clipped to the
 * frame, as detection clips them before scoring and regressing
 * (*n_props of them). NULL on error. */
static SppBox *
image_windows (Train *t, guint index, const SppImage *frame, guint *n_props,
               GError **error)
{
  const SppCocoImage *im = g_ptr_array_index (t->coco->images, index);
  if (!get_props (t, index, frame, error))
    return NULL;
  const Props *p = &t->props[index];
  const guint n_gt = im->boxes->len;
  SppBox *boxes = g_new (SppBox, MAX (n_gt + p->n, 1));
  memcpy (boxes, im->boxes->data, n_gt * sizeof (SppBox));
  *n_props = 0;
  for (guint i = 0; i < p->n; i++) {
    SppBox b = p->boxes[i];
    if (clip_box (&b, frame->width, frame->height))
      boxes[n_gt + (*n_props)++] = b;
  }
  return boxes;
}

/* Partial Fisher-Yates: the first @take of @a (guint) become a random
 * pick of it. */
static void
pick_first (GArray *a, guint take, GRand *rand)
{
  for (guint q = 0; q < MIN (take, a->len); q++) {
    guint r = q + g_rand_int_range (rand, 0, a->len - q);
    guint tmp = g_array_index (a, guint, q);
    g_array_index (a, guint, q) = g_array_index (a, guint, r);
    g_array_index (a, guint, r) = tmp;
  }
}

/* Pass 1: proposals, positives, a random start of negatives, box
 * regression pairs, feature norms. */
static gboolean
first_pass_image (guint index, const SppImage *frame, gpointer user_data,
                  GError **error)
{
  Train *t = user_data;
  const SppCocoImage *im = g_ptr_array_index (t->coco->images, index);
  const guint n_gt = im->boxes->len;
  guint n_props;
  g_autofree SppBox *boxes = image_windows (t, index, frame, &n_props,
                                            error);
  if (boxes == NULL)
    return FALSE;
  if (!spp_detector_compute_features (t->det, frame, boxes, n_gt + n_props,
                                      t->pooled, t->feat, error))
    return FALSE;
  const float *f = spp_tensor_const_data (t->feat);
  const float *pooled = spp_tensor_const_data (t->pooled);
  for (guint i = n_gt; i < n_gt + n_props; i++) {
    double s = 0;
    for (guint j = 0; j < t->F; j++)
      s += (double) f[(gsize) i * t->F + j] * f[(gsize) i * t->F + j];
    t->norm_sum += sqrt (s);
    t->norm_n++;
  }
  for (guint j = 0; j < n_gt; j++) {
    int k = t->cat_class[g_array_index (im->category, guint, j)];
    if (k >= 0)
      rows_add (&t->cls[k].pos, f + (gsize) j * t->F, 0);
  }
  /* Per image and class a deterministic random pick, so the result does
   * not depend on the order images are decoded in. */
  for (guint k = 0; k < t->K; k++) {
    Class *c = &t->cls[k];
    g_autoptr (GRand) rand = g_rand_new_with_seed (
        t->seed * 2654435761u + (guint32) im->id * 40503u + k);
    g_autoptr (GArray) negs = g_array_new (FALSE, FALSE, sizeof (guint));
    guint per_gt[64] = { 0 };
    for (guint i = 0; i < n_props; i++) {
      const SppBox *b = &boxes[n_gt + i];
      int which;
      float o = max_iou (im, t->cat_class, (int) k, b, &which);
      if (o < NEG_IOU) {
        g_array_append_val (negs, i);
      } else if (o >= BBOX_IOU && c->bbox_x.n < t->max_bbox
                 && per_gt[which % 64] < BBOX_PER_GT) {
        /* Targets (docs/method.md 2.9, R-CNN): centre offsets over the window's
         * size, log size ratios; the window is the clipped proposal. */
        const SppBox *g = &g_array_index (im->boxes, SppBox, which);
        float tg[4] = {
          ((g->x + 0.5f * g->w) - (b->x + 0.5f * b->w)) / b->w,
          ((g->y + 0.5f * g->h) - (b->y + 0.5f * b->h)) / b->h,
          logf (g->w / b->w), logf (g->h / b->h) };
        per_gt[which % 64]++;
        rows_add (&c->bbox_x, pooled + (gsize) (n_gt + i) * t->D, 0);
        g_array_append_vals (c->bbox_t, tg, 1);
      }
    }
    guint take = MIN (t->neg_init, negs->len);
    pick_first (negs, take, rand);
    for (guint a = 0; a < take && c->neg.n < t->max_neg; a++) {
      guint i = g_array_index (negs, guint, a);
      guint64 key = ((guint64) index << 32) | i;
      rows_add (&c->neg, f + (gsize) (n_gt + i) * t->F, key);
      g_hash_table_add (c->neg_keys, key_new (key));
    }
  }
  spp_cli_progress_step (&t->progress);
  return TRUE;
}

/* Fine-tuning windows (docs/method.md 2.8): IoU >= 0.5 with a box of a trained
 * class is that class, IoU in [0.1, 0.5) with every box is background,
 * the rest is left out; per image a seeded random pick of at most
 * ft_pos_cap positives (ground-truth boxes included) and ft_neg_cap
 * background windows. */
#define FT_POS_IOU 0.5f
#define FT_BG_IOU 0.1f

static gboolean
finetune_pass_image (guint index, const SppImage *frame, gpointer user_data,
                     GError **error)
{
  Train *t = user_data;
  const SppCocoImage *im = g_ptr_array_index (t->coco->images, index);
  guint n_props;
  g_autofree SppBox *boxes = image_windows (t, index, frame, &n_props,
                                            error);
  if (boxes == NULL)
    return FALSE;
  const guint n = im->boxes->len + n_props;
  g_autoptr (GArray) pos = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) neg = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree guint8 *label = g_new (guint8, MAX (n, 1));
  for (guint i = 0; i < n; i++) {
    float best = 0;
    for (guint k = 0; k < t->K; k++) {
      float o = max_iou (im, t->cat_class, (int) k, &boxes[i], NULL);
      if (o > best) {
        best = o;
        label[i] = (guint8) (k + 1);
      }
    }
    if (best >= FT_POS_IOU)
      g_array_append_val (pos, i);
    else if (best >= FT_BG_IOU) {
      label[i] = 0;
      g_array_append_val (neg, i);
    }
  }
  g_autoptr (GRand) rand = g_rand_new_with_seed (
      t->seed * 2654435761u + (guint32) im->id * 40503u + 7919u);
  GArray *sets[2] = { pos, neg };
  const guint caps[2] = { t->ft_pos_cap, t->ft_neg_cap };
  /* Only the picked windows need pooling. */
  g_autofree SppBox *picked = g_new (SppBox, MAX (caps[0] + caps[1], 1));
  g_autofree guint8 *picked_label = g_new (guint8, MAX (caps[0] + caps[1], 1));
  guint n_picked = 0;
  for (int s = 0; s < 2; s++) {
    GArray *a = sets[s];
    guint take = MIN (caps[s], a->len);
    pick_first (a, take, rand);
    for (guint q = 0; q < take; q++) {
      guint i = g_array_index (a, guint, q);
      picked[n_picked] = boxes[i];
      picked_label[n_picked++] = label[i];
    }
  }
  if (n_picked > 0) {
    if (!spp_detector_compute_features (t->det, frame, picked, n_picked,
                                        t->pooled, NULL, error))
      return FALSE;
    g_array_append_vals (t->ft_x, spp_tensor_const_data (t->pooled),
                         n_picked);
    g_array_append_vals (t->ft_y, picked_label, n_picked);
  }
  spp_cli_progress_step (&t->progress);
  return TRUE;
}

static void
scale_rows (Rows *r, guint dim, float s)
{
  float *x = (float *) r->x->data;
  for (gsize i = 0; i < (gsize) r->n * dim; i++)
    x[i] *= s;
}

/* Hard-negative mining (docs/method.md 2.7): every negative of the
 * image scoring above HARD_THRESH joins the cache; a class retrains after
 * RETRAIN_AFTER new ones, evicting the easy. */
static gboolean
mine_image (guint index, const SppImage *frame, gpointer user_data,
            GError **error)
{
  Train *t = user_data;
  const SppCocoImage *im = g_ptr_array_index (t->coco->images, index);
  guint n;
  g_autofree SppBox *windows = image_windows (t, index, frame, &n, error);
  if (windows == NULL)
    return FALSE;
  const SppBox *boxes = windows + im->boxes->len; /* the proposals */
  if (!spp_detector_compute_features (t->det, frame, boxes, n, t->pooled,
                                      t->feat, error))
    return FALSE;
  float *f = spp_tensor_data (t->feat);
  for (gsize i = 0; i < (gsize) n * t->F; i++)
    f[i] *= t->scale;
  for (guint k = 0; k < t->K; k++) {
    Class *c = &t->cls[k];
    for (guint i = 0; i < n; i++) {
      guint64 key = ((guint64) index << 32) | i;
      if (g_hash_table_contains (c->neg_keys, &key)
          || max_iou (im, t->cat_class, (int) k, &boxes[i], NULL) >= NEG_IOU)
        continue;
      const float *x = f + (gsize) i * t->F;
      if (svm_score (c, x, t->F) <= HARD_THRESH)
        continue;
      if (c->neg.n >= t->max_neg)
        evict_easy (c, t->F);
      if (c->neg.n >= t->max_neg)
        continue;
      rows_add (&c->neg, x, key);
      g_hash_table_add (c->neg_keys, key_new (key));
      c->new_since_train++;
    }
    if (c->new_since_train > RETRAIN_AFTER) {
      svm_train (c, t->F, t->svm_c, t->seed + k);
      evict_easy (c, t->F);
      c->new_since_train = 0;
    }
  }
  spp_cli_progress_step (&t->progress);
  return TRUE;
}

/* Ridge regression by conjugate gradients on (X^T X + lambda I) w =
 * X^T y, never forming X^T X (D can be 12,800): each step is two passes
 * over X. X is centred (so the bias is unregularised) and scaled to mean
 * norm TARGET_NORM; the returned weights apply to raw pooled vectors. */
static void
ridge (const Rows *X, const float *T, guint D, float *w_out, float *b_out)
{
  const guint N = X->n;
  g_autofree double *mean = g_new0 (double, D);
  double tmean[4] = { 0 }, norm = 0;
  for (guint i = 0; i < N; i++) {
    const float *x = rows_get (X, i, D);
    for (guint j = 0; j < D; j++)
      mean[j] += x[j];
    for (int q = 0; q < 4; q++)
      tmean[q] += T[i * 4 + q];
  }
  for (guint j = 0; j < D; j++)
    mean[j] /= N;
  for (int q = 0; q < 4; q++)
    tmean[q] /= N;
  for (guint i = 0; i < N; i++) {
    const float *x = rows_get (X, i, D);
    double s = 0;
    for (guint j = 0; j < D; j++)
      s += (x[j] - mean[j]) * (x[j] - mean[j]);
    norm += sqrt (s);
  }
  norm /= N;
  const double sc = norm > 0 ? TARGET_NORM / norm : 1.0;
  g_autofree double *r = g_new (double, D), *pv = g_new (double, D);
  g_autofree double *ap = g_new (double, D), *w = g_new (double, D);
  g_autofree double *xv = g_new (double, N);
  for (int q = 0; q < 4; q++) {
    /* b = X^T (t - mean); w = 0, so r = b. */
    memset (r, 0, D * sizeof (double));
    for (guint i = 0; i < N; i++) {
      const float *x = rows_get (X, i, D);
      double tq = T[i * 4 + q] - tmean[q];
      for (guint j = 0; j < D; j++)
        r[j] += sc * (x[j] - mean[j]) * tq;
    }
    memset (w, 0, D * sizeof (double));
    memcpy (pv, r, D * sizeof (double));
    double rr = 0;
    for (guint j = 0; j < D; j++)
      rr += r[j] * r[j];
    const double rr0 = rr;
    for (int it = 0; it < CG_MAX_ITER && rr > 1e-12 * rr0 && rr > 0; it++) {
      for (guint i = 0; i < N; i++) {
        const float *x = rows_get (X, i, D);
        double s = 0;
        for (guint j = 0; j < D; j++)
          s += sc * (x[j] - mean[j]) * pv[j];
        xv[i] = s;
      }
      for (guint j = 0; j < D; j++)
        ap[j] = BBOX_LAMBDA * pv[j];
      for (guint i = 0; i < N; i++) {
        const float *x = rows_get (X, i, D);
        for (guint j = 0; j < D; j++)
          ap[j] += sc * (x[j] - mean[j]) * xv[i];
      }
      double pap = 0;
      for (guint j = 0; j < D; j++)
        pap += pv[j] * ap[j];
      double a = rr / pap, rr_new = 0;
      for (guint j = 0; j < D; j++) {
        w[j] += a * pv[j];
        r[j] -= a * ap[j];
        rr_new += r[j] * r[j];
      }
      for (guint j = 0; j < D; j++)
        pv[j] = r[j] + rr_new / rr * pv[j];
      rr = rr_new;
    }
    /* t = sc (x - mean) . w + tmean = x . (sc w) + (tmean - sc mean . w) */
    double b = tmean[q];
    for (guint j = 0; j < D; j++) {
      w_out[(gsize) q * D + j] = (float) (sc * w[j]);
      b -= sc * mean[j] * w[j];
    }
    b_out[q] = (float) b;
  }
}

static void
usage (FILE *f)
{
  fprintf (f,
"usage: spp train --model TRUNK.sppm --annotations COCO.json --out OUT.sppm\n"
"                 [--images-root DIR] [--labels a,b] [--val-fraction 0.2]\n"
"                 [--max-proposals 3000] [--min-size 8] [--scales 576]\n"
"                 [--seed 1]\n"
"                 [--threads N] [--cache DIR] [--memory-mb 1024]\n"
"                 [--bbox-pairs 20000] [--box-vote 0]\n"
"                 [--svm-c 0.001] [--fc 256,128|none] [--finetune-fc N]\n"
"                 [--finetune-lr 0.01]\n"
"Trains one linear SVM per class on the model's fixed features\n"
"(hard-negative mining, C 1e-3 on features scaled to mean norm 20),\n"
"box regressors on the pooled SPP vector and, on the\n"
"validation images, Platt scaling and per-class thresholds (best F1 at\n"
"IoU 0.5). Images whose \"split\" is train / val are used as such, other\n"
"splits (test, heldout) never; without splits, --val-fraction of the\n"
"images (chosen by --seed) validate. --finetune-fc N first fine-tunes the\n"
"fc layers (the input's, or new ones from --fc) for N epochs on windows\n"
"of the training images (softmax over classes + background,\n"
"SGD with momentum, dropout); the SVMs then read the new fc output.\n"
"See docs/training.md and docs/method.md 2.5-2.9.\n");
}

static void
train_clear (Train *t)
{
  for (guint k = 0; t->cls && k < t->K; k++) {
    Class *c = &t->cls[k];
    rows_clear (&c->pos);
    rows_clear (&c->neg);
    rows_clear (&c->bbox_x);
    g_clear_pointer (&c->bbox_t, g_array_unref);
    g_clear_pointer (&c->neg_keys, g_hash_table_unref);
    g_free (c->w);
  }
  g_free (t->cls);
  if (t->props)
    for (guint i = 0; i < t->coco->images->len; i++)
      g_free (t->props[i].boxes);
  g_free (t->props);
  g_free (t->cat_class);
  spp_cli_fc_head_clear (&t->head);
  if (t->head_path)
    g_unlink (t->head_path);
  g_clear_pointer (&t->head_path, g_free);
  g_clear_pointer (&t->ft_x, g_array_unref);
  g_clear_pointer (&t->ft_y, g_array_unref);
  g_clear_pointer (&t->pooled, spp_tensor_free);
  g_clear_pointer (&t->feat, spp_tensor_free);
  g_clear_pointer (&t->det, spp_detector_free);
  g_clear_pointer (&t->model, spp_model_unref);
  g_clear_pointer (&t->coco, spp_coco_free);
}

static int
fail (Train *t, GError *error)
{
  fprintf (stderr, "spp train: %s\n", error->message);
  g_error_free (error);
  train_clear (t);
  return 1;
}

static float
logit (float c, float a)
{
  c = CLAMP (c, 1e-7f, 1.0f - 1e-7f);
  return logf (c / (1.0f - c)) / a;
}

/* --fc / --finetune-fc: builds the head (the input's, new fc layers, or
 * none), fine-tunes it on windows of the training images (docs/method.md 2.8),
 * and writes trunk + head to t->head_path, which then replaces the input
 * model for everything after (features, SVMs, the output's layers). */
static gboolean
prepare_head (Train *t, const char *model_path, const char *fc_arg,
              const SppCliFinetuneParams *ft, const GArray *train_idx,
              const char *const *labels, const char *out_path,
              const guint *scales, guint n_scales, GString *desc,
              GError **error)
{
  guint widths[SPP_CLI_FC_MAX], n_widths = 0;
  if (fc_arg && g_strcmp0 (fc_arg, "none") != 0) {
    g_auto (GStrv) parts = g_strsplit (fc_arg, ",", -1);
    for (; parts[n_widths]; n_widths++) {
      char *end;
      guint64 v = g_ascii_strtoull (parts[n_widths], &end, 10);
      if (n_widths == SPP_CLI_FC_MAX || *end || end == parts[n_widths]
          || v < 1 || v > 65536) {
        g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                     "--fc %s: expected 'none' or 1 to %d widths in "
                     "1..65536, e.g. 256,128", fc_arg, SPP_CLI_FC_MAX);
        return FALSE;
      }
      widths[n_widths] = (guint) v;
    }
  } else if (fc_arg == NULL) {
    if (!spp_cli_model_read_head (model_path, &t->head, error))
      return FALSE;
  }
  const gboolean fresh = fc_arg != NULL;
  if (ft->epochs > 0 && (fresh ? n_widths == 0 : t->head.n_layers == 0)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "--finetune-fc: %s has no fc layers to fine-tune; give "
                 "--fc 256,128 to create them", fresh ? "--fc none" : model_path);
    return FALSE;
  }
  if (fresh && n_widths == 0)
    g_string_append (desc, "no fc head (SVMs on the pooled vector)");
  else if (fresh)
    g_string_append_printf (desc, "new head fc %s (ReLU, He init, seed %u)",
                            fc_arg, ft->seed);
  else
    g_string_append_printf (desc, "the input's %u fc layers",
                            t->head.n_layers);
  float input_scale = 1.0f;
  if (ft->epochs > 0 && t->K > 255) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "--finetune-fc: %u classes, at most 255", t->K);
    return FALSE;
  }
  if (ft->epochs > 0) {
    /* Memory: half the budget, 128 windows per image at most, 25%
     * positive as in a mini-batch. */
    gsize cap = t->ft_budget / ((gsize) t->D * sizeof (float));
    guint per_image = (guint) MIN (128, cap / MAX (train_idx->len, 1));
    if (per_image < 4) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "--memory-mb is too small to keep fine-tuning windows "
                   "(%u per image)", per_image);
      return FALSE;
    }
    t->ft_pos_cap = per_image / 4;
    t->ft_neg_cap = per_image - t->ft_pos_cap;
    t->ft_x = g_array_new (FALSE, FALSE, sizeof (float) * t->D);
    t->ft_y = g_array_new (FALSE, FALSE, 1);
    spp_cli_progress_start (&t->progress, "spp train: fine-tuning windows",
                            train_idx->len);
    if (!spp_coco_foreach_image (t->coco, t->images_root,
                                 (const guint *) train_idx->data,
                                 train_idx->len, finetune_pass_image, t,
                                 error))
      return FALSE;
    guint n_pos = 0;
    for (guint i = 0; i < t->ft_y->len; i++)
      n_pos += t->ft_y->data[i] != 0;
    fprintf (stderr, "spp train: fine-tuning on %u windows (%u positive, "
             "%u background, %u floats each)\n", t->ft_y->len, n_pos,
             t->ft_y->len - n_pos, t->D);
    input_scale = spp_cli_finetune_input_scale (
        (const float *) t->ft_x->data, t->ft_x->len, t->D);
  }
  if (fresh && n_widths > 0)
    spp_cli_fc_head_init (&t->head, t->D, widths, n_widths, input_scale,
                          ft->seed);
  if (ft->epochs > 0) {
    if (!spp_cli_finetune (&t->head, t->K, (const float *) t->ft_x->data,
                           (const guint8 *) t->ft_y->data, t->ft_y->len, ft,
                           error))
      return FALSE;
    g_string_append_printf (desc, ", fine-tuned %u epochs on %u windows "
                            "(softmax over classes + background, SGD lr %g "
                            "momentum %g decay %g, dropout %g, batch %u, %g "
                            "positive)", ft->epochs, t->ft_y->len, ft->lr,
                            ft->momentum, ft->weight_decay, ft->dropout,
                            ft->batch, ft->pos_fraction);
    g_clear_pointer (&t->ft_x, g_array_unref);
    g_clear_pointer (&t->ft_y, g_array_unref);
  }

  /* Trunk + head, with placeholder SVMs (the loader wants labels). */
  const guint F = t->head.n_layers ? t->head.dims[t->head.n_layers] : t->D;
  g_autofree float *zeros = g_new0 (float, (gsize) t->K * F + t->K);
  g_autofree float *thr = g_new (float, t->K);
  for (guint k = 0; k < t->K; k++)
    thr[k] = 0.5f;
  SppCliDetectorParams p = {
    t->K, labels, thr, F, zeros, zeros + (gsize) t->K * F, t->D, NULL, NULL,
    1.0f, 1.0f, 0.0f, NULL, t->pp.max_boxes, t->pp.min_size, scales,
    n_scales, TRUE, &t->head, 0.0f };
  t->head_path = g_strconcat (out_path, ".head", NULL);
  if (!spp_cli_model_write (model_path, t->head_path, &p, error))
    return FALSE;
  g_clear_pointer (&t->det, spp_detector_free);
  g_clear_pointer (&t->model, spp_model_unref);
  t->model = spp_model_load (t->head_path, error);
  if (t->model == NULL)
    return FALSE;
  t->det = spp_detector_new_for_features (t->model, error);
  return t->det != NULL
      && (scales == NULL
          || spp_detector_set_scales (t->det, scales, n_scales, error));
}

int
spp_cli_train (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *ann_path = NULL, *out_path = NULL;
  g_autofree char *root = NULL, *cache = NULL, *labels_arg = NULL;
  g_autofree char *scales_arg = NULL, *fc_arg = NULL;
  int finetune_epochs = 0;
  double ft_lr = 0.01;
  double val_fraction = 0.2, svm_c = SVM_C_DEFAULT;
  /* Proposals as the library, the element and spp detect have them. */
  SppProposalParams pp_defaults;
  spp_proposal_params_init (&pp_defaults);
  int max_props = (int) pp_defaults.max_boxes, min_size = (int) pp_defaults.min_size;
  int seed = 1, threads = 0, memory_mb = 1024;
  int bbox_pairs = MAX_BBOX;
  double box_vote = 0.0;
  GError *error = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "trunk model", "FILE" },
    { "annotations", 'a', 0, G_OPTION_ARG_FILENAME, &ann_path, "COCO JSON", "FILE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "output model", "FILE" },
    { "images-root", 0, 0, G_OPTION_ARG_FILENAME, &root, "folder of the images", "DIR" },
    { "labels", 0, 0, G_OPTION_ARG_STRING, &labels_arg, "classes to train, in order", "LIST" },
    { "val-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &val_fraction, "validation share", "F" },
    { "max-proposals", 0, 0, G_OPTION_ARG_INT, &max_props, "proposals per image", "N" },
    { "scales", 's', 0, G_OPTION_ARG_STRING, &scales_arg, "shorter-side scales", "LIST" },
    { "min-size", 0, 0, G_OPTION_ARG_INT, &min_size, "smallest proposal side, working-image pixels (8)", "PX" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "random seed", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "proposal threads", "N" },
    { "cache", 0, 0, G_OPTION_ARG_FILENAME, &cache, "proposal cache folder", "DIR" },
    { "svm-c", 0, 0, G_OPTION_ARG_DOUBLE, &svm_c, "SVM C (paper: 0.001)", "C" },
    { "memory-mb", 0, 0, G_OPTION_ARG_INT, &memory_mb, "budget for cached features", "MB" },
    { "bbox-pairs", 0, 0, G_OPTION_ARG_INT, &bbox_pairs, "most box-regression pairs per class (20000)", "N" },
    { "box-vote", 0, 0, G_OPTION_ARG_DOUBLE, &box_vote, "box voting IoU stored in the model (0: off)", "IOU" },
    { "fc", 0, 0, G_OPTION_ARG_STRING, &fc_arg, "new fc head replacing the input's: widths (256,128) or none", "LIST" },
    { "finetune-fc", 0, 0, G_OPTION_ARG_INT, &finetune_epochs, "fine-tune the fc layers for N epochs first (0: no)", "N" },
    { "finetune-lr", 0, 0, G_OPTION_ARG_DOUBLE, &ft_lr, "fine-tuning learning rate (0.01)", "LR" },
    { NULL }
  };
  int parsed = spp_cli_parse_options ("train", entries, NULL, usage, &argc,
                                      &argv);
  if (parsed >= 0)
    return parsed;
  if (argc != 1 || !model_path || !ann_path || !out_path
      || !(val_fraction >= 0 && val_fraction < 1) || max_props < 1
      || max_props > 100000 || threads < 0 || memory_mb < 16 || !(svm_c > 0 && svm_c < 1e6)
      || bbox_pairs < 2 || bbox_pairs > 1000000
      || !(box_vote >= 0 && box_vote <= 1)
      || finetune_epochs < 0 || finetune_epochs > 100000
      || !(ft_lr > 0 && ft_lr < 10)) {
    usage (stderr);
    return 2;
  }
  Train t = { 0 };
  gint64 t_start = g_get_monotonic_time ();
  t.images_root = root;
  t.seed = (guint32) seed;
  t.svm_c = svm_c;
  spp_proposal_params_init (&t.pp);
  t.pp.max_boxes = max_props;
  if (min_size < 1 || min_size > 1000) {
    fprintf (stderr, "spp train: --min-size %d: expected 1..1000\n",
             min_size);
    return 2;
  }
  t.pp.min_size = min_size;
  t.pp.n_threads = threads;
  t.pp.seed = (guint32) seed;
  if (cache) {
    if (g_mkdir_with_parents (cache, 0755) != 0) {
      fprintf (stderr, "spp train: --cache %s: %s\n", cache,
               g_strerror (errno));
      return 1;
    }
    t.cache_dir = cache;
  }
  t.model = spp_model_load (model_path, &error);
  if (t.model == NULL)
    return fail (&t, error);
  /* The input's own proposal settings (min_size), then the options;
   * both go into the output so detection proposes as training did. */
  spp_model_get_proposal_params (t.model, &t.pp);
  t.pp.max_boxes = max_props;
  if (min_size < 1 || min_size > 1000) {
    fprintf (stderr, "spp train: --min-size %d: expected 1..1000\n",
             min_size);
    return 2;
  }
  t.pp.min_size = min_size;
  t.pp.n_threads = threads;
  t.pp.seed = (guint32) seed;
  t.det = spp_detector_new_for_features (t.model, &error);
  if (t.det == NULL)
    return fail (&t, error);
  g_autofree guint *scales = NULL;
  guint n_scales = 0;
  if (scales_arg) {
    scales = g_new (guint, 16);
    if (!spp_scales_parse (scales_arg, scales, 16, &n_scales, &error)
        || !spp_detector_set_scales (t.det, scales, n_scales, &error))
      return fail (&t, error);
  }
  t.coco = spp_coco_load (ann_path, &error);
  if (t.coco == NULL)
    return fail (&t, error);

  /* Classes: --labels (names of COCO categories) or all categories. */
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  t.cat_class = g_new (int, MAX (t.coco->categories->len, 1));
  for (guint c = 0; c < t.coco->categories->len; c++)
    t.cat_class[c] = -1;
  if (labels_arg) {
    g_auto (GStrv) parts = g_strsplit (labels_arg, ",", -1);
    for (guint i = 0; parts[i]; i++) {
      int c = spp_coco_find_category (t.coco, parts[i]);
      if (c < 0 || t.cat_class[c] >= 0) {
        error = g_error_new (SPP_ERROR, SPP_ERROR_INVAL,
                             "--labels: '%s' is %s in %s", parts[i],
                             c < 0 ? "not a category" : "given twice",
                             ann_path);
        return fail (&t, error);
      }
      t.cat_class[c] = (int) labels->len;
      g_ptr_array_add (labels, g_strdup (parts[i]));
    }
  } else {
    for (guint c = 0; c < t.coco->categories->len; c++) {
      t.cat_class[c] = (int) c;
      g_ptr_array_add (labels, g_strdup (((SppCocoCategory *)
          g_ptr_array_index (t.coco->categories, c))->name));
    }
  }
  t.K = labels->len;
  if (t.K == 0) {
    error = g_error_new (SPP_ERROR, SPP_ERROR_INVAL, "%s: no categories",
                         ann_path);
    return fail (&t, error);
  }
  g_ptr_array_add (labels, NULL);

  /* Split: the file's "split" fields if any, else a seeded shuffle. */
  g_autoptr (GArray) train_idx = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) val_idx = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) pool = g_array_new (FALSE, FALSE, sizeof (guint));
  gboolean has_split = FALSE;
  for (guint i = 0; i < t.coco->images->len; i++) {
    const SppCocoImage *im = g_ptr_array_index (t.coco->images, i);
    has_split |= im->split != NULL;
  }
  for (guint i = 0; i < t.coco->images->len; i++) {
    const SppCocoImage *im = g_ptr_array_index (t.coco->images, i);
    if (!has_split || !g_strcmp0 (im->split, "train"))
      g_array_append_val (pool, i);
    else if (!g_strcmp0 (im->split, "val"))
      g_array_append_val (val_idx, i);
  }
  if (val_idx->len == 0) {
    g_autoptr (GRand) rand = g_rand_new_with_seed (t.seed);
    for (guint i = pool->len; i > 1; i--) {
      guint j = g_rand_int_range (rand, 0, i);
      guint a = g_array_index (pool, guint, i - 1);
      g_array_index (pool, guint, i - 1) = g_array_index (pool, guint, j);
      g_array_index (pool, guint, j) = a;
    }
    guint n_val = (guint) (val_fraction * pool->len + 0.5);
    g_array_append_vals (val_idx, pool->data, n_val);
    g_array_append_vals (train_idx, (guint *) pool->data + n_val,
                         pool->len - n_val);
  } else {
    g_array_append_vals (train_idx, pool->data, pool->len);
  }
  if (train_idx->len == 0) {
    error = g_error_new (SPP_ERROR, SPP_ERROR_INVAL,
                         "%s: no training images", ann_path);
    return fail (&t, error);
  }

  guint n_trunk, n_head;
  spp_model_get_n_layers (t.model, &n_trunk, &n_head);
  t.D = spp_model_get_pooled_size (t.model);
  t.pooled = spp_tensor_new (0, 0, 0, 0);
  t.feat = spp_tensor_new (0, 0, 0, 0);
  t.props = g_new0 (Props, t.coco->images->len);
  /* A new or fine-tuned head first (docs/method.md 2.10: cache,
   * fine-tune, SVM). */
  const char *base_path = model_path;
  g_autoptr (GString) head_desc = g_string_new (NULL);
  if (fc_arg || finetune_epochs > 0) {
    SppCliFinetuneParams ft;
    spp_cli_finetune_params_init (&ft);
    ft.epochs = (guint) finetune_epochs;
    ft.lr = (float) ft_lr;
    ft.seed = t.seed;
    t.ft_budget = ((gsize) memory_mb << 20) / 2;
    if (!prepare_head (&t, model_path, fc_arg, &ft, train_idx,
                       (const char *const *) labels->pdata, out_path, scales,
                       n_scales, head_desc, &error))
      return fail (&t, error);
    base_path = t.head_path;
    g_string_prepend (head_desc, "; ");
  }
  /* The head width: one box's features tell it. */
  {
    guint8 px[3 * 32 * 32] = { 0 };
    SppImage img = { SPP_PIXEL_RGB, 32, 32, { px }, { 96 } };
    SppBox b = { 0, 0, 32, 32 };
    if (!spp_detector_compute_features (t.det, &img, &b, 1, t.pooled, t.feat,
                                        &error))
      return fail (&t, error);
    t.F = (guint) (spp_tensor_get_size (t.feat));
  }
  /* Memory: half the budget for negatives, a quarter for box pairs. */
  gsize budget = (gsize) memory_mb << 20;
  t.max_neg = (guint) MIN ((gsize) MAX_NEG, budget / 2 / t.K / (t.F * 4));
  t.max_bbox = (guint) MIN ((gsize) bbox_pairs, budget / 4 / t.K / (t.D * 4));
  t.neg_init = MAX (1, MIN (50u, t.max_neg / 2 / train_idx->len));
  t.cls = g_new0 (Class, t.K);
  for (guint k = 0; k < t.K; k++) {
    Class *c = &t.cls[k];
    rows_init (&c->pos, t.F, FALSE);
    rows_init (&c->neg, t.F, TRUE);
    rows_init (&c->bbox_x, t.D, FALSE);
    c->bbox_t = g_array_new (FALSE, FALSE, 4 * sizeof (float));
    c->neg_keys = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                         NULL);
    c->w = g_new0 (float, t.F + 1);
  }
  fprintf (stderr, "spp train: %u classes, %u train / %u val images, "
           "features %u (pooled %u), up to %u cached negatives and %u box "
           "pairs per class\n", t.K, train_idx->len, val_idx->len, t.F, t.D,
           t.max_neg, t.max_bbox);

  /* 1. Proposals and features once per image. */
  spp_cli_progress_start (&t.progress, "spp train: features", train_idx->len);
  if (!spp_coco_foreach_image (t.coco, root, (guint *) train_idx->data,
                               train_idx->len,
                               first_pass_image, &t,
                               &error))
    return fail (&t, error);
  double mean_norm = t.norm_n ? t.norm_sum / t.norm_n : 0;
  if (!(mean_norm > 0)) {
    error = g_error_new (SPP_ERROR, SPP_ERROR_INVAL,
                         "the training images gave no proposals or only "
                         "zero features");
    return fail (&t, error);
  }
  t.scale = (float) (TARGET_NORM / mean_norm);
  for (guint k = 0; k < t.K; k++) {
    scale_rows (&t.cls[k].pos, t.F, t.scale);
    scale_rows (&t.cls[k].neg, t.F, t.scale);
    if (t.cls[k].pos.n == 0)
      fprintf (stderr, "spp train: warning: class '%s' has no training "
               "boxes; it will never fire\n",
               (char *) g_ptr_array_index (labels, k));
  }

  /* 2. SVMs, then one pass of hard-negative mining. */
  for (guint k = 0; k < t.K; k++)
    svm_train (&t.cls[k], t.F, t.svm_c, t.seed + k);
  fprintf (stderr, "spp train: initial SVMs trained (%.1f s)\n",
           (g_get_monotonic_time () - t_start) / 1e6);
  spp_cli_progress_start (&t.progress, "spp train: hard negatives",
                          train_idx->len);
  if (!spp_coco_foreach_image (t.coco, root, (guint *) train_idx->data,
                               train_idx->len, mine_image,
                               &t, &error))
    return fail (&t, error);
  for (guint k = 0; k < t.K; k++) {
    svm_train (&t.cls[k], t.F, t.svm_c, t.seed + k);
    fprintf (stderr, "spp train: '%s': %u positives, %u negatives in the "
             "cache, %u box pairs\n", (char *) g_ptr_array_index (labels, k),
             t.cls[k].pos.n, t.cls[k].neg.n, t.cls[k].bbox_x.n);
  }

  /* 3. Box regression. */
  const guint K = t.K, F = t.F, D = t.D;
  g_autofree float *svm_w = g_new (float, (gsize) K * F);
  g_autofree float *svm_b = g_new (float, K);
  g_autofree float *bbox_w = g_new0 (float, (gsize) 4 * K * D);
  g_autofree float *bbox_b = g_new0 (float, 4 * K);
  for (guint k = 0; k < K; k++) {
    memcpy (svm_w + (gsize) k * F, t.cls[k].w, F * sizeof (float));
    svm_b[k] = t.cls[k].w[F];
    if (t.cls[k].bbox_x.n >= 2)
      ridge (&t.cls[k].bbox_x, (const float *) t.cls[k].bbox_t->data, D,
             bbox_w + (gsize) 4 * k * D, bbox_b + 4 * k);
  }
  fprintf (stderr, "spp train: box regressors done (%.1f s)\n",
           (g_get_monotonic_time () - t_start) / 1e6);

  /* 4. Calibration on the validation images: detect with a provisional
   * model (a = CAL_A, b = 0), read each window's SVM score back from its
   * confidence, fit Platt's a, b on matched vs unmatched detections, and
   * pick each class's threshold at the best F1 (IoU 0.5). */
  const float CAL_A = 0.25f;
  GArray *cal_idx = val_idx->len ? val_idx : train_idx;
  if (val_idx->len == 0)
    fprintf (stderr, "spp train: warning: no validation images; "
             "calibrating on the training images (optimistic)\n");
  g_autofree float *thresholds = g_new (float, K);
  for (guint k = 0; k < K; k++)
    thresholds[k] = 0.5f;
  g_autofree char *tmp_path = g_strconcat (out_path, ".uncalibrated", NULL);
  SppCliDetectorParams p = {
    K, (const char *const *) labels->pdata, thresholds, F, svm_w, svm_b, D,
    bbox_w, bbox_b, t.scale, CAL_A, 0.0f, NULL, t.pp.max_boxes,
    t.pp.min_size, scales, n_scales, FALSE, NULL, (float) box_vote };
  if (!spp_cli_model_write (base_path, tmp_path, &p, &error))
    return fail (&t, error);
  g_autoptr (SppModel) cal_model = spp_model_load (tmp_path, &error);
  g_unlink (tmp_path);
  if (cal_model == NULL)
    return fail (&t, error);
  g_autoptr (SppDetector) cal_det = spp_detector_new (cal_model, &error);
  if (cal_det == NULL
      || (scales && !spp_detector_set_scales (cal_det, scales, n_scales,
                                              &error)))
    return fail (&t, error);
  spp_detector_set_threshold (cal_det, 0.0f);
  spp_detector_set_max_detections (cal_det, 100 * K); /* as spp eval */
  g_autoptr (GArray) dets = spp_cli_detect_images (
      t.coco, root, (guint *) cal_idx->data, cal_idx->len, cal_det, &t.pp,
      "spp train: validation", &error);
  if (dets == NULL)
    return fail (&t, error);
  /* Matched = a true positive at IoU 0.5 in confidence order per image
   * and class: the detector returns each image's detections best first,
   * so a greedy pass over them in order is that match. */
  const guint nd = dets->len;
  g_autofree float *score = g_new (float, MAX (nd, 1));
  g_autofree gboolean *hit = g_new0 (gboolean, MAX (nd, 1));
  {
    g_autoptr (GHashTable) used = g_hash_table_new_full (g_int64_hash,
                                                         g_int64_equal,
                                                         g_free, NULL);
    for (guint i = 0; i < nd; i++) {
      const SppCliDetection *d = &g_array_index (dets, SppCliDetection, i);
      const SppCocoImage *im = g_ptr_array_index (t.coco->images, d->image);
      score[i] = logit (d->det.confidence, CAL_A);
      /* As the evaluator (VOC devkit): the most-overlapped box of the
       * class, matched or not; a duplicate is a miss. */
      float best = -1.0f;
      int bj = -1;
      for (guint j = 0; j < im->boxes->len; j++) {
        if (t.cat_class[g_array_index (im->category, guint, j)]
            != d->det.label_id)
          continue;
        float o = spp_box_iou (&d->det.box,
                               &g_array_index (im->boxes, SppBox, j));
        if (o > best) {
          best = o;
          bj = (int) j;
        }
      }
      guint64 bkey = ((guint64) d->image << 32) | (guint) MAX (bj, 0);
      if (bj >= 0 && best >= 0.5f && !g_hash_table_contains (used, &bkey)) {
        hit[i] = TRUE;
        g_hash_table_add (used, key_new (((guint64) d->image << 32) | bj));
      }
    }
  }
  float A, B;
  spp_cli_platt (score, hit, nd, &A, &B);
  g_autoptr (SppEvaluator) ev = spp_evaluator_new (K);
  for (guint ii = 0; ii < cal_idx->len; ii++) {
    guint i = g_array_index (cal_idx, guint, ii);
    const SppCocoImage *im = g_ptr_array_index (t.coco->images, i);
    for (guint j = 0; j < im->boxes->len; j++) {
      int k = t.cat_class[g_array_index (im->category, guint, j)];
      if (k >= 0)
        spp_evaluator_add_ground_truth (ev, i, k,
                                        &g_array_index (im->boxes, SppBox, j));
    }
  }
  for (guint i = 0; i < nd; i++) {
    const SppCliDetection *d = &g_array_index (dets, SppCliDetection, i);
    float conf = 1.0f / (1.0f + expf (-(A * score[i] + B)));
    spp_evaluator_add_detection (ev, d->image, d->det.label_id, &d->det.box,
                                 conf);
  }
  g_autoptr (GString) summary = g_string_new (NULL);
  for (guint k = 0; k < K; k++) {
    float thr;
    double prec, rec;
    double f1 = spp_evaluator_best_f1 (ev, k, 0.5f, &thr, &prec, &rec);
    double ap = spp_evaluator_average_precision (ev, k, 0.5f);
    if (isfinite (thr))
      thresholds[k] = thr;
    fprintf (stderr, "spp train: '%s' on validation: AP@0.5 %.3f, best F1 "
             "%.3f (P %.2f R %.2f) at confidence %.3f -> threshold %.3f\n",
             (char *) g_ptr_array_index (labels, k), ap, f1, prec, rec, thr,
             thresholds[k]);
    g_string_append_printf (summary, "%s%s AP@0.5 %.3f", k ? ", " : "",
                            (char *) g_ptr_array_index (labels, k), ap);
  }
  guint n_hit = 0;
  for (guint i = 0; i < nd; i++)
    n_hit += hit[i];
  fprintf (stderr, "spp train: Platt a %.4f b %.4f on %u detections "
           "(%u matched)\n", A, B, nd, n_hit);

  g_autofree char *desc = g_strdup_printf (
      "%s + `spp train` (SPP-net recipe on fixed features): linear SVMs "
      "(hinge, C %g, positive weight %g, bias x%g, features x%.5g to mean "
      "norm %g, one hard-negative pass), ridge box regression (lambda %g, "
      "pairs IoU >= %.1f), Platt scaling and best-F1 thresholds on %u "
      "validation images (%s); %u training images of %s, %u proposals "
      "each, seed %d%s",
      spp_model_get_name (t.model), svm_c, SVM_POS_WEIGHT, SVM_BIAS_MULT,
      t.scale, TARGET_NORM, BBOX_LAMBDA, BBOX_IOU, cal_idx->len,
      summary->str, train_idx->len, ann_path, max_props, seed, head_desc->str);
  p.score_a = A;
  p.score_b = B;
  p.description = desc;
  if (!spp_cli_model_write (base_path, out_path, &p, &error))
    return fail (&t, error);
  fprintf (stderr, "spp train: wrote %s in %.1f s\n", out_path,
           (g_get_monotonic_time () - t_start) / 1e6);
  train_clear (&t);
  return 0;
}
