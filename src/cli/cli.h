#pragma once

#include <glib.h>
#include <stdio.h>

/* One function per subcommand; each gets argv from the subcommand name on
 * and returns the process exit status. */
int spp_cli_info (int argc, char **argv);
int spp_cli_proposals (int argc, char **argv);
int spp_cli_detect (int argc, char **argv);
int spp_cli_train (int argc, char **argv);
int spp_cli_eval (int argc, char **argv);

/* HAVE_GST: defined by src/cli/meson.build when GStreamer and json-glib
 * are found. */
#ifdef HAVE_GST
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
/* A decoding pipeline for one file: filesrc ! decodebin ! videoconvert !
 * appsink, packed RGB, at most @max_buffers frames queued. Errors are
 * SPP_ERROR_IO naming the file. */
typedef struct _SppCliDecoder SppCliDecoder;
SppCliDecoder *spp_cli_decoder_new (const char *path, guint max_buffers,
                                    GError **error);
/* The next frame, or NULL: at the end of the file (no error), or on a
 * decoding error or after 30 s without a frame (with @error). */
GstSample *spp_cli_decoder_next (SppCliDecoder *d, GError **error);
void spp_cli_decoder_free (SppCliDecoder *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppCliDecoder, spp_cli_decoder_free)

/* Decodes the first frame of @path to packed RGB; the caller maps the
 * sample's buffer (stride from its caps' GstVideoInfo). */
GstSample *spp_cli_decode_rgb (const char *path, GError **error);
#include "spp/image.h"
/* Points @img at the packed RGB frame of @sample (from
 * spp_cli_decode_rgb), mapping its buffer into @map: unmap it with
 * gst_buffer_unmap (gst_sample_get_buffer (sample), map) when done.
 * FALSE with an error naming @name when the sample has no video caps or
 * cannot be mapped. */
gboolean spp_cli_sample_image (GstSample *sample, const char *name,
                               SppImage *img, GstMapInfo *map,
                               GError **error);
#endif

#include "spp/detector.h"
/* --box-vote (-1: the model's) and --box-passes (0: the model's) checked
 * and set on @det; FALSE, with a message naming `spp @command`, when out
 * of range. */
gboolean spp_cli_set_box_options (SppDetector *det, const char *command,
                                  double box_vote, int box_passes);

/* Parses a subcommand's options with its own usage text: --help prints
 * usage to stdout (exit 0), a bad option prints the error and usage to
 * stderr (exit 2). Returns -1 to go on, else the exit status. */
int spp_cli_parse_options (const char *command, const GOptionEntry *entries,
                           const char *parameter, void (*usage) (FILE *),
                           int *argc, char ***argv);

/* Writes @s as a JSON string literal to stdout. */
void spp_cli_print_json_string (const char *s);
