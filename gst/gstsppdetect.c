/**
 * SECTION:element-sppdetect
 * @title: sppdetect
 *
 * Detects objects in raw video with SPP-net and attaches one
 * #GstVideoRegionOfInterestMeta per detection, DL Streamer style: the
 * label as roi_type, the box in pixels, and a detection param with the
 * normalised box, confidence, label_id and label (docs/elements.md).
 * Pixels are never written. Frames that run no inference (see the
 * inference-interval and async properties) get the last detections
 * shifted by the global motion, marked propagated.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e filesrc location=vtest.avi ! decodebin ! videoconvert ! \
 *     video/x-raw,format=I420 ! sppdetect inference-interval=5 ! \
 *     sppoverlay ! videoconvert ! autovideosink
 * ]| Detects objects with the bundled model on every fifth frame, and
 * draws them on every frame.
 */

/* The element glue: properties, caps, the streaming thread, start/stop
 * and the messages it posts. Buffers are mapped read-only, so frames in
 * shared memory are not copied.
 *
 * Three ways a frame gets its detections:
 *  - inference frames (every inference-interval-th frame, async=false):
 *    the engine (sppdetectengine.h) runs on the streaming thread;
 *  - frames in between: the last detections shifted by the frames'
 *    global motion (sppdetectpropagate.h), propagated=TRUE;
 *  - async=true: frames never wait; the worker (sppdetectworker.h) infers
 *    on the newest frame and each frame gets the newest finished
 *    detections, shifted.
 *
 * Threads: the streaming thread; the async worker; a model loader
 * (sppmodelcache.h) when "model" changes while running. Settings sit
 * under the object lock with a generation number, which the engine reads
 * before each inference. The engine sits under detect_lock (uncontended
 * unless async is toggled while playing). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/video/video.h>

#include "spp/error.h"
#include "spp/model.h"

#include "sppmeta.h"
#include "sppdetectengine.h"
#include "sppdetectpropagate.h"
#include "sppdetectworker.h"
#include "sppmodelcache.h"
#include "gstsppdetect.h"

/* Not static: the helpers (spp*.c) log in it too */
GST_DEBUG_CATEGORY (gst_spp_detect_debug);
#define GST_CAT_DEFAULT gst_spp_detect_debug

#define DEFAULT_MODEL NULL
/* Negative: each class's own threshold, chosen on validation data when
 * the model was trained (spp train); the model is the better judge of
 * what its confidences mean than one number for every class. */
#define DEFAULT_THRESHOLD -1.0
#define DEFAULT_NMS_THRESHOLD 0.3
#define DEFAULT_SCALES NULL
/* The fc head runs once per proposal, so its cost is linear in this; 500
 * keeps most of the recall of the paper's 2000 at a quarter of the cost */
/* 0: as many as the model was trained with (proposals.max_boxes). */
#define DEFAULT_MAX_PROPOSALS 0
#define DEFAULT_PROPOSAL_MODE SPP_PROPOSAL_FAST
/* Selective search costs more than the rest of a frame: reuse (shift by
 * the global motion) for 10 frames, as Deep Feature Flow's key-frame
 * interval (docs/method.md 5). */
#define DEFAULT_PROPOSAL_INTERVAL 10
#define DEFAULT_INFERENCE_INTERVAL 1
#define DEFAULT_OBJECT_CLASS NULL
#define DEFAULT_NUM_THREADS 0
#define DEFAULT_ASYNC FALSE

/* Late (QoS) inference frames are deferred at most this many times in a
 * row, so a stream that is always late still gets fresh detections */
#define MAX_QOS_DEFERRALS 4

#define DETECT_FORMATS "{ I420, NV12, YUY2, RGB, BGR, RGBx, BGRx, RGBA, BGRA }"

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_THRESHOLD,
  PROP_NMS_THRESHOLD,
  PROP_SCALES,
  PROP_MAX_PROPOSALS,
  PROP_PROPOSAL_MODE,
  PROP_PROPOSAL_INTERVAL,
  PROP_INFERENCE_INTERVAL,
  PROP_OBJECT_CLASS,
  PROP_NUM_THREADS,
  PROP_ASYNC,
  PROP_ACTIVE_MODEL,
};

struct _GstSppDetect
{
  GstBaseTransform parent;

  /* under the object lock */
  gchar *model_path;            /* as set; NULL: the default path */
  gchar *active_model;          /* path of the model loaded last */
  SppDetectSettings settings;
  guint settings_gen;
  gboolean started;
  SppModelLoader *loader;       /* while started */
  GstClockTime earliest_time;   /* from QoS events */
  GstClockTime latency;         /* reported processing latency */

  /* under detect_lock; while started */
  GMutex detect_lock;
  SppDetectEngine *engine;

  /* while started; each has a lock of its own where it needs one */
  SppPropagator *propagator;
  SppDetectWorker *worker;

  /* streaming thread only */
  GstVideoInfo info;
  guint64 frame_count;
  guint64 next_infer;
  guint qos_deferrals;
};

G_DEFINE_TYPE (GstSppDetect, gst_spp_detect, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (sppdetect, "sppdetect", GST_RANK_NONE,
    GST_TYPE_SPP_DETECT);

GType
gst_spp_detect_proposal_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {SPP_PROPOSAL_FAST, "Selective search fast mode (8 hierarchies)",
        "fast"},
    {SPP_PROPOSAL_QUALITY, "Selective search quality mode (80 hierarchies)",
        "quality"},
    {SPP_PROPOSAL_SINGLE, "One hierarchy (HSV, k = 100): fastest",
        "single"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSppDetectProposalMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gchar *
resolve_model_path (const gchar * path)
{
  return path && *path ? g_strdup (path) : spp_model_get_default_path ();
}

/* ---- Frames ---- */

static gboolean
frame_to_image (const GstVideoFrame * frame, SppImage * img)
{
  switch (GST_VIDEO_FRAME_FORMAT (frame)) {
    case GST_VIDEO_FORMAT_I420:
      img->format = SPP_PIXEL_I420;
      break;
    case GST_VIDEO_FORMAT_NV12:
      img->format = SPP_PIXEL_NV12;
      break;
    case GST_VIDEO_FORMAT_YUY2:
      img->format = SPP_PIXEL_YUY2;
      break;
    case GST_VIDEO_FORMAT_RGB:
      img->format = SPP_PIXEL_RGB;
      break;
    case GST_VIDEO_FORMAT_BGR:
      img->format = SPP_PIXEL_BGR;
      break;
    case GST_VIDEO_FORMAT_RGBx:
      img->format = SPP_PIXEL_RGBX;
      break;
    case GST_VIDEO_FORMAT_BGRx:
      img->format = SPP_PIXEL_BGRX;
      break;
    case GST_VIDEO_FORMAT_RGBA:
      img->format = SPP_PIXEL_RGBA;
      break;
    case GST_VIDEO_FORMAT_BGRA:
      img->format = SPP_PIXEL_BGRA;
      break;
    default:
      return FALSE;
  }
  img->width = GST_VIDEO_FRAME_WIDTH (frame);
  img->height = GST_VIDEO_FRAME_HEIGHT (frame);
  for (guint i = 0; i < SPP_IMAGE_MAX_PLANES; i++) {
    gboolean has = i < GST_VIDEO_FRAME_N_PLANES (frame);
    img->planes[i] = has ? GST_VIDEO_FRAME_PLANE_DATA (frame, i) : NULL;
    img->strides[i] = has ? GST_VIDEO_FRAME_PLANE_STRIDE (frame, i) : 0;
  }
  return TRUE;
}

/* One inference on @img; the caller holds detect_lock. Hands the engine a
 * newly loaded model and changed settings first, then replaces the last
 * detections with the new ones. */
static gboolean
run_inference (GstSppDetect * self, const SppImage * img, guint64 frame_no,
    GError ** error)
{
  SppDetectModel *fresh;
  const SppDetection *dets;
  guint n_dets;

  if (!self->engine) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL, "no model loaded");
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  fresh = self->loader ? spp_model_loader_take (self->loader) : NULL;
  spp_detect_engine_sync_settings (self->engine, &self->settings,
      self->settings_gen);
  GST_OBJECT_UNLOCK (self);
  if (fresh)
    spp_detect_engine_set_model (self->engine, fresh);

  if (!spp_detect_engine_run (self->engine, img, frame_no, &dets, &n_dets,
          error))
    return FALSE;
  spp_propagator_set_results (self->propagator, frame_no, dets, n_dets);
  return TRUE;
}

static gboolean
run_inference_locked (GstSppDetect * self, const SppImage * img,
    guint64 frame_no, GError ** error)
{
  gboolean ok;

  g_mutex_lock (&self->detect_lock);
  ok = run_inference (self, img, frame_no, error);
  g_mutex_unlock (&self->detect_lock);
  return ok;
}

/* The async worker's part, on its thread */
static void
worker_infer (const GstVideoFrame * frame, guint64 frame_no,
    gpointer user_data, GError ** error)
{
  GstSppDetect *self = user_data;
  SppImage img;

  frame_to_image (frame, &img);
  run_inference_locked (self, &img, frame_no, error);
}

/* ---- Messages ---- */

/* The engine found a setting the model cannot honour */
static void
post_settings_warning (const gchar * text, const gchar * detail,
    gpointer user_data)
{
  GstSppDetect *self = user_data;

  if (detail)
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS, ("%s", text), ("%s",
            detail));
  else
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS, ("%s", text), (NULL));
}

/* The loader finished with @path (on its thread) */
static void
model_loaded (const gchar * path, const GError * error, gpointer user_data)
{
  GstSppDetect *self = user_data;
  g_autofree gchar *want = NULL;
  gboolean reverted = FALSE;

  GST_OBJECT_LOCK (self);
  want = resolve_model_path (self->model_path);
  if (!error) {
    g_free (self->active_model);
    self->active_model = g_strdup (path);
  } else if (self->started && g_strcmp0 (want, path) == 0) {
    /* Keep running on the old model, and say so in "model" too (unless
     * another model was asked for meanwhile: the loader is on it) */
    g_free (self->model_path);
    self->model_path = g_strdup (self->active_model);
    reverted = TRUE;
  }
  GST_OBJECT_UNLOCK (self);

  if (!error) {
    GST_INFO_OBJECT (self, "model %s loaded; used from the next frame",
        path);
    return;
  }
  GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
      ("Could not load model \"%s\": %s; keeping the previous model.",
          path, error->message), ("%s", error->message));
  if (reverted)
    g_object_notify (G_OBJECT (self), "model");
}

/* Reports processing latency once it grows past what was announced */
static void
update_latency (GstSppDetect * self, gboolean async)
{
  GstClockTime want = async ? 0 : (GstClockTime)
      spp_detect_engine_get_inference_us (self->engine) * GST_USECOND;
  gboolean post = FALSE;

  GST_OBJECT_LOCK (self);
  if (want > self->latency + self->latency / 4 + GST_MSECOND) {
    /* Announce with headroom so that it is not re-posted every frame */
    self->latency = want + want / 2;
    post = TRUE;
  }
  GST_OBJECT_UNLOCK (self);
  if (post) {
    GST_INFO_OBJECT (self, "processing latency now %" GST_TIME_FORMAT,
        GST_TIME_ARGS (want));
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
  }
}

/* ---- Metas ---- */

typedef struct
{
  GstBuffer *buf;
  gint width, height;
  gint id;
} MetaTarget;

static void
attach_meta (const SppPropagatedBox * b, gpointer user_data)
{
  MetaTarget *t = user_data;
  gint px0 = (gint) floor (b->x0 + 0.5), py0 = (gint) floor (b->y0 + 0.5);
  gint px1 = (gint) floor (b->x1 + 0.5), py1 = (gint) floor (b->y1 + 0.5);
  GstVideoRegionOfInterestMeta *roi;
  GstStructure *s;

  if (!(b->x1 > b->x0 && b->y1 > b->y0) || px1 <= px0 || py1 <= py0)
    return;                     /* moved out of the frame */
  roi = gst_buffer_add_video_region_of_interest_meta (t->buf, b->label,
      px0, py0, px1 - px0, py1 - py0);
  roi->id = t->id++;
  s = gst_structure_new (SPP_META_DETECTION,
      SPP_META_X_MIN, G_TYPE_DOUBLE, b->x0 / t->width,
      SPP_META_Y_MIN, G_TYPE_DOUBLE, b->y0 / t->height,
      SPP_META_X_MAX, G_TYPE_DOUBLE, b->x1 / t->width,
      SPP_META_Y_MAX, G_TYPE_DOUBLE, b->y1 / t->height,
      SPP_META_CONFIDENCE, G_TYPE_DOUBLE, (gdouble) b->confidence,
      SPP_META_LABEL_ID, G_TYPE_INT, b->label_id,
      SPP_META_LABEL, G_TYPE_STRING, b->label,
      SPP_META_PROPAGATED, G_TYPE_BOOLEAN, b->propagated,
      SPP_META_SOURCE_FRAME, G_TYPE_UINT64, b->source_frame, NULL);
  gst_video_region_of_interest_meta_add_param (roi, s);
}

static void
attach_metas (GstSppDetect * self, GstBuffer * buf, guint64 frame_no)
{
  MetaTarget t = {
    .buf = buf,
    .width = GST_VIDEO_INFO_WIDTH (&self->info),
    .height = GST_VIDEO_INFO_HEIGHT (&self->info),
    /* Distinct ids per frame (after any ROI metas already there), so that
     * bindings without meta iteration can fetch them by id */
    .id = gst_buffer_get_n_meta (buf,
        GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE),
  };

  spp_propagator_foreach (self->propagator, frame_no, t.width, t.height,
      attach_meta, &t);
}

/* ---- Streaming ---- */

static gboolean
is_late (GstSppDetect * self, GstBuffer * buf)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstClockTime rt, earliest;

  if (!GST_BUFFER_PTS_IS_VALID (buf))
    return FALSE;
  rt = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  GST_OBJECT_LOCK (self);
  earliest = self->earliest_time;
  GST_OBJECT_UNLOCK (self);
  return GST_CLOCK_TIME_IS_VALID (rt) && GST_CLOCK_TIME_IS_VALID (earliest)
      && rt <= earliest;
}

static GstFlowReturn
gst_spp_detect_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstSppDetect *self = GST_SPP_DETECT (trans);
  guint64 frame_no = self->frame_count++;
  guint interval;
  gboolean async;
  GstVideoFrame frame;
  SppImage img;
  GError *err = NULL;
  g_autoptr (GError) motion_err = NULL;

  /* A gap has no picture to look at; it still counts as a frame */
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP) &&
      gst_buffer_get_size (buf) == 0)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  interval = self->settings.inference_interval;
  async = self->settings.async;
  GST_OBJECT_UNLOCK (self);

  /* Read-only: the pixels are never written, shared memory is not copied */
  if (!gst_video_frame_map (&frame, &self->info, buf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL),
        ("could not map frame %" G_GUINT64_FORMAT, frame_no));
    return GST_FLOW_ERROR;
  }
  frame_to_image (&frame, &img);
  /* Motion is only needed to shift results onto later frames: with
   * inference on every frame (sync) it is skipped, a few ms per frame */
  spp_propagator_update_motion (self->propagator, &img, frame_no,
      async || interval > 1, &motion_err);
  if (motion_err)
    GST_DEBUG_OBJECT (self, "motion: %s", motion_err->message);

  if (async) {
    err = spp_detect_worker_take_error (self->worker);
    if (!err)
      spp_detect_worker_offer (self->worker, &self->info, &frame, frame_no);
  } else if (frame_no >= self->next_infer) {
    if (spp_propagator_has_results (self->propagator) &&
        self->qos_deferrals < MAX_QOS_DEFERRALS && is_late (self, buf)) {
      /* Too late to be shown anyway: spend no time on it, try the next */
      self->qos_deferrals++;
      GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " late, inference "
          "deferred", frame_no);
    } else {
      if (run_inference_locked (self, &img, frame_no, &err))
        self->next_infer = frame_no + interval;
      self->qos_deferrals = 0;
    }
  }
  gst_video_frame_unmap (&frame);

  if (err) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED,
        ("Detection failed on frame %" G_GUINT64_FORMAT ".", frame_no),
        ("%s", err->message));
    g_error_free (err);
    return GST_FLOW_ERROR;
  }
  update_latency (self, async);
  attach_metas (self, buf, frame_no);
  return GST_FLOW_OK;
}

/* What the stream's past says about the next frame no longer holds (a
 * flushing seek, a new frame size): drop the last detections, the
 * proposals and the motion history, and infer on the next frame. Called
 * from the streaming thread, between frames. */
static void
forget_stream (GstSppDetect * self)
{
  if (self->propagator)
    spp_propagator_forget (self->propagator);
  g_mutex_lock (&self->detect_lock);
  if (self->engine)
    spp_detect_engine_reset_proposals (self->engine);
  g_mutex_unlock (&self->detect_lock);
  self->next_infer = self->frame_count;
}

static gboolean
gst_spp_detect_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstSppDetect *self = GST_SPP_DETECT (trans);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, incaps)) {
    GST_ERROR_OBJECT (self, "invalid caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  if (GST_VIDEO_INFO_WIDTH (&info) != GST_VIDEO_INFO_WIDTH (&self->info) ||
      GST_VIDEO_INFO_HEIGHT (&self->info) != GST_VIDEO_INFO_HEIGHT (&info)) {
    /* A new size: old boxes mean nothing on it */
    forget_stream (self);
  }
  self->info = info;
  GST_DEBUG_OBJECT (self, "%s %dx%d", GST_VIDEO_INFO_NAME (&info),
      GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info));
  return TRUE;
}

static gboolean
gst_spp_detect_propose_allocation (GstBaseTransform * trans,
    GstQuery * decide_query, GstQuery * query)
{
  /* In place: the default asks downstream. Strided and padded frames are
   * fine for us too, as we map through GstVideoMeta. */
  GST_BASE_TRANSFORM_CLASS (gst_spp_detect_parent_class)->propose_allocation
      (trans, decide_query, query);
  if (!gst_query_find_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL))
    gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  return TRUE;
}

static gboolean
gst_spp_detect_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstSppDetect *self = GST_SPP_DETECT (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_QOS) {
    GstQOSType type;
    gdouble proportion;
    GstClockTimeDiff diff;
    GstClockTime ts;

    gst_event_parse_qos (event, &type, &proportion, &diff, &ts);
    GST_OBJECT_LOCK (self);
    /* As GstBaseTransform: a frame due before this is already late */
    if (diff > 0)
      self->earliest_time = ts + 2 * diff;
    else
      self->earliest_time = ts + diff;
    GST_OBJECT_UNLOCK (self);
  }
  return GST_BASE_TRANSFORM_CLASS (gst_spp_detect_parent_class)->src_event
      (trans, event);
}

static gboolean
gst_spp_detect_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstSppDetect *self = GST_SPP_DETECT (trans);
  gboolean ret = GST_BASE_TRANSFORM_CLASS (gst_spp_detect_parent_class)->query
      (trans, direction, query);

  if (ret && direction == GST_PAD_SRC &&
      GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max, lat;

    gst_query_parse_latency (query, &live, &min, &max);
    GST_OBJECT_LOCK (self);
    lat = self->latency;
    GST_OBJECT_UNLOCK (self);
    min += lat;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += lat;
    GST_DEBUG_OBJECT (self, "latency + %" GST_TIME_FORMAT, GST_TIME_ARGS (lat));
    gst_query_set_latency (query, live, min, max);
  }
  return ret;
}

static gboolean
gst_spp_detect_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstSppDetect *self = GST_SPP_DETECT (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    GST_OBJECT_LOCK (self);
    self->earliest_time = GST_CLOCK_TIME_NONE;
    GST_OBJECT_UNLOCK (self);
    /* A flushing seek: the next frame may show anything */
    forget_stream (self);
  }
  return GST_BASE_TRANSFORM_CLASS (gst_spp_detect_parent_class)->sink_event
      (trans, event);
}

static gboolean
gst_spp_detect_start (GstBaseTransform * trans)
{
  GstSppDetect *self = GST_SPP_DETECT (trans);
  g_autofree gchar *path = NULL;
  g_autoptr (GError) err = NULL;
  SppDetectModel *model;

  GST_OBJECT_LOCK (self);
  path = resolve_model_path (self->model_path);
  GST_OBJECT_UNLOCK (self);

  model = spp_detect_model_load (path, &err);
  if (!model) {
    if (!g_file_test (path, G_FILE_TEST_EXISTS))
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Model file \"%s\" not found.", path), ("%s", err->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Could not load model \"%s\": %s", path, err->message),
          ("%s", err->message));
    return FALSE;
  }

  g_mutex_lock (&self->detect_lock);
  self->engine = spp_detect_engine_new (model, post_settings_warning, self);
  GST_INFO_OBJECT (self, "model %s: %u classes", path,
      spp_detect_engine_get_n_classes (self->engine));
  g_mutex_unlock (&self->detect_lock);

  self->propagator = spp_propagator_new (self);
  self->frame_count = 0;
  self->next_infer = 0;
  self->qos_deferrals = 0;

  GST_OBJECT_LOCK (self);
  g_free (self->active_model);
  self->active_model = g_strdup (path);
  self->loader = spp_model_loader_new (model_loaded, self);
  self->earliest_time = GST_CLOCK_TIME_NONE;
  self->latency = 0;
  self->started = TRUE;
  GST_OBJECT_UNLOCK (self);

  self->worker = spp_detect_worker_new (worker_infer, self);
  return TRUE;
}

/* What start() set up; the worker first, as it uses all the rest */
static void
gst_spp_detect_clear (GstSppDetect * self)
{
  SppModelLoader *loader;

  g_clear_pointer (&self->worker, spp_detect_worker_free);

  GST_OBJECT_LOCK (self);
  self->started = FALSE;
  loader = g_steal_pointer (&self->loader);
  GST_OBJECT_UNLOCK (self);
  /* Without the object lock: a load that ends meanwhile reports under it */
  spp_model_loader_free (loader);

  g_mutex_lock (&self->detect_lock);
  g_clear_pointer (&self->engine, spp_detect_engine_free);
  g_mutex_unlock (&self->detect_lock);
  g_clear_pointer (&self->propagator, spp_propagator_free);
}

static gboolean
gst_spp_detect_stop (GstBaseTransform * trans)
{
  GstSppDetect *self = GST_SPP_DETECT (trans);

  gst_spp_detect_clear (self);
  gst_video_info_init (&self->info);
  return TRUE;
}

/* ---- Properties ---- */

static gboolean
parse_object_class (const gchar * str, gchar *** out)
{
  g_auto (GStrv) parts = NULL;
  GPtrArray *keep;

  *out = NULL;
  if (!str || !*str)
    return TRUE;
  parts = g_strsplit (str, ",", -1);
  keep = g_ptr_array_new ();
  for (guint i = 0; parts[i]; i++) {
    gchar *p = g_strstrip (parts[i]);
    if (*p)
      g_ptr_array_add (keep, g_strdup (p));
  }
  if (keep->len == 0) {
    g_ptr_array_free (keep, TRUE);
    return FALSE;
  }
  g_ptr_array_add (keep, NULL);
  *out = (gchar **) g_ptr_array_free (keep, FALSE);
  return TRUE;
}

static void
gst_spp_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSppDetect *self = GST_SPP_DETECT (object);
  SppDetectSettings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      if (self->started) {
        g_autofree gchar *path = resolve_model_path (self->model_path);

        spp_model_loader_request (self->loader, path);
      }
      break;
    case PROP_THRESHOLD:
      s->threshold = g_value_get_double (value);
      break;
    case PROP_NMS_THRESHOLD:
      s->nms_threshold = g_value_get_double (value);
      break;
    case PROP_SCALES:{
      guint scales[SPP_DETECT_MAX_SCALES], n;
      g_autoptr (GError) why = NULL;
      const gchar *str = g_value_get_string (value);

      if (!spp_scales_parse (str, scales, SPP_DETECT_MAX_SCALES, &n, &why)) {
        GST_WARNING_OBJECT (self, "%s; keeping the previous value",
            why->message);
        break;
      }
      memcpy (s->scales, scales, sizeof (scales));
      s->n_scales = n;
      break;
    }
    case PROP_MAX_PROPOSALS:
      s->max_proposals = g_value_get_uint (value);
      break;
    case PROP_PROPOSAL_MODE:
      s->proposal_mode = g_value_get_enum (value);
      break;
    case PROP_PROPOSAL_INTERVAL:
      s->proposal_interval = g_value_get_uint (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      s->inference_interval = g_value_get_uint (value);
      break;
    case PROP_OBJECT_CLASS:{
      gchar **classes;
      const gchar *str = g_value_get_string (value);

      if (!parse_object_class (str, &classes)) {
        GST_WARNING_OBJECT (self, "object-class \"%s\" names no class; "
            "keeping the previous value", str);
        break;
      }
      g_strfreev (s->object_class);
      s->object_class = classes;
      break;
    }
    case PROP_NUM_THREADS:
      s->num_threads = g_value_get_int (value);
      break;
    case PROP_ASYNC:
      s->async = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  self->settings_gen++;
  GST_OBJECT_UNLOCK (self);
}

static gchar *
scales_to_string (const SppDetectSettings * s)
{
  GString *str;

  if (s->n_scales == 0)
    return NULL;
  str = g_string_new (NULL);
  for (guint i = 0; i < s->n_scales; i++)
    g_string_append_printf (str, "%s%u", i ? "," : "", s->scales[i]);
  return g_string_free (str, FALSE);
}

static void
gst_spp_detect_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstSppDetect *self = GST_SPP_DETECT (object);
  SppDetectSettings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, s->threshold);
      break;
    case PROP_NMS_THRESHOLD:
      g_value_set_double (value, s->nms_threshold);
      break;
    case PROP_SCALES:
      g_value_take_string (value, scales_to_string (s));
      break;
    case PROP_MAX_PROPOSALS:
      g_value_set_uint (value, s->max_proposals);
      break;
    case PROP_PROPOSAL_MODE:
      g_value_set_enum (value, s->proposal_mode);
      break;
    case PROP_PROPOSAL_INTERVAL:
      g_value_set_uint (value, s->proposal_interval);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_uint (value, s->inference_interval);
      break;
    case PROP_OBJECT_CLASS:
      g_value_take_string (value, s->object_class ?
          g_strjoinv (",", s->object_class) : NULL);
      break;
    case PROP_NUM_THREADS:
      g_value_set_int (value, s->num_threads);
      break;
    case PROP_ASYNC:
      g_value_set_boolean (value, s->async);
      break;
    case PROP_ACTIVE_MODEL:
      g_value_set_string (value, self->active_model);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_spp_detect_finalize (GObject * object)
{
  GstSppDetect *self = GST_SPP_DETECT (object);

  gst_spp_detect_clear (self);
  g_free (self->model_path);
  g_free (self->active_model);
  spp_detect_settings_clear (&self->settings);
  g_mutex_clear (&self->detect_lock);
  G_OBJECT_CLASS (gst_spp_detect_parent_class)->finalize (object);
}

static void
gst_spp_detect_class_init (GstSppDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw_playing = G_PARAM_READWRITE |
      GST_PARAM_MUTABLE_PLAYING | G_PARAM_STATIC_STRINGS;
  GstCaps *caps;

  GST_DEBUG_CATEGORY_INIT (gst_spp_detect_debug, "sppdetect", 0,
      "SPP-net detector");

  gobject_class->set_property = gst_spp_detect_set_property;
  gobject_class->get_property = gst_spp_detect_get_property;
  gobject_class->finalize = gst_spp_detect_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Model file (NULL: $SPP_MODEL_PATH, else the bundled model). "
          "Set while playing, it is loaded in the background and used from "
          "the next frame; on failure the previous model stays",
          DEFAULT_MODEL, rw_playing));
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Minimum confidence of a detection (0..1); -1: each class's "
          "threshold from the model", -1.0, 1.0, DEFAULT_THRESHOLD,
          rw_playing));
  g_object_class_install_property (gobject_class, PROP_NMS_THRESHOLD,
      g_param_spec_double ("nms-threshold", "NMS threshold",
          "Intersection over union above which per-class non-maximum "
          "suppression drops the weaker box", 0.0, 1.0,
          DEFAULT_NMS_THRESHOLD, rw_playing));
  g_object_class_install_property (gobject_class, PROP_SCALES,
      g_param_spec_string ("scales", "Scales",
          "Comma-separated shorter-side scales in pixels, each in "
          "[32, 4096], at most 8 (e.g. \"480,688\"); NULL or empty: the "
          "model's", DEFAULT_SCALES, rw_playing));
  g_object_class_install_property (gobject_class, PROP_MAX_PROPOSALS,
      g_param_spec_uint ("max-proposals", "Max proposals",
          "Region proposals scored per inference (cost is linear in it; the "
          "paper uses 2000); 0: the number the model was trained with", 0,
          20000, DEFAULT_MAX_PROPOSALS, rw_playing));
  g_object_class_install_property (gobject_class, PROP_PROPOSAL_MODE,
      g_param_spec_enum ("proposal-mode", "Proposal mode",
          "Selective search strategy set", GST_TYPE_SPP_DETECT_PROPOSAL_MODE,
          DEFAULT_PROPOSAL_MODE, rw_playing));
  g_object_class_install_property (gobject_class, PROP_PROPOSAL_INTERVAL,
      g_param_spec_uint ("proposal-interval", "Proposal interval",
          "Recompute proposals at least every this many inferences; in "
          "between they are reused or shifted by the global motion "
          "(1: every inference)", 1, G_MAXINT, DEFAULT_PROPOSAL_INTERVAL,
          rw_playing));
  g_object_class_install_property (gobject_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_uint ("inference-interval", "Inference interval",
          "Run inference on every Nth frame (1: every frame); frames in "
          "between get the last detections shifted by the global motion, "
          "with propagated=TRUE", 1, G_MAXINT, DEFAULT_INFERENCE_INTERVAL,
          rw_playing));
  g_object_class_install_property (gobject_class, PROP_OBJECT_CLASS,
      g_param_spec_string ("object-class", "Object class",
          "Comma-separated labels to keep (NULL: all); labels the model "
          "does not know are ignored with a warning", DEFAULT_OBJECT_CLASS,
          rw_playing));
  g_object_class_install_property (gobject_class, PROP_NUM_THREADS,
      g_param_spec_int ("num-threads", "Threads",
          "Threads for region proposals (0: all cores; use 1 when running "
          "one instance per core)", 0, 256, DEFAULT_NUM_THREADS,
          rw_playing));
  g_object_class_install_property (gobject_class, PROP_ASYNC,
      g_param_spec_boolean ("async", "Asynchronous",
          "Never hold frames: a worker infers on the newest frame and each "
          "frame gets the newest finished detections, shifted by motion "
          "and marked propagated", DEFAULT_ASYNC, rw_playing));

  g_object_class_install_property (gobject_class, PROP_ACTIVE_MODEL,
      g_param_spec_string ("active-model", "Active model",
          "Path of the model in use (after a swap: once it has loaded)",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  caps = gst_caps_from_string (GST_VIDEO_CAPS_MAKE (DETECT_FORMATS));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref (caps);

  gst_element_class_set_static_metadata (element_class,
      "SPP-net object detector", "Filter/Analyzer/Video",
      "Detects objects with SPP-net and attaches region-of-interest metas",
      "sppdetect developers");

  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_spp_detect_transform_ip);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_spp_detect_set_caps);
  trans_class->propose_allocation =
      GST_DEBUG_FUNCPTR (gst_spp_detect_propose_allocation);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_spp_detect_src_event);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_spp_detect_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_spp_detect_query);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_spp_detect_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_spp_detect_stop);

  gst_type_mark_as_plugin_api (GST_TYPE_SPP_DETECT_PROPOSAL_MODE, 0);
}

static void
gst_spp_detect_init (GstSppDetect * self)
{
  SppDetectSettings *s = &self->settings;

  s->threshold = DEFAULT_THRESHOLD;
  s->nms_threshold = DEFAULT_NMS_THRESHOLD;
  s->n_scales = 0;
  s->max_proposals = DEFAULT_MAX_PROPOSALS;
  s->proposal_mode = DEFAULT_PROPOSAL_MODE;
  s->proposal_interval = DEFAULT_PROPOSAL_INTERVAL;
  s->inference_interval = DEFAULT_INFERENCE_INTERVAL;
  s->object_class = NULL;
  s->num_threads = DEFAULT_NUM_THREADS;
  s->async = DEFAULT_ASYNC;
  self->settings_gen = 1;
  self->model_path = g_strdup (DEFAULT_MODEL);

  g_mutex_init (&self->detect_lock);
  self->earliest_time = GST_CLOCK_TIME_NONE;
  gst_video_info_init (&self->info);

  /* In place: we only add metas, so no output buffer is allocated */
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
