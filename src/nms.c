/* Greedy per-class non-maximum suppression (SPEC section 2 step 6). */
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
