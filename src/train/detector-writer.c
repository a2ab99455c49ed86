/* The detector's entries of a model file (docs/model-format.md: svm.*,
 * bbox.*, detect.*, proposals.*), written over a copy of another. */
#include "detector-writer-private.h"

#include "spp-engine/model-writer.h"
#include "spp/error.h"

#include <string.h>

static gboolean
is_detector_tensor (const char *name)
{
  return (g_str_has_prefix (name, "svm.") && strlen (name) > 4)
         || (g_str_has_prefix (name, "bbox.") && strlen (name) > 5);
}

GBytes *
spp_detector_section_write (GBytes *in, const char *in_name,
                            const SppDetectorSection *p, const char *out_name,
                            GError **error)
{
  g_autoptr (SppModelFile) f = spp_model_file_new (in, in_name, error);
  if (f == NULL)
    return NULL;
  /* compute_features() applied the input's own feature scale to what
   * was trained on, so the output's is the product (unless the head that
   * scale was for is replaced). */
  float in_scale = 1.0f;
  if (!p->replace_head
      && spp_model_file_get_f32 (f, "detect.feature_scale", &in_scale)
      && !(in_scale > 0 && in_scale < 1e30f))
    in_scale = 1.0f;
  static const char *const replaced[] = {
    "detect.labels", "detect.thresholds", "detect.feature_scale",
    "detect.score_a", "detect.score_b", "general.description",
    "proposals.max_boxes", "proposals.min_size", "detect.box_vote",
    "detect.box_passes",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (replaced); i++)
    spp_model_file_remove_key (f, replaced[i]);
  if (p->scales && p->n_scales)
    spp_model_file_remove_key (f, "detect.scales");

  for (guint i = 0; i < spp_model_file_get_n_tensors (f); i++)
    if (is_detector_tensor (spp_model_file_get_tensor (f, i)->name))
      spp_model_file_remove_tensor (f, i);
  if (p->replace_head) {
    for (guint i = 0; i < spp_model_file_get_n_layers (f); i++) {
      const SppModelFileLayer *l = spp_model_file_get_layer (f, i);
      if (l->section != SPP_FORMAT_HEAD)
        continue;
      for (guint32 j = 0; j < l->n_tensors; j++)
        spp_model_file_remove_tensor (f, l->tensors[j]);
      spp_model_file_remove_layer (f, i);
    }
    for (guint i = 0; p->head && i < p->head->n_layers; i++) {
      const SppFcHead *h = p->head;
      char name[32];
      guint ids[2];
      g_snprintf (name, sizeof name, "fc%u.weight", 6 + i); /* fc6, fc7 */
      ids[0] = spp_model_file_add_tensor (f, name, h->weight[i],
                                          h->dims[i + 1], h->dims[i]);
      g_snprintf (name, sizeof name, "fc%u.bias", 6 + i);
      ids[1] = spp_model_file_add_tensor (f, name, h->bias[i],
                                          h->dims[i + 1], 0);
      g_snprintf (name, sizeof name, "fc%u", 6 + i);
      const gint32 iparams[] = { (gint32) h->dims[i + 1],
                                 SPP_FORMAT_ACT_RELU };
      spp_model_file_add_head_layer (f, SPP_FORMAT_OP_FC, name, iparams, 2,
                                     ids, 2);
    }
  }

  const guint K = p->n_classes;
  spp_model_file_add_string_array (f, "detect.labels", p->labels, K);
  spp_model_file_add_f32_array (f, "detect.thresholds", p->thresholds, K);
  spp_model_file_add_f32 (f, "detect.feature_scale",
                          p->feature_scale * in_scale);
  spp_model_file_add_f32 (f, "detect.score_a", p->score_a);
  spp_model_file_add_f32 (f, "detect.score_b", p->score_b);
  if (p->proposals_max_boxes)
    spp_model_file_add_u32 (f, "proposals.max_boxes", p->proposals_max_boxes);
  if (p->proposals_min_size)
    spp_model_file_add_u32 (f, "proposals.min_size", p->proposals_min_size);
  if (p->box_vote > 0.0f)
    spp_model_file_add_f32 (f, "detect.box_vote", p->box_vote);
  if (p->box_passes > 1)
    spp_model_file_add_u32 (f, "detect.box_passes", p->box_passes);
  if (p->scales && p->n_scales)
    spp_model_file_add_u32_array (f, "detect.scales", p->scales, p->n_scales);
  if (p->description)
    spp_model_file_add_string (f, "general.description", p->description);
  spp_model_file_add_tensor (f, "svm.weight", p->svm_weight, K,
                             p->feature_dim);
  spp_model_file_add_tensor (f, "svm.bias", p->svm_bias, K, 0);
  if (p->bbox_weight) {
    spp_model_file_add_tensor (f, "bbox.weight", p->bbox_weight, 4 * K,
                               p->pooled_dim);
    spp_model_file_add_tensor (f, "bbox.bias", p->bbox_bias, 4 * K, 0);
  }
  return spp_model_file_write (f, out_name, error);
}

gboolean
spp_fc_head_read (GBytes *in, const char *in_name, SppFcHead *head,
                  GError **error)
{
  g_autoptr (SppModelFile) f = spp_model_file_new (in, in_name, error);
  if (f == NULL)
    return FALSE;
  memset (head, 0, sizeof *head);
  for (guint i = 0; i < spp_model_file_get_n_layers (f); i++) {
    const SppModelFileLayer *l = spp_model_file_get_layer (f, i);
    if (l->section != SPP_FORMAT_HEAD)
      continue;
    const SppModelFileTensor *w = l->n_tensors >= 1
        ? spp_model_file_get_tensor (f, l->tensors[0]) : NULL;
    const SppModelFileTensor *b = l->n_tensors >= 2
        ? spp_model_file_get_tensor (f, l->tensors[1]) : NULL;
    guint n = head->n_layers;
    if (l->op != SPP_FORMAT_OP_FC || l->n_iparams < 2
        || l->iparams[1] != SPP_FORMAT_ACT_RELU || w == NULL
        || w->n_dims != 2 || n >= SPP_TRAIN_FC_MAX
        || (n > 0 && w->dims[1] != head->dims[n])
        || (b && b->n_floats != w->dims[0])) {
      spp_fc_head_clear (head);
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "%s: head layer %u is not an fc layer with ReLU (at most "
                   "%d): only such heads can be fine-tuned; new fc layers "
                   "can replace it", in_name, i, SPP_TRAIN_FC_MAX);
      return FALSE;
    }
    head->dims[n] = w->dims[1];
    head->dims[n + 1] = w->dims[0];
    head->weight[n] = g_memdup2 (w->data, w->n_floats * sizeof (float));
    head->bias[n] = g_new0 (float, w->dims[0]);
    if (b)
      memcpy (head->bias[n], b->data, b->n_floats * sizeof (float));
    head->n_layers++;
  }
  return TRUE;
}
