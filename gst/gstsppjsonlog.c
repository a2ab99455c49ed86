/**
 * SECTION:element-sppjsonlog
 * @title: sppjsonlog
 *
 * Appends one JSON line per video frame to a file, describing the frame's
 * #GstVideoRegionOfInterestMeta in DL Streamer gvametaconvert's schema
 * (docs/elements.md). Buffers pass through unchanged; ROI metas from any
 * producer are logged.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e filesrc location=vtest.avi ! decodebin ! videoconvert ! \
 *     video/x-raw,format=I420 ! sppdetect ! \
 *     sppjsonlog location=vtest.jsonl ! fakesink
 * ]| Writes the detections of every frame to vtest.jsonl.
 */

/* sppjsonlog: a passthrough element that appends one JSON line per frame
 * to a file, in DL Streamer gvametaconvert's schema (docs/elements.md):
 *
 *   {"resolution":{"width":W,"height":H},"timestamp":NS,"frame":N,
 *    "objects":[{"x":..,"y":..,"w":..,"h":..,["id":N,]"roi_type":"..",
 *      "detection":{"bounding_box":{"x_min":..,"y_min":..,"x_max":..,
 *      "y_max":..},"confidence":..,"label_id":..,"label":".."},
 *      "propagated":false}][,"events":[{"type":"line-crossing",
 *      "line":"door","direction":"in","id":17,"label":"person"},...]]}
 *
 * Each line goes out in one write() on an O_APPEND descriptor, so a
 * pipeline killed at any point leaves only whole lines, and several
 * writers on one file do not interleave within a line. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <gst/video/video.h>

#include "sppmeta.h"
#include "gstsppjsonlog.h"

GST_DEBUG_CATEGORY_STATIC (gst_spp_json_log_debug);
#define GST_CAT_DEFAULT gst_spp_json_log_debug

#define DEFAULT_LOCATION NULL

enum
{
  PROP_0,
  PROP_LOCATION,
};

struct _GstSppJsonLog
{
  GstBaseTransform parent;

  gchar *location;              /* under the object lock */

  /* streaming state */
  gint fd;
  gint width, height;
  guint64 frame;
  GString *line;                /* reused: no allocation per frame */
};

G_DEFINE_TYPE (GstSppJsonLog, gst_spp_json_log, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (sppjsonlog, "sppjsonlog", GST_RANK_NONE,
    GST_TYPE_SPP_JSON_LOG);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw(ANY)"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw(ANY)"));

static void
append_string (GString * s, const gchar * str)
{
  g_autofree gchar *valid = g_utf8_make_valid (str ? str : "", -1);

  g_string_append_c (s, '"');
  for (const guchar * p = (const guchar *) valid; *p; p++) {
    switch (*p) {
      case '"':
        g_string_append (s, "\\\"");
        break;
      case '\\':
        g_string_append (s, "\\\\");
        break;
      case '\n':
        g_string_append (s, "\\n");
        break;
      case '\r':
        g_string_append (s, "\\r");
        break;
      case '\t':
        g_string_append (s, "\\t");
        break;
      default:
        if (*p < 0x20)
          g_string_append_printf (s, "\\u%04x", *p);
        else
          g_string_append_c (s, (gchar) * p);
        break;
    }
  }
  g_string_append_c (s, '"');
}

/* Shortest of %.15g / %.17g that reads back to the same double, in the C
 * locale; JSON has no NaN or infinity, so those become null. */
static void
append_double (GString * s, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v)) {
    g_string_append (s, "null");
    return;
  }
  g_ascii_formatd (buf, sizeof (buf), "%.15g", v);
  if (g_ascii_strtod (buf, NULL) != v)
    g_ascii_formatd (buf, sizeof (buf), "%.17g", v);
  g_string_append (s, buf);
}

static void
append_key (GString * s, const gchar * key)
{
  g_string_append_c (s, '"');
  g_string_append (s, key);
  g_string_append (s, "\":");
}

/* A key after an earlier member of the same object */
static void
append_next_key (GString * s, const gchar * key)
{
  g_string_append_c (s, ',');
  append_key (s, key);
}

/* sppdetect writes source-frame as guint64; accept any integer type */
static gboolean
get_frame_number (const GstStructure * s, const gchar * field, gint64 * out)
{
  const GValue *v = gst_structure_get_value (s, field);
  GValue tmp = G_VALUE_INIT;

  if (!v || !g_value_type_transformable (G_VALUE_TYPE (v), G_TYPE_INT64) ||
      !(G_VALUE_HOLDS_INT (v) || G_VALUE_HOLDS_UINT (v) ||
          G_VALUE_HOLDS_INT64 (v) || G_VALUE_HOLDS_UINT64 (v)))
    return FALSE;
  g_value_init (&tmp, G_TYPE_INT64);
  g_value_transform (v, &tmp);
  *out = g_value_get_int64 (&tmp);
  return TRUE;
}

static void
append_object (GstSppJsonLog * self, GString * s,
    GstVideoRegionOfInterestMeta * roi)
{
  GstStructure *det = gst_video_region_of_interest_meta_get_param (roi,
      SPP_META_DETECTION);
  const gchar *roi_type = roi->roi_type ? g_quark_to_string (roi->roi_type)
      : "";
  gboolean propagated = FALSE;

  GstStructure *track = gst_video_region_of_interest_meta_get_param (roi,
      SPP_META_OBJECT_ID);
  gint id;

  g_string_append_printf (s, "{\"x\":%u,\"y\":%u,\"w\":%u,\"h\":%u,",
      roi->x, roi->y, roi->w, roi->h);
  /* gvametaconvert writes a tracker's id as the object's "id". */
  if (track && gst_structure_get_int (track, SPP_META_ID, &id))
    g_string_append_printf (s, "\"" SPP_META_ID "\":%d,", id);
  append_key (s, "roi_type");
  append_string (s, roi_type);

  if (det) {
    /* The meta's field names are also gvametaconvert's JSON keys. */
    static const gchar *const edges[] = { SPP_META_X_MIN, SPP_META_Y_MIN,
      SPP_META_X_MAX, SPP_META_Y_MAX
    };
    /* Fallback when a producer gave pixels only: normalise the ROI */
    gdouble fallback[4] = {
      self->width > 0 ? (gdouble) roi->x / self->width : 0.0,
      self->height > 0 ? (gdouble) roi->y / self->height : 0.0,
      self->width > 0 ? (gdouble) (roi->x + roi->w) / self->width : 0.0,
      self->height > 0 ? (gdouble) (roi->y + roi->h) / self->height : 0.0,
    };
    const gchar *label;
    gdouble d;
    gint i;
    gint64 src;

    append_next_key (s, SPP_META_DETECTION);
    g_string_append (s, "{\"bounding_box\":{");
    for (guint k = 0; k < 4; k++) {
      if (!gst_structure_get_double (det, edges[k], &d))
        d = fallback[k];
      if (k)
        g_string_append_c (s, ',');
      append_key (s, edges[k]);
      append_double (s, d);
    }
    g_string_append_c (s, '}');
    if (gst_structure_get_double (det, SPP_META_CONFIDENCE, &d)) {
      append_next_key (s, SPP_META_CONFIDENCE);
      append_double (s, d);
    }
    if (gst_structure_get_int (det, SPP_META_LABEL_ID, &i)) {
      append_next_key (s, SPP_META_LABEL_ID);
      g_string_append_printf (s, "%d", i);
    }
    label = gst_structure_get_string (det, SPP_META_LABEL);
    append_next_key (s, SPP_META_LABEL);
    append_string (s, label ? label : roi_type);
    g_string_append_c (s, '}');

    gst_structure_get_boolean (det, SPP_META_PROPAGATED, &propagated);
    if (get_frame_number (det, SPP_META_SOURCE_FRAME, &src))
      g_string_append_printf (s, ",\"source_frame\":%" G_GINT64_FORMAT, src);
  }
  append_next_key (s, SPP_META_PROPAGATED);
  g_string_append (s, propagated ? "true}" : "false}");
}

/* spptrack's line and zone events (sppmeta.h), as an "events" array;
 * nothing when the frame has none. */
static void
append_events (GString * s, GstBuffer * buf)
{
  if (gst_meta_get_info (SPP_META_EVENTS) == NULL)
    return;
  GstCustomMeta *cm = gst_buffer_get_custom_meta (buf, SPP_META_EVENTS);
  if (cm == NULL)
    return;
  const GValue *list = gst_structure_get_value (gst_custom_meta_get_structure
      (cm), "events");
  if (list == NULL || !GST_VALUE_HOLDS_LIST (list))
    return;
  g_string_append (s, ",\"events\":[");
  for (guint i = 0; i < gst_value_list_get_size (list); i++) {
    const GValue *v = gst_value_list_get_value (list, i);
    if (!GST_VALUE_HOLDS_STRUCTURE (v))
      continue;
    const GstStructure *ev = gst_value_get_structure (v);
    static const gchar *const keys[] = { "type", "line", "zone", "direction" };
    if (i)
      g_string_append_c (s, ',');
    g_string_append_c (s, '{');
    gboolean first = TRUE;
    for (guint k = 0; k < G_N_ELEMENTS (keys); k++) {
      const gchar *text = gst_structure_get_string (ev, keys[k]);
      if (text == NULL)
        continue;
      if (!first)
        g_string_append_c (s, ',');
      first = FALSE;
      append_key (s, keys[k]);
      append_string (s, text);
    }
    guint64 id;
    if (gst_structure_get_uint64 (ev, SPP_META_ID, &id))
      g_string_append_printf (s, ",\"" SPP_META_ID "\":%" G_GUINT64_FORMAT,
          id);
    const gchar *label = gst_structure_get_string (ev, SPP_META_LABEL);
    if (label) {
      append_next_key (s, SPP_META_LABEL);
      append_string (s, label);
    }
    g_string_append_c (s, '}');
  }
  g_string_append_c (s, ']');
}

/* Writes all of @len bytes; normally one write() call. */
static gboolean
write_all (gint fd, const gchar * data, gsize len)
{
  while (len > 0) {
    gssize n = write (fd, data, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    data += n;
    len -= n;
  }
  return TRUE;
}

static GstFlowReturn
gst_spp_json_log_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstSppJsonLog *self = GST_SPP_JSON_LOG (trans);
  GString *s = self->line;
  GstClockTime pts = GST_BUFFER_PTS (buf), ts = GST_CLOCK_TIME_NONE;
  gpointer state = NULL;
  GstMeta *meta;
  gboolean first = TRUE;

  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    ts = gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, pts);
    if (!GST_CLOCK_TIME_IS_VALID (ts))
      ts = pts;
  }

  g_string_truncate (s, 0);
  g_string_append_printf (s,
      "{\"resolution\":{\"width\":%d,\"height\":%d},", self->width,
      self->height);
  /* No PTS, no timestamp: a made-up 0 would mislead consumers */
  if (GST_CLOCK_TIME_IS_VALID (ts))
    g_string_append_printf (s, "\"timestamp\":%" G_GUINT64_FORMAT ",", ts);
  g_string_append_printf (s, "\"frame\":%" G_GUINT64_FORMAT ",\"objects\":[",
      self->frame);
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (!first)
      g_string_append_c (s, ',');
    first = FALSE;
    append_object (self, s, (GstVideoRegionOfInterestMeta *) meta);
  }
  g_string_append_c (s, ']');
  append_events (s, buf);
  g_string_append (s, "}\n");
  self->frame++;

  if (!write_all (self->fd, s->str, s->len)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write to file \"%s\".", self->location),
        GST_ERROR_SYSTEM);
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean
gst_spp_json_log_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstSppJsonLog *self = GST_SPP_JSON_LOG (trans);
  GstStructure *st = gst_caps_get_structure (incaps, 0);

  /* Only the size is needed; any format or memory type will do */
  if (!gst_structure_get_int (st, "width", &self->width) ||
      !gst_structure_get_int (st, "height", &self->height)) {
    GST_WARNING_OBJECT (self, "caps without width/height: %" GST_PTR_FORMAT,
        incaps);
    self->width = self->height = 0;
  }
  return TRUE;
}

static gboolean
gst_spp_json_log_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstSppJsonLog *self = GST_SPP_JSON_LOG (trans);

  /* Lines are already in the kernel (write() is unbuffered); fsync makes
   * them survive a power cut too, once per stream rather than per frame */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->fd >= 0) {
    if (fsync (self->fd) != 0 && errno != EINVAL && errno != EROFS)
      GST_WARNING_OBJECT (self, "fsync on %s: %s", self->location,
          g_strerror (errno));
  }
  return GST_BASE_TRANSFORM_CLASS (gst_spp_json_log_parent_class)->sink_event
      (trans, event);
}

static gboolean
gst_spp_json_log_start (GstBaseTransform * trans)
{
  GstSppJsonLog *self = GST_SPP_JSON_LOG (trans);
  g_autofree gchar *location = NULL;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  GST_OBJECT_UNLOCK (self);

  if (!location || !*location) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file name specified for writing."),
        ("set the \"location\" property"));
    return FALSE;
  }
  self->fd = open (location, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (self->fd < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open file \"%s\" for writing.", location),
        GST_ERROR_SYSTEM);
    return FALSE;
  }
  self->frame = 0;
  GST_INFO_OBJECT (self, "appending to %s", location);
  return TRUE;
}

static gboolean
gst_spp_json_log_stop (GstBaseTransform * trans)
{
  GstSppJsonLog *self = GST_SPP_JSON_LOG (trans);

  if (self->fd >= 0) {
    if (close (self->fd) != 0)
      GST_WARNING_OBJECT (self, "close %s: %s", self->location,
          g_strerror (errno));
    self->fd = -1;
  }
  return TRUE;
}

static void
gst_spp_json_log_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSppJsonLog *self = GST_SPP_JSON_LOG (object);

  switch (prop_id) {
    case PROP_LOCATION:{
      GstState state;

      /* The file is opened in start; switching files mid-stream would
       * split one stream's lines across two files */
      GST_OBJECT_LOCK (self);
      state = GST_STATE (self);
      if (state > GST_STATE_READY) {
        GST_OBJECT_UNLOCK (self);
        GST_WARNING_OBJECT (self, "location can only be changed in NULL or "
            "READY state; keeping \"%s\"", self->location);
        break;
      }
      g_free (self->location);
      self->location = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_spp_json_log_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstSppJsonLog *self = GST_SPP_JSON_LOG (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->location);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_spp_json_log_finalize (GObject * object)
{
  GstSppJsonLog *self = GST_SPP_JSON_LOG (object);

  if (self->fd >= 0)
    close (self->fd);
  g_free (self->location);
  g_string_free (self->line, TRUE);
  G_OBJECT_CLASS (gst_spp_json_log_parent_class)->finalize (object);
}

static void
gst_spp_json_log_class_init (GstSppJsonLogClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_spp_json_log_debug, "sppjsonlog", 0,
      "SPP JSON lines logger");

  gobject_class->set_property = gst_spp_json_log_set_property;
  gobject_class->get_property = gst_spp_json_log_get_property;
  gobject_class->finalize = gst_spp_json_log_finalize;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "File to append one JSON line per frame to (created if missing; "
          "set in NULL or READY state)", DEFAULT_LOCATION,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "SPP JSON lines logger", "Filter/Analyzer/Video",
      "Appends one JSON line per frame (gvametaconvert schema) describing "
      "its region-of-interest metas", "sppdetect developers");

  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_spp_json_log_transform_ip);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_spp_json_log_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_spp_json_log_sink_event);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_spp_json_log_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_spp_json_log_stop);
}

static void
gst_spp_json_log_init (GstSppJsonLog * self)
{
  self->fd = -1;
  self->line = g_string_sized_new (1024);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}
