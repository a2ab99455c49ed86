/* The .sppm file format (docs/model-format.md): its constants and
 * limits, and bounds-checked reading of a file held in memory. The
 * writer (model-writer.c) parses and lays out files with these. New
 * values go only at the end. */
#pragma once

#include <glib.h>

#define SPP_FORMAT_MAGIC "SPPM"
#define SPP_FORMAT_VERSION 1
#define SPP_FORMAT_HEADER_SIZE 40
#define SPP_FORMAT_ALIGNMENT 64

/* docs/model-format.md: the limits of each count. */
#define SPP_FORMAT_MAX_KV 4096
#define SPP_FORMAT_MAX_TENSORS 65536
#define SPP_FORMAT_MAX_LAYERS 4096
#define SPP_FORMAT_MAX_STRING 65536
#define SPP_FORMAT_MAX_NAME 256
#define SPP_FORMAT_MAX_ARRAY 65536
#define SPP_FORMAT_MAX_DIMS 4
#define SPP_FORMAT_MAX_INPUTS 64
#define SPP_FORMAT_MAX_PARAMS 32
#define SPP_FORMAT_MAX_LAYER_TENSORS 8

/* Metadata value types; an array is followed by its element type (one
 * of the others) and count. */
typedef enum {
  SPP_FORMAT_U32 = 0,
  SPP_FORMAT_I32 = 1,
  SPP_FORMAT_F32 = 2,
  SPP_FORMAT_STRING = 3,
  SPP_FORMAT_ARRAY = 4,
} SppFormatType;

/* A layer's section: the trunk maps the image to the feature map, the
 * head maps pooled vectors to the SVMs' input. */
typedef enum {
  SPP_FORMAT_TRUNK = 0,
  SPP_FORMAT_HEAD = 1,
} SppFormatSection;

/* The only tensor type of version 1. */
#define SPP_FORMAT_DTYPE_F32 0

/* Layer entries: the op code of fc and the activation code of ReLU (its
 * second integer parameter), which the writer emits for a new head. */
#define SPP_FORMAT_OP_FC 9
#define SPP_FORMAT_ACT_RELU 1

/* Reading: every read checks the bytes left first, and the first
 * failure sets *error (SPP_ERROR_FORMAT, naming @file and the field). */
typedef struct {
  const guint8 *data;
  gsize len, pos;
  const char *file;
  GError **error;
} SppFormatReader;

gboolean spp_format_fail (SppFormatReader *r, const char *fmt, ...)
    G_GNUC_PRINTF (2, 3);
gboolean spp_format_need (SppFormatReader *r, gsize n, const char *what);
gboolean spp_format_read_u32 (SppFormatReader *r, guint32 *v,
                              const char *what);
gboolean spp_format_read_u64 (SppFormatReader *r, guint64 *v,
                              const char *what);
gboolean spp_format_read_f32 (SppFormatReader *r, float *v, const char *what);
/* A string of at most @max bytes, no NUL, valid UTF-8: points *@s into
 * the data (not NUL-terminated) and *@n at its length. */
gboolean spp_format_read_string (SppFormatReader *r, guint max,
                                 const char **s, guint32 *n,
                                 const char *what);

/* Writing, little-endian. */
void spp_format_put_u32 (GByteArray *b, guint32 v);
void spp_format_put_u64 (GByteArray *b, guint64 v);
void spp_format_put_f32 (GByteArray *b, float v);
void spp_format_put_string (GByteArray *b, const char *s);
