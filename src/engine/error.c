#include "spp/error.h"

G_DEFINE_QUARK (spp-error-quark, spp_error)
