/* The SPP-net recipe on fixed conv features (docs/training.md section 3,
 * docs/method.md 2.5-2.9): per-class linear SVMs with hard-negative
 * mining, R-CNN box regression on the pooled SPP vector, then Platt
 * scaling and per-class thresholds on a validation split; optionally the
 * fc layers are fine-tuned first (docs/method.md 2.8). The caller decodes
 * the images; each stage asks for one pass over them. */
#include "trainer-private.h"

#include "spp/error.h"

#include "spp-engine/model-writer.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

void
spp_trainer_say (SppTrainer *t, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (t->log)
    t->log (msg, t->log_data);
  else
    g_debug ("%s", msg);
}

double
spp_trainer_elapsed (const SppTrainer *t)
{
  return (g_get_monotonic_time () - t->t_start) / 1e6;
}

void
spp_train_params_init (SppTrainParams *params)
{
  g_return_if_fail (params != NULL);
  memset (params, 0, sizeof *params);
  spp_proposal_params_init (&params->proposals);
  params->seed = 1;
  params->svm_c = 1e-3; /* docs/method.md 2.7 */
  params->val_fraction = 0.2;
  params->memory_mb = 1024;
  params->max_bbox_pairs = 20000;
  params->bbox_lambda = BBOX_LAMBDA;
  params->finetune_lr = 0.01f;
}

static gboolean
check_params (const SppTrainParams *p, GError **error)
{
  const char *bad = NULL;
  if (p->proposals.max_boxes < 1 || p->proposals.max_boxes > 100000)
    bad = "proposals.max_boxes (1..100000)";
  else if (p->proposals.min_size < 1 || p->proposals.min_size > 1000)
    bad = "proposals.min_size (1..1000)";
  else if (!(p->svm_c > 0 && p->svm_c < 1e6))
    bad = "svm_c (0..1e6)";
  else if (!(p->val_fraction >= 0 && p->val_fraction < 1))
    bad = "val_fraction ([0, 1))";
  else if (p->memory_mb < 16)
    bad = "memory_mb (16 or more)";
  else if (p->max_bbox_pairs < 2 || p->max_bbox_pairs > 1000000)
    bad = "max_bbox_pairs (2..1000000)";
  else if (!(p->bbox_lambda > 0 && p->bbox_lambda < 1e9))
    bad = "bbox_lambda (> 0)";
  else if (!(p->box_vote >= 0 && p->box_vote <= 1))
    bad = "box_vote ([0, 1])";
  else if (p->box_passes > SPP_MAX_BOX_PASSES)
    bad = "box_passes (0..4)";
  else if (p->finetune_epochs > 100000)
    bad = "finetune_epochs (0..100000)";
  else if (!(p->finetune_lr > 0 && p->finetune_lr < 10))
    bad = "finetune_lr (0..10)";
  else if (p->new_head && p->n_fc > SPP_TRAIN_FC_MAX)
    bad = "n_fc (0..4)";
  for (guint i = 0; bad == NULL && p->new_head && i < p->n_fc; i++)
    if (p->fc_widths[i] < 1 || p->fc_widths[i] > 65536)
      bad = "fc_widths (1..65536)";
  if (bad)
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "training parameter out of range: %s", bad);
  return bad == NULL;
}

/* Loads the model file at @path (and keeps its bytes, which the output
 * copies) with a detector that computes features. */
gboolean
spp_trainer_set_model (SppTrainer *t, GBytes *bytes, const char *name,
                       GError **error)
{
  g_clear_pointer (&t->det, spp_detector_free);
  g_clear_pointer (&t->model, spp_model_unref);
  g_clear_pointer (&t->base, g_bytes_unref);
  g_free (t->base_name);
  t->base = g_bytes_ref (bytes);
  t->base_name = g_strdup (name);
  t->model = spp_model_load_from_bytes (bytes, name, error);
  if (t->model == NULL)
    return FALSE;
  t->det = spp_detector_new_for_features (t->model, error);
  return t->det != NULL
         && (t->scales == NULL
             || spp_detector_set_scales (t->det, t->scales, t->p.n_scales,
                                         error));
}

SppTrainer *
spp_trainer_new (const char *model_path, const char *const *labels,
                 const SppTrainParams *params, GError **error)
{
  g_return_val_if_fail (model_path != NULL && labels != NULL
                        && params != NULL, NULL);
  if (!check_params (params, error))
    return NULL;
  if (labels[0] == NULL) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL, "no classes to train");
    return NULL;
  }
  g_autoptr (SppTrainer) t = g_new0 (SppTrainer, 1);
  t->p = *params;
  t->labels = g_strdupv ((char **) labels);
  t->K = g_strv_length (t->labels);
  if (params->scales && params->n_scales)
    t->scales = g_memdup2 (params->scales, params->n_scales * sizeof (guint));
  t->p.scales = t->scales;
  t->cache_dir = g_strdup (params->cache_dir);
  t->p.cache_dir = t->cache_dir;
  t->data_name = g_strdup (params->data_name);
  t->p.data_name = t->data_name;
  t->images = g_array_new (FALSE, TRUE, sizeof (Image));
  t->head_desc = g_string_new (NULL);
  if (t->cache_dir && g_mkdir_with_parents (t->cache_dir, 0755) != 0) {
    int e = errno;
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "cache folder %s: %s",
                 t->cache_dir, g_strerror (e));
    return NULL;
  }
  /* Mapped, not read: the bytes are kept for the output. */
  g_autoptr (GError) err = NULL;
  g_autoptr (GMappedFile) mf = g_file_test (model_path, G_FILE_TEST_IS_DIR)
      ? NULL : g_mapped_file_new (model_path, FALSE, &err);
  if (mf == NULL) {
    if (err)
      g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "cannot open model: %s",
                   err->message);
    else
      g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s: is a directory, not "
                   "a model file", model_path);
    return NULL;
  }
  g_autoptr (GBytes) bytes = g_mapped_file_get_bytes (mf);
  if (!spp_trainer_set_model (t, bytes, model_path, error))
    return NULL;

  const SppTrainParams *p = &t->p;
  if (p->finetune_epochs > 0 && t->K > 255) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "fine-tuning: %u classes, at most 255", t->K);
    return NULL;
  }
  if (p->finetune_epochs > 0 && !p->new_head
      && !spp_fc_head_read (t->base, t->base_name, &t->head, error))
    return NULL;
  if (p->finetune_epochs > 0
      && (p->new_head ? p->n_fc == 0 : t->head.n_layers == 0)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "fine-tuning: %s has no fc layers to fine-tune; new fc "
                 "layers can be created", p->new_head ? "a head of none"
                                                      : model_path);
    return NULL;
  }
  return g_steal_pointer (&t);
}

void
spp_trainer_free (SppTrainer *t)
{
  if (t == NULL)
    return;
  for (guint k = 0; t->cls && k < t->K; k++) {
    Class *c = &t->cls[k];
    spp_svm_class_clear (&c->svm);
    spp_rows_clear (&c->bbox_x);
    g_clear_pointer (&c->bbox_t, g_array_unref);
  }
  g_free (t->cls);
  for (guint i = 0; t->images && i < t->images->len; i++) {
    Image *im = &g_array_index (t->images, Image, i);
    g_free (im->boxes);
    g_free (im->classes);
    g_free (im->props);
  }
  g_clear_pointer (&t->images, g_array_unref);
  spp_fc_head_clear (&t->head);
  if (t->head_desc)
    g_string_free (t->head_desc, TRUE);
  g_clear_pointer (&t->ft_x, g_array_unref);
  g_clear_pointer (&t->ft_y, g_array_unref);
  g_clear_pointer (&t->pooled, spp_tensor_free);
  g_clear_pointer (&t->feat, spp_tensor_free);
  g_clear_pointer (&t->det, spp_detector_free);
  g_clear_pointer (&t->model, spp_model_unref);
  g_clear_pointer (&t->base, g_bytes_unref);
  g_free (t->base_name);
  g_free (t->scales);
  g_free (t->cache_dir);
  g_free (t->data_name);
  g_strfreev (t->labels);
  g_free (t);
}

void
spp_trainer_set_log_func (SppTrainer *t, SppTrainLogFunc func,
                          gpointer user_data)
{
  g_return_if_fail (t != NULL);
  t->log = func;
  t->log_data = user_data;
}

guint
spp_trainer_add_image (SppTrainer *t, const SppTrainImage *image)
{
  g_return_val_if_fail (t != NULL && image != NULL, 0);
  g_return_val_if_fail (image->n_boxes == 0
                        || (image->boxes && image->classes), 0);
  Image im = { image->id,
               g_memdup2 (image->boxes, image->n_boxes * sizeof (SppBox)),
               g_memdup2 (image->classes, image->n_boxes * sizeof (int)),
               image->n_boxes, image->validation, NULL, 0 };
  for (guint j = 0; j < im.n_boxes; j++)
    if (im.classes[j] >= (int) t->K)
      im.classes[j] = -1;
  g_array_append_val (t->images, im);
  return t->images->len - 1;
}

/* The images: those marked for validation validate; if none is, a
 * seeded shuffle picks val_fraction of the others. */
static void
split (const SppTrainer *t, GArray *train_idx, GArray *val_idx)
{
  g_autoptr (GArray) pool = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < t->images->len; i++) {
    GArray *to = spp_trainer_get_image (t, i)->validation ? val_idx : pool;
    g_array_append_val (to, i);
  }
  if (val_idx->len > 0) {
    g_array_append_vals (train_idx, pool->data, pool->len);
    return;
  }
  g_autoptr (GRand) rand = g_rand_new_with_seed (t->p.seed);
  for (guint i = pool->len; i > 1; i--) {
    guint j = g_rand_int_range (rand, 0, i);
    guint a = g_array_index (pool, guint, i - 1);
    g_array_index (pool, guint, i - 1) = g_array_index (pool, guint, j);
    g_array_index (pool, guint, j) = a;
  }
  guint n_val = (guint) (t->p.val_fraction * pool->len + 0.5);
  g_array_append_vals (val_idx, pool->data, n_val);
  g_array_append_vals (train_idx, (guint *) pool->data + n_val,
                       pool->len - n_val);
}

gboolean
spp_trainer_run (SppTrainer *t, SppTrainDecodeFunc decode, gpointer user_data,
                 const char *out_path, GError **error)
{
  g_return_val_if_fail (t != NULL && decode != NULL && out_path != NULL,
                        FALSE);
  g_return_val_if_fail (!t->ran, FALSE);
  t->ran = TRUE;
  t->t_start = g_get_monotonic_time ();
  t->decode = decode;
  t->decode_data = user_data;
  const SppTrainParams *p = &t->p;
  const char *data_name = t->data_name ? t->data_name : "the images";
  g_autoptr (GArray) train_idx = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) val_idx = g_array_new (FALSE, FALSE, sizeof (guint));
  split (t, train_idx, val_idx);
  if (train_idx->len == 0) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL, "%s: no training images",
                 data_name);
    return FALSE;
  }

  t->D = spp_model_get_pooled_size (t->model);
  t->pooled = spp_tensor_new (0, 0, 0, 0);
  t->feat = spp_tensor_new (0, 0, 0, 0);
  /* A new or fine-tuned head first (docs/method.md 2.10: cache,
   * fine-tune, SVM). */
  if (p->new_head || p->finetune_epochs > 0) {
    if (!spp_trainer_prepare_head (t, train_idx, out_path, error))
      return FALSE;
    g_string_prepend (t->head_desc, "; ");
  }
  /* The head width: one box's features tell it. */
  {
    guint8 px[3 * 32 * 32] = { 0 };
    SppImage img = { SPP_PIXEL_RGB, 32, 32, { px }, { 96 } };
    SppBox b = { 0, 0, 32, 32 };
    if (!spp_detector_compute_features (t->det, &img, &b, 1, t->pooled,
                                        t->feat, error))
      return FALSE;
    t->F = (guint) spp_tensor_get_size (t->feat);
  }
  const guint K = t->K, F = t->F, D = t->D;
  /* Memory: half the budget for negatives, a quarter for box pairs. */
  gsize budget = (gsize) p->memory_mb << 20;
  t->max_neg = (guint) MIN ((gsize) MAX_NEG, budget / 2 / K / (F * 4));
  t->max_bbox = (guint) MIN ((gsize) p->max_bbox_pairs,
                             budget / 4 / K / (D * 4));
  t->neg_init = MAX (1, MIN (50u, t->max_neg / 2 / train_idx->len));
  t->cls = g_new0 (Class, K);
  for (guint k = 0; k < K; k++) {
    spp_svm_class_init (&t->cls[k].svm, F);
    spp_rows_init (&t->cls[k].bbox_x, D, FALSE);
    t->cls[k].bbox_t = g_array_new (FALSE, FALSE, 4 * sizeof (float));
  }
  spp_trainer_say (t, "%u classes, %u train / %u val images, features %u "
                   "(pooled %u), up to %u cached negatives and %u box pairs "
                   "per class", K, train_idx->len, val_idx->len, F, D,
                   t->max_neg, t->max_bbox);

  g_autofree float *svm_w = g_new (float, (gsize) K * F);
  g_autofree float *svm_b = g_new (float, K);
  g_autofree float *bbox_w = g_new0 (float, (gsize) 4 * K * D);
  g_autofree float *bbox_b = g_new0 (float, 4 * K);
  if (!spp_trainer_train_classes (t, train_idx, svm_w, svm_b, bbox_w,
                                  bbox_b, error))
    return FALSE;

  const GArray *cal_idx = val_idx->len ? val_idx : train_idx;
  if (val_idx->len == 0)
    spp_trainer_say (t, "warning: no validation images; calibrating on the "
                     "training images (optimistic)");
  g_autofree float *thresholds = g_new (float, K);
  for (guint k = 0; k < K; k++)
    thresholds[k] = 0.5f;
  SppDetectorSection s = {
    K, (const char *const *) t->labels, thresholds, F, svm_w, svm_b, D,
    bbox_w, bbox_b, t->scale, 1.0f, 0.0f, NULL, p->proposals.max_boxes,
    p->proposals.min_size, t->scales, p->n_scales, FALSE, NULL,
    p->box_vote, p->box_passes };
  g_autoptr (GString) summary = g_string_new (NULL);
  if (!spp_trainer_calibrate (t, cal_idx, out_path, &s, thresholds, summary,
                              error))
    return FALSE;

  g_autofree char *desc = g_strdup_printf (
      "%s + `spp train` (SPP-net recipe on fixed features): linear SVMs "
      "(hinge, C %g, positive weight %g, bias x%g, features x%.5g to mean "
      "norm %g, one hard-negative pass), ridge box regression (lambda %g, "
      "pairs IoU >= %.1f), Platt scaling and best-F1 thresholds on %u "
      "validation images (%s); %u training images of %s, %u proposals "
      "each, seed %d%s",
      spp_model_get_name (t->model), p->svm_c, SPP_SVM_POS_WEIGHT,
      SPP_SVM_BIAS_MULT, t->scale, TARGET_NORM, p->bbox_lambda, BBOX_IOU,
      cal_idx->len, summary->str, train_idx->len, data_name,
      p->proposals.max_boxes, (gint32) p->seed, t->head_desc->str);
  s.description = desc;
  g_autoptr (GBytes) bytes = spp_detector_section_write (t->base,
                                                         t->base_name, &s,
                                                         out_path, error);
  return bytes && spp_model_bytes_save (bytes, out_path, error);
}
