#include "spp-engine/tensor.h"

#include <stdlib.h>
#include <string.h>

void *
spp_aligned_alloc (gsize bytes)
{
  void *p = NULL;
  /* Round up so every buffer can be read in whole 64-byte vectors. */
  gsize rounded = (bytes + SPP_ALIGN - 1) / SPP_ALIGN * SPP_ALIGN;
  if (rounded == 0)
    rounded = SPP_ALIGN;
  if (posix_memalign (&p, SPP_ALIGN, rounded) != 0)
    return NULL;
  return p;
}

void
spp_aligned_free (void *p)
{
  free (p);
}

static gboolean
shape_elems (int n, int c, int h, int w, gsize *out)
{
  if (n < 0 || c < 0 || h < 0 || w < 0)
    return FALSE;
  guint64 e = (guint64) n * (guint64) c;
  if (e > SPP_TENSOR_MAX_ELEMS)
    return FALSE;
  e *= (guint64) h;
  if (e > SPP_TENSOR_MAX_ELEMS)
    return FALSE;
  e *= (guint64) w;
  if (e > SPP_TENSOR_MAX_ELEMS)
    return FALSE;
  *out = (gsize) e;
  return TRUE;
}

SppTensor *
spp_tensor_new (int n, int c, int h, int w)
{
  g_autoptr (GError) error = NULL;
  SppTensor *t = g_new0 (SppTensor, 1);
  if (!spp_tensor_reshape (t, n, c, h, w, &error)) {
    g_free (t);
    g_return_val_if_reached (NULL);
  }
  memset (t->data, 0, spp_tensor_get_size (t) * sizeof (float));
  return t;
}

void
spp_tensor_init_view (SppTensor *t, float *data, int n, int c, int h, int w)
{
  t->n = n;
  t->c = c;
  t->h = h;
  t->w = w;
  t->data = data;
  t->capacity = (gsize) n * c * h * w;
  t->borrowed = TRUE;
}

void
spp_tensor_free (SppTensor *t)
{
  if (t == NULL)
    return;
  if (!t->borrowed)
    spp_aligned_free (t->data);
  g_free (t);
}

gboolean
spp_tensor_reshape (SppTensor *t, int n, int c, int h, int w, GError **error)
{
  gsize elems;

  g_return_val_if_fail (t != NULL, FALSE);
  if (!shape_elems (n, c, h, w, &elems)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "tensor shape %dx%dx%dx%d is negative or over %zu elements",
                 n, c, h, w, (gsize) SPP_TENSOR_MAX_ELEMS);
    return FALSE;
  }
  if (t->data == NULL || elems > t->capacity || t->borrowed) {
    float *p = spp_aligned_alloc (elems * sizeof (float));
    if (p == NULL) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_NOMEM,
                   "cannot allocate a %dx%dx%dx%d tensor", n, c, h, w);
      return FALSE;
    }
    if (!t->borrowed)
      spp_aligned_free (t->data);
    t->data = p;
    t->capacity = elems;
    t->borrowed = FALSE;
  }
  t->n = n;
  t->c = c;
  t->h = h;
  t->w = w;
  return TRUE;
}

float *
spp_tensor_data (SppTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->data;
}

const float *
spp_tensor_const_data (const SppTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->data;
}

void
spp_tensor_get_shape (const SppTensor *t, int *n, int *c, int *h, int *w)
{
  g_return_if_fail (t != NULL);
  if (n) *n = t->n;
  if (c) *c = t->c;
  if (h) *h = t->h;
  if (w) *w = t->w;
}

gsize
spp_tensor_get_size (const SppTensor *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return (gsize) t->n * t->c * t->h * t->w;
}
