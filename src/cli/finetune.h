/* Fine-tuning the fc layers on cached SPP vectors (docs/method.md 2.8):
 * the head's fc layers (ReLU, dropout) plus a new (K + 1)-way softmax layer that is
 * dropped afterwards, trained by SGD with momentum on windows labelled by
 * their overlap with the ground truth. */
#pragma once

#include "model-writer.h"

#include <glib.h>

typedef struct {
  guint epochs;
  guint batch;          /* windows per mini-batch (128) */
  float pos_fraction;   /* positives per batch (0.25) */
  float lr;             /* base learning rate; /10 for the last third */
  float momentum;       /* 0.9 */
  float weight_decay;   /* 5e-4, weights only */
  float dropout;        /* after each fc layer (0.5) */
  guint32 seed;
  gboolean progress;    /* one line per epoch on stderr */
} SppCliFinetuneParams;

void spp_cli_finetune_params_init (SppCliFinetuneParams *p);

/* 1 / RMS of the entries of @x (n rows of @dim floats), the factor that
 * brings the pooled vectors to unit scale; 1 if they are all zero. */
float spp_cli_finetune_input_scale (const float *x, gsize n, guint dim);

/* New fc layers dim -> widths[0] -> ... (He initialisation for inputs
 * times @input_scale, zero biases), from @seed only. */
void spp_cli_fc_head_init (SppCliFcHead *head, guint dim, const guint *widths,
                           guint n_widths, float input_scale, guint32 seed);

/* Trains @head in place on @n windows: @x rows of head->dims[0] floats
 * (the raw pooled vectors), @label 0 for background, 1..@n_classes for a
 * class. Fails (INVAL) without both positives and background. */
gboolean spp_cli_finetune (SppCliFcHead *head, guint n_classes,
                           const float *x, const guint8 *label, gsize n,
                           const SppCliFinetuneParams *p, GError **error);
