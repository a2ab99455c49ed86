/* Rewriting an .sppm file (docs/model-format.md): the file parsed into
 * its metadata entries, tensors and layers, which can be removed or
 * added, then laid out again. Kept metadata entries and layers are copied
 * byte for byte, except that the layers' tensor ids are renumbered; kept
 * tensors are laid out again in order, added ones after them. This is
 * libspp's one writer of model files; spp_model_load() reads them. */
#pragma once

#include <glib.h>
#include "spp-engine/model-format.h"

typedef struct _SppModelFile SppModelFile;

/* Parses @bytes (kept referenced; @name is what errors call it). Fails
 * with SPP_ERROR_FORMAT on anything docs/model-format.md does not allow
 * in the file's structure (values are not checked: the result is, by
 * spp_model_file_write()). */
SppModelFile *spp_model_file_new (GBytes *bytes, const char *name,
                                  GError **error);
void spp_model_file_free (SppModelFile *file);

/* The value of the last f32 entry named @key; FALSE if there is none. */
gboolean spp_model_file_get_f32 (const SppModelFile *file, const char *key,
                                 float *value);

/* A tensor: its data points into the file or at what was added, and may
 * be unaligned (read it with memcpy). */
typedef struct {
  char *name;
  guint32 n_dims, dims[SPP_FORMAT_MAX_DIMS];
  gsize n_floats;
  const void *data;
  gboolean removed;
} SppModelFileTensor;

/* A layer: its op, section, integer parameters and tensor ids (indices
 * for spp_model_file_get_tensor()). */
typedef struct {
  guint32 op, section, n_iparams, n_tensors;
  gint32 iparams[SPP_FORMAT_MAX_PARAMS];
  guint32 tensors[SPP_FORMAT_MAX_LAYER_TENSORS];
  GBytes *prefix; /* its bytes up to n_tensors */
  gboolean removed;
} SppModelFileLayer;

guint spp_model_file_get_n_tensors (const SppModelFile *file);
const SppModelFileTensor *spp_model_file_get_tensor (const SppModelFile *file,
                                                     guint id);
guint spp_model_file_get_n_layers (const SppModelFile *file);
const SppModelFileLayer *spp_model_file_get_layer (const SppModelFile *file,
                                                   guint i);

/* Editing. Removing a key removes every entry of it, added ones too;
 * entries are added after the kept ones, in the order of the calls. */
void spp_model_file_remove_key (SppModelFile *file, const char *key);
void spp_model_file_add_u32 (SppModelFile *file, const char *key,
                             guint32 value);
void spp_model_file_add_f32 (SppModelFile *file, const char *key,
                             float value);
void spp_model_file_add_string (SppModelFile *file, const char *key,
                                const char *value);
void spp_model_file_add_u32_array (SppModelFile *file, const char *key,
                                   const guint32 *values, guint n);
void spp_model_file_add_f32_array (SppModelFile *file, const char *key,
                                   const float *values, guint n);
void spp_model_file_add_string_array (SppModelFile *file, const char *key,
                                      const char *const *values, guint n);

/* A removed tensor must not be used by a kept layer. */
void spp_model_file_remove_tensor (SppModelFile *file, guint id);
void spp_model_file_remove_layer (SppModelFile *file, guint i);
/* A tensor of @d0 floats (@d1 0) or @d0 x @d1; @data is borrowed until
 * the file is written. Returns its id. */
guint spp_model_file_add_tensor (SppModelFile *file, const char *name,
                                 const float *data, guint32 d0, guint32 d1);
/* A head layer (no inputs, no float parameters) after the others. */
void spp_model_file_add_head_layer (SppModelFile *file, guint32 op,
                                    const char *name, const gint32 *iparams,
                                    guint n_iparams, const guint *tensors,
                                    guint n_tensors);

/* Lays the file out and loads the result with spp_model_load_from_bytes()
 * as a check (@name is what its errors call it). */
GBytes *spp_model_file_write (SppModelFile *file, const char *name,
                              GError **error);
/* spp_model_file_write() to @path, replaced atomically. */
gboolean spp_model_file_save (SppModelFile *file, const char *path,
                              GError **error);
/* Writes what spp_model_file_write() gave to @path, atomically. */
gboolean spp_model_bytes_save (GBytes *bytes, const char *path,
                               GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppModelFile, spp_model_file_free)
