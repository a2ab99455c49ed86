/* Calibration on the validation images (docs/training.md section 3, step
 * 6): Platt scaling of the SVM scores and per-class thresholds at the
 * best F1, both against matches as the evaluator counts them. */
#include "trainer-private.h"

#include "spp/eval.h"

#include "platt-private.h"

#include <math.h>

/* The provisional model's confidence slope: scores are read back from
 * confidences through it. */
#define CAL_A 0.25f

typedef struct {
  guint image;
  SppDetection det;
} Detection;

/* The validation pass: the provisional detector and what it found. */
typedef struct {
  const SppTrainer *t;
  SppDetector *det;
  GArray *dets; /* Detection */
} Validation;

static gboolean
validation_image (guint index, const SppImage *frame, gpointer data,
                  GError **error)
{
  Validation *v = data;
  guint n_props = 0, n_dets = 0;
  const SppDetection *dets = NULL;
  g_autofree SppBox *props = spp_proposals_compute (
      frame, &v->t->p.proposals, &n_props, error);
  if (props == NULL
      || !spp_detector_detect (v->det, frame, props, n_props, &dets, &n_dets,
                               error))
    return FALSE;
  for (guint i = 0; i < n_dets; i++) {
    Detection d = { index, dets[i] };
    g_array_append_val (v->dets, d);
  }
  return TRUE;
}

static float
logit (float c, float a)
{
  c = CLAMP (c, 1e-7f, 1.0f - 1e-7f);
  return logf (c / (1.0f - c)) / a;
}

/* Matched = a true positive at IoU 0.5 in confidence order per image and
 * class, as the evaluator (the VOC devkit) matches: against the
 * most-overlapped box of the class, matched or not; a duplicate is a
 * miss. The detector returns each image's detections best first, so a
 * greedy pass over them in order is that match. */
static void
match_detections (const SppTrainer *t, const GArray *dets, gboolean *hit)
{
  g_autoptr (GHashTable) used = g_hash_table_new_full (g_int64_hash,
                                                       g_int64_equal, g_free,
                                                       NULL);
  for (guint i = 0; i < dets->len; i++) {
    const Detection *d = &g_array_index (dets, Detection, i);
    const Image *im = spp_trainer_get_image (t, d->image);
    float best = -1.0f;
    int bj = -1;
    for (guint j = 0; j < im->n_boxes; j++) {
      if (im->classes[j] != d->det.label_id)
        continue;
      float o = spp_box_iou (&d->det.box, &im->boxes[j]);
      if (o > best) {
        best = o;
        bj = (int) j;
      }
    }
    guint64 key = ((guint64) d->image << 32) | (guint) MAX (bj, 0);
    if (bj >= 0 && best >= 0.5f && !g_hash_table_contains (used, &key)) {
      hit[i] = TRUE;
      g_hash_table_add (used, g_memdup2 (&key, sizeof key));
    }
  }
}

/* Detects with a provisional model (a = CAL_A, b = 0), reads each
 * window's SVM score back from its confidence, fits Platt's a, b on
 * matched vs unmatched detections, and picks each class's threshold at
 * the best F1 (IoU 0.5); @summary gets the AP per class. */
gboolean
spp_trainer_calibrate (SppTrainer *t, const GArray *cal_idx,
                       const char *out_path, SppDetectorSection *s,
                       float *thresholds, GString *summary, GError **error)
{
  const guint K = t->K;
  s->score_a = CAL_A;
  s->score_b = 0.0f;
  g_autofree char *name = g_strconcat (out_path, ".uncalibrated", NULL);
  g_autoptr (GBytes) bytes = spp_detector_section_write (t->base,
                                                         t->base_name, s,
                                                         name, error);
  if (bytes == NULL)
    return FALSE;
  g_autoptr (SppModel) model = spp_model_load_from_bytes (bytes, name, error);
  if (model == NULL)
    return FALSE;
  g_autoptr (SppDetector) det = spp_detector_new (model, error);
  if (det == NULL
      || (t->scales && !spp_detector_set_scales (det, t->scales,
                                                 t->p.n_scales, error)))
    return FALSE;
  spp_detector_set_threshold (det, 0.0f);
  spp_detector_set_max_detections (det, 100 * K); /* as spp eval */
  g_autoptr (GArray) dets = g_array_new (FALSE, FALSE, sizeof (Detection));
  Validation v = { t, det, dets };
  if (!t->decode ((const guint *) cal_idx->data, cal_idx->len, "validation",
                  validation_image, &v, t->decode_data, error))
    return FALSE;

  const guint nd = dets->len;
  g_autofree float *score = g_new (float, MAX (nd, 1));
  g_autofree gboolean *hit = g_new0 (gboolean, MAX (nd, 1));
  for (guint i = 0; i < nd; i++)
    score[i] = logit (g_array_index (dets, Detection, i).det.confidence,
                      CAL_A);
  match_detections (t, dets, hit);
  float A, B;
  spp_platt_fit (score, hit, nd, &A, &B);
  g_autoptr (SppEvaluator) ev = spp_evaluator_new (K);
  for (guint ii = 0; ii < cal_idx->len; ii++) {
    guint i = g_array_index (cal_idx, guint, ii);
    const Image *im = spp_trainer_get_image (t, i);
    for (guint j = 0; j < im->n_boxes; j++)
      if (im->classes[j] >= 0)
        spp_evaluator_add_ground_truth (ev, i, im->classes[j],
                                        &im->boxes[j]);
  }
  for (guint i = 0; i < nd; i++) {
    const Detection *d = &g_array_index (dets, Detection, i);
    float conf = 1.0f / (1.0f + expf (-(A * score[i] + B)));
    spp_evaluator_add_detection (ev, d->image, d->det.label_id, &d->det.box,
                                 conf);
  }
  for (guint k = 0; k < K; k++) {
    float thr;
    double prec, rec;
    double f1 = spp_evaluator_best_f1 (ev, k, 0.5f, &thr, &prec, &rec);
    double ap = spp_evaluator_average_precision (ev, k, 0.5f);
    if (isfinite (thr))
      thresholds[k] = thr;
    spp_trainer_say (t, "'%s' on validation: AP@0.5 %.3f, best F1 %.3f (P "
                     "%.2f R %.2f) at confidence %.3f -> threshold %.3f",
                     t->labels[k], ap, f1, prec, rec, thr, thresholds[k]);
    g_string_append_printf (summary, "%s%s AP@0.5 %.3f", k ? ", " : "",
                            t->labels[k], ap);
  }
  guint n_hit = 0;
  for (guint i = 0; i < nd; i++)
    n_hit += hit[i];
  spp_trainer_say (t, "Platt a %.4f b %.4f on %u detections (%u matched)",
                   A, B, nd, n_hit);
  s->score_a = A;
  s->score_b = B;
  return TRUE;
}
