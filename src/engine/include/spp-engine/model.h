/* What the other parts of libspp read from a model beyond include/spp/
 * model.h: their own sections of the file, and a few facts of the graph
 * (docs/design.md, the model file). */
#pragma once

#include "spp/model.h"
#include "spp-engine/tensor.h"

/* The file's metadata while it loads, for a section's reader. Getters
 * fail with an SPP_ERROR_FORMAT error that names the file and the key;
 * absent optional keys give the default. */
typedef struct _SppModelMeta SppModelMeta;

gboolean spp_model_meta_u32 (SppModelMeta *meta, const char *key,
                             gboolean required, guint32 def, guint32 *out);
gboolean spp_model_meta_f32 (SppModelMeta *meta, const char *key, float def,
                             float *out);
/* NULL-terminated; NULL (and TRUE) when absent and not required. */
gboolean spp_model_meta_strings (SppModelMeta *meta, const char *key,
                                 gboolean required, char ***out, guint *n);
gboolean spp_model_meta_u32s (SppModelMeta *meta, const char *key,
                              gboolean required, guint **out, guint *n);
gboolean spp_model_meta_f32s (SppModelMeta *meta, const char *key,
                              gboolean required, float **out, guint *n);
/* Reports a format error in the file ("file: message"); returns FALSE. */
gboolean spp_model_meta_fail (SppModelMeta *meta, const char *fmt, ...)
    G_GNUC_PRINTF (2, 3);

/* A section of the model file that a part of the library reads: its keys
 * and tensors, checked when the model loads (so a bad file fails at
 * spp_model_load), kept for the model's life. */
typedef struct {
  const char *name;
  /* The section's data, or NULL with the error reported through meta. */
  gpointer (*read) (const SppModel *model, SppModelMeta *meta);
  void (*free) (gpointer section);
  /* Appends lines to spp_model_describe(). */
  void (*describe) (gconstpointer section, GString *out);
} SppModelSectionType;

/* The sections libspp reads, in order: defined where the library is put
 * together (src/model-sections.c), not in the engine. */
extern const SppModelSectionType *const spp_model_section_types[];
extern const guint spp_model_n_section_types;

/* Section @index's data, as its read returned it. */
gpointer spp_model_get_section (const SppModel *model, guint index);

const SppTensor *spp_model_find_tensor (const SppModel *model,
                                        const char *name);
/* input.min_size and input.multiple. */
void spp_model_get_input_size (const SppModel *model, guint *min_size,
                               guint *multiple);
/* Width of the head's output: the pooled size without a head. */
guint spp_model_get_head_width (const SppModel *model);
/* The weight of the head's first fc layer (the one that reads pooled
 * vectors), or NULL without a head. */
const SppTensor *spp_model_get_head_weight (const SppModel *model);
