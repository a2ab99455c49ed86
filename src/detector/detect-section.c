/* Reading and checking the detector's section of a model file, when the
 * model loads (spp-engine/model.h), and its getters. */
#include "detect-section.h"

#include "spp/detector.h"
#include "spp/pyramid.h"
#include "spp-engine/pyramid.h"

#include <string.h>

static void
section_free (gpointer p)
{
  SppDetectSection *s = p;
  g_free (s->scales);
  g_strfreev (s->labels);
  g_free (s->thresholds);
  g_free (s->pooled_w_binmajor); /* bbox_w_binmajor lies inside */
  g_mutex_clear (&s->lock);
  g_free (s);
}

static gboolean
read_keys (SppDetectSection *s, SppModelMeta *meta)
{
  if (!spp_model_meta_f32 (meta, "detect.nms", 0.3f, &s->nms)
      || !spp_model_meta_f32 (meta, "detect.box_vote", 0.0f, &s->box_vote)
      || !spp_model_meta_u32 (meta, "detect.box_passes", FALSE, 1,
                              &s->box_passes)
      || !spp_model_meta_f32 (meta, "detect.feature_scale", 1.0f,
                              &s->feature_scale)
      || !spp_model_meta_f32 (meta, "detect.score_a", 1.0f, &s->score_a)
      || !spp_model_meta_f32 (meta, "detect.score_b", 0.0f, &s->score_b)
      || !spp_model_meta_u32 (meta, "proposals.min_size", FALSE, 0,
                              &s->proposal_min_size)
      || !spp_model_meta_u32 (meta, "proposals.max_boxes", FALSE, 0,
                              &s->proposal_max_boxes))
    return FALSE;
  if (s->proposal_min_size > 1000 || s->proposal_max_boxes > 100000)
    return spp_model_meta_fail (meta, "metadata 'proposals.min_size' "
                                "(0..1000) or 'proposals.max_boxes' "
                                "(0..100000) out of range");
  if (s->nms < 0 || s->nms > 1)
    return spp_model_meta_fail (meta, "metadata 'detect.nms' is %g, "
                                "expected 0..1", s->nms);
  if (s->box_passes < 1 || s->box_passes > SPP_MAX_BOX_PASSES)
    return spp_model_meta_fail (meta, "metadata 'detect.box_passes' is %u, "
                                "expected 1..%d", s->box_passes,
                                SPP_MAX_BOX_PASSES);
  if (!(s->box_vote >= 0 && s->box_vote <= 1))
    return spp_model_meta_fail (meta, "metadata 'detect.box_vote' is %g, "
                                "expected 0..1", s->box_vote);

  if (!spp_model_meta_u32s (meta, "detect.scales", FALSE, &s->scales,
                            &s->n_scales))
    return FALSE;
  if (s->n_scales == 0) {
    g_free (s->scales);
    s->scales = g_new (guint, 1);
    s->scales[0] = 688; /* docs/method.md 2: the 1-scale setting */
    s->n_scales = 1;
  }
  if (s->n_scales > 16)
    return spp_model_meta_fail (meta, "metadata 'detect.scales' has %u "
                                "scales, at most 16", s->n_scales);
  for (guint i = 0; i < s->n_scales; i++)
    if (s->scales[i] < 16 || s->scales[i] > 4096)
      return spp_model_meta_fail (meta, "metadata 'detect.scales'[%u] is %u, "
                                  "expected 16..4096", i, s->scales[i]);

  if (!spp_model_meta_strings (meta, "detect.labels", FALSE, &s->labels,
                               &s->n_classes))
    return FALSE;
  if (s->labels == NULL)
    s->labels = g_new0 (char *, 1);
  for (guint i = 0; i < s->n_classes; i++)
    if (s->labels[i][0] == '\0' || strchr (s->labels[i], ','))
      return spp_model_meta_fail (meta, "metadata 'detect.labels'[%u] is "
                                  "empty or has a comma", i);
  guint n_thr = 0;
  if (!spp_model_meta_f32s (meta, "detect.thresholds", FALSE,
                            &s->thresholds, &n_thr))
    return FALSE;
  if (s->thresholds == NULL) {
    s->thresholds = g_new (float, MAX (s->n_classes, 1));
    for (guint i = 0; i < s->n_classes; i++)
      s->thresholds[i] = 0.5f;
  } else if (n_thr != s->n_classes) {
    return spp_model_meta_fail (meta, "metadata 'detect.thresholds' has %u "
                                "values for %u labels", n_thr, s->n_classes);
  }
  return TRUE;
}

/* The SVMs and box regressors, if present, must agree with the head and
 * the labels. */
static gboolean
read_tensors (SppDetectSection *s, const SppModel *m, SppModelMeta *meta)
{
  const guint head = spp_model_get_head_width (m);
  const guint pooled = spp_model_get_pooled_size (m);
  const guint K = s->n_classes;
  s->svm_w = spp_model_find_tensor (m, "svm.weight");
  s->svm_b = spp_model_find_tensor (m, "svm.bias");
  s->bbox_w = spp_model_find_tensor (m, "bbox.weight");
  s->bbox_b = spp_model_find_tensor (m, "bbox.bias");
  if (s->svm_w || s->svm_b || K) {
    if (!s->svm_w || !s->svm_b || K == 0)
      return spp_model_meta_fail (meta, "a detector needs 'svm.weight', "
                                  "'svm.bias' and 'detect.labels' together");
    if (s->svm_w->n != (int) K || s->svm_w->c != (int) head
        || s->svm_w->h != 1 || s->svm_w->w != 1)
      return spp_model_meta_fail (meta, "tensor 'svm.weight' is [%d,%d], "
                                  "expected [%u,%u] (labels x head width)",
                                  s->svm_w->n, s->svm_w->c, K, head);
    if (s->svm_b->n != (int) K || s->svm_b->c != 1)
      return spp_model_meta_fail (meta, "tensor 'svm.bias' must be [%u]", K);
  }
  if (s->bbox_w || s->bbox_b) {
    if (!s->bbox_w || !s->bbox_b || !s->svm_w)
      return spp_model_meta_fail (meta, "'bbox.weight' and 'bbox.bias' go "
                                  "together, with SVMs");
    if (s->bbox_w->n != (int) K * 4 || s->bbox_w->c != (int) pooled
        || s->bbox_w->h != 1 || s->bbox_w->w != 1
        || s->bbox_b->n != (int) K * 4 || s->bbox_b->c != 1)
      return spp_model_meta_fail (meta, "tensor 'bbox.weight' is [%d,%d], "
                                  "expected [%u,%u] and 'bbox.bias' [%u]",
                                  s->bbox_w->n, s->bbox_w->c, K * 4, pooled,
                                  K * 4);
  }
  return TRUE;
}

static gpointer
section_read (const SppModel *m, SppModelMeta *meta)
{
  SppDetectSection *s = g_new0 (SppDetectSection, 1);
  g_mutex_init (&s->lock);
  if (!read_keys (s, meta) || !read_tensors (s, m, meta)) {
    section_free (s);
    return NULL;
  }
  return s;
}

static void
section_describe (gconstpointer p, GString *out)
{
  const SppDetectSection *s = p;
  g_string_append (out, "scales:");
  for (guint i = 0; i < s->n_scales; i++)
    g_string_append_printf (out, " %u", s->scales[i]);
  g_string_append_printf (out, "\nclasses: %u", s->n_classes);
  for (guint i = 0; i < s->n_classes; i++)
    g_string_append_printf (out, "%s%s (%.2f)", i ? ", " : " ", s->labels[i],
                            s->thresholds[i]);
  g_string_append_printf (out, "\nbox regression: %s\nnms: %.2f\n",
                          s->bbox_w ? "yes" : "no", s->nms);
  if (s->box_vote > 0)
    g_string_append_printf (out, "box voting: IoU %.2f\n", s->box_vote);
  if (s->box_passes > 1)
    g_string_append_printf (out, "box regression passes: %u\n",
                            s->box_passes);
  if (s->proposal_min_size || s->proposal_max_boxes)
    g_string_append_printf (out, "proposals: min size %u, max %u\n",
                            s->proposal_min_size, s->proposal_max_boxes);
}

const SppModelSectionType spp_detect_section_type = {
  "detect", section_read, section_free, section_describe,
};

SppDetectSection *
spp_detect_section_get (const SppModel *m)
{
  for (guint i = 0; i < spp_model_n_section_types; i++)
    if (spp_model_section_types[i] == &spp_detect_section_type)
      return spp_model_get_section (m, i);
  g_assert_not_reached ();
}

static void
permute_columns (const SppTensor *w, const guint *perm, float *out)
{
  const gsize d = (gsize) w->c * w->h * w->w;
  for (int r = 0; r < w->n; r++)
    for (gsize i = 0; i < d; i++)
      out[(gsize) r * d + i] = w->data[(gsize) r * d + perm[i]];
}

void
spp_detect_section_get_binmajor (const SppModel *m, const float **pooled_w,
                                 const float **bbox_w)
{
  SppDetectSection *s = spp_detect_section_get (m);
  g_mutex_lock (&s->lock);
  if (s->pooled_w_binmajor == NULL) {
    const guint D = spp_model_get_pooled_size (m);
    guint n_levels;
    const guint *levels = spp_model_get_levels (m, &n_levels);
    g_autofree guint *perm = g_new (guint, D);
    spp_pyramid_permutation (spp_model_get_feature_channels (m), levels,
                             n_levels, perm);
    const SppTensor *head = spp_model_get_head_weight (m);
    const SppTensor *first = head ? head : s->svm_w;
    /* One buffer, the box regressors' rows right after the first
     * reader's, so both can run as one GEMM over the pooled rows. */
    gsize rows = (first ? first->n : 0) + (s->bbox_w ? s->bbox_w->n : 0);
    float *all = g_new (float, MAX (rows, 1) * D);
    s->pooled_w_binmajor = all;
    if (first) {
      permute_columns (first, perm, all);
      all += (gsize) first->n * D;
    }
    if (s->bbox_w) {
      permute_columns (s->bbox_w, perm, all);
      s->bbox_w_binmajor = all;
    }
  }
  g_mutex_unlock (&s->lock);
  *pooled_w = s->pooled_w_binmajor;
  *bbox_w = s->bbox_w_binmajor;
}

/* The public getters of include/spp/detector.h. */
guint
spp_model_get_n_classes (const SppModel *m)
{
  return spp_detect_section_get (m)->n_classes;
}

const char *
spp_model_get_label (const SppModel *m, guint id)
{
  const SppDetectSection *s = spp_detect_section_get (m);
  return id < s->n_classes ? s->labels[id] : NULL;
}

int
spp_model_find_label (const SppModel *m, const char *label)
{
  const SppDetectSection *s = spp_detect_section_get (m);
  for (guint i = 0; i < s->n_classes; i++)
    if (!strcmp (s->labels[i], label))
      return (int) i;
  return -1;
}

float
spp_model_get_threshold (const SppModel *m, guint id)
{
  const SppDetectSection *s = spp_detect_section_get (m);
  return id < s->n_classes ? s->thresholds[id] : 0.5f;
}

float
spp_model_get_nms_threshold (const SppModel *m)
{
  return spp_detect_section_get (m)->nms;
}

float
spp_model_get_box_vote (const SppModel *m)
{
  return spp_detect_section_get (m)->box_vote;
}

const guint *
spp_model_get_scales (const SppModel *m, guint *n)
{
  const SppDetectSection *s = spp_detect_section_get (m);
  *n = s->n_scales;
  return s->scales;
}

guint
spp_model_get_box_passes (const SppModel *m)
{
  return spp_detect_section_get (m)->box_passes;
}

gboolean
spp_model_has_detector (const SppModel *m)
{
  return spp_detect_section_get (m)->svm_w != NULL;
}

void
spp_model_get_proposal_params (const SppModel *m, SppProposalParams *params)
{
  const SppDetectSection *s = spp_detect_section_get (m);
  if (s->proposal_min_size)
    params->min_size = s->proposal_min_size;
  if (s->proposal_max_boxes)
    params->max_boxes = s->proposal_max_boxes;
}
