/* sppdetect: runs the SPP-net detector (libspp) on raw video and attaches
 * one GstVideoRegionOfInterestMeta per detection, DL Streamer style
 * (docs/elements.md: roi_type = label, x/y/w/h in pixels, a "detection"
 * param with normalised x_min..y_max, confidence, label_id, label).
 *
 * Pixels are never written: buffers are mapped read-only, so frames in
 * shared memory are not copied.
 *
 * Three ways a frame gets its detections:
 *  - inference frames (every inference-interval-th frame, async=false):
 *    proposals from the per-stream SppVideoProposals, then the detector;
 *  - frames in between: the last detections shifted by the frames'
 *    global motion, marked propagated=TRUE with the source frame;
 *  - async=true: frames never wait; a worker thread infers on the newest
 *    frame and each frame gets the newest finished detections, shifted.
 *
 * Threads: the streaming thread; the async worker; a model loader when
 * "model" changes while running. Settings sit under the object lock and
 * carry a generation number, so the thread that owns the detector applies
 * them once, before its next inference. The detector, the video
 * proposals and the engine swap sit under detect_lock (uncontended unless
 * async is toggled while playing). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include <gst/video/video.h>

#include "spp/detector.h"
#include "spp/error.h"
#include "spp/model.h"
#include "spp/proposals.h"
#include "spp/video-proposals.h"

#include "sppmeta.h"
#include "gstsppdetect.h"

GST_DEBUG_CATEGORY_STATIC (gst_spp_detect_debug);
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

#define MAX_SCALES 8
/* Frames a propagated result may come from; older ones are dropped */
#define MOTION_HISTORY 1024
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

/* What the user asked for; copied under the object lock */
typedef struct
{
  gdouble threshold;
  gdouble nms_threshold;
  guint scales[MAX_SCALES];
  guint n_scales;               /* 0: the model's */
  guint max_proposals;
  SppProposalMode proposal_mode;
  guint proposal_interval;
  guint inference_interval;
  gchar **object_class;         /* NULL: every class */
  gint num_threads;
  gboolean async;
} Settings;

/* A loaded model, its detector and what depends on the model */
typedef struct
{
  SppModel *model;
  gchar *cache_key;
  SppDetector *detector;
  gboolean *keep;               /* per class id; NULL: keep all */
  guint n_classes;
} Engine;

typedef struct
{
  SppBox box;
  gint label_id;
  gfloat confidence;
  const gchar *label;           /* interned: outlives any model */
} Det;

/* Cumulative global motion at one frame */
typedef struct
{
  guint64 frame;
  gdouble x, y;
  guint cut_epoch;
} MotionEntry;

struct _GstSppDetect
{
  GstBaseTransform parent;

  /* under the object lock */
  gchar *model_path;            /* as set; NULL: the default path */
  gchar *active_model;          /* path of the model loaded last */
  Settings settings;
  guint settings_gen;
  Engine *pending_engine;       /* loaded by the loader, not yet in use */
  gboolean started;
  GstClockTime earliest_time;   /* from QoS events */
  GstClockTime latency;         /* reported processing latency */
  gboolean loader_running;
  GCond loader_cond;

  /* under detect_lock */
  GMutex detect_lock;
  Engine *engine;
  SppVideoProposals *video_props; /* proposals, reused across frames */
  guint applied_gen;
  Settings applied;             /* the settings the engine now runs with */
  gint ema_us;                  /* smoothed inference time; atomic: the
                                 * streaming thread reads it for latency */

  /* results, under results_lock */
  GMutex results_lock;
  GArray *results;              /* Det */
  guint64 results_frame;
  gboolean have_results;

  /* streaming thread only */
  GstVideoInfo info;
  guint64 frame_count;
  guint64 next_infer;
  guint qos_deferrals;
  SppVideoProposals *motion;           /* global motion, every frame */
  gboolean motion_stale;        /* frames went by without it */
  MotionEntry history[MOTION_HISTORY];
  MotionEntry cur_motion;

  /* async worker, under async_lock */
  GMutex async_lock;
  GCond async_cond;
  GThread *worker;
  gboolean worker_stop;
  gboolean worker_busy;
  GstBuffer *pending_frame;     /* our own copy */
  guint64 pending_frame_no;
  GstVideoInfo pending_info;
  GError *worker_error;
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

/* ---- Model cache: instances using one file share one SppModel ---- */

typedef struct
{
  SppModel *model;
  guint users;
} CacheEntry;

static GMutex cache_lock;
static GHashTable *cache;       /* cache key -> CacheEntry */

/* The key includes the file's identity and mtime, so a file replaced on
 * disk is loaded again instead of served stale. */
static gchar *
cache_key_for (const gchar * path)
{
  struct stat st;

  if (stat (path, &st) != 0)
    return g_strdup (path);
  return g_strdup_printf ("%s\n%ju:%ju:%jd:%ld:%jd", path,
      (uintmax_t) st.st_dev, (uintmax_t) st.st_ino, (intmax_t) st.st_mtime,
      (long) st.st_mtim.tv_nsec, (intmax_t) st.st_size);
}

/* Returns a new reference, and *key to hand back to cache_release() */
static SppModel *
cache_acquire (const gchar * path, gchar ** key, GError ** error)
{
  g_autofree gchar *k = cache_key_for (path);
  CacheEntry *e;
  SppModel *model;

  g_mutex_lock (&cache_lock);
  if (!cache)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  e = g_hash_table_lookup (cache, k);
  if (e) {
    e->users++;
    model = spp_model_ref (e->model);
    g_mutex_unlock (&cache_lock);
    *key = g_steal_pointer (&k);
    return model;
  }
  g_mutex_unlock (&cache_lock);

  /* Load outside the lock: other instances keep running meanwhile */
  model = spp_model_load (path, error);
  if (!model)
    return NULL;

  g_mutex_lock (&cache_lock);
  e = g_hash_table_lookup (cache, k);
  if (e) {
    /* Another instance loaded the same file meanwhile: use its copy */
    spp_model_unref (model);
    model = e->model;
  } else {
    e = g_new0 (CacheEntry, 1);
    e->model = model;
    g_hash_table_insert (cache, g_strdup (k), e);
  }
  e->users++;
  model = spp_model_ref (e->model);
  g_mutex_unlock (&cache_lock);
  *key = g_steal_pointer (&k);
  return model;
}

static void
cache_release (const gchar * key)
{
  CacheEntry *e;

  g_mutex_lock (&cache_lock);
  e = cache ? g_hash_table_lookup (cache, key) : NULL;
  if (e && --e->users == 0) {
    spp_model_unref (e->model);
    g_hash_table_remove (cache, key);
  }
  g_mutex_unlock (&cache_lock);
}

static void
engine_free (Engine * eng)
{
  if (!eng)
    return;
  if (eng->detector)
    spp_detector_free (eng->detector);
  if (eng->model)
    spp_model_unref (eng->model);
  if (eng->cache_key)
    cache_release (eng->cache_key);
  g_free (eng->cache_key);
  g_free (eng->keep);
  g_free (eng);
}

static Engine *
engine_new (const gchar * path, GError ** error)
{
  Engine *eng = g_new0 (Engine, 1);

  eng->model = cache_acquire (path, &eng->cache_key, error);
  if (!eng->model)
    goto fail;
  if (!spp_model_has_detector (eng->model)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
        "%s: the model has no detector (SVMs); it can only compute "
        "features", path);
    goto fail;
  }
  eng->detector = spp_detector_new (eng->model, error);
  if (!eng->detector)
    goto fail;
  eng->n_classes = spp_model_get_n_classes (eng->model);
  return eng;

fail:
  engine_free (eng);
  return NULL;
}

static gchar *
resolve_model_path (const gchar * path)
{
  return path && *path ? g_strdup (path) : spp_model_get_default_path ();
}

/* ---- Settings ---- */

static void
settings_clear (Settings * s)
{
  g_clear_pointer (&s->object_class, g_strfreev);
}

static void
settings_copy (Settings * dst, const Settings * src)
{
  settings_clear (dst);
  *dst = *src;
  dst->object_class = g_strdupv (src->object_class);
}

/* Applies settings to the engine and the proposals; under detect_lock */
static void
apply_settings (GstSppDetect * self, const Settings * s, gboolean new_engine)
{
  Engine *eng = self->engine;
  SppProposalParams params;
  g_autoptr (GError) err = NULL;

  spp_detector_set_threshold (eng->detector, (gfloat) s->threshold);
  spp_detector_set_nms_threshold (eng->detector, (gfloat) s->nms_threshold);
  if (s->n_scales > 0) {
    if (!spp_detector_set_scales (eng->detector, s->scales, s->n_scales,
            &err)) {
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
          ("Invalid scales for model \"%s\".",
              spp_model_get_path (eng->model)), ("%s", err->message));
      g_clear_error (&err);
    }
  } else {
    guint n;
    const guint *ms = spp_model_get_scales (eng->model, &n);
    if (ms && n > 0 && !spp_detector_set_scales (eng->detector, ms, n, &err)) {
      GST_WARNING_OBJECT (self, "model scales: %s", err->message);
      g_clear_error (&err);
    }
  }

  spp_proposal_params_init (&params);
  /* The model's training-time proposal settings (min box size), then the
   * element's properties. */
  spp_model_get_proposal_params (eng->model, &params);
  params.mode = s->proposal_mode;
  if (s->max_proposals > 0)
    params.max_boxes = s->max_proposals;
  params.n_threads = (guint) MAX (s->num_threads, 0);
  if (self->video_props) {
    spp_video_proposals_set_params (self->video_props, &params);
    spp_video_proposals_set_interval (self->video_props, s->proposal_interval);
  } else {
    self->video_props = spp_video_proposals_new (&params, s->proposal_interval);
  }

  /* object-class: resolve labels against this model's */
  g_clear_pointer (&eng->keep, g_free);
  if (s->object_class) {
    g_autoptr (GString) unknown = g_string_new (NULL);

    eng->keep = g_new0 (gboolean, MAX (eng->n_classes, 1));
    for (guint i = 0; s->object_class[i]; i++) {
      int id = spp_model_find_label (eng->model, s->object_class[i]);
      if (id >= 0 && (guint) id < eng->n_classes)
        eng->keep[id] = TRUE;
      else
        g_string_append_printf (unknown, "%s\"%s\"", unknown->len ? ", " : "",
            s->object_class[i]);
    }
    if (unknown->len) {
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
          ("object-class: unknown label(s) %s for model \"%s\"; ignored.",
              unknown->str, spp_model_get_path (eng->model)), (NULL));
    }
  }
  GST_DEBUG_OBJECT (self, "settings applied%s", new_engine ?
      " (new model)" : "");
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

/* One inference on @img; the caller holds detect_lock. Swaps in a newly
 * loaded model and applies changed settings first, then replaces the
 * results. */
static gboolean
run_inference (GstSppDetect * self, const SppImage * img, guint64 frame_no,
    GError ** error)
{
  Engine *fresh;
  guint gen;
  const SppBox *boxes;
  guint n_boxes = 0, n_dets = 0;
  const SppDetection *dets = NULL;
  SppVideoProposalsAction action;
  gint64 t0 = g_get_monotonic_time (), dt;
  gboolean new_engine = FALSE;

  GST_OBJECT_LOCK (self);
  fresh = g_steal_pointer (&self->pending_engine);
  gen = self->settings_gen;
  if (fresh || gen != self->applied_gen)
    settings_copy (&self->applied, &self->settings);
  GST_OBJECT_UNLOCK (self);

  if (fresh) {
    GST_INFO_OBJECT (self, "switching to model %s",
        spp_model_get_path (fresh->model));
    engine_free (self->engine);
    self->engine = fresh;
    new_engine = TRUE;
  }
  if (!self->engine) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL, "no model loaded");
    return FALSE;
  }
  if (new_engine || gen != self->applied_gen) {
    apply_settings (self, &self->applied, new_engine);
    self->applied_gen = gen;
  }

  boxes = spp_video_proposals_update (self->video_props, img, TRUE, &n_boxes,
                                      &action,
      error);
  if (!boxes && error && *error)
    return FALSE;
  if (!spp_detector_detect (self->engine->detector, img, boxes, n_boxes,
          &dets, &n_dets, error))
    return FALSE;

  g_mutex_lock (&self->results_lock);
  g_array_set_size (self->results, 0);
  for (guint i = 0; i < n_dets; i++) {
    const SppDetection *d = &dets[i];
    Det r;

    if (self->engine->keep && (d->label_id < 0 ||
            (guint) d->label_id >= self->engine->n_classes ||
            !self->engine->keep[d->label_id]))
      continue;
    r.box = d->box;
    r.label_id = d->label_id;
    r.confidence = d->confidence;
    r.label = g_intern_string (d->label ? d->label : "");
    g_array_append_val (self->results, r);
  }
  self->results_frame = frame_no;
  self->have_results = TRUE;
  g_mutex_unlock (&self->results_lock);

  dt = MIN (g_get_monotonic_time () - t0, G_MAXINT / 2);
  {
    gint ema = g_atomic_int_get (&self->ema_us);
    g_atomic_int_set (&self->ema_us, ema == 0 ? (gint) dt :
        (gint) (0.9 * ema + 0.1 * dt));
  }
  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT ": %u proposals (%s), "
      "%u detections, %" G_GINT64_FORMAT " us", frame_no, n_boxes,
      action == SPP_VIDEO_PROPOSALS_REUSED ? "reused" :
      action == SPP_VIDEO_PROPOSALS_SHIFTED ? "shifted" :
      action == SPP_VIDEO_PROPOSALS_PARTIAL ? "partial" : "recomputed",
      n_dets, dt);
  return TRUE;
}

/* Reports processing latency once it grows past what was announced */
static void
update_latency (GstSppDetect * self, gboolean async)
{
  GstClockTime want = async ? 0 :
      (GstClockTime) g_atomic_int_get (&self->ema_us) * GST_USECOND;
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

static void
attach_metas (GstSppDetect * self, GstBuffer * buf, guint64 frame_no)
{
  gint W = GST_VIDEO_INFO_WIDTH (&self->info);
  gint H = GST_VIDEO_INFO_HEIGHT (&self->info);
  const MotionEntry *src;
  gdouble dx = 0, dy = 0;
  gboolean propagated;
  guint64 source;
  /* Distinct ids per frame (after any ROI metas already there), so that
   * bindings without meta iteration can fetch them by id */
  gint id = gst_buffer_get_n_meta (buf,
      GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE);

  g_mutex_lock (&self->results_lock);
  if (!self->have_results || self->results->len == 0)
    goto done;
  source = self->results_frame;
  propagated = source != frame_no;
  if (propagated) {
    if (source > frame_no)
      goto done;                /* after a restart; never shift backwards */
    src = &self->history[source % MOTION_HISTORY];
    if (src->frame != source || frame_no - source >= MOTION_HISTORY) {
      GST_DEBUG_OBJECT (self, "results of frame %" G_GUINT64_FORMAT
          " too old to propagate", source);
      goto done;
    }
    if (src->cut_epoch != self->cur_motion.cut_epoch)
      goto done;                /* a scene cut since: the boxes are stale */
    dx = self->cur_motion.x - src->x;
    dy = self->cur_motion.y - src->y;
  }

  for (guint i = 0; i < self->results->len; i++) {
    const Det *d = &g_array_index (self->results, Det, i);
    gdouble x0 = CLAMP (d->box.x + dx, 0, W);
    gdouble y0 = CLAMP (d->box.y + dy, 0, H);
    gdouble x1 = CLAMP (d->box.x + d->box.w + dx, 0, W);
    gdouble y1 = CLAMP (d->box.y + d->box.h + dy, 0, H);
    gint px0 = (gint) floor (x0 + 0.5), py0 = (gint) floor (y0 + 0.5);
    gint px1 = (gint) floor (x1 + 0.5), py1 = (gint) floor (y1 + 0.5);
    GstVideoRegionOfInterestMeta *roi;
    GstStructure *s;

    if (!(x1 > x0 && y1 > y0) || px1 <= px0 || py1 <= py0)
      continue;                 /* moved out of the frame */
    roi = gst_buffer_add_video_region_of_interest_meta (buf, d->label,
        px0, py0, px1 - px0, py1 - py0);
    roi->id = id++;
    s = gst_structure_new (SPP_META_DETECTION,
        SPP_META_X_MIN, G_TYPE_DOUBLE, x0 / W,
        SPP_META_Y_MIN, G_TYPE_DOUBLE, y0 / H,
        SPP_META_X_MAX, G_TYPE_DOUBLE, x1 / W,
        SPP_META_Y_MAX, G_TYPE_DOUBLE, y1 / H,
        SPP_META_CONFIDENCE, G_TYPE_DOUBLE, (gdouble) d->confidence,
        SPP_META_LABEL_ID, G_TYPE_INT, d->label_id,
        SPP_META_LABEL, G_TYPE_STRING, d->label,
        SPP_META_PROPAGATED, G_TYPE_BOOLEAN, propagated,
        SPP_META_SOURCE_FRAME, G_TYPE_UINT64, source, NULL);
    gst_video_region_of_interest_meta_add_param (roi, s);
  }
done:
  g_mutex_unlock (&self->results_lock);
}

/* ---- Async worker ---- */

static gpointer
worker_main (gpointer data)
{
  GstSppDetect *self = data;

  g_mutex_lock (&self->async_lock);
  for (;;) {
    GstBuffer *buf;
    GstVideoInfo info;
    GstVideoFrame frame;
    guint64 frame_no;
    GError *err = NULL;
    SppImage img;

    while (!self->pending_frame && !self->worker_stop)
      g_cond_wait (&self->async_cond, &self->async_lock);
    if (self->worker_stop)
      break;
    buf = g_steal_pointer (&self->pending_frame);
    frame_no = self->pending_frame_no;
    info = self->pending_info;
    self->worker_busy = TRUE;
    g_mutex_unlock (&self->async_lock);

    if (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ)) {
      frame_to_image (&frame, &img);
      g_mutex_lock (&self->detect_lock);
      run_inference (self, &img, frame_no, &err);
      g_mutex_unlock (&self->detect_lock);
      gst_video_frame_unmap (&frame);
    }
    gst_buffer_unref (buf);

    g_mutex_lock (&self->async_lock);
    self->worker_busy = FALSE;
    if (err) {
      if (self->worker_error)
        g_error_free (err);
      else
        self->worker_error = err;
    }
  }
  g_mutex_unlock (&self->async_lock);
  return NULL;
}

/* Hands a copy of the frame to the worker if it is idle: the copy it
 * takes next is always the newest frame, and a busy worker costs the
 * streaming thread nothing. */
static void
offer_frame (GstSppDetect * self, GstVideoFrame * frame, guint64 frame_no)
{
  GstBuffer *copy;
  GstVideoFrame dst;

  g_mutex_lock (&self->async_lock);
  if (self->worker_busy || self->pending_frame) {
    g_mutex_unlock (&self->async_lock);
    return;
  }
  g_mutex_unlock (&self->async_lock);

  copy = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&self->info),
      NULL);
  if (!copy || !gst_video_frame_map (&dst, &self->info, copy, GST_MAP_WRITE)) {
    g_clear_pointer (&copy, gst_buffer_unref);
    return;
  }
  gst_video_frame_copy (&dst, frame);
  gst_video_frame_unmap (&dst);

  g_mutex_lock (&self->async_lock);
  gst_clear_buffer (&self->pending_frame);
  self->pending_frame = copy;
  self->pending_frame_no = frame_no;
  self->pending_info = self->info;
  g_cond_signal (&self->async_cond);
  g_mutex_unlock (&self->async_lock);
}

static void
stop_worker (GstSppDetect * self)
{
  if (!self->worker)
    return;
  g_mutex_lock (&self->async_lock);
  self->worker_stop = TRUE;
  g_cond_signal (&self->async_cond);
  g_mutex_unlock (&self->async_lock);
  g_thread_join (self->worker);
  self->worker = NULL;
  gst_clear_buffer (&self->pending_frame);
  g_clear_error (&self->worker_error);
  self->worker_stop = FALSE;
  self->worker_busy = FALSE;
}

/* ---- Streaming ---- */

/* Motion is only needed to shift results onto later frames: with
 * inference on every frame (sync) it is skipped, a few ms per frame */
static void
update_motion (GstSppDetect * self, const SppImage * img, guint64 frame_no,
    gboolean needed)
{
  g_autoptr (GError) err = NULL;
  gfloat dx = 0, dy = 0;
  gboolean cut = FALSE;

  if (!needed) {
    self->motion_stale = TRUE;
    self->cur_motion.frame = frame_no;
    self->history[frame_no % MOTION_HISTORY] = self->cur_motion;
    return;
  }
  if (self->motion_stale) {
    /* Its last frame is not the previous one: start afresh */
    spp_video_proposals_reset (self->motion);
    self->motion_stale = FALSE;
  }
  spp_video_proposals_update (self->motion, img, FALSE, NULL, NULL, &err);
  if (err)
    GST_DEBUG_OBJECT (self, "motion: %s", err->message);
  else
    cut = spp_video_proposals_get_motion (self->motion, &dx, &dy);
  if (frame_no == 0)
    cut = FALSE;
  if (cut)
    self->cur_motion.cut_epoch++;
  if (isfinite (dx) && isfinite (dy)) {
    self->cur_motion.x += dx;
    self->cur_motion.y += dy;
  }
  self->cur_motion.frame = frame_no;
  self->history[frame_no % MOTION_HISTORY] = self->cur_motion;
}

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
  update_motion (self, &img, frame_no, async || interval > 1);

  if (async) {
    g_mutex_lock (&self->async_lock);
    err = g_steal_pointer (&self->worker_error);
    g_mutex_unlock (&self->async_lock);
    if (!err)
      offer_frame (self, &frame, frame_no);
  } else if (frame_no >= self->next_infer) {
    gboolean have_results;

    g_mutex_lock (&self->results_lock);
    have_results = self->have_results;
    g_mutex_unlock (&self->results_lock);
    if (have_results && self->qos_deferrals < MAX_QOS_DEFERRALS &&
        is_late (self, buf)) {
      /* Too late to be shown anyway: spend no time on it, try the next */
      self->qos_deferrals++;
      GST_DEBUG_OBJECT (self, "frame %" G_GUINT64_FORMAT " late, inference "
          "deferred", frame_no);
    } else {
      g_mutex_lock (&self->detect_lock);
      if (run_inference (self, &img, frame_no, &err))
        self->next_infer = frame_no + interval;
      g_mutex_unlock (&self->detect_lock);
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
  g_mutex_lock (&self->results_lock);
  self->have_results = FALSE;
  g_mutex_unlock (&self->results_lock);
  g_mutex_lock (&self->detect_lock);
  if (self->video_props)
    spp_video_proposals_reset (self->video_props);
  g_mutex_unlock (&self->detect_lock);
  self->motion_stale = TRUE;
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
  SppProposalParams params;
  Engine *eng;

  GST_OBJECT_LOCK (self);
  path = resolve_model_path (self->model_path);
  GST_OBJECT_UNLOCK (self);

  eng = engine_new (path, &err);
  if (!eng) {
    if (!g_file_test (path, G_FILE_TEST_EXISTS))
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Model file \"%s\" not found.", path), ("%s", err->message));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Could not load model \"%s\": %s", path, err->message),
          ("%s", err->message));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "model %s: %u classes", path, eng->n_classes);
  GST_OBJECT_LOCK (self);
  g_free (self->active_model);
  self->active_model = g_strdup (path);
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->detect_lock);
  self->engine = eng;
  self->applied_gen = 0;        /* settings_gen starts at 1: apply once */
  g_mutex_unlock (&self->detect_lock);

  spp_proposal_params_init (&params);
  self->motion = spp_video_proposals_new (&params, 1);
  self->motion_stale = FALSE;
  memset (&self->cur_motion, 0, sizeof (self->cur_motion));
  for (guint i = 0; i < MOTION_HISTORY; i++)
    self->history[i].frame = G_MAXUINT64;       /* matches no frame */
  self->frame_count = 0;
  self->next_infer = 0;
  self->qos_deferrals = 0;
  g_atomic_int_set (&self->ema_us, 0);
  g_mutex_lock (&self->results_lock);
  g_array_set_size (self->results, 0);
  self->have_results = FALSE;
  g_mutex_unlock (&self->results_lock);

  GST_OBJECT_LOCK (self);
  self->earliest_time = GST_CLOCK_TIME_NONE;
  self->latency = 0;
  self->started = TRUE;
  GST_OBJECT_UNLOCK (self);

  self->worker = g_thread_new ("sppdetect-worker", worker_main, self);
  return TRUE;
}

static gboolean
gst_spp_detect_stop (GstBaseTransform * trans)
{
  GstSppDetect *self = GST_SPP_DETECT (trans);
  Engine *pending;

  stop_worker (self);

  GST_OBJECT_LOCK (self);
  self->started = FALSE;
  /* A loader still running would install into a stopped element */
  while (self->loader_running)
    g_cond_wait (&self->loader_cond, GST_OBJECT_GET_LOCK (self));
  pending = g_steal_pointer (&self->pending_engine);
  GST_OBJECT_UNLOCK (self);
  engine_free (pending);

  g_mutex_lock (&self->detect_lock);
  g_clear_pointer (&self->engine, engine_free);
  g_clear_pointer (&self->video_props, spp_video_proposals_free);
  g_mutex_unlock (&self->detect_lock);
  g_clear_pointer (&self->motion, spp_video_proposals_free);
  gst_video_info_init (&self->info);
  return TRUE;
}

/* ---- Model swap while running ---- */

static gpointer
loader_main (gpointer data)
{
  GstSppDetect *self = data;
  g_autofree gchar *path = NULL;

  for (;;) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *want = NULL;
    Engine *eng;

    GST_OBJECT_LOCK (self);
    g_free (path);
    path = resolve_model_path (self->model_path);
    GST_OBJECT_UNLOCK (self);

    eng = engine_new (path, &err);

    GST_OBJECT_LOCK (self);
    want = resolve_model_path (self->model_path);
    if (g_strcmp0 (want, path) != 0 && self->started) {
      /* Changed again while loading: load the newest instead */
      GST_OBJECT_UNLOCK (self);
      engine_free (eng);
      continue;
    }
    if (eng && self->started) {
      Engine *old = g_steal_pointer (&self->pending_engine);
      self->pending_engine = eng;
      eng = NULL;
      g_free (self->active_model);
      self->active_model = g_strdup (path);
      self->loader_running = FALSE;
      g_cond_broadcast (&self->loader_cond);
      GST_OBJECT_UNLOCK (self);
      engine_free (old);
      GST_INFO_OBJECT (self, "model %s loaded; used from the next frame",
          path);
    } else {
      gboolean reverted = FALSE;

      if (err && self->started) {
        /* Keep running on the old model, and say so in "model" too */
        g_free (self->model_path);
        self->model_path = g_strdup (self->active_model);
        reverted = TRUE;
      }
      self->loader_running = FALSE;
      g_cond_broadcast (&self->loader_cond);
      GST_OBJECT_UNLOCK (self);
      engine_free (eng);
      if (err) {
        GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
            ("Could not load model \"%s\": %s; keeping the previous model.",
                path, err->message), ("%s", err->message));
      }
      if (reverted)
        g_object_notify (G_OBJECT (self), "model");
    }
    break;
  }
  gst_object_unref (self);
  return NULL;
}

static void
start_loader_locked (GstSppDetect * self)
{
  if (self->loader_running)
    return;                     /* it reloads the newest path when done */
  self->loader_running = TRUE;
  g_thread_unref (g_thread_new ("sppdetect-load", loader_main,
          gst_object_ref (self)));
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
  Settings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      if (self->started)
        start_loader_locked (self);
      break;
    case PROP_THRESHOLD:
      s->threshold = g_value_get_double (value);
      break;
    case PROP_NMS_THRESHOLD:
      s->nms_threshold = g_value_get_double (value);
      break;
    case PROP_SCALES:{
      guint scales[MAX_SCALES], n;
      g_autoptr (GError) why = NULL;
      const gchar *str = g_value_get_string (value);

      if (!spp_scales_parse (str, scales, MAX_SCALES, &n, &why)) {
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
scales_to_string (const Settings * s)
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
  Settings *s = &self->settings;

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

  stop_worker (self);
  engine_free (self->pending_engine);
  engine_free (self->engine);
  if (self->video_props)
    spp_video_proposals_free (self->video_props);
  if (self->motion)
    spp_video_proposals_free (self->motion);
  g_free (self->model_path);
  g_free (self->active_model);
  settings_clear (&self->settings);
  settings_clear (&self->applied);
  g_array_unref (self->results);
  g_mutex_clear (&self->detect_lock);
  g_mutex_clear (&self->results_lock);
  g_mutex_clear (&self->async_lock);
  g_cond_clear (&self->async_cond);
  g_cond_clear (&self->loader_cond);
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
  Settings *s = &self->settings;

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
  g_mutex_init (&self->results_lock);
  g_mutex_init (&self->async_lock);
  g_cond_init (&self->async_cond);
  g_cond_init (&self->loader_cond);
  self->results = g_array_new (FALSE, FALSE, sizeof (Det));
  self->earliest_time = GST_CLOCK_TIME_NONE;
  gst_video_info_init (&self->info);

  /* In place: we only add metas, so no output buffer is allocated */
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
