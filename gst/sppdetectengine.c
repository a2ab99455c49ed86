/* sppdetect: the detector side of one element (sppdetectengine.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "spp/video-proposals.h"

#include "sppdetectengine.h"

GST_DEBUG_CATEGORY_EXTERN (gst_spp_detect_debug);
#define GST_CAT_DEFAULT gst_spp_detect_debug

struct _SppDetectEngine
{
  SppDetectWarnFunc warn;
  gpointer user_data;

  SppDetectModel *model;
  guint n_classes;
  gboolean *keep;               /* per class id; NULL: keep all */
  SppVideoProposals *proposals; /* reused across frames and models */
  GArray *kept;                 /* SppDetection: what keep let through */

  SppDetectSettings settings;   /* the copy it runs with */
  guint settings_gen;           /* generation of that copy; 0: none */
  gboolean apply_pending;       /* settings or model changed since */
  gboolean new_model;

  gint ema_us;                  /* smoothed inference time; atomic: the
                                 * streaming thread reads it for latency
                                 * while the worker infers */
};

void
spp_detect_settings_clear (SppDetectSettings * s)
{
  g_clear_pointer (&s->object_class, g_strfreev);
}

void
spp_detect_settings_copy (SppDetectSettings * dst,
    const SppDetectSettings * src)
{
  spp_detect_settings_clear (dst);
  *dst = *src;
  dst->object_class = g_strdupv (src->object_class);
}

SppDetectEngine *
spp_detect_engine_new (SppDetectModel * model, SppDetectWarnFunc warn,
    gpointer user_data)
{
  SppDetectEngine *e = g_new0 (SppDetectEngine, 1);

  e->warn = warn;
  e->user_data = user_data;
  e->model = model;
  e->n_classes = spp_model_get_n_classes (model->model);
  e->kept = g_array_new (FALSE, FALSE, sizeof (SppDetection));
  e->apply_pending = TRUE;
  return e;
}

void
spp_detect_engine_free (SppDetectEngine * e)
{
  if (!e)
    return;
  spp_detect_model_free (e->model);
  g_free (e->keep);
  if (e->proposals)
    spp_video_proposals_free (e->proposals);
  g_array_unref (e->kept);
  spp_detect_settings_clear (&e->settings);
  g_free (e);
}

guint
spp_detect_engine_get_n_classes (SppDetectEngine * e)
{
  return e->n_classes;
}

void
spp_detect_engine_set_model (SppDetectEngine * e, SppDetectModel * model)
{
  GST_INFO_OBJECT (e->user_data, "switching to model %s",
      spp_model_get_path (model->model));
  spp_detect_model_free (e->model);
  e->model = model;
  e->n_classes = spp_model_get_n_classes (model->model);
  e->apply_pending = TRUE;
  e->new_model = TRUE;
}

void
spp_detect_engine_sync_settings (SppDetectEngine * e,
    const SppDetectSettings * settings, guint gen)
{
  if (gen == e->settings_gen)
    return;
  spp_detect_settings_copy (&e->settings, settings);
  e->settings_gen = gen;
  e->apply_pending = TRUE;
}

/* The scales: the user's, else the model's */
static void
spp_detect_engine_apply_scales (SppDetectEngine * e)
{
  const SppDetectSettings *s = &e->settings;
  SppModel *model = e->model->model;
  g_autoptr (GError) err = NULL;

  if (s->n_scales > 0) {
    if (!spp_detector_set_scales (e->model->detector, s->scales, s->n_scales,
            &err)) {
      g_autofree gchar *text = g_strdup_printf ("Invalid scales for model "
          "\"%s\".", spp_model_get_path (model));

      e->warn (text, err->message, e->user_data);
    }
  } else {
    guint n;
    const guint *ms = spp_model_get_scales (model, &n);

    if (ms && n > 0 && !spp_detector_set_scales (e->model->detector, ms, n,
            &err))
      GST_WARNING_OBJECT (e->user_data, "model scales: %s", err->message);
  }
}

/* object-class: resolve labels against this model's */
static void
spp_detect_engine_apply_classes (SppDetectEngine * e)
{
  const SppDetectSettings *s = &e->settings;
  SppModel *model = e->model->model;
  g_autoptr (GString) unknown = NULL;

  g_clear_pointer (&e->keep, g_free);
  if (!s->object_class)
    return;
  unknown = g_string_new (NULL);
  e->keep = g_new0 (gboolean, MAX (e->n_classes, 1));
  for (guint i = 0; s->object_class[i]; i++) {
    int id = spp_model_find_label (model, s->object_class[i]);
    if (id >= 0 && (guint) id < e->n_classes)
      e->keep[id] = TRUE;
    else
      g_string_append_printf (unknown, "%s\"%s\"", unknown->len ? ", " : "",
          s->object_class[i]);
  }
  if (unknown->len) {
    g_autofree gchar *text = g_strdup_printf ("object-class: unknown "
        "label(s) %s for model \"%s\"; ignored.", unknown->str,
        spp_model_get_path (model));

    e->warn (text, NULL, e->user_data);
  }
}

/* Applies the settings to the detector and the proposals */
static void
spp_detect_engine_apply (SppDetectEngine * e)
{
  const SppDetectSettings *s = &e->settings;
  SppProposalParams params;

  spp_detector_set_threshold (e->model->detector, (gfloat) s->threshold);
  spp_detector_set_nms_threshold (e->model->detector,
      (gfloat) s->nms_threshold);
  spp_detect_engine_apply_scales (e);

  spp_proposal_params_init (&params);
  /* The model's training-time proposal settings (min box size), then the
   * element's properties. */
  spp_model_get_proposal_params (e->model->model, &params);
  params.mode = s->proposal_mode;
  if (s->max_proposals > 0)
    params.max_boxes = s->max_proposals;
  params.n_threads = (guint) MAX (s->num_threads, 0);
  if (e->proposals) {
    spp_video_proposals_set_params (e->proposals, &params);
    spp_video_proposals_set_interval (e->proposals, s->proposal_interval);
  } else {
    e->proposals = spp_video_proposals_new (&params, s->proposal_interval);
  }

  spp_detect_engine_apply_classes (e);
  GST_DEBUG_OBJECT (e->user_data, "settings applied%s", e->new_model ?
      " (new model)" : "");
  e->apply_pending = FALSE;
  e->new_model = FALSE;
}

/* Only the classes object-class keeps; @dets itself when it keeps all */
static const SppDetection *
spp_detect_engine_filter (SppDetectEngine * e, const SppDetection * dets,
    guint n_dets, guint * n_kept)
{
  if (!e->keep) {
    *n_kept = n_dets;
    return dets;
  }
  g_array_set_size (e->kept, 0);
  for (guint i = 0; i < n_dets; i++) {
    gint id = dets[i].label_id;

    if (id >= 0 && (guint) id < e->n_classes && e->keep[id])
      g_array_append_val (e->kept, dets[i]);
  }
  *n_kept = e->kept->len;
  return (const SppDetection *) e->kept->data;
}

gboolean
spp_detect_engine_run (SppDetectEngine * e, const SppImage * image,
    guint64 frame_no, const SppDetection ** dets, guint * n_dets,
    GError ** error)
{
  const SppBox *boxes;
  guint n_boxes = 0, n_found = 0;
  const SppDetection *found = NULL;
  SppVideoProposalsAction action;
  gint64 t0 = g_get_monotonic_time (), dt;
  gint ema;

  if (e->apply_pending)
    spp_detect_engine_apply (e);

  boxes = spp_video_proposals_update (e->proposals, image, TRUE, &n_boxes,
      &action, error);
  if (!boxes && error && *error)
    return FALSE;
  if (!spp_detector_detect (e->model->detector, image, boxes, n_boxes,
          &found, &n_found, error))
    return FALSE;
  *dets = spp_detect_engine_filter (e, found, n_found, n_dets);

  dt = MIN (g_get_monotonic_time () - t0, G_MAXINT / 2);
  ema = g_atomic_int_get (&e->ema_us);
  g_atomic_int_set (&e->ema_us, ema == 0 ? (gint) dt :
      (gint) (0.9 * ema + 0.1 * dt));
  GST_LOG_OBJECT (e->user_data, "frame %" G_GUINT64_FORMAT ": %u proposals "
      "(%s), %u detections, %" G_GINT64_FORMAT " us", frame_no, n_boxes,
      action == SPP_VIDEO_PROPOSALS_REUSED ? "reused" :
      action == SPP_VIDEO_PROPOSALS_SHIFTED ? "shifted" :
      action == SPP_VIDEO_PROPOSALS_PARTIAL ? "partial" : "recomputed",
      n_found, dt);
  return TRUE;
}

void
spp_detect_engine_reset_proposals (SppDetectEngine * e)
{
  if (e->proposals)
    spp_video_proposals_reset (e->proposals);
}

gint
spp_detect_engine_get_inference_us (SppDetectEngine * e)
{
  return g_atomic_int_get (&e->ema_us);
}
