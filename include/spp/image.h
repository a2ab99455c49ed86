/* sppdetect: a borrowed view of one video frame or picture. */
#pragma once

#include <glib.h>
#include "spp/export.h"

G_BEGIN_DECLS

/**
 * SppPixelFormat:
 *
 * Pixel layouts accepted as input. Packed formats use plane 0 only;
 * I420 has Y, U, V planes (chroma halved in both directions, rounded
 * up), NV12 has Y and interleaved UV. YUV is taken as BT.601 limited
 * range, as most cameras and decoders produce at SD and HD sizes.
 * New values go only at the end.
 */
typedef enum {
  SPP_PIXEL_RGB,
  SPP_PIXEL_BGR,
  SPP_PIXEL_RGBX,
  SPP_PIXEL_BGRX,
  SPP_PIXEL_RGBA,
  SPP_PIXEL_BGRA,
  SPP_PIXEL_I420,
  SPP_PIXEL_NV12,
  SPP_PIXEL_YUY2,
  SPP_PIXEL_GRAY8,
} SppPixelFormat;

#define SPP_IMAGE_MAX_PLANES 3

/**
 * SppImage:
 * @format: the pixel layout.
 * @width: width in pixels (>= 1).
 * @height: height in pixels (>= 1).
 * @planes: plane pointers, borrowed.
 * @strides: bytes from one row to the next, per plane.
 *
 * A view; it owns nothing. Fill it from a GstVideoFrame or any buffer.
 */
typedef struct {
  SppPixelFormat format;
  int width, height;
  const guint8 *planes[SPP_IMAGE_MAX_PLANES];
  int strides[SPP_IMAGE_MAX_PLANES];
} SppImage;

/**
 * spp_image_validate:
 * @img: the view to check.
 *
 * Checks that @img is usable: a known format, width and height >= 1, the
 * planes the format needs non-%NULL and each stride at least one row of
 * that plane. Fails with %SPP_ERROR_INVAL naming the field.
 */
SPP_API gboolean spp_image_validate (const SppImage *img, GError **error);

/**
 * spp_image_resize_rgb:
 * @src: any #SppPixelFormat.
 * @dst: (out caller-allocates): @dst_h rows of @dst_stride bytes, packed
 *   RGB u8.
 * @dst_w: output width (>= 1).
 * @dst_h: output height (>= 1).
 * @dst_stride: bytes per output row (>= 3 * @dst_w).
 *
 * Converts to RGB and resizes in one pass, separably along each axis:
 * area averaging where the axis shrinks, bilinear (pixel centres aligned)
 * where it grows, a plain copy where it keeps its size. YUV is BT.601
 * limited range; I420/NV12 chroma is taken from the co-sited sample (no
 * chroma interpolation), YUY2 shares U/V between pixel pairs. Only small
 * per-call tables are allocated.
 */
SPP_API gboolean spp_image_resize_rgb (const SppImage *src, guint8 *dst, int dst_w,
                               int dst_h, int dst_stride, GError **error);

G_END_DECLS
