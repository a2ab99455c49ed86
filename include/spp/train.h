/* sppdetect: training a detector on a model's fixed features, the
 * SPP-net recipe (docs/training.md, docs/method.md 2.5-2.9). */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/detector.h"
#include "spp/box.h"
#include "spp/image.h"
#include "spp/proposals.h"

G_BEGIN_DECLS

/**
 * SPP_TRAIN_FC_MAX:
 *
 * The most fc layers a head may have to be fine-tuned or created.
 */
#define SPP_TRAIN_FC_MAX 4

/**
 * SppTrainParams:
 * @proposals: selective search on the training and validation images;
 *   its max_boxes and min_size are written to the model, so detection
 *   proposes as training did.
 * @scales: (array length=n_scales) (nullable): shorter-side scales, or
 *   %NULL for the model's; copied by spp_trainer_new().
 * @n_scales: their number.
 * @seed: seeds every random choice (the validation split, the initial
 *   negatives, the SVMs' coordinate order, new fc layers, SGD).
 * @svm_c: the SVMs' C per example (docs/method.md 2.7: 0.001; a few
 *   dozen positives per class want 0.01 to 0.1, docs/training.md).
 * @val_fraction: the share of the training images that validate when no
 *   image is marked for validation, in [0, 1) (0.2).
 * @memory_mb: the budget for cached features: half for negatives, a
 *   quarter for box-regression pairs (1024).
 * @max_bbox_pairs: the most box-regression pairs per class, taken in
 *   image order (20000).
 * @bbox_lambda: the ridge penalty of box regression, on pooled vectors
 *   scaled to mean norm 20 (R-CNN's 1000), > 0.
 * @box_vote: `detect.box_vote` written to the model, in [0, 1] (0: off).
 * @box_passes: `detect.box_passes` written to the model, 1 to
 *   %SPP_MAX_BOX_PASSES (0 or 1: not written, one pass).
 * @cache_dir: (nullable): a folder for the proposals of each image
 *   (docs/training.md, "The proposal cache"), or %NULL; copied.
 * @data_name: (nullable): what the model's description calls the
 *   training data (e.g. the annotation file); copied.
 * @new_head: %TRUE: replace the input's fc head by @n_fc new fc layers
 *   with ReLU of @fc_widths (He-initialised from @seed), or by none when
 *   @n_fc is 0 (the SVMs then read the pooled vector); %FALSE: keep the
 *   input's head.
 * @n_fc: the number of new fc layers, at most %SPP_TRAIN_FC_MAX.
 * @fc_widths: their widths, each in 1..65536.
 * @finetune_epochs: fine-tune the head's fc layers for this many epochs
 *   before the SVMs (docs/method.md 2.8; 0: no).
 * @finetune_lr: the fine-tuning learning rate (0.01).
 *
 * How spp_trainer_run() trains; spp_train_params_init() sets the
 * defaults given here.
 */
typedef struct {
  SppProposalParams proposals;
  const guint *scales;
  guint n_scales;
  guint32 seed;
  double svm_c;
  double val_fraction;
  guint memory_mb;
  guint max_bbox_pairs;
  double bbox_lambda;
  float box_vote;
  guint box_passes;
  const char *cache_dir;
  const char *data_name;
  gboolean new_head;
  guint n_fc;
  guint fc_widths[SPP_TRAIN_FC_MAX];
  guint finetune_epochs;
  float finetune_lr;
} SppTrainParams;

/** spp_train_params_init: the defaults, with spp_proposal_params_init()'s
 * proposals. */
SPP_API void spp_train_params_init (SppTrainParams *params);

/**
 * SppTrainImage:
 * @id: the image's id: it names the image's proposal-cache file and
 *   seeds its random picks, so results do not depend on the order images
 *   are added or decoded in.
 * @boxes: (array length=n_boxes): its ground-truth boxes in frame pixels.
 * @classes: (array length=n_boxes): each box's class, 0-based as the
 *   labels, or -1 (as is any value out of range) for an object of no
 *   trained class: it is no positive, and windows on it may be
 *   negatives.
 * @n_boxes: their number.
 * @validation: %TRUE for a validation image, used only to calibrate.
 *
 * One annotated image.
 */
typedef struct {
  gint64 id;
  const SppBox *boxes;
  const int *classes;
  guint n_boxes;
  gboolean validation;
} SppTrainImage;

/**
 * SppTrainer:
 *
 * Trains a detector on the fixed features of a model (docs/training.md
 * section 3): optionally fine-tunes the fc head (section 3.1), then per
 * class a linear SVM with one pass of hard-negative mining, ridge box
 * regression on the pooled SPP vector, and on the validation images
 * Platt scaling and per-class thresholds at the best F1. The images come
 * from the caller, decoded on demand, one pass per stage. Not
 * thread-safe.
 */
typedef struct _SppTrainer SppTrainer;

/**
 * SppTrainLogFunc:
 * @message: one line of progress, without a newline.
 *
 * Receives what training reports: the sizes chosen, each stage's end,
 * the fine-tuning loss per epoch, the validation AP and the calibration.
 */
typedef void (*SppTrainLogFunc) (const char *message, gpointer user_data);

/**
 * SppTrainFrameFunc:
 * @index: the image's index, as spp_trainer_add_image() returned it.
 * @frame: the decoded image, valid during the call.
 * @frame_data: what the #SppTrainDecodeFunc was given with this function.
 *
 * Returns: %FALSE with @error set to stop.
 */
typedef gboolean (*SppTrainFrameFunc) (guint index, const SppImage *frame,
                                       gpointer frame_data, GError **error);

/**
 * SppTrainDecodeFunc:
 * @indices: (array length=n_indices): the images to decode, as numbered
 *   by spp_trainer_add_image().
 * @stage: what the pass is for, for progress reports: "features",
 *   "hard negatives", "fine-tuning windows" or "validation".
 * @func: to call with each decoded image, each once, in an order that is
 *   the same on every run; stop when it returns %FALSE and return
 *   %FALSE with its error.
 * @user_data: what spp_trainer_run() was given.
 *
 * Decodes images for a pass of training.
 *
 * Returns: %TRUE when every image was decoded and passed to @func.
 */
typedef gboolean (*SppTrainDecodeFunc) (const guint *indices, guint n_indices,
                                        const char *stage,
                                        SppTrainFrameFunc func,
                                        gpointer frame_data,
                                        gpointer user_data, GError **error);

/**
 * spp_trainer_new:
 * @model_path: the model whose trunk (and head, unless replaced) gives
 *   the features; any SVMs and box regressors in it are replaced.
 * @labels: (array zero-terminated=1): the classes to train, in order.
 * @params: how to train.
 *
 * Returns: (transfer full): a trainer, or %NULL with %SPP_ERROR_IO or
 * %SPP_ERROR_FORMAT for a model that cannot be loaded and
 * %SPP_ERROR_INVAL for a setting out of range or a head that cannot be
 * fine-tuned.
 */
SPP_API SppTrainer *spp_trainer_new (const char *model_path,
                                     const char *const *labels,
                                     const SppTrainParams *params,
                                     GError **error);
SPP_API void spp_trainer_free (SppTrainer *trainer);

/** spp_trainer_set_log_func: where progress goes (default: g_debug()). */
SPP_API void spp_trainer_set_log_func (SppTrainer *trainer,
                                       SppTrainLogFunc func,
                                       gpointer user_data);

/**
 * spp_trainer_add_image:
 * @image: an annotated image (copied).
 *
 * Returns: the image's index, from 0 in the order of the calls.
 */
SPP_API guint spp_trainer_add_image (SppTrainer *trainer,
                                     const SppTrainImage *image);

/**
 * spp_trainer_run:
 * @decode: decodes the images of each pass.
 * @out_path: the model to write: a copy of the input with the new head
 *   (if any), the SVMs, box regressors and their metadata
 *   (docs/training.md section 3, step 7).
 *
 * Trains and writes @out_path. Without validation images,
 * #SppTrainParams.val_fraction of the others (chosen by the seed)
 * validate. The same images, parameters and seed give the same file,
 * byte for byte. Once per trainer.
 *
 * Returns: %FALSE with @error set when the data cannot train a detector
 * (%SPP_ERROR_INVAL: no training images, no features), when decoding or
 * computing fails, or when the file cannot be written.
 */
SPP_API gboolean spp_trainer_run (SppTrainer *trainer,
                                  SppTrainDecodeFunc decode,
                                  gpointer user_data, const char *out_path,
                                  GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppTrainer, spp_trainer_free)

G_END_DECLS
