/**
 * SECTION:element-spptrack
 * @title: spptrack
 *
 * Gives each detected object an id that stays the same while the object
 * stays in view, through short occlusions and missed detections. It reads
 * the #GstVideoRegionOfInterestMeta boxes of sppdetect (or of any detector
 * that writes a "detection" structure, as DL Streamer's gvadetect does)
 * and, where gvatrack puts it, writes the id: a "object_id" structure with
 * an int "id" among the meta's params, and the meta's own id field.
 * Objects not yet confirmed (seen on fewer than min-hits inference frames)
 * get no id. Boxes that sppdetect moved between inference frames
 * ("propagated") get the ids of the tracks they match, without counting
 * as new detections. A new stream or a flush forgets every track
 * (docs/elements.md).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e filesrc location=vtest.avi ! decodebin ! videoconvert ! \
 *     video/x-raw,format=I420 ! sppdetect ! spptrack ! \
 *     sppjsonlog location=tracks.jsonl ! fakesink
 * ]| Writes each frame's objects with their ids.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/video/video.h>
#include <math.h>
#include <string.h>
#include <spp/object-tracker.h>
#include <spp/error.h>
#include <spp/zones.h>

#include "sppmeta.h"
#include "gstspptrack.h"

GST_DEBUG_CATEGORY_STATIC (gst_spp_track_debug);
#define GST_CAT_DEFAULT gst_spp_track_debug

enum
{
  PROP_0,
  PROP_IOU_GATE,
  PROP_MIN_HITS,
  PROP_MAX_AGE,
  PROP_LINES,
  PROP_ZONES,
  PROP_COUNTS,
};

struct _GstSppTrack
{
  GstBaseTransform parent;

  /* Under the object lock: the settings, and whether the tracker must be
   * rebuilt with them before the next frame. */
  SppObjectTrackerParams params;
  gboolean params_changed;
  gchar *lines, *zones_desc; /* as set, for reading back */
  SppZones *zones;           /* built from them; swapped whole */

  /* Streaming thread only. */
  SppObjectTracker *tracker;
  GArray *dets;  /* SppDetection, this frame's boxes */
  GArray *metas; /* GstVideoRegionOfInterestMeta *, the same order */
  GArray *ids;   /* guint64 */
  GArray *events; /* SppZoneEvent */
  GHashTable *labels; /* label_id -> label, as the detections name them */
};

G_DEFINE_TYPE (GstSppTrack, gst_spp_track, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (spptrack, "spptrack", GST_RANK_NONE,
    GST_TYPE_SPP_TRACK);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

/* Reads meta's box and detection fields into det; FALSE for a meta that
 * is not a detection. */
static gboolean
read_detection (GstVideoRegionOfInterestMeta * meta, SppDetection * det,
    gboolean * propagated)
{
  GstStructure *s = gst_video_region_of_interest_meta_get_param (meta,
      SPP_META_DETECTION);
  if (s == NULL)
    return FALSE;
  gint label_id = 0;
  gdouble confidence = 0.0;
  gboolean prop = FALSE;
  gst_structure_get_int (s, SPP_META_LABEL_ID, &label_id);
  gst_structure_get_double (s, SPP_META_CONFIDENCE, &confidence);
  gst_structure_get_boolean (s, SPP_META_PROPAGATED, &prop);
  *det = (SppDetection) { { meta->x, meta->y, meta->w, meta->h }, label_id,
    (float) confidence, gst_structure_get_string (s, SPP_META_LABEL) };
  *propagated = prop;
  return TRUE;
}

static void
set_id (GstVideoRegionOfInterestMeta * meta, guint64 id)
{
  /* gvatrack's place for it: an "object_id" param with an int "id". */
  GstStructure *s = gst_structure_new (SPP_META_OBJECT_ID,
      SPP_META_ID, G_TYPE_INT, (gint) id, NULL);
  gst_video_region_of_interest_meta_add_param (meta, s);
  meta->id = (gint) id;
}

/* "name:x0,y0,x1,y1;..." (lines) or "name:x,y,x,y,x,y,...;..." (zones),
 * in frame pixels, into @z. */
static gboolean
parse_shapes (SppZones * z, const gchar * text, gboolean lines,
    GError ** error)
{
  g_auto (GStrv) items = g_strsplit (text ? text : "", ";", -1);
  for (guint i = 0; items[i]; i++) {
    g_autofree gchar *item = g_strstrip (g_strdup (items[i]));
    if (*item == '\0')
      continue;
    gchar *colon = strchr (item, ':');
    if (colon == NULL) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
          "%s: '%s' is not NAME:X,Y,...", lines ? "lines" : "zones", item);
      return FALSE;
    }
    *colon = '\0';
    g_auto (GStrv) nums = g_strsplit (colon + 1, ",", -1);
    const guint n = g_strv_length (nums);
    g_autofree gdouble *xy = g_new (gdouble, MAX (n, 1));
    for (guint k = 0; k < n; k++) {
      gchar *end;
      xy[k] = g_ascii_strtod (nums[k], &end);
      if (end == nums[k] || *g_strstrip (end) != '\0' || !isfinite (xy[k])) {
        g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
            "%s: '%s': '%s' is not a number", lines ? "lines" : "zones",
            item, nums[k]);
        return FALSE;
      }
    }
    gboolean ok;
    if (lines && n != 4) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
          "lines: '%s' has %u numbers, expected 4 (x0,y0,x1,y1)", item, n);
      return FALSE;
    } else if (!lines && n % 2) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
          "zones: '%s' has %u numbers, expected x,y pairs", item, n);
      return FALSE;
    }
    ok = lines ? spp_zones_add_line (z, item, xy[0], xy[1], xy[2], xy[3],
        error) : spp_zones_add_zone (z, item, xy, n / 2, error);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* The lines and zones of both properties, or NULL with @error. */
static SppZones *
build_zones (const gchar * lines, const gchar * zones, GError ** error)
{
  g_autoptr (SppZones) z = spp_zones_new ();
  if (!parse_shapes (z, lines, TRUE, error)
      || !parse_shapes (z, zones, FALSE, error))
    return NULL;
  return g_steal_pointer (&z);
}

static const gchar *const event_names[] = {
  [SPP_ZONE_EVENT_LINE_IN] = "in",
  [SPP_ZONE_EVENT_LINE_OUT] = "out",
  [SPP_ZONE_EVENT_ZONE_ENTER] = "enter",
  [SPP_ZONE_EVENT_ZONE_LEAVE] = "leave",
};

/* The frame's events on the buffer (sppmeta.h, SPP_META_EVENTS), in the
 * form sppjsonlog writes: {"type":"line-crossing","line":"door",
 * "direction":"in","id":17,"label":"person"} or {"type":"zone-enter",
 * "zone":"desk",...}. */
static void
attach_events (GstSppTrack * self, GstBuffer * buf)
{
  if (self->events->len == 0)
    return;
  GstCustomMeta *cm = gst_buffer_add_custom_meta (buf, SPP_META_EVENTS);
  if (cm == NULL)
    return;
  GValue list = G_VALUE_INIT;
  gst_value_list_init (&list, self->events->len);
  for (guint i = 0; i < self->events->len; i++) {
    const SppZoneEvent *e = &g_array_index (self->events, SppZoneEvent, i);
    const gboolean line = e->type == SPP_ZONE_EVENT_LINE_IN
        || e->type == SPP_ZONE_EVENT_LINE_OUT;
    const gchar *label = g_hash_table_lookup (self->labels,
        GINT_TO_POINTER (e->label_id));
    GstStructure *ev = gst_structure_new ("event",
        "type", G_TYPE_STRING, line ? "line-crossing"
        : e->type == SPP_ZONE_EVENT_ZONE_ENTER ? "zone-enter" : "zone-leave",
        line ? "line" : "zone", G_TYPE_STRING, e->name,
        "id", G_TYPE_UINT64, e->id,
        "label", G_TYPE_STRING, label ? label : "", NULL);
    if (line)
      gst_structure_set (ev, "direction", G_TYPE_STRING,
          e->type == SPP_ZONE_EVENT_LINE_IN ? "in" : "out", NULL);
    GValue v = G_VALUE_INIT;
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, ev);
    gst_value_list_append_and_take_value (&list, &v);
  }
  gst_structure_take_value (gst_custom_meta_get_structure (cm), "events",
      &list);
}

/* One element message per event: "spptrack-event" with type
 * ("line-crossing" or "zone"), name, direction, id, label_id. */
static void
post_events (GstSppTrack * self, GstBuffer * buf)
{
  for (guint i = 0; i < self->events->len; i++) {
    const SppZoneEvent *e = &g_array_index (self->events, SppZoneEvent, i);
    const gboolean line = e->type == SPP_ZONE_EVENT_LINE_IN
        || e->type == SPP_ZONE_EVENT_LINE_OUT;
    GstStructure *s = gst_structure_new ("spptrack-event",
        "type", G_TYPE_STRING, line ? "line-crossing" : "zone",
        "name", G_TYPE_STRING, e->name,
        "direction", G_TYPE_STRING, event_names[e->type],
        "id", G_TYPE_UINT64, e->id,
        "label_id", G_TYPE_INT, e->label_id,
        "timestamp", G_TYPE_UINT64, GST_BUFFER_PTS (buf), NULL);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), s));
  }
}

static GstFlowReturn
gst_spp_track_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstSppTrack *self = GST_SPP_TRACK (trans);

  GST_OBJECT_LOCK (self);
  if (self->params_changed || self->tracker == NULL) {
    /* New settings start new tracks: the old ones were gated and aged by
     * the old values. */
    spp_object_tracker_free (self->tracker);
    self->tracker = spp_object_tracker_new (&self->params);
    self->params_changed = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  g_array_set_size (self->dets, 0);
  g_array_set_size (self->metas, 0);
  gboolean inferred = FALSE, any = FALSE;
  gpointer state = NULL;
  GstMeta *m;
  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) m;
    SppDetection det;
    gboolean propagated;
    if (!read_detection (roi, &det, &propagated))
      continue;
    any = TRUE;
    inferred |= !propagated;
    g_array_append_val (self->dets, det);
    g_array_append_val (self->metas, roi);
  }
  const guint n = self->dets->len;
  g_array_set_size (self->ids, n);
  const SppDetection *dets = (const SppDetection *) self->dets->data;
  guint64 *ids = (guint64 *) self->ids->data;
  /* A frame whose boxes were all moved from an earlier inference is not
   * an inference frame: its boxes take ids and the tracks stay as they
   * are. A frame without boxes counts as an inference that found none. */
  if (any && !inferred)
    spp_object_tracker_match (self->tracker, dets, n, ids);
  else
    spp_object_tracker_update (self->tracker, dets, n, ids);
  for (guint i = 0; i < n; i++)
    if (ids[i] != 0)
      set_id (g_array_index (self->metas, GstVideoRegionOfInterestMeta *, i),
          ids[i]);

  /* Lines and zones follow the confirmed tracks' filtered boxes, once per
   * inference frame. */
  GST_OBJECT_LOCK (self);
  if (self->zones && !(any && !inferred)) {
    guint n_tracks;
    const SppTrack *tracks = spp_object_tracker_get_tracks (self->tracker,
        &n_tracks);
    g_array_set_size (self->events, 0);
    spp_zones_update (self->zones, tracks, n_tracks, self->events);
  } else {
    g_array_set_size (self->events, 0);
  }
  GST_OBJECT_UNLOCK (self);
  for (guint i = 0; i < n; i++)
    if (dets[i].label && !g_hash_table_contains (self->labels,
            GINT_TO_POINTER (dets[i].label_id)))
      g_hash_table_insert (self->labels, GINT_TO_POINTER (dets[i].label_id),
          g_strdup (dets[i].label));
  attach_events (self, buf);
  post_events (self, buf);
  return GST_FLOW_OK;
}

static gboolean
gst_spp_track_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstSppTrack *self = GST_SPP_TRACK (trans);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
    case GST_EVENT_FLUSH_STOP:
      /* A new stream or a seek: no object continues across it. */
      if (self->tracker)
        spp_object_tracker_reset (self->tracker);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_spp_track_parent_class)->sink_event
      (trans, event);
}

static gboolean
gst_spp_track_stop (GstBaseTransform * trans)
{
  GstSppTrack *self = GST_SPP_TRACK (trans);
  g_clear_pointer (&self->tracker, spp_object_tracker_free);
  return TRUE;
}

static void
gst_spp_track_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSppTrack *self = GST_SPP_TRACK (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_IOU_GATE:
      self->params.iou_gate = g_value_get_double (value);
      break;
    case PROP_MIN_HITS:
      self->params.min_hits = g_value_get_uint (value);
      break;
    case PROP_MAX_AGE:
      self->params.max_age = g_value_get_uint (value);
      break;
    case PROP_LINES:
    case PROP_ZONES:{
      /* Parsed outside the lock (a warning is posted on failure, and
       * posting takes the element's lock); the old shapes stay on
       * failure. */
      const gboolean lines = prop_id == PROP_LINES;
      g_autofree gchar *v = g_value_dup_string (value);
      g_autofree gchar *other = g_strdup (lines ? self->zones_desc
          : self->lines);
      GST_OBJECT_UNLOCK (self);
      g_autoptr (GError) error = NULL;
      SppZones *z = build_zones (lines ? v : other, lines ? other : v,
          &error);
      if (z == NULL) {
        GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS,
            ("Bad %s; the previous lines and zones are kept",
                lines ? "lines" : "zones"), ("%s", error->message));
        return;
      }
      GST_OBJECT_LOCK (self);
      spp_zones_free (self->zones);
      self->zones = z;
      g_free (lines ? self->lines : self->zones_desc);
      if (lines)
        self->lines = g_steal_pointer (&v);
      else
        self->zones_desc = g_steal_pointer (&v);
      GST_OBJECT_UNLOCK (self);
      return;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  self->params_changed = TRUE;
  GST_OBJECT_UNLOCK (self);
}

static void
gst_spp_track_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstSppTrack *self = GST_SPP_TRACK (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_IOU_GATE:
      g_value_set_double (value, self->params.iou_gate);
      break;
    case PROP_MIN_HITS:
      g_value_set_uint (value, self->params.min_hits);
      break;
    case PROP_MAX_AGE:
      g_value_set_uint (value, self->params.max_age);
      break;
    case PROP_LINES:
      g_value_set_string (value, self->lines);
      break;
    case PROP_ZONES:
      g_value_set_string (value, self->zones_desc);
      break;
    case PROP_COUNTS:{
      GstStructure *c = gst_structure_new_empty ("spptrack-counts");
      const guint n = self->zones ? spp_zones_get_n_shapes (self->zones) : 0;
      for (guint i = 0; i < n; i++) {
        gboolean line;
        const gchar *name = spp_zones_get_shape (self->zones, i, &line);
        const int first = line ? SPP_ZONE_EVENT_LINE_IN
            : SPP_ZONE_EVENT_ZONE_ENTER;
        for (int t = first; t <= first + 1; t++) {
          guint64 count = 0;
          spp_zones_get_count (self->zones, name, t, &count);
          g_autofree gchar *key = g_strdup_printf ("%s-%s", name,
              event_names[t]);
          gst_structure_set (c, key, G_TYPE_UINT64, count, NULL);
        }
      }
      g_value_take_boxed (value, c);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_spp_track_finalize (GObject * object)
{
  GstSppTrack *self = GST_SPP_TRACK (object);
  spp_object_tracker_free (self->tracker);
  g_array_unref (self->dets);
  g_array_unref (self->metas);
  g_array_unref (self->ids);
  g_array_unref (self->events);
  g_hash_table_unref (self->labels);
  spp_zones_free (self->zones);
  g_free (self->lines);
  g_free (self->zones_desc);
  G_OBJECT_CLASS (gst_spp_track_parent_class)->finalize (object);
}

static void
gst_spp_track_class_init (GstSppTrackClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  SppObjectTrackerParams def;
  spp_object_tracker_params_init (&def);

  gobject_class->set_property = gst_spp_track_set_property;
  gobject_class->get_property = gst_spp_track_get_property;
  gobject_class->finalize = gst_spp_track_finalize;

  g_object_class_install_property (gobject_class, PROP_IOU_GATE,
      g_param_spec_double ("iou-gate", "IoU gate",
          "Least IoU between a detection and a track's predicted box for "
          "the detection to continue the track", 0.0, 1.0, def.iou_gate,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MIN_HITS,
      g_param_spec_uint ("min-hits", "Minimum hits",
          "Inference frames an object must be detected on before it gets "
          "an id", 1, 1000, def.min_hits,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_AGE,
      g_param_spec_uint ("max-age", "Maximum age",
          "Inference frames an object keeps its id without being detected "
          "(its box predicted by its motion) before its track ends", 0,
          100000, def.max_age,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  g_object_class_install_property (gobject_class, PROP_LINES,
      g_param_spec_string ("lines", "Counting lines",
          "Lines in frame pixels, NAME:X0,Y0,X1,Y1 separated by ';'; an "
          "object whose box's bottom centre crosses one from its right to "
          "its left (looking from the first point) goes \"in\"", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_ZONES,
      g_param_spec_string ("zones", "Zones",
          "Polygons in frame pixels, NAME:X,Y,X,Y,X,Y[,...] separated by "
          "';'; objects entering and leaving are counted", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_COUNTS,
      g_param_spec_boxed ("counts", "Counts",
          "Events so far: NAME-in and NAME-out per line, NAME-enter and "
          "NAME-leave per zone (guint64)", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "SPP object tracker",
      "Filter/Analyzer/Video",
      "Gives detected objects ids that persist across frames",
      "sppdetect developers");

  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_spp_track_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_spp_track_sink_event);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_spp_track_stop);
  /* Metas are written, pixels never: in place, and never passthrough. */
  trans_class->passthrough_on_same_caps = FALSE;

  GST_DEBUG_CATEGORY_INIT (gst_spp_track_debug, "spptrack", 0,
      "SPP object tracker");
  if (gst_meta_get_info (SPP_META_EVENTS) == NULL) {
    static const gchar *tags[] = { NULL };
    gst_meta_register_custom (SPP_META_EVENTS, tags, NULL, NULL, NULL);
  }
}

static void
gst_spp_track_init (GstSppTrack * self)
{
  spp_object_tracker_params_init (&self->params);
  self->dets = g_array_new (FALSE, FALSE, sizeof (SppDetection));
  self->metas = g_array_new (FALSE, FALSE, sizeof (gpointer));
  self->ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->events = g_array_new (FALSE, FALSE, sizeof (SppZoneEvent));
  self->labels = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
