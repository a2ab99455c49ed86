/* The sections of the model file beyond the graph, and the parts that
 * read them (docs/model-format.md, docs/design.md). A new section is one
 * more entry here, and nothing in the engine changes. */
#include "spp-engine/model.h"
#include "detect-section.h"

const SppModelSectionType *const spp_model_section_types[] = {
  &spp_detect_section_type,
};

const guint spp_model_n_section_types
    = G_N_ELEMENTS (spp_model_section_types);
