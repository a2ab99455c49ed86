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
    if (!spp_net_get_output_shape (m, 64, 48, &c, &h, &w, &shape_error)) {
      g_clear_error (&shape_error);
    } else if ((gint64) c * h * w <= (1 << 20)) {
      /* A loadable model with a sane output also builds and runs: the
       * plan, the fused paths and every layer's forward on a small input
       * (its values taken from the file's bytes). */
      SppNet *net = spp_net_new (m, &shape_error);
      if (net) {
        /* Trunks take a 3-plane image (input.order). */
        SppTensor *x = spp_tensor_new (1, 3, 48, 64);
        SppTensor *y = spp_tensor_new (0, 0, 0, 0);
        float *xd = spp_tensor_data (x);
        for (gsize i = 0; i < spp_tensor_get_size (x); i++)
          xd[i] = size ? (float) data[i % size] / 64.0f - 2.0f : 0.0f;
        if (!spp_net_forward (net, x, y, &shape_error))
          g_clear_error (&shape_error);
        spp_tensor_free (x);
        spp_tensor_free (y);
        spp_net_free (net);
      } else {
        g_clear_error (&shape_error);
      }
    }
    spp_model_unref (m);
  } else if (error == NULL) {
    __builtin_trap (); /* a failure must say why */
  }
  g_clear_error (&error);
  g_bytes_unref (bytes);
  return 0;
}
