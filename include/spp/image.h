/* sppdetect: a borrowed view of one video frame or picture. */
#pragma once

#include <glib.h>

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

G_END_DECLS
