/* VOC-style average precision over collected detections and ground
 * truth (include/spp/eval.h states the matching and interpolation). */
#include "spp/eval.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
  guint image;
  guint seq; /* order of addition: the tie-break that keeps sorting stable */
  SppBox box;
  float confidence;
} Item;

struct _SppEvaluator {
  guint n_classes;
  GArray **gt;   /* per class, Item (confidence unused) */
  GArray **dets; /* per class, Item */
  guint seq;
};

SppEvaluator *
spp_evaluator_new (guint n_classes)
{
  SppEvaluator *e = g_new0 (SppEvaluator, 1);
  e->n_classes = n_classes;
  e->gt = g_new0 (GArray *, MAX (n_classes, 1));
  e->dets = g_new0 (GArray *, MAX (n_classes, 1));
  for (guint k = 0; k < n_classes; k++) {
    e->gt[k] = g_array_new (FALSE, FALSE, sizeof (Item));
    e->dets[k] = g_array_new (FALSE, FALSE, sizeof (Item));
  }
  return e;
}

void
spp_evaluator_free (SppEvaluator *e)
{
  if (e == NULL)
    return;
  for (guint k = 0; k < e->n_classes; k++) {
    g_array_unref (e->gt[k]);
    g_array_unref (e->dets[k]);
  }
  g_free (e->gt);
  g_free (e->dets);
  g_free (e);
}

guint
spp_evaluator_get_n_classes (const SppEvaluator *e)
{
  g_return_val_if_fail (e != NULL, 0);
  return e->n_classes;
}

void
spp_evaluator_add_ground_truth (SppEvaluator *e, guint image_id,
                                guint class_id, const SppBox *box)
{
  g_return_if_fail (e != NULL && box != NULL);
  if (class_id >= e->n_classes)
    return;
  Item it = { image_id, e->seq++, *box, 0.0f };
  g_array_append_val (e->gt[class_id], it);
}

void
spp_evaluator_add_detection (SppEvaluator *e, guint image_id,
                             guint class_id, const SppBox *box,
                             float confidence)
{
  g_return_if_fail (e != NULL && box != NULL);
  if (class_id >= e->n_classes)
    return;
  /* NaN would make the sort order undefined: rank it last. */
  if (isnan (confidence))
    confidence = -INFINITY;
  Item it = { image_id, e->seq++, *box, confidence };
  g_array_append_val (e->dets[class_id], it);
}

guint
spp_evaluator_get_n_ground_truth (const SppEvaluator *e, guint class_id)
{
  g_return_val_if_fail (e != NULL, 0);
  return class_id < e->n_classes ? e->gt[class_id]->len : 0;
}

static int
by_confidence (const void *pa, const void *pb)
{
  const Item *a = pa, *b = pb;
  if (a->confidence != b->confidence)
    return a->confidence > b->confidence ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
by_image (const void *pa, const void *pb)
{
  const Item *a = pa, *b = pb;
  if (a->image != b->image)
    return a->image < b->image ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts the class's detections by confidence and marks each a true
 * positive or not; returns the flags (caller frees), NULL when there are
 * no detections. */
static gboolean *
match_class (SppEvaluator *e, guint k, float iou)
{
  GArray *dets = e->dets[k], *gt = e->gt[k];
  if (dets->len == 0)
    return NULL;
  qsort (dets->data, dets->len, sizeof (Item), by_confidence);
  qsort (gt->data, gt->len, sizeof (Item), by_image);
  /* image -> (first index + 1) of its run in the image-sorted gt. */
  g_autoptr (GHashTable) first = g_hash_table_new (g_direct_hash,
                                                   g_direct_equal);
  g_autoptr (GHashTable) count = g_hash_table_new (g_direct_hash,
                                                   g_direct_equal);
  for (guint j = 0; j < gt->len; j++) {
    gpointer key = GUINT_TO_POINTER (g_array_index (gt, Item, j).image + 1);
    if (!g_hash_table_contains (first, key))
      g_hash_table_insert (first, key, GUINT_TO_POINTER (j + 1));
    guint c = GPOINTER_TO_UINT (g_hash_table_lookup (count, key));
    g_hash_table_insert (count, key, GUINT_TO_POINTER (c + 1));
  }
  g_autofree gboolean *used = g_new0 (gboolean, MAX (gt->len, 1));
  gboolean *tp = g_new0 (gboolean, dets->len);
  for (guint i = 0; i < dets->len; i++) {
    const Item *d = &g_array_index (dets, Item, i);
    gpointer key = GUINT_TO_POINTER (d->image + 1);
    guint j0 = GPOINTER_TO_UINT (g_hash_table_lookup (first, key));
    if (j0 == 0)
      continue;
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (count, key));
    /* The VOC devkit's rule: the ground truth with the highest IoU,
     * matched or not; a detection of an already matched box is a
     * duplicate (a false positive) even when another box it overlaps
     * enough is still free. Letting it take the free one instead would
     * reward loose boxes between people in a crowd. */
    int best = -1;
    float best_iou = -1.0f;
    for (guint j = j0 - 1; j < j0 - 1 + n; j++) {
      float o = spp_box_iou (&d->box, &g_array_index (gt, Item, j).box);
      if (o > best_iou) {
        best_iou = o;
        best = (int) j;
      }
    }
    if (best >= 0 && best_iou >= iou && !used[best]) {
      used[best] = TRUE;
      tp[i] = TRUE;
    }
  }
  return tp;
}

double
spp_evaluator_average_precision (SppEvaluator *e, guint k, float iou)
{
  g_return_val_if_fail (e != NULL, NAN);
  if (k >= e->n_classes || e->gt[k]->len == 0)
    return NAN;
  const guint n = e->dets[k]->len;
  const double n_gt = e->gt[k]->len;
  g_autofree gboolean *tp = match_class (e, k, iou);
  if (tp == NULL)
    return 0.0;
  /* Precision and recall after each detection, then precision made
   * non-increasing from the right (the envelope), then the area: sum of
   * recall steps times the envelope at the step. */
  g_autofree double *prec = g_new (double, n);
  g_autofree double *rec = g_new (double, n);
  guint ntp = 0;
  for (guint i = 0; i < n; i++) {
    ntp += tp[i];
    prec[i] = ntp / (double) (i + 1);
    rec[i] = ntp / n_gt;
  }
  for (guint i = n - 1; i > 0; i--)
    prec[i - 1] = MAX (prec[i - 1], prec[i]);
  double ap = 0.0, last_rec = 0.0;
  for (guint i = 0; i < n; i++) {
    if (rec[i] > last_rec) {
      ap += (rec[i] - last_rec) * prec[i];
      last_rec = rec[i];
    }
  }
  return ap;
}

double
spp_evaluator_mean_ap (SppEvaluator *e, float iou)
{
  g_return_val_if_fail (e != NULL, NAN);
  double sum = 0.0;
  guint n = 0;
  for (guint k = 0; k < e->n_classes; k++) {
    double ap = spp_evaluator_average_precision (e, k, iou);
    if (!isnan (ap)) {
      sum += ap;
      n++;
    }
  }
  return n ? sum / n : NAN;
}

double
spp_evaluator_mean_ap_coco (SppEvaluator *e)
{
  g_return_val_if_fail (e != NULL, NAN);
  double sum = 0.0;
  for (int t = 0; t < 10; t++)
    sum += spp_evaluator_mean_ap (e, 0.5f + 0.05f * t);
  return sum / 10.0;
}

double
spp_evaluator_best_f1 (SppEvaluator *e, guint k, float iou, float *threshold,
                       double *precision, double *recall)
{
  g_return_val_if_fail (e != NULL, NAN);
  if (threshold)
    *threshold = INFINITY;
  if (precision)
    *precision = 0.0;
  if (recall)
    *recall = 0.0;
  if (k >= e->n_classes || e->gt[k]->len == 0)
    return NAN;
  const guint n = e->dets[k]->len;
  g_autofree gboolean *tp = match_class (e, k, iou);
  double best = 0.0;
  guint ntp = 0;
  for (guint i = 0; i < n; i++) {
    ntp += tp[i];
    /* A cut-off lies only between different confidences: a run of ties
     * is kept or dropped as a whole. */
    const Item *d = &g_array_index (e->dets[k], Item, i);
    if (i + 1 < n
        && g_array_index (e->dets[k], Item, i + 1).confidence == d->confidence)
      continue;
    double p = ntp / (double) (i + 1), r = ntp / (double) e->gt[k]->len;
    /* 2PR / (P + R) = 2 TP / (detections + GT): exact on ties. */
    double f1 = 2.0 * ntp / (double) (i + 1 + e->gt[k]->len);
    if (f1 > best) {
      best = f1;
      if (threshold)
        *threshold = d->confidence;
      if (precision)
        *precision = p;
      if (recall)
        *recall = r;
    }
  }
  return best;
}
