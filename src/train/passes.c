/* The passes over the training images (docs/training.md section 3):
 * each image's windows are its ground-truth boxes and its proposals
 * (computed once, or read from the proposal cache); pass 1 keeps the
 * positives, random negatives, box-regression pairs and feature norms,
 * mining adds the hard negatives, and the fine-tuning pass collects
 * labelled pooled vectors for the head. */
#include "trainer-private.h"

#include "spp/error.h"

#include "proposal-cache-private.h"
#include "ridge-private.h"

#include <math.h>
#include <string.h>

/* The fine-tuning's lines, as the trainer's. */
static void
say_line (const char *message, gpointer data)
{
  spp_trainer_say (data, "%s", message);
}

/* The proposals of @im, from the cache if it has them for these
 * settings, else computed (and cached). */
static gboolean
get_props (SppTrainer *t, Image *im, const SppImage *frame, GError **error)
{
  if (im->props)
    return TRUE;
  g_autofree char *path = NULL;
  if (t->cache_dir) {
    g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".props",
                                             im->id);
    path = g_build_filename (t->cache_dir, name, NULL);
    g_autoptr (GError) err = NULL;
    im->props = spp_proposal_cache_read (path, &t->p.proposals, frame->width,
                                         frame->height, &im->n_props, &err);
    if (im->props)
      return TRUE;
    g_debug ("%s (computing the proposals again)", err->message);
  }
  im->props = spp_proposals_compute (frame, &t->p.proposals, &im->n_props,
                                     error);
  if (im->props == NULL)
    return FALSE;
  g_autoptr (GError) err = NULL;
  if (path && !spp_proposal_cache_write (path, &t->p.proposals, frame->width,
                                         frame->height, im->props,
                                         im->n_props, &err))
    spp_trainer_say (t, "cache: %s (continuing)", err->message);
  return TRUE;
}

/* As the detector clips windows (src/detector/box-regression.c,
 * spp_bbox_clip). */
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

/* Max IoU of @b with the image's ground truth of class @k; *@which (if
 * not NULL) gets that box's index, or -1. */
static float
max_iou (const Image *im, int k, const SppBox *b, int *which)
{
  float best = 0;
  if (which)
    *which = -1;
  for (guint j = 0; j < im->n_boxes; j++) {
    if (im->classes[j] != k)
      continue;
    float o = spp_box_iou (b, &im->boxes[j]);
    if (o > best) {
      best = o;
      if (which)
        *which = (int) j;
    }
  }
  return best;
}

/* The windows of image @index: its ground-truth boxes (as annotated),
 * then its proposals clipped to the frame, as detection clips them
 * before scoring and regressing (*n_props of them). NULL on error. */
static SppBox *
image_windows (SppTrainer *t, guint index, const SppImage *frame,
               guint *n_props, GError **error)
{
  Image *im = spp_trainer_get_image (t, index);
  if (!get_props (t, im, frame, error))
    return NULL;
  const guint n_gt = im->n_boxes;
  SppBox *boxes = g_new (SppBox, MAX (n_gt + im->n_props, 1));
  if (n_gt)
    memcpy (boxes, im->boxes, n_gt * sizeof (SppBox));
  *n_props = 0;
  for (guint i = 0; i < im->n_props; i++) {
    SppBox b = im->props[i];
    if (clip_box (&b, frame->width, frame->height))
      boxes[n_gt + (*n_props)++] = b;
  }
  return boxes;
}

/* A seeded random stream per image (and purpose), so results do not
 * depend on the order images are decoded in. */
static GRand *
image_rand (const SppTrainer *t, const Image *im, guint32 salt)
{
  return g_rand_new_with_seed (t->p.seed * 2654435761u
                               + (guint32) im->id * 40503u + salt);
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

/* A pass over images: @func gets each one's windows (its ground-truth
 * boxes, then its @n_props clipped proposals). */
typedef gboolean (*PassFunc) (SppTrainer *t, guint index, const Image *im,
                              const SppImage *frame, const SppBox *windows,
                              guint n_props, GError **error);

typedef struct {
  SppTrainer *t;
  PassFunc func;
} Pass;

static gboolean
pass_image (guint index, const SppImage *frame, gpointer data,
            GError **error)
{
  const Pass *pass = data;
  guint n_props;
  g_autofree SppBox *windows = image_windows (pass->t, index, frame,
                                              &n_props, error);
  return windows
         && pass->func (pass->t, index, spp_trainer_get_image (pass->t, index),
                        frame, windows, n_props, error);
}

static gboolean
run_pass (SppTrainer *t, const GArray *indices, const char *stage,
          PassFunc func, GError **error)
{
  Pass pass = { t, func };
  return t->decode ((const guint *) indices->data, indices->len, stage,
                    pass_image, &pass, t->decode_data, error);
}

/* Pass 1: proposals, positives, a random start of negatives, box
 * regression pairs, feature norms. */
static gboolean
first_pass_image (SppTrainer *t, guint index, const Image *im,
                  const SppImage *frame, const SppBox *boxes, guint n_props,
                  GError **error)
{
  const guint n_gt = im->n_boxes;
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
  for (guint j = 0; j < n_gt; j++)
    if (im->classes[j] >= 0)
      spp_rows_add (&t->cls[im->classes[j]].svm.pos, f + (gsize) j * t->F,
                    0);
  for (guint k = 0; k < t->K; k++) {
    Class *c = &t->cls[k];
    g_autoptr (GRand) rand = image_rand (t, im, k);
    g_autoptr (GArray) negs = g_array_new (FALSE, FALSE, sizeof (guint));
    guint per_gt[64] = { 0 };
    for (guint i = 0; i < n_props; i++) {
      const SppBox *b = &boxes[n_gt + i];
      int which;
      float o = max_iou (im, (int) k, b, &which);
      if (o < NEG_IOU) {
        g_array_append_val (negs, i);
      } else if (o >= BBOX_IOU && c->bbox_x.n < t->max_bbox
                 && per_gt[which % 64] < BBOX_PER_GT) {
        /* Targets (docs/method.md 2.9, R-CNN): centre offsets over the
         * window's size, log size ratios; the window is the clipped
         * proposal. */
        const SppBox *g = &im->boxes[which];
        float tg[4] = {
          ((g->x + 0.5f * g->w) - (b->x + 0.5f * b->w)) / b->w,
          ((g->y + 0.5f * g->h) - (b->y + 0.5f * b->h)) / b->h,
          logf (g->w / b->w), logf (g->h / b->h) };
        per_gt[which % 64]++;
        spp_rows_add (&c->bbox_x, pooled + (gsize) (n_gt + i) * t->D, 0);
        g_array_append_vals (c->bbox_t, tg, 1);
      }
    }
    guint take = MIN (t->neg_init, negs->len);
    pick_first (negs, take, rand);
    for (guint a = 0; a < take && c->svm.neg.n < t->max_neg; a++) {
      guint i = g_array_index (negs, guint, a);
      spp_svm_class_add_negative (&c->svm, f + (gsize) (n_gt + i) * t->F,
                                  ((guint64) index << 32) | i);
    }
  }
  return TRUE;
}

/* Hard-negative mining (docs/method.md 2.7): every negative of the image
 * scoring above SPP_MINE_HARD joins the cache; a class retrains after
 * SPP_MINE_RETRAIN_AFTER new ones, evicting the easy. */
static gboolean
mine_image (SppTrainer *t, guint index, const Image *im,
            const SppImage *frame, const SppBox *windows, guint n,
            GError **error)
{
  const SppBox *boxes = windows + im->n_boxes; /* the proposals */
  if (!spp_detector_compute_features (t->det, frame, boxes, n, t->pooled,
                                      t->feat, error))
    return FALSE;
  float *f = spp_tensor_data (t->feat);
  for (gsize i = 0; i < (gsize) n * t->F; i++)
    f[i] *= t->scale;
  for (guint k = 0; k < t->K; k++) {
    SppSvmClass *c = &t->cls[k].svm;
    for (guint i = 0; i < n; i++) {
      guint64 key = ((guint64) index << 32) | i;
      if (spp_svm_class_has_negative (c, key)
          || max_iou (im, (int) k, &boxes[i], NULL) >= NEG_IOU)
        continue;
      spp_svm_class_mine (c, f + (gsize) i * t->F, key, t->F, t->max_neg);
    }
    if (c->new_since_train > SPP_MINE_RETRAIN_AFTER) {
      spp_svm_train (&c->pos, &c->neg, t->F, t->p.svm_c, SPP_SVM_EPS,
                     t->p.seed + k, c->w);
      spp_svm_class_evict_easy (c, t->F);
      c->new_since_train = 0;
    }
  }
  return TRUE;
}

/* Fine-tuning windows (docs/method.md 2.8): per image a seeded random
 * pick of at most ft_pos_cap positives (ground-truth boxes included)
 * and ft_neg_cap background windows. */
static gboolean
finetune_pass_image (SppTrainer *t, guint index, const Image *im,
                     const SppImage *frame, const SppBox *boxes,
                     guint n_props, GError **error)
{
  const guint n = im->n_boxes + n_props;
  g_autoptr (GArray) pos = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) neg = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree guint8 *label = g_new (guint8, MAX (n, 1));
  for (guint i = 0; i < n; i++) {
    float best = 0;
    for (guint k = 0; k < t->K; k++) {
      float o = max_iou (im, (int) k, &boxes[i], NULL);
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
  g_autoptr (GRand) rand = image_rand (t, im, 7919u);
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
  return TRUE;
}

/* The head (section 3.1 of docs/training.md): new fc layers, none, or
 * the input's, fine-tuned on windows of the training images; written
 * with the trunk to a model that then replaces the input for everything
 * after (features, SVMs, the output's layers). */
gboolean
spp_trainer_prepare_head (SppTrainer *t, const GArray *train_idx,
                          const char *out_path, GError **error)
{
  const SppTrainParams *p = &t->p;
  g_autoptr (GString) widths = g_string_new (NULL);
  for (guint i = 0; i < p->n_fc; i++)
    g_string_append_printf (widths, "%s%u", i ? "," : "", p->fc_widths[i]);
  if (p->new_head && p->n_fc == 0)
    g_string_append (t->head_desc, "no fc head (SVMs on the pooled vector)");
  else if (p->new_head)
    g_string_append_printf (t->head_desc, "new head fc %s (ReLU, He init, "
                            "seed %u)", widths->str, p->seed);
  else
    g_string_append_printf (t->head_desc, "the input's %u fc layers",
                            t->head.n_layers);
  SppFinetuneParams ft;
  spp_finetune_params_init (&ft);
  ft.epochs = p->finetune_epochs;
  ft.lr = p->finetune_lr;
  ft.seed = p->seed;
  ft.log = say_line;
  ft.log_data = t;
  float input_scale = 1.0f;
  if (ft.epochs > 0) {
    /* Memory: half the budget, 128 windows per image at most, 25%
     * positive as in a mini-batch. */
    gsize cap = ((gsize) p->memory_mb << 20) / 2 / ((gsize) t->D
                                                    * sizeof (float));
    guint per_image = (guint) MIN (128, cap / MAX (train_idx->len, 1));
    if (per_image < 4) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "the memory budget (%u MB) is too small to keep "
                   "fine-tuning windows (%u per image)", p->memory_mb,
                   per_image);
      return FALSE;
    }
    t->ft_pos_cap = per_image / 4;
    t->ft_neg_cap = per_image - t->ft_pos_cap;
    t->ft_x = g_array_new (FALSE, FALSE, sizeof (float) * t->D);
    t->ft_y = g_array_new (FALSE, FALSE, 1);
    if (!run_pass (t, train_idx, "fine-tuning windows", finetune_pass_image,
                   error))
      return FALSE;
    guint n_pos = 0;
    for (guint i = 0; i < t->ft_y->len; i++)
      n_pos += t->ft_y->data[i] != 0;
    spp_trainer_say (t, "fine-tuning on %u windows (%u positive, %u "
                     "background, %u floats each)", t->ft_y->len, n_pos,
                     t->ft_y->len - n_pos, t->D);
    input_scale = spp_finetune_input_scale ((const float *) t->ft_x->data,
                                            t->ft_x->len, t->D);
  }
  if (p->new_head && p->n_fc > 0)
    spp_fc_head_init (&t->head, t->D, p->fc_widths, p->n_fc, input_scale,
                      ft.seed);
  if (ft.epochs > 0) {
    if (!spp_finetune (&t->head, t->K, (const float *) t->ft_x->data,
                       (const guint8 *) t->ft_y->data, t->ft_y->len, &ft,
                       error))
      return FALSE;
    g_string_append_printf (t->head_desc, ", fine-tuned %u epochs on %u "
                            "windows (softmax over classes + background, SGD "
                            "lr %g momentum %g decay %g, dropout %g, batch "
                            "%u, %g positive)", ft.epochs, t->ft_y->len,
                            ft.lr, ft.momentum, ft.weight_decay, ft.dropout,
                            ft.batch, ft.pos_fraction);
    g_clear_pointer (&t->ft_x, g_array_unref);
    g_clear_pointer (&t->ft_y, g_array_unref);
  }

  /* Trunk + head, with placeholder SVMs (the loader wants labels). */
  const guint F = t->head.n_layers ? t->head.dims[t->head.n_layers] : t->D;
  g_autofree float *zeros = g_new0 (float, (gsize) t->K * F + t->K);
  g_autofree float *thr = g_new (float, t->K);
  for (guint k = 0; k < t->K; k++)
    thr[k] = 0.5f;
  SppDetectorSection s = {
    t->K, (const char *const *) t->labels, thr, F, zeros,
    zeros + (gsize) t->K * F, t->D, NULL, NULL, 1.0f, 1.0f, 0.0f, NULL,
    p->proposals.max_boxes, p->proposals.min_size, t->scales, p->n_scales,
    TRUE, &t->head, 0.0f, 0 };
  g_autofree char *name = g_strconcat (out_path, ".head", NULL);
  g_autoptr (GBytes) bytes = spp_detector_section_write (t->base,
                                                         t->base_name, &s,
                                                         name, error);
  return bytes && spp_trainer_set_model (t, bytes, name, error);
}

/* svm_w (K x F), svm_b (K), bbox_w (4K x D) and bbox_b (4K) get the
 * results. */
gboolean
spp_trainer_train_classes (SppTrainer *t, const GArray *train_idx,
                           float *svm_w, float *svm_b, float *bbox_w,
                           float *bbox_b, GError **error)
{
  const guint K = t->K, F = t->F, D = t->D;
  if (!run_pass (t, train_idx, "features", first_pass_image, error))
    return FALSE;
  double mean_norm = t->norm_n ? t->norm_sum / t->norm_n : 0;
  if (!(mean_norm > 0)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "the training images gave no proposals or only zero "
                 "features");
    return FALSE;
  }
  t->scale = (float) (TARGET_NORM / mean_norm);
  for (guint k = 0; k < K; k++) {
    spp_rows_scale (&t->cls[k].svm.pos, F, t->scale);
    spp_rows_scale (&t->cls[k].svm.neg, F, t->scale);
    if (t->cls[k].svm.pos.n == 0)
      spp_trainer_say (t, "warning: class '%s' has no training boxes; it "
                       "will never fire", t->labels[k]);
  }

  for (guint k = 0; k < K; k++) {
    SppSvmClass *c = &t->cls[k].svm;
    spp_svm_train (&c->pos, &c->neg, F, t->p.svm_c, SPP_SVM_EPS,
                   t->p.seed + k, c->w);
  }
  spp_trainer_say (t, "initial SVMs trained (%.1f s)",
                   spp_trainer_elapsed (t));
  if (!run_pass (t, train_idx, "hard negatives", mine_image, error))
    return FALSE;
  for (guint k = 0; k < K; k++) {
    Class *c = &t->cls[k];
    spp_svm_train (&c->svm.pos, &c->svm.neg, F, t->p.svm_c, SPP_SVM_EPS,
                   t->p.seed + k, c->svm.w);
    spp_trainer_say (t, "'%s': %u positives, %u negatives in the cache, %u "
                     "box pairs", t->labels[k], c->svm.pos.n, c->svm.neg.n,
                     c->bbox_x.n);
  }

  for (guint k = 0; k < K; k++) {
    const Class *c = &t->cls[k];
    memcpy (svm_w + (gsize) k * F, c->svm.w, F * sizeof (float));
    svm_b[k] = c->svm.w[F];
    if (c->bbox_x.n >= 2)
      spp_ridge_fit ((const float *) c->bbox_x.x->data, c->bbox_x.n, D,
                     (const float *) c->bbox_t->data, t->p.bbox_lambda,
                     TARGET_NORM, bbox_w + (gsize) 4 * k * D,
                     bbox_b + 4 * k);
  }
  spp_trainer_say (t, "box regressors done (%.1f s)",
                   spp_trainer_elapsed (t));
  return TRUE;
}
