#pragma once

#include "spp/net.h"

/* As spp_net_forward_head, with the first fc layer's weight replaced
 * (NULL: the layer's own), for pooled vectors in another column order. */
gboolean spp_net_forward_head_with (SppNet *net, const SppTensor *pooled,
                                    const float *first_weight, SppTensor *out,
                                    GError **error);
