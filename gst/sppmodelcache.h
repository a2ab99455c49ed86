/* sppdetect: the process-wide model cache, and the loader that swaps a
 * model in while an element runs.
 *
 * Models are immutable (include/spp/model.h), so every element that names
 * the same file shares one read-only SppModel; each element still gets a
 * detector of its own, as detectors are not thread-safe. */
#pragma once

#include <glib.h>

#include "spp/detector.h"
#include "spp/model.h"

G_BEGIN_DECLS

/* Returns a new reference to the model in @path, loaded once for the
 * whole process; give it back with spp_model_cache_unref(). */
SppModel *spp_model_cache_ref (const gchar * path, GError ** error);
void spp_model_cache_unref (SppModel * model);

/* A model from the cache and a detector of one's own on it */
typedef struct
{
  SppModel *model;
  SppDetector *detector;
} SppDetectModel;

/* Fails when the file has no detector (no SVMs): such a model can only
 * compute features (docs/model-format.md). */
SppDetectModel *spp_detect_model_load (const gchar * path, GError ** error);
void spp_detect_model_free (SppDetectModel * model);

/* Loads models on a thread of its own so that a running stream never
 * waits for a file.  @done runs on that thread after each load that is
 * ready to be taken (@error NULL) or failed (@error set); it is not called
 * for a model loaded after spp_model_loader_free() began. */
typedef struct _SppModelLoader SppModelLoader;
typedef void (*SppModelLoaderDoneFunc) (const gchar * path,
    const GError * error, gpointer user_data);

SppModelLoader *spp_model_loader_new (SppModelLoaderDoneFunc done,
    gpointer user_data);
/* Waits for a load in progress, then drops a model nobody took */
void spp_model_loader_free (SppModelLoader * loader);
/* Loads @path in the background; while a load runs, only the newest path
 * asked for is loaded next. */
void spp_model_loader_request (SppModelLoader * loader, const gchar * path);
/* The model loaded last, if it was not taken yet; else NULL */
SppDetectModel *spp_model_loader_take (SppModelLoader * loader);

G_END_DECLS
