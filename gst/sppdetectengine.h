/* sppdetect: the detector side of one element: its model, its proposals
 * across frames, and the settings it runs with.
 *
 * Settings are written by any thread (GObject properties) but used by the
 * one that owns the detector (the streaming thread, or the async worker).
 * So the writer bumps a generation number with each change, under its own
 * lock, and the engine copies the settings only when the number moved, and
 * applies the copy before its next inference. */
#pragma once

#include <glib.h>

#include "spp/detector.h"
#include "spp/image.h"
#include "spp/proposals.h"

#include "sppmodelcache.h"

G_BEGIN_DECLS

#define SPP_DETECT_MAX_SCALES 8

/* What the user asked for: sppdetect's properties (docs/elements.md) */
typedef struct
{
  gdouble threshold;
  gdouble nms_threshold;
  guint scales[SPP_DETECT_MAX_SCALES];
  guint n_scales;               /* 0: the model's */
  guint max_proposals;
  SppProposalMode proposal_mode;
  guint proposal_interval;
  guint inference_interval;
  gchar **object_class;         /* NULL: every class */
  gint num_threads;
  gboolean async;
} SppDetectSettings;

void spp_detect_settings_copy (SppDetectSettings * dst,
    const SppDetectSettings * src);
void spp_detect_settings_clear (SppDetectSettings * settings);

/* A setting the model cannot honour: @text for the user, @detail (may be
 * NULL) for the developer */
typedef void (*SppDetectWarnFunc) (const gchar * text, const gchar * detail,
    gpointer user_data);

/* Not thread-safe: its owner keeps it under one lock */
typedef struct _SppDetectEngine SppDetectEngine;

/* Takes @model. @user_data goes to @warn, and names the element in debug
 * logs. */
SppDetectEngine *spp_detect_engine_new (SppDetectModel * model,
    SppDetectWarnFunc warn, gpointer user_data);
void spp_detect_engine_free (SppDetectEngine * engine);
guint spp_detect_engine_get_n_classes (SppDetectEngine * engine);
/* Takes @model in place of the current one, from the next inference on */
void spp_detect_engine_set_model (SppDetectEngine * engine,
    SppDetectModel * model);
/* Under the lock that guards @settings: copies them if @gen is not the
 * generation copied last */
void spp_detect_engine_sync_settings (SppDetectEngine * engine,
    const SppDetectSettings * settings, guint gen);
/* Applies new settings or a new model, then detects objects on @image
 * (frame @frame_no of the stream). @dets (the classes object-class keeps)
 * stay valid until the next call. */
gboolean spp_detect_engine_run (SppDetectEngine * engine,
    const SppImage * image, guint64 frame_no, const SppDetection ** dets,
    guint * n_dets, GError ** error);
/* The stream jumped: the next inference computes proposals afresh */
void spp_detect_engine_reset_proposals (SppDetectEngine * engine);
/* Smoothed inference time in microseconds (0: none yet); any thread */
gint spp_detect_engine_get_inference_us (SppDetectEngine * engine);

G_END_DECLS
