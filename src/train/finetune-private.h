/* Fine-tuning the fc layers on pooled SPP vectors (docs/method.md 2.8,
 * docs/training.md section 3.1): the head's fc layers (ReLU, dropout)
 * plus a new (K + 1)-way softmax layer that is dropped afterwards,
 * trained by SGD with momentum on windows labelled by their overlap with
 * the ground truth. */
#pragma once

#include <glib.h>
#include "spp/train.h"

/* A head of fc layers with ReLU (fc6, fc7, ... in ZF-5 terms): layer i
 * maps dims[i] floats to dims[i + 1]; weight[i] is dims[i + 1] x dims[i],
 * row-major, as the model file stores it. */
typedef struct {
  guint n_layers;
  guint dims[SPP_TRAIN_FC_MAX + 1];
  float *weight[SPP_TRAIN_FC_MAX];
  float *bias[SPP_TRAIN_FC_MAX];
} SppFcHead;

void spp_fc_head_clear (SppFcHead *head);

/* New fc layers dim -> widths[0] -> ... (He initialisation for inputs
 * times @input_scale, zero biases), from @seed only. */
void spp_fc_head_init (SppFcHead *head, guint dim, const guint *widths,
                       guint n_widths, float input_scale, guint32 seed);

typedef struct {
  guint epochs;
  guint batch;          /* windows per mini-batch (128) */
  float pos_fraction;   /* positives per batch (0.25) */
  float lr;             /* base learning rate; /10 for the last third */
  float momentum;       /* 0.9 */
  float weight_decay;   /* 5e-4, weights only */
  float dropout;        /* after each fc layer (0.5) */
  guint32 seed;
  SppTrainLogFunc log;  /* a line per epoch, or NULL */
  gpointer log_data;
} SppFinetuneParams;

void spp_finetune_params_init (SppFinetuneParams *p);

/* 1 / RMS of the entries of @x (n rows of @dim floats), the factor that
 * brings the pooled vectors to unit scale; 1 if they are all zero. */
float spp_finetune_input_scale (const float *x, gsize n, guint dim);

/* Trains @head in place on @n windows: @x rows of head->dims[0] floats
 * (the raw pooled vectors), @label 0 for background, 1..@n_classes for a
 * class. Fails (INVAL) without both positives and background. */
gboolean spp_finetune (SppFcHead *head, guint n_classes, const float *x,
                       const guint8 *label, gsize n,
                       const SppFinetuneParams *p, GError **error);

/* The head plus the softmax layer during training: one SGD step at a
 * time (what spp_finetune() repeats). */
typedef struct _SppFcTrainer SppFcTrainer;

/* Trains @head's layers in place (they must outlive the trainer) and a
 * softmax layer of @n_classes + 1 outputs starting from @softmax_w
 * ((n_classes + 1) x head width, copied; zero biases), on batches of
 * @batch rows. */
SppFcTrainer *spp_fc_trainer_new (SppFcHead *head, guint n_classes,
                                  const float *softmax_w, guint batch);
void spp_fc_trainer_free (SppFcTrainer *t);
/* The softmax layer's weights and biases as trained so far. */
const float *spp_fc_trainer_get_softmax (const SppFcTrainer *t,
                                         const float **bias);

/* One step on the batch @x (batch x head->dims[0]) with labels @y:
 * forward through fc, ReLU and inverted dropout (@dropout, drawn from
 * @rand; none at 0), softmax cross-entropy averaged over the batch,
 * backward, then every layer's update, Caffe's: v = m v + lr (g + wd w),
 * w -= v, the decay on the head's weights only. Returns the summed loss;
 * *@correct gets how many windows the argmax got right. */
double spp_fc_trainer_step (SppFcTrainer *t, const float *x, const guint8 *y,
                            float lr, float momentum, float weight_decay,
                            float dropout, GRand *rand, guint *correct);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppFcTrainer, spp_fc_trainer_free)
