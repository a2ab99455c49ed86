/* sppdetect: error domain shared by every fallible call. */
#pragma once

#include <glib.h>
#include "spp/export.h"

G_BEGIN_DECLS

/**
 * SPP_ERROR:
 *
 * The error domain of libspp. Every fallible public call takes a
 * `GError **error` last and fills it with one of #SppErrorCode.
 */
#define SPP_ERROR (spp_error_quark ())
SPP_API GQuark spp_error_quark (void);

/**
 * SppErrorCode:
 * @SPP_ERROR_IO: a file could not be opened, read or mapped.
 * @SPP_ERROR_FORMAT: a model or data file is malformed, truncated or
 *   hostile; the message names the file and the field.
 * @SPP_ERROR_SHAPE: tensor or layer shapes do not agree.
 * @SPP_ERROR_INVAL: an argument value is out of range (a user setting,
 *   not a programming error).
 * @SPP_ERROR_NOMEM: an allocation the input asked for could not be made.
 */
typedef enum {
  SPP_ERROR_IO,
  SPP_ERROR_FORMAT,
  SPP_ERROR_SHAPE,
  SPP_ERROR_INVAL,
  SPP_ERROR_NOMEM,
} SppErrorCode;

G_END_DECLS
