#pragma once

#include "spp/model.h"
#include "spp/error.h"
#include "spp-engine/model.h"
#include "spp-engine/tensor.h"

/* Op codes of docs/model-format.md; new values only at the end. */
typedef enum {
  SPP_OP_CONV = 1,
  SPP_OP_ACT = 2,
  SPP_OP_LRN = 3,
  SPP_OP_MAXPOOL = 4,
  SPP_OP_CONCAT = 5,
  SPP_OP_SLICE = 6,
  SPP_OP_SHUFFLE = 7,
  SPP_OP_ADD = 8,
  SPP_OP_FC = 9,
  SPP_OP_SOFTMAX = 10,
  SPP_OP_AVGPOOL = 11,
  SPP_OP_LAST = SPP_OP_AVGPOOL,
} SppOp;

typedef enum {
  SPP_ACT_NONE = 0,
  SPP_ACT_RELU = 1,
  SPP_ACT_LEAKY = 2,
  SPP_ACT_RELU6 = 3,
  SPP_ACT_HARDSWISH = 4,
  SPP_ACT_SIGMOID = 5,
  SPP_ACT_LAST = SPP_ACT_SIGMOID,
} SppAct;

#define SPP_LAYER_MAX_INPUTS 64
#define SPP_LAYER_MAX_PARAMS 32
#define SPP_LAYER_MAX_TENSORS 8

/* Resolved parameters, defaults applied. */
typedef struct {
  int kh, kw, sh, sw, pad_t, pad_l, pad_b, pad_r, dil_h, dil_w;
} SppWindow;

typedef struct {
  SppOp op;
  char *name;
  int section;         /* 0 trunk, 1 head */
  guint n_inputs;
  guint *inputs;       /* node ids */
  int out_c;           /* inferred output channels (trunk), width (head) */
  int in_c;            /* channels of the first input */
  SppWindow win;       /* conv, pools */
  int groups;          /* conv groups, shuffle groups */
  SppAct act;
  float slope;
  int lrn_within, lrn_size;
  float lrn_alpha, lrn_beta, lrn_k;
  gboolean ceil_mode, count_include_pad;
  int slice_start;
  const SppTensor *weight, *bias; /* conv, fc: borrowed from the model */
} SppLayer;

struct _SppModel {
  gint ref_count;
  char *path;
  GMappedFile *mapped;
  GBytes *bytes;
  guint8 *copy;        /* aligned copy when the source was not aligned */

  char *name, *description;
  SppChannelOrder order;
  float mean[3], std[3];
  guint min_size, multiple;
  guint *levels, n_levels;
  guint stride;
  float offset;

  guint n_tensors;
  char **tensor_names;
  SppTensor *tensors;  /* views into the file */

  guint n_layers, n_trunk;
  SppLayer *layers;    /* trunk first, then head */
  int map_channels;    /* channels of the trunk output */
  guint pooled_size;   /* map_channels * bins */
  guint head_size;     /* width of the head's output */

  /* spp_model_section_types' data, in that order. */
  gpointer *sections;

  GMutex lock;
  /* Per layer, the weights its type prepares (SppLayerType.make_weights);
   * made on first use, under the lock (n_layers entries, or NULL). */
  float **layer_w;
};

/* The weights the layer's type prepares (SppLayerType.make_weights),
 * kept for the model's life; NULL where it prepares none. */
const float *spp_model_get_layer_weights (SppModel *m, guint layer);

