#pragma once

#include <glib.h>
#include "model-private.h"

/* The memory-bound loops between the GEMMs, compiled for AVX-512 and
 * AVX2 as well as the baseline, picked at load time (GNU ifunc). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) \
    && !defined(__SANITIZE_ADDRESS__)
#define SPP_HOT_LOOP __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define SPP_HOT_LOOP
#endif

/* Kernels on raw NCHW planes (batch 1 in the trunk). Each computes one
 * layer; shapes were checked by the caller. */

/* Caffe output sizes: convolution floors, pooling ceils (when asked). */
int spp_conv_out_size (int in, int k, int s, int pad_a, int pad_b, int dil);
int spp_pool_out_size (int in, int k, int s, int pad_a, int pad_b,
                       gboolean ceil_mode);

/* Scratch floats spp_conv_forward needs for this shape (im2col). */
gsize spp_conv_scratch_size (const SppLayer *l, int in_h, int in_w);
void spp_conv_forward (const SppLayer *l, const float *in, int in_h, int in_w,
                       float *out, int out_h, int out_w, float *scratch);

void spp_pool_forward (const SppLayer *l, const float *in, int c, int in_h,
                       int in_w, float *out, int out_h, int out_w);

/* scratch: spp_lrn_scratch_size floats. */
gsize spp_lrn_scratch_size (int h, int w);
void spp_lrn_forward (const SppLayer *l, const float *in, int c, int h, int w,
                      float *out, float *scratch);

/* In place; slope used by LeakyReLU. */
void spp_act_forward (SppAct act, float slope, float *x, gsize n);
/* out[c][i] = act (x[c][i] + bias[c]), planes of plane_size. */
void spp_bias_act_forward (SppAct act, float slope, const float *bias,
                           float *x, int c, gsize plane_size);
void spp_add_forward (const float *a, const float *b, float *out, gsize n);
void spp_shuffle_forward (const float *in, float *out, int c, int groups,
                          gsize plane_size);

/* Rows of in (n x in_c) times weight^T (out_c x in_c) plus bias; weight
 * NULL means the layer's own. */
void spp_fc_forward (const SppLayer *l, const float *weight, const float *in,
                     int n, float *out);
void spp_softmax_forward (float *x, int n, int d);
