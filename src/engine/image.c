/* sppdetect: checking frames, converting them to RGB and resizing. */
#include "spp/image.h"
#include "spp-engine/image.h"
#include "spp/error.h"

#include <math.h>
#include <string.h>

static const char *const format_names[] = {
  "RGB", "BGR", "RGBX", "BGRX", "RGBA", "BGRA", "I420", "NV12", "YUY2",
  "GRAY8",
};

/* Bytes one row of plane @p needs, 0 when the format has no such plane. */
static gint64
plane_row_bytes (SppPixelFormat f, int w, int p)
{
  gint64 cw = ((gint64) w + 1) / 2;
  switch (f) {
    case SPP_PIXEL_RGB:
    case SPP_PIXEL_BGR:
      return p == 0 ? 3 * (gint64) w : 0;
    case SPP_PIXEL_RGBX:
    case SPP_PIXEL_BGRX:
    case SPP_PIXEL_RGBA:
    case SPP_PIXEL_BGRA:
      return p == 0 ? 4 * (gint64) w : 0;
    case SPP_PIXEL_I420:
      return p == 0 ? w : cw;
    case SPP_PIXEL_NV12:
      return p == 0 ? w : (p == 1 ? 2 * cw : 0);
    case SPP_PIXEL_YUY2:
      /* Pixels come in pairs sharing U and V; an odd width still has the
       * whole last pair in memory. */
      return p == 0 ? 4 * cw : 0;
    case SPP_PIXEL_GRAY8:
      return p == 0 ? w : 0;
  }
  return 0;
}

gboolean
spp_image_validate (const SppImage *img, GError **error)
{
  if (img == NULL) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL, "image: NULL image");
    return FALSE;
  }
  if ((guint) img->format > SPP_PIXEL_GRAY8) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "image: format %d is not a known SppPixelFormat (0..%d)",
                 (int) img->format, (int) SPP_PIXEL_GRAY8);
    return FALSE;
  }
  if (img->width < 1 || img->height < 1) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "image: size %dx%d, expected width and height >= 1",
                 img->width, img->height);
    return FALSE;
  }
  for (int p = 0; p < SPP_IMAGE_MAX_PLANES; p++) {
    gint64 need = plane_row_bytes (img->format, img->width, p);
    if (need == 0)
      continue;
    if (img->planes[p] == NULL) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "image: plane %d of a %s image is NULL", p,
                   format_names[img->format]);
      return FALSE;
    }
    if ((gint64) img->strides[p] < need) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "image: stride %d of plane %d of a %d-wide %s image, "
                   "expected >= %" G_GINT64_FORMAT, img->strides[p], p,
                   img->width, format_names[img->format], need);
      return FALSE;
    }
  }
  return TRUE;
}

/* One output coordinate's source interval and weights (separable). */
typedef struct {
  int start, n, woff;
} Taps;

/* Builds the taps of one axis; returns the largest tap count. Area
 * averaging when shrinking (each output pixel is the mean of the source
 * interval it covers), bilinear with aligned pixel centres when
 * enlarging. */
static int
build_taps (int src, int dst, Taps *taps, float *weights)
{
  int maxn = 1, woff = 0;
  if (src == dst) {
    for (int d = 0; d < dst; d++) {
      taps[d] = (Taps) { d, 1, woff };
      weights[woff++] = 1.0f;
    }
    return 1;
  }
  double s = (double) src / dst;
  if (src > dst) {
    for (int d = 0; d < dst; d++) {
      double a = d * s, b = (d + 1) * s;
      int i0 = (int) floor (a), i1 = (int) ceil (b - 1e-9);
      if (i1 > src)
        i1 = src;
      if (i1 <= i0)
        i1 = i0 + 1;
      taps[d] = (Taps) { i0, i1 - i0, woff };
      for (int i = i0; i < i1; i++) {
        double lo = MAX (a, (double) i), hi = MIN (b, (double) i + 1);
        weights[woff++] = (float) (MAX (hi - lo, 0.0) / s);
      }
      maxn = MAX (maxn, i1 - i0);
    }
    return maxn;
  }
  for (int d = 0; d < dst; d++) {
    double f = (d + 0.5) * s - 0.5;
    if (f < 0)
      f = 0;
    if (f > src - 1)
      f = src - 1;
    int i0 = (int) floor (f);
    double fr = f - i0;
    if (i0 + 1 < src && fr > 0) {
      taps[d] = (Taps) { i0, 2, woff };
      weights[woff++] = (float) (1.0 - fr);
      weights[woff++] = (float) fr;
      maxn = 2;
    } else {
      taps[d] = (Taps) { i0, 1, woff };
      weights[woff++] = 1.0f;
    }
  }
  return maxn;
}

/* BT.601 limited range, as tables so the row loops only add. */
typedef struct {
  float y[256], rv[256], gu[256], gv[256], bu[256];
} YuvTables;

static void
yuv_tables_init (YuvTables *t)
{
  for (int i = 0; i < 256; i++) {
    t->y[i] = 1.164383f * (i - 16);
    t->rv[i] = 1.596027f * (i - 128);
    t->gu[i] = -0.391762f * (i - 128);
    t->gv[i] = -0.812968f * (i - 128);
    t->bu[i] = 2.017232f * (i - 128);
  }
}

static inline float
clamp255 (float v)
{
  return v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
}

static inline void
yuv_px (const YuvTables *t, int Y, int U, int V, float *o)
{
  float yy = t->y[Y];
  o[0] = clamp255 (yy + t->rv[V]);
  o[1] = clamp255 (yy + t->gu[U] + t->gv[V]);
  o[2] = clamp255 (yy + t->bu[U]);
}

/* Source row @y as float RGB, @w pixels. */
static void
convert_row (const SppImage *img, int y, const YuvTables *yt, float *o)
{
  int w = img->width;
  const guint8 *p = img->planes[0] + (gsize) y * img->strides[0];
  switch (img->format) {
    case SPP_PIXEL_RGB:
      for (int x = 0; x < 3 * w; x++)
        o[x] = p[x];
      break;
    case SPP_PIXEL_BGR:
      for (int x = 0; x < w; x++, p += 3, o += 3) {
        o[0] = p[2]; o[1] = p[1]; o[2] = p[0];
      }
      break;
    case SPP_PIXEL_RGBX:
    case SPP_PIXEL_RGBA:
      for (int x = 0; x < w; x++, p += 4, o += 3) {
        o[0] = p[0]; o[1] = p[1]; o[2] = p[2];
      }
      break;
    case SPP_PIXEL_BGRX:
    case SPP_PIXEL_BGRA:
      for (int x = 0; x < w; x++, p += 4, o += 3) {
        o[0] = p[2]; o[1] = p[1]; o[2] = p[0];
      }
      break;
    case SPP_PIXEL_GRAY8:
      for (int x = 0; x < w; x++, o += 3)
        o[0] = o[1] = o[2] = p[x];
      break;
    case SPP_PIXEL_I420: {
      const guint8 *u = img->planes[1] + (gsize) (y / 2) * img->strides[1];
      const guint8 *v = img->planes[2] + (gsize) (y / 2) * img->strides[2];
      for (int x = 0; x < w; x++, o += 3)
        yuv_px (yt, p[x], u[x >> 1], v[x >> 1], o);
      break;
    }
    case SPP_PIXEL_NV12: {
      const guint8 *uv = img->planes[1] + (gsize) (y / 2) * img->strides[1];
      for (int x = 0; x < w; x++, o += 3)
        yuv_px (yt, p[x], uv[(x >> 1) * 2], uv[(x >> 1) * 2 + 1], o);
      break;
    }
    case SPP_PIXEL_YUY2:
      for (int x = 0; x < w; x++, o += 3) {
        const guint8 *q = p + (x >> 1) * 4;
        yuv_px (yt, q[(x & 1) * 2], q[1], q[3], o);
      }
      break;
  }
}

gboolean
spp_image_resize_rgb (const SppImage *src, guint8 *dst, int dst_w, int dst_h,
                      int dst_stride, GError **error)
{
  return spp_image_resize_rgb_rows (src, dst, dst_w, dst_h, dst_stride, 0,
                                    dst_h, error);
}

gboolean
spp_image_resize_rgb_rows (const SppImage *src, guint8 *dst, int dst_w,
                           int dst_h, int dst_stride, int row_begin,
                           int row_end, GError **error)
{
  if (!spp_image_validate (src, error))
    return FALSE;
  if (dst == NULL || dst_w < 1 || dst_h < 1
      || (gint64) dst_stride < 3 * (gint64) dst_w) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "resize: destination %dx%d stride %d, expected a buffer, "
                 "sizes >= 1 and stride >= 3 * width", dst_w, dst_h,
                 dst_stride);
    return FALSE;
  }
  if (row_begin < 0 || row_end > dst_h || row_begin > row_end) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "resize: rows [%d, %d) outside [0, %d)", row_begin, row_end,
                 dst_h);
    return FALSE;
  }
  int sw = src->width, sh = src->height;
  /* Area taps span at most ceil(src/dst) + 1 pixels. */
  gsize xw_len = (gsize) dst_w * ((gsize) (sw / dst_w) + 2);
  gsize yw_len = (gsize) dst_h * ((gsize) (sh / dst_h) + 2);
  Taps *xt = g_new (Taps, dst_w);
  Taps *yt = g_new (Taps, dst_h);
  float *xwt = g_new (float, xw_len);
  float *ywt = g_new (float, yw_len);
  build_taps (sw, dst_w, xt, xwt);
  int ny = build_taps (sh, dst_h, yt, ywt);

  YuvTables *tabs = NULL;
  if (src->format == SPP_PIXEL_I420 || src->format == SPP_PIXEL_NV12
      || src->format == SPP_PIXEL_YUY2) {
    tabs = g_new (YuvTables, 1);
    yuv_tables_init (tabs);
  }
  float *srow = g_new (float, (gsize) sw * 3);
  /* A ring of horizontally resampled rows: the rows one output row needs
   * are consecutive and never more than @ny, and output rows move
   * forward, so each source row is converted once. */
  float *ring = g_new (float, (gsize) ny * dst_w * 3);
  int *tags = g_new (int, ny);
  float *acc = g_new (float, (gsize) dst_w * 3);
  for (int i = 0; i < ny; i++)
    tags[i] = -1;

  for (int dy = row_begin; dy < row_end; dy++) {
    const Taps *ty = &yt[dy];
    for (int k = 0; k < ty->n; k++) {
      int sy = ty->start + k, slot = sy % ny;
      if (tags[slot] == sy)
        continue;
      tags[slot] = sy;
      convert_row (src, sy, tabs, srow);
      float *h = ring + (gsize) slot * dst_w * 3;
      for (int dx = 0; dx < dst_w; dx++) {
        const Taps *tx = &xt[dx];
        const float *s = srow + (gsize) tx->start * 3;
        const float *wt = xwt + tx->woff;
        float r = 0, g = 0, b = 0;
        for (int t = 0; t < tx->n; t++, s += 3) {
          r += wt[t] * s[0];
          g += wt[t] * s[1];
          b += wt[t] * s[2];
        }
        h[3 * dx] = r;
        h[3 * dx + 1] = g;
        h[3 * dx + 2] = b;
      }
    }
    guint8 *out = dst + (gsize) dy * dst_stride;
    const float *wt = ywt + ty->woff;
    const float *r0 = ring + (gsize) (ty->start % ny) * dst_w * 3;
    if (ty->n == 1) {
      for (int i = 0; i < 3 * dst_w; i++)
        out[i] = (guint8) (clamp255 (r0[i]) + 0.5f);
      continue;
    }
    for (int i = 0; i < 3 * dst_w; i++)
      acc[i] = wt[0] * r0[i];
    for (int k = 1; k < ty->n; k++) {
      const float *rk = ring + (gsize) ((ty->start + k) % ny) * dst_w * 3;
      float wk = wt[k];
      for (int i = 0; i < 3 * dst_w; i++)
        acc[i] += wk * rk[i];
    }
    for (int i = 0; i < 3 * dst_w; i++)
      out[i] = (guint8) (clamp255 (acc[i]) + 0.5f);
  }
  g_free (acc);
  g_free (tags);
  g_free (ring);
  g_free (srow);
  g_free (tabs);
  g_free (ywt);
  g_free (xwt);
  g_free (yt);
  g_free (xt);
  return TRUE;
}
