/* libFuzzer harness for the model loader: any bytes must load or fail
 * with a GError, never crash, leak or read out of bounds. */
#include "spp/spp.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GBytes *bytes = g_bytes_new (data, size);
  GError *error = NULL;
  SppModel *m = spp_model_load_from_bytes (bytes, "fuzz", &error);
  if (m) {
    /* Exercise what a caller reads next. */
    char *desc = spp_model_describe (m);
    g_free (desc);
    for (guint i = 0; i < spp_model_get_n_classes (m); i++)
      (void) spp_model_get_label (m, i);
    /* Shape inference walks every layer's parameters. */
    int c, h, w;
    GError *shape_error = NULL;
    if (!spp_net_get_output_shape (m, 64, 48, &c, &h, &w, &shape_error))
      g_clear_error (&shape_error);
    spp_model_unref (m);
  } else if (error == NULL) {
    __builtin_trap (); /* a failure must say why */
  }
  g_clear_error (&error);
  g_bytes_unref (bytes);
  return 0;
}
