/* The trainer of include/spp/train.h, shared by its files: trainer.c
 * (the object and the order of the stages), passes.c (the passes over
 * the training images: features, mining, fine-tuning windows, and the
 * head, SVMs and box regressors they feed) and calibrate.c (Platt
 * scaling and thresholds on the validation images). */
#pragma once

#include "spp/train.h"

#include "spp/detector.h"
#include "spp/model.h"
#include "spp/tensor.h"

#include "detector-writer-private.h"
#include "finetune-private.h"
#include "svm-private.h"

/* docs/method.md 2.7: negatives overlap every box of the class below
 * this; at most this many are cached per class. */
#define NEG_IOU 0.3f
#define MAX_NEG 50000
/* docs/method.md 2.5: features scaled to this mean L2 norm. */
#define TARGET_NORM 20.0
/* docs/method.md 2.9: R-CNN's regression pairs, IoU >= 0.6, at most 8
 * per box. */
#define BBOX_IOU 0.6f
#define BBOX_PER_GT 8
/* R-CNN's ridge lambda, 1000 on features of mean norm 20; the pooled
 * vectors are scaled to that norm so the same lambda means the same
 * thing for any trunk (SPP's released code uses 4000 with whitened
 * targets, a different normalisation). */
#define BBOX_LAMBDA 1000.0
/* docs/method.md 2.8: fine-tuning windows: IoU >= 0.5 with a box of a
 * trained class is that class, IoU in [0.1, 0.5) with every box is
 * background, the rest is left out. */
#define FT_POS_IOU 0.5f
#define FT_BG_IOU 0.1f

typedef struct {
  gint64 id;
  SppBox *boxes;
  int *classes;
  guint n_boxes;
  gboolean validation;
  SppBox *props; /* proposals, computed or read on first use */
  guint n_props;
} Image;

typedef struct {
  SppSvmClass svm;
  SppRows bbox_x;  /* pooled rows, raw */
  GArray *bbox_t;  /* float[4] targets */
} Class;

struct _SppTrainer {
  SppTrainParams p; /* its pointers are to the copies below */
  guint *scales;
  char *cache_dir, *data_name;
  char **labels;
  guint K;
  GArray *images; /* Image */
  SppTrainLogFunc log;
  gpointer log_data;
  gboolean ran;
  gint64 t_start;

  /* The model file the output copies (the input, or the input with its
   * new head) and the model and detector that compute the features. */
  GBytes *base;
  char *base_name;
  SppModel *model;
  SppDetector *det;
  guint F, D;
  SppTensor *pooled, *feat;
  /* Pass 1 and mining. */
  Class *cls;
  guint max_neg, max_bbox, neg_init;
  double norm_sum;
  guint64 norm_n;
  float scale; /* 20 / mean norm, applied to the features we got */
  /* Fine-tuning: the head and the windows collected for it (pooled rows
   * of D, labels 0 = background). */
  SppFcHead head;
  GString *head_desc;
  GArray *ft_x, *ft_y;
  guint ft_pos_cap, ft_neg_cap;
  /* The caller's decoding, during spp_trainer_run(). */
  SppTrainDecodeFunc decode;
  gpointer decode_data;
};

void spp_trainer_say (SppTrainer *t, const char *fmt, ...)
    G_GNUC_PRINTF (2, 3);
/* Seconds since spp_trainer_run() started. */
double spp_trainer_elapsed (const SppTrainer *t);

static inline Image *
spp_trainer_get_image (const SppTrainer *t, guint index)
{
  return &g_array_index (t->images, Image, index);
}

/* Makes the model file @bytes the one the output copies and the features
 * come from. */
gboolean spp_trainer_set_model (SppTrainer *t, GBytes *bytes,
                                const char *name, GError **error);

/* passes.c: the head (docs/training.md section 3, step 0), then pass 1,
 * the feature scale, the SVMs, mining and the box regressors (steps
 * 1-5). */
gboolean spp_trainer_prepare_head (SppTrainer *t, const GArray *train_idx,
                                   const char *out_path, GError **error);
gboolean spp_trainer_train_classes (SppTrainer *t, const GArray *train_idx,
                                    float *svm_w, float *svm_b,
                                    float *bbox_w, float *bbox_b,
                                    GError **error);

/* calibrate.c: step 6; sets @s's score_a, score_b and @thresholds (K). */
gboolean spp_trainer_calibrate (SppTrainer *t, const GArray *cal_idx,
                                const char *out_path, SppDetectorSection *s,
                                float *thresholds, GString *summary,
                                GError **error);
