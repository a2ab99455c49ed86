#pragma once

#include <glib.h>
#include "model-private.h"
#include "spp-engine/cpu.h"


/* The layer table: one SppLayerType per op (ncnn's layer registry), which
 * names the op, reads its parameters by name, gives its output shape and
 * runs it. model.c and net.c only go through it (docs/model-format.md
 * lists the parameters). */

/* An integer parameter: iparams[index] in the file; when the file stops
 * before it, fallback's value (fallback >= 0, ncnn's kernel_w = kernel_h)
 * or def. Values outside [min, max] are refused. */
typedef struct {
  const char *name;
  int def;
  int fallback;
  int min, max;
  gboolean required;
} SppIntParam;

typedef struct {
  const char *name;
  float def;
} SppFloatParam;

/* What a layer's parse sees: its raw parameters and tensors, the
 * channels of its inputs, and where to report. */
typedef struct {
  const char *file;
  GError **error;
  const int *ip;                 /* the file's iparams, resolved: n_int */
  const float *fp;               /* the file's fparams, resolved: n_float */
  guint n_ip_given;              /* how many the file gave */
  const SppTensor *const *tensors;
  guint n_tensors;
  const int *in_c;               /* channels of each input (trunk) */
} SppLayerArgs;

/* One input or the output of a trunk layer in one forward. */
typedef struct {
  int c, h, w;
  float *data;
} SppLayerMap;

typedef struct {
  const SppLayer *layer;
  const SppLayerMap *in;   /* layer->n_inputs maps */
  SppLayerMap out;
  float *scratch;          /* scratch_size floats */
  const float *weights;    /* make_weights' result, or NULL */
} SppLayerRun;

typedef enum {
  SPP_LAYER_TRUNK = 1 << 0,
  SPP_LAYER_HEAD = 1 << 1,
} SppLayerSections;

typedef struct {
  SppOp op;
  const char *name;
  SppLayerSections sections;
  int trunk_inputs;              /* inputs in the trunk; -1: one or more */
  guint min_tensors, max_tensors;
  const SppIntParam *int_params;
  guint n_int;
  const SppFloatParam *float_params;
  guint n_float;
  /* TRUE: the output is a view of the input (no memory, no run). */
  gboolean view;
  /* TRUE: the output may be written inside a concat's buffer (the layer
   * writes its whole output contiguously and nothing else). */
  gboolean placeable;
  /* Sets the layer's fields from a, checks its tensors and sets out_c
   * (in_c and out_c start as the first input's channels). */
  gboolean (*parse) (SppLayer *l, const SppLayerArgs *a);
  /* Output size for an in_h x in_w input; NULL: the input's. */
  void (*shape) (const SppLayer *l, int in_h, int in_w, int *out_h,
                 int *out_w);
  gsize (*scratch_size) (const SppLayer *l, int in_h, int in_w);
  /* Weights prepared once per model for the shapes where uses_weights
   * says the layer wants them (g_free them). */
  float *(*make_weights) (const SppLayer *l);
  gboolean (*uses_weights) (const SppLayer *l, int in_h, int in_w);
  void (*forward) (const SppLayerRun *run);
  /* Head: n rows of l->in_c floats to n rows of l->out_c; weight NULL
   * means the layer's own. */
  void (*forward_head) (const SppLayer *l, const float *weight,
                        const float *in, int n, float *out);
} SppLayerType;

/* NULL for an op code outside the table. */
const SppLayerType *spp_layer_type_get (guint32 op);

/* Reports a format error about layer l from a parse: "file: layer 'name':
 * message". Returns FALSE. */
gboolean spp_layer_fail (const SppLayer *l, const SppLayerArgs *a,
                         const char *fmt, ...) G_GNUC_PRINTF (3, 4);
/* t must be [n, c, h, w]. */
gboolean spp_layer_check_tensor (const SppLayer *l, const SppLayerArgs *a,
                                 const SppTensor *t, const char *role, int n,
                                 int c, int h, int w);
/* The tensors of a layer with a weight and an optional bias of out_c. */
gboolean spp_layer_take_weights (SppLayer *l, const SppLayerArgs *a, int n,
                                 int c, int h, int w);
/* Kernel, stride and padding from iparams [first, first + 8) (and
 * dilation from [first + 8, first + 10) when dilated). */
void spp_layer_read_window (SppLayer *l, const SppLayerArgs *a,
                            guint first, gboolean dilated);

/* The LeakyReLU slope of the layers with an activation: fparams[0]. */
extern const SppFloatParam spp_layer_slope_param[1];

extern const SppLayerType spp_layer_conv, spp_layer_act, spp_layer_lrn,
    spp_layer_maxpool, spp_layer_avgpool, spp_layer_concat, spp_layer_slice,
    spp_layer_shuffle, spp_layer_add, spp_layer_fc, spp_layer_softmax;

/* Kernels on raw NCHW planes (batch 1 in the trunk). Each computes one
 * layer; shapes were checked by the caller. */

/* Caffe output sizes: convolution floors, pooling ceils (when asked). */
int spp_conv_out_size (int in, int k, int s, int pad_a, int pad_b, int dil);
int spp_pool_out_size (int in, int k, int s, int pad_a, int pad_b,
                       gboolean ceil_mode);

/* GEMMs called from several of our threads at once, each on one core
 * (src/engine/blas.c): possible with OpenBLAS's sequential and pthreads builds;
 * between begin and end, OpenBLAS runs every GEMM on the calling thread
 * alone. */
gboolean spp_blas_can_run_per_thread (void);
void spp_blas_per_thread_begin (void);
void spp_blas_per_thread_end (void);

/* Scratch floats spp_conv_forward needs for this shape (im2col, or the
 * row path's matrices). */
gsize spp_conv_scratch_size (const SppLayer *l, int in_h, int in_w);
/* row_weight: spp_conv_row_weights (l), or NULL for im2col. */
void spp_conv_forward (const SppLayer *l, const float *row_weight,
                       const float *in, int in_h, int in_w, float *out,
                       int out_h, int out_w, float *scratch);
/* The row path (conv.c): layers it can run (one group, a deep input row),
 * shapes it runs, and the weights it needs, reordered kernel-row-major
 * (kh matrices of out_c x in_c*kw; g_free them). */
gboolean spp_conv_has_rows (const SppLayer *l);
gboolean spp_conv_uses_rows (const SppLayer *l, int in_h, int in_w);
float *spp_conv_row_weights (const SppLayer *l);

void spp_pool_forward (const SppLayer *l, const float *in, int c, int in_h,
                       int in_w, float *out, int out_h, int out_w);

/* Max pooling along one row: out[ox] = max of in[x] over the window's
 * columns (clipped to [0, in_w)); in holds the column maxima. */
static inline __attribute__ ((always_inline)) void
spp_max_pool_row (const float *restrict in, int in_w, const SppWindow *w,
                  float *restrict out, int out_w)
{
  int ox = 0;
  if (w->kw == 3 && w->sw == 2) {
    /* The common 3/2 pool: interior windows with constant offsets
     * vectorise (even/odd lane permutes). */
    const int p = w->pad_l;
    for (; ox < out_w && ox * 2 - p < 0; ox++) {
      int x0 = 0, x1 = MIN (ox * 2 - p + 3, in_w);
      float m = in[x0];
      for (int x = x0 + 1; x < x1; x++)
        m = in[x] > m ? in[x] : m;
      out[ox] = m;
    }
    int end = ox;
    while (end < out_w && end * 2 - p + 3 <= in_w)
      end++;
    for (; ox < end; ox++) {
      float m = in[2 * ox - p];
      m = in[2 * ox - p + 1] > m ? in[2 * ox - p + 1] : m;
      m = in[2 * ox - p + 2] > m ? in[2 * ox - p + 2] : m;
      out[ox] = m;
    }
  }
  for (; ox < out_w; ox++) {
    int x0 = MAX (ox * w->sw - w->pad_l, 0);
    int x1 = MIN (ox * w->sw - w->pad_l + w->kw, in_w);
    float m = in[x0];
    for (int x = x0 + 1; x < x1; x++)
      m = in[x] > m ? in[x] : m;
    out[ox] = m;
  }
}

/* scratch: spp_lrn_scratch_size floats. */
gsize spp_lrn_scratch_size (int h, int w);
void spp_lrn_forward (const SppLayer *l, const float *in, int c, int h, int w,
                      float *out, float *scratch);
/* A within-channel LRN (lrn) and the max pool reading it (pool) in one
 * pass: out is the pool's output. */
void spp_lrn_pool_forward (const SppLayer *lrn, const SppLayer *pool,
                           const float *in, int c, int h, int w, float *out,
                           int out_h, int out_w);

/* In place; slope used by LeakyReLU. */
void spp_act_forward (SppAct act, float slope, float *x, gsize n);
/* x[i] = act (x[i] + bias), one run; on the calling thread. */
void spp_bias_act_run (SppAct act, float slope, float bias, float *x,
                       gsize n);
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
