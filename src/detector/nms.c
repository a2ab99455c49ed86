/* Greedy per-class non-maximum suppression (docs/method.md 2.6). */
#include "detector-private.h"

#include <stdlib.h>

static int
by_class_then_confidence (const void *a, const void *b)
{
  const SppDetection *x = a, *y = b;
  if (x->label_id != y->label_id)
    return x->label_id < y->label_id ? -1 : 1;
  if (x->confidence != y->confidence)
    return x->confidence > y->confidence ? -1 : 1;
  /* Ties broken by position so the result does not depend on qsort. */
  if (x->box.x != y->box.x)
    return x->box.x < y->box.x ? -1 : 1;
  return (x->box.y > y->box.y) - (x->box.y < y->box.y);
}

static int
by_confidence (const void *a, const void *b)
{
  const SppDetection *x = a, *y = b;
  if (x->confidence != y->confidence)
    return x->confidence > y->confidence ? -1 : 1;
  return (x->label_id > y->label_id) - (x->label_id < y->label_id);
}

guint
spp_nms (SppDetection *dets, guint n, float iou_threshold, guint max_out)
{
  guint kept = 0;
  if (n == 0)
    return 0;
  qsort (dets, n, sizeof *dets, by_class_then_confidence);
  for (guint start = 0; start < n;) {
    guint end = start;
    while (end < n && dets[end].label_id == dets[start].label_id)
      end++;
    /* Survivors of this class are compacted to dets[kept..]. */
    guint first = kept;
    /* A class's survivor beyond max_out cannot make the overall top
     * max_out: at least max_out surviving boxes outrank it. */
    for (guint i = start; i < end && kept - first < max_out; i++) {
      gboolean keep = TRUE;
      for (guint j = first; j < kept && keep; j++)
        if (spp_box_iou (&dets[i].box, &dets[j].box) > iou_threshold)
          keep = FALSE;
      if (keep)
        dets[kept++] = dets[i];
    }
    start = end;
  }
  qsort (dets, kept, sizeof *dets, by_confidence);
  return MIN (kept, max_out);
}

void
spp_box_vote (SppDetection *kept, guint n_kept, const SppDetection *cands,
              guint n_cands, float iou)
{
  /* Box voting (Gidaris and Komodakis, "Object detection via a
   * multi-region & semantic segmentation-aware CNN model", 2015): a kept
   * box moves to the confidence-weighted mean of the candidates of its
   * class that overlap it by at least @iou, itself included. Windows that
   * all cover the same person tend to err in different directions, so
   * their mean is tighter than the best-scoring one alone; the score
   * stays the kept box's. Corners are averaged, as x1, y1, x2, y2. */
  for (guint i = 0; i < n_kept; i++) {
    const SppBox ref = kept[i].box;
    /* Only candidates at least half as confident as the kept box vote:
     * without this floor the many weak windows around a close-up person
     * (parts of it) dragged its box; with it, the result also hardly
     * depends on the output threshold. Chosen on validation images with
     * the IoU (models/README.md). */
    const float floor_conf = 0.5f * kept[i].confidence;
    double w = 0.0, x1 = 0.0, y1 = 0.0, x2 = 0.0, y2 = 0.0;
    for (guint j = 0; j < n_cands; j++) {
      const SppDetection *c = &cands[j];
      if (c->label_id != kept[i].label_id || c->confidence < floor_conf
          || spp_box_iou (&c->box, &ref) < iou)
        continue;
      double cw = c->confidence;
      w += cw;
      x1 += cw * c->box.x;
      y1 += cw * c->box.y;
      x2 += cw * (c->box.x + c->box.w);
      y2 += cw * (c->box.y + c->box.h);
    }
    /* A kept box of confidence 0 has no voters' weight: it stays. */
    if (!(w > 0.0))
      continue;
    kept[i].box.x = (float) (x1 / w);
    kept[i].box.y = (float) (y1 / w);
    kept[i].box.w = (float) ((x2 - x1) / w);
    kept[i].box.h = (float) ((y2 - y1) / w);
  }
}
