/* The layer table (layers-private.h): the op codes of
 * docs/model-format.md, each mapped to the file that implements it, and
 * the helpers their parsers share. */
#include "layers-private.h"

#include <stdarg.h>

static const SppLayerType *const layer_types[] = {
  [SPP_OP_CONV] = &spp_layer_conv,
  [SPP_OP_ACT] = &spp_layer_act,
  [SPP_OP_LRN] = &spp_layer_lrn,
  [SPP_OP_MAXPOOL] = &spp_layer_maxpool,
  [SPP_OP_CONCAT] = &spp_layer_concat,
  [SPP_OP_SLICE] = &spp_layer_slice,
  [SPP_OP_SHUFFLE] = &spp_layer_shuffle,
  [SPP_OP_ADD] = &spp_layer_add,
  [SPP_OP_FC] = &spp_layer_fc,
  [SPP_OP_SOFTMAX] = &spp_layer_softmax,
  [SPP_OP_AVGPOOL] = &spp_layer_avgpool,
};

G_STATIC_ASSERT (G_N_ELEMENTS (layer_types) == SPP_OP_LAST + 1);

const SppFloatParam spp_layer_slope_param[1] = { { "slope", 0.1f } };

const SppLayerType *
spp_layer_type_get (guint32 op)
{
  return op < G_N_ELEMENTS (layer_types) ? layer_types[op] : NULL;
}

gboolean
spp_layer_fail (const SppLayer *l, const SppLayerArgs *a, const char *fmt,
                ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (a->error && *a->error == NULL)
    g_set_error (a->error, SPP_ERROR, SPP_ERROR_FORMAT, "%s: layer '%s': %s",
                 a->file, l->name, msg);
  return FALSE;
}

gboolean
spp_layer_check_tensor (const SppLayer *l, const SppLayerArgs *a,
                        const SppTensor *t, const char *role, int n, int c,
                        int h, int w)
{
  if (t->n != n || t->c != c || t->h != h || t->w != w)
    return spp_layer_fail (l, a, "%s has shape [%d,%d,%d,%d], expected "
                           "[%d,%d,%d,%d]", role, t->n, t->c, t->h, t->w, n,
                           c, h, w);
  return TRUE;
}

gboolean
spp_layer_take_weights (SppLayer *l, const SppLayerArgs *a, int n, int c,
                        int h, int w)
{
  l->weight = a->tensors[0];
  if (!spp_layer_check_tensor (l, a, l->weight, "weight", n, c, h, w))
    return FALSE;
  if (a->n_tensors == 2) {
    l->bias = a->tensors[1];
    return spp_layer_check_tensor (l, a, l->bias, "bias", n, 1, 1, 1);
  }
  return TRUE;
}

void
spp_layer_read_window (SppLayer *l, const SppLayerArgs *a, guint first,
                       gboolean dilated)
{
  SppWindow *w = &l->win;
  const int *p = a->ip + first;
  *w = (SppWindow) { p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7],
                     dilated ? p[8] : 1, dilated ? p[9] : 1 };
}
