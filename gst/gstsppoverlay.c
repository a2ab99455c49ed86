/**
 * SECTION:element-sppoverlay
 * @title: sppoverlay
 *
 * Draws the #GstVideoRegionOfInterestMeta boxes of each frame in place: an
 * outline and a "label confidence" tag, coloured by class. It reads ROI
 * metas from any producer (sppdetect, DL Streamer's gvadetect, your own
 * code); frames without them pass untouched (docs/elements.md).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e filesrc location=vtest.avi ! decodebin ! videoconvert ! \
 *     video/x-raw,format=I420 ! sppdetect ! sppoverlay thickness=3 ! \
 *     videoconvert ! autovideosink
 * ]| Shows the detections of sppdetect with 3-pixel outlines.
 */

/* sppoverlay: draws each GstVideoRegionOfInterestMeta of a frame as a
 * 2-pixel outline plus a "label confidence" tag, in place.
 *
 * Colours come from the detection's label_id (so a class keeps its colour
 * whatever detector produced it), else from a hash of roi_type. Text uses
 * the built-in 5x7 font below: no pango, no font files, identical output
 * on every machine. Frames without ROI metas are not touched. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "sppmeta.h"
#include "gstsppoverlay.h"

GST_DEBUG_CATEGORY_STATIC (gst_spp_overlay_debug);
#define GST_CAT_DEFAULT gst_spp_overlay_debug

#define DEFAULT_THICKNESS 2
#define DEFAULT_SHOW_LABELS TRUE
#define DEFAULT_LABEL_ALPHA 0.75

enum
{
  PROP_0,
  PROP_THICKNESS,
  PROP_SHOW_LABELS,
  PROP_LABEL_ALPHA,
};

#define OVERLAY_FORMATS "{ I420, NV12, RGB, BGR, RGBx, BGRx, RGBA, BGRA }"

/* Font: 95 printable ASCII glyphs (0x20..0x7e), 7 rows of 5 bits each,
 * bit 4 = leftmost column. Drawn in a 6x9 cell (1 column and 1 row of
 * spacing around each glyph). */
#define FONT_W 5
#define FONT_H 7
#define CELL_W 6
#define CELL_H 9

static const guint8 font5x7[95][FONT_H] = {
  { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, /*   */
  { 0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04 }, /* ! */
  { 0x0a, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00 }, /* " */
  { 0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a }, /* # */
  { 0x04, 0x0f, 0x14, 0x0e, 0x05, 0x1e, 0x04 }, /* $ */
  { 0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03 }, /* % */
  { 0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d }, /* & */
  { 0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00 }, /* ' */
  { 0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02 }, /* ( */
  { 0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08 }, /* ) */
  { 0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00 }, /* 0x2a */
  { 0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00 }, /* + */
  { 0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08 }, /* , */
  { 0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00 }, /* - */
  { 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c }, /* . */
  { 0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00 }, /* 0x2f */
  { 0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e }, /* 0 */
  { 0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e }, /* 1 */
  { 0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f }, /* 2 */
  { 0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e }, /* 3 */
  { 0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02 }, /* 4 */
  { 0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e }, /* 5 */
  { 0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e }, /* 6 */
  { 0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 }, /* 7 */
  { 0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e }, /* 8 */
  { 0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c }, /* 9 */
  { 0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00 }, /* : */
  { 0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08 }, /* ; */
  { 0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02 }, /* < */
  { 0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00 }, /* = */
  { 0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08 }, /* > */
  { 0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04 }, /* ? */
  { 0x0e, 0x11, 0x01, 0x0d, 0x15, 0x15, 0x0e }, /* @ */
  { 0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 }, /* A */
  { 0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e }, /* B */
  { 0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e }, /* C */
  { 0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c }, /* D */
  { 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f }, /* E */
  { 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10 }, /* F */
  { 0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f }, /* G */
  { 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 }, /* H */
  { 0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e }, /* I */
  { 0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c }, /* J */
  { 0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11 }, /* K */
  { 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f }, /* L */
  { 0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11 }, /* M */
  { 0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11 }, /* N */
  { 0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e }, /* O */
  { 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10 }, /* P */
  { 0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d }, /* Q */
  { 0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11 }, /* R */
  { 0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e }, /* S */
  { 0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 }, /* T */
  { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e }, /* U */
  { 0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04 }, /* V */
  { 0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a }, /* W */
  { 0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11 }, /* X */
  { 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04 }, /* Y */
  { 0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f }, /* Z */
  { 0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e }, /* [ */
  { 0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00 }, /* 0x5c */
  { 0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e }, /* ] */
  { 0x04, 0x0a, 0x11, 0x00, 0x00, 0x00, 0x00 }, /* ^ */
  { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f }, /* _ */
  { 0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00 }, /* ` */
  { 0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f }, /* a */
  { 0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e }, /* b */
  { 0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e }, /* c */
  { 0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f }, /* d */
  { 0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e }, /* e */
  { 0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08 }, /* f */
  { 0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e }, /* g */
  { 0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11 }, /* h */
  { 0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e }, /* i */
  { 0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c }, /* j */
  { 0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12 }, /* k */
  { 0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e }, /* l */
  { 0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11 }, /* m */
  { 0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11 }, /* n */
  { 0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e }, /* o */
  { 0x00, 0x00, 0x1e, 0x11, 0x1e, 0x10, 0x10 }, /* p */
  { 0x00, 0x00, 0x0d, 0x13, 0x0f, 0x01, 0x01 }, /* q */
  { 0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10 }, /* r */
  { 0x00, 0x00, 0x0e, 0x10, 0x0e, 0x01, 0x1e }, /* s */
  { 0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06 }, /* t */
  { 0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d }, /* u */
  { 0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04 }, /* v */
  { 0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a }, /* w */
  { 0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11 }, /* x */
  { 0x00, 0x00, 0x11, 0x11, 0x0f, 0x01, 0x0e }, /* y */
  { 0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f }, /* z */
  { 0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02 }, /* { */
  { 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 }, /* | */
  { 0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08 }, /* } */
  { 0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00 }, /* ~ */
};

/* Class palette: 20 colours far apart in hue and brightness, so that
 * neighbouring label_ids are easy to tell apart. */
static const guint8 palette[][3] = {
  {230, 25, 75}, {60, 180, 75}, {255, 225, 25}, {0, 130, 200},
  {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230},
  {210, 245, 60}, {250, 190, 212}, {0, 128, 128}, {220, 190, 255},
  {170, 110, 40}, {255, 250, 200}, {128, 0, 0}, {170, 255, 195},
  {128, 128, 0}, {255, 215, 180}, {0, 0, 128}, {128, 128, 128},
};

typedef struct
{
  guint8 c[3];                  /* R, G, B for packed formats; Y, U, V else */
} OverlayColour;

/* Fills the clipped rectangle [x0, x1) x [y0, y1) of @frame with @col at
 * @alpha (0..255). @luma_only skips chroma (for glyph pixels on
 * subsampled YUV, whose chroma would bleed into a 2x2 block). */
typedef void (*FillFunc) (GstSppOverlay * self, GstVideoFrame * frame,
    gint x0, gint y0, gint x1, gint y1, const OverlayColour * col,
    guint alpha, gboolean luma_only);

struct _GstSppOverlay
{
  GstVideoFilter parent;

  /* properties, under the object lock */
  guint thickness;
  gboolean show_labels;
  gdouble label_alpha;

  /* picked in set_info */
  FillFunc fill;
  gboolean is_yuv;
  guint pixel_stride;
  guint offsets[3];             /* byte offsets of R, G, B in a pixel */
};

G_DEFINE_TYPE (GstSppOverlay, gst_spp_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (sppoverlay, "sppoverlay", GST_RANK_NONE,
    GST_TYPE_SPP_OVERLAY);

static inline guint8
blend (guint8 dst, guint8 src, guint alpha)
{
  /* Rounded (src * a + dst * (255 - a)) / 255; exact at a = 0 and 255 */
  return (guint8) ((src * alpha + dst * (255 - alpha) + 127) / 255);
}

static void
fill_packed (GstSppOverlay * self, GstVideoFrame * frame, gint x0, gint y0,
    gint x1, gint y1, const OverlayColour * col, guint alpha,
    gboolean luma_only)
{
  guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  guint ps = self->pixel_stride;
  guint o0 = self->offsets[0], o1 = self->offsets[1], o2 = self->offsets[2];

  for (gint y = y0; y < y1; y++) {
    guint8 *p = data + (gsize) y * stride + (gsize) x0 * ps;
    if (alpha == 255) {
      for (gint x = x0; x < x1; x++, p += ps) {
        p[o0] = col->c[0];
        p[o1] = col->c[1];
        p[o2] = col->c[2];
      }
    } else {
      for (gint x = x0; x < x1; x++, p += ps) {
        p[o0] = blend (p[o0], col->c[0], alpha);
        p[o1] = blend (p[o1], col->c[1], alpha);
        p[o2] = blend (p[o2], col->c[2], alpha);
      }
    }
  }
}

static void
fill_plane (guint8 * data, gint stride, guint ps, gint x0, gint y0, gint x1,
    gint y1, guint8 v, guint alpha)
{
  for (gint y = y0; y < y1; y++) {
    guint8 *p = data + (gsize) y * stride + (gsize) x0 * ps;
    if (alpha == 255 && ps == 1) {
      memset (p, v, x1 - x0);
    } else {
      for (gint x = x0; x < x1; x++, p += ps)
        *p = blend (*p, v, alpha);
    }
  }
}

/* Chroma rectangle covering every luma pixel of [x0, x1) x [y0, y1) */
static void
chroma_rect (GstVideoFrame * frame, gint * x0, gint * y0, gint * x1,
    gint * y1)
{
  gint cw = GST_VIDEO_FRAME_COMP_WIDTH (frame, 1);
  gint ch = GST_VIDEO_FRAME_COMP_HEIGHT (frame, 1);

  *x0 = *x0 / 2;
  *y0 = *y0 / 2;
  *x1 = MIN ((*x1 + 1) / 2, cw);
  *y1 = MIN ((*y1 + 1) / 2, ch);
}

static void
fill_i420 (GstSppOverlay * self, GstVideoFrame * frame, gint x0, gint y0,
    gint x1, gint y1, const OverlayColour * col, guint alpha,
    gboolean luma_only)
{
  fill_plane (GST_VIDEO_FRAME_PLANE_DATA (frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0), 1, x0, y0, x1, y1, col->c[0],
      alpha);
  if (luma_only)
    return;
  chroma_rect (frame, &x0, &y0, &x1, &y1);
  fill_plane (GST_VIDEO_FRAME_PLANE_DATA (frame, 1),
      GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1), 1, x0, y0, x1, y1, col->c[1],
      alpha);
  fill_plane (GST_VIDEO_FRAME_PLANE_DATA (frame, 2),
      GST_VIDEO_FRAME_PLANE_STRIDE (frame, 2), 1, x0, y0, x1, y1, col->c[2],
      alpha);
}

static void
fill_nv12 (GstSppOverlay * self, GstVideoFrame * frame, gint x0, gint y0,
    gint x1, gint y1, const OverlayColour * col, guint alpha,
    gboolean luma_only)
{
  guint8 *uv;
  gint stride;

  fill_plane (GST_VIDEO_FRAME_PLANE_DATA (frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0), 1, x0, y0, x1, y1, col->c[0],
      alpha);
  if (luma_only)
    return;
  chroma_rect (frame, &x0, &y0, &x1, &y1);
  uv = GST_VIDEO_FRAME_PLANE_DATA (frame, 1);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 1);
  fill_plane (uv, stride, 2, x0, y0, x1, y1, col->c[1], alpha);
  fill_plane (uv + 1, stride, 2, x0, y0, x1, y1, col->c[2], alpha);
}

/* Clips to the frame (in 64 bits: ROI metas are unsigned and may lie far
 * outside) and fills. */
static void
draw_rect (GstSppOverlay * self, GstVideoFrame * frame, gint64 x0, gint64 y0,
    gint64 x1, gint64 y1, const OverlayColour * col, guint alpha,
    gboolean luma_only)
{
  gint64 w = GST_VIDEO_FRAME_WIDTH (frame);
  gint64 h = GST_VIDEO_FRAME_HEIGHT (frame);

  x0 = CLAMP (x0, 0, w);
  x1 = CLAMP (x1, 0, w);
  y0 = CLAMP (y0, 0, h);
  y1 = CLAMP (y1, 0, h);
  if (x0 >= x1 || y0 >= y1 || alpha == 0)
    return;
  self->fill (self, frame, (gint) x0, (gint) y0, (gint) x1, (gint) y1, col,
      alpha, luma_only);
}

static OverlayColour
make_colour (GstSppOverlay * self, guint8 r, guint8 g, guint8 b)
{
  OverlayColour col;

  if (self->is_yuv) {
    /* BT.601 limited range, as the detector and most decoders assume */
    col.c[0] = (guint8) (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
    col.c[1] = (guint8) (((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
    col.c[2] = (guint8) (((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
  } else {
    col.c[0] = r;
    col.c[1] = g;
    col.c[2] = b;
  }
  return col;
}

static void
draw_text (GstSppOverlay * self, GstVideoFrame * frame, gint64 x, gint64 y,
    const gchar * text, guint scale, const OverlayColour * fg)
{
  for (const guchar * s = (const guchar *) text; *s; s++, x += CELL_W * scale) {
    /* Anything outside printable ASCII (UTF-8 included) shows as '?' */
    guint idx = (*s >= 0x20 && *s <= 0x7e) ? *s - 0x20 : '?' - 0x20;
    const guint8 *g = font5x7[idx];

    for (guint row = 0; row < FONT_H; row++) {
      for (guint colm = 0; colm < FONT_W; colm++) {
        if (!(g[row] & (0x10 >> colm)))
          continue;
        gint64 px = x + (gint64) (1 + colm) * scale;
        gint64 py = y + (gint64) (1 + row) * scale;
        draw_rect (self, frame, px, py, px + scale, py + scale, fg, 255,
            self->is_yuv);
      }
    }
  }
}

static guint
roi_class_index (GstVideoRegionOfInterestMeta * roi, GstStructure * det)
{
  gint label_id;

  if (det && gst_structure_get_int (det, SPP_META_LABEL_ID, &label_id)
      && label_id >= 0)
    return (guint) label_id % G_N_ELEMENTS (palette);
  /* No label_id: hash the type so that one class keeps one colour */
  return g_str_hash (roi->roi_type ? g_quark_to_string (roi->roi_type) : "")
      % G_N_ELEMENTS (palette);
}

static void
draw_roi (GstSppOverlay * self, GstVideoFrame * frame,
    GstVideoRegionOfInterestMeta * roi, guint thickness, gboolean show_labels,
    guint label_alpha)
{
  GstStructure *det = gst_video_region_of_interest_meta_get_param (roi,
      SPP_META_DETECTION);
  const guint8 *rgb = palette[roi_class_index (roi, det)];
  OverlayColour col = make_colour (self, rgb[0], rgb[1], rgb[2]);
  gint64 x0 = roi->x, y0 = roi->y;
  gint64 x1 = x0 + roi->w, y1 = y0 + roi->h;
  gint64 t = thickness;

  if (roi->w == 0 || roi->h == 0)
    return;
  /* Outline drawn inside the box, so it never covers what is outside */
  draw_rect (self, frame, x0, y0, x1, MIN (y0 + t, y1), &col, 255, FALSE);
  draw_rect (self, frame, x0, MAX (y1 - t, y0), x1, y1, &col, 255, FALSE);
  draw_rect (self, frame, x0, y0, MIN (x0 + t, x1), y1, &col, 255, FALSE);
  draw_rect (self, frame, MAX (x1 - t, x0), y0, x1, y1, &col, 255, FALSE);

  if (show_labels) {
    const gchar *label = NULL;
    gdouble conf;
    gchar text[96];
    guint scale = MAX (1, GST_VIDEO_FRAME_HEIGHT (frame) / 540);
    gint64 tw, th, ty;
    guint lum = (299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2]) / 1000;
    OverlayColour fg = lum > 140 ? make_colour (self, 0, 0, 0) :
        make_colour (self, 255, 255, 255);

    if (det)
      label = gst_structure_get_string (det, SPP_META_LABEL);
    if (!label && roi->roi_type)
      label = g_quark_to_string (roi->roi_type);
    if (!label)
      label = "?";
    if (det && gst_structure_get_double (det, SPP_META_CONFIDENCE, &conf))
      g_snprintf (text, sizeof (text), "%.40s %.2f", label, conf);
    else
      g_snprintf (text, sizeof (text), "%.40s", label);

    tw = (gint64) strlen (text) * CELL_W * scale + scale;
    th = (gint64) CELL_H * scale;
    /* Tag above the box; inside its top when there is no room above */
    ty = y0 - th >= 0 ? y0 - th : y0;
    draw_rect (self, frame, x0, ty, x0 + tw, ty + th, &col, label_alpha,
        FALSE);
    draw_text (self, frame, x0, ty, text, scale, &fg);
  }
}

/* Frames without ROI metas skip the writable copy and the mapping that
 * GstVideoFilter would otherwise do: they go through as they came. */
static GstFlowReturn
gst_spp_overlay_prepare_output_buffer (GstBaseTransform * trans,
    GstBuffer * inbuf, GstBuffer ** outbuf)
{
  if (!gst_buffer_get_meta (inbuf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    *outbuf = inbuf;
    return GST_FLOW_OK;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_spp_overlay_parent_class)->
      prepare_output_buffer (trans, inbuf, outbuf);
}

static GstFlowReturn
gst_spp_overlay_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  if (!gst_buffer_get_meta (buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    return GST_FLOW_OK;
  return GST_BASE_TRANSFORM_CLASS (gst_spp_overlay_parent_class)->
      transform_ip (trans, buf);
}

static GstFlowReturn
gst_spp_overlay_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstSppOverlay *self = GST_SPP_OVERLAY (filter);
  gpointer state = NULL;
  GstMeta *meta;
  guint thickness, label_alpha;
  gboolean show_labels;

  GST_OBJECT_LOCK (self);
  thickness = self->thickness;
  show_labels = self->show_labels;
  label_alpha = (guint) (self->label_alpha * 255.0 + 0.5);
  GST_OBJECT_UNLOCK (self);

  while ((meta = gst_buffer_iterate_meta_filtered (frame->buffer, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    draw_roi (self, frame, (GstVideoRegionOfInterestMeta *) meta, thickness,
        show_labels, label_alpha);
  }
  return GST_FLOW_OK;
}

static gboolean
gst_spp_overlay_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstSppOverlay *self = GST_SPP_OVERLAY (filter);
  const GstVideoFormatInfo *finfo = in_info->finfo;

  switch (GST_VIDEO_INFO_FORMAT (in_info)) {
    case GST_VIDEO_FORMAT_I420:
      self->fill = fill_i420;
      self->is_yuv = TRUE;
      break;
    case GST_VIDEO_FORMAT_NV12:
      self->fill = fill_nv12;
      self->is_yuv = TRUE;
      break;
    case GST_VIDEO_FORMAT_RGB:
    case GST_VIDEO_FORMAT_BGR:
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_BGRA:
      self->fill = fill_packed;
      self->is_yuv = FALSE;
      self->pixel_stride = GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, 0);
      for (guint i = 0; i < 3; i++)
        self->offsets[i] = GST_VIDEO_FORMAT_INFO_POFFSET (finfo, i);
      break;
    default:
      GST_ERROR_OBJECT (self, "unsupported format %s",
          gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (in_info)));
      return FALSE;
  }
  GST_DEBUG_OBJECT (self, "drawing on %s %dx%d",
      GST_VIDEO_INFO_NAME (in_info), GST_VIDEO_INFO_WIDTH (in_info),
      GST_VIDEO_INFO_HEIGHT (in_info));
  return TRUE;
}

static void
gst_spp_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSppOverlay *self = GST_SPP_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_THICKNESS:
      self->thickness = g_value_get_uint (value);
      break;
    case PROP_SHOW_LABELS:
      self->show_labels = g_value_get_boolean (value);
      break;
    case PROP_LABEL_ALPHA:
      self->label_alpha = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_spp_overlay_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstSppOverlay *self = GST_SPP_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_THICKNESS:
      g_value_set_uint (value, self->thickness);
      break;
    case PROP_SHOW_LABELS:
      g_value_set_boolean (value, self->show_labels);
      break;
    case PROP_LABEL_ALPHA:
      g_value_set_double (value, self->label_alpha);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_spp_overlay_class_init (GstSppOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *vfilter_class = GST_VIDEO_FILTER_CLASS (klass);
  GstCaps *caps;

  GST_DEBUG_CATEGORY_INIT (gst_spp_overlay_debug, "sppoverlay", 0,
      "SPP ROI overlay");

  gobject_class->set_property = gst_spp_overlay_set_property;
  gobject_class->get_property = gst_spp_overlay_get_property;

  g_object_class_install_property (gobject_class, PROP_THICKNESS,
      g_param_spec_uint ("thickness", "Thickness",
          "Outline width in pixels, drawn inside each box", 1, 64,
          DEFAULT_THICKNESS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_SHOW_LABELS,
      g_param_spec_boolean ("show-labels", "Show labels",
          "Draw a \"label confidence\" tag above each box",
          DEFAULT_SHOW_LABELS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_LABEL_ALPHA,
      g_param_spec_double ("label-alpha", "Label alpha",
          "Opacity of the tag background (0 = transparent, 1 = opaque)",
          0.0, 1.0, DEFAULT_LABEL_ALPHA,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));

  caps = gst_caps_from_string (GST_VIDEO_CAPS_MAKE (OVERLAY_FORMATS));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref (caps);

  gst_element_class_set_static_metadata (element_class,
      "SPP ROI overlay", "Filter/Effect/Video",
      "Draws region-of-interest metas (boxes, labels, confidences) "
      "on raw video", "sppdetect developers");

  trans_class->prepare_output_buffer =
      GST_DEBUG_FUNCPTR (gst_spp_overlay_prepare_output_buffer);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_spp_overlay_transform_ip);
  vfilter_class->set_info = GST_DEBUG_FUNCPTR (gst_spp_overlay_set_info);
  vfilter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_spp_overlay_transform_frame_ip);
}

static void
gst_spp_overlay_init (GstSppOverlay * self)
{
  self->thickness = DEFAULT_THICKNESS;
  self->show_labels = DEFAULT_SHOW_LABELS;
  self->label_alpha = DEFAULT_LABEL_ALPHA;
}
