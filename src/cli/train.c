/* spp train: reads a COCO annotation file, decodes its images
 * (GStreamer) and trains a detector on them with libspp's SppTrainer
 * (include/spp/train.h, the recipe of docs/method.md 2.5-2.9).
 * docs/training.md is the user's guide. */
#include "cli.h"
#include "coco.h"

#include "spp/spp.h"
#include "spp/train.h"

#include <stdio.h>
#include <string.h>

static void
usage (FILE *f)
{
  fprintf (f,
"usage: spp train --model TRUNK.sppm --annotations COCO.json --out OUT.sppm\n"
"                 [--images-root DIR] [--labels a,b] [--val-fraction 0.2]\n"
"                 [--max-proposals 3000] [--min-size 8] [--scales 576]\n"
"                 [--seed 1]\n"
"                 [--threads N] [--cache DIR] [--memory-mb 1024]\n"
"                 [--bbox-pairs 20000] [--bbox-lambda 1000] [--box-vote 0]\n"
"                 [--box-passes 1]\n"
"                 [--svm-c 0.001] [--fc 256,128|none] [--finetune-fc N]\n"
"                 [--finetune-lr 0.01]\n"
"Trains one linear SVM per class on the model's fixed features\n"
"(hard-negative mining, C 1e-3 on features scaled to mean norm 20),\n"
"box regressors on the pooled SPP vector and, on the\n"
"validation images, Platt scaling and per-class thresholds (best F1 at\n"
"IoU 0.5). Images whose \"split\" is train / val are used as such, other\n"
"splits (test, heldout) never; without splits, --val-fraction of the\n"
"images (chosen by --seed) validate. --finetune-fc N first fine-tunes the\n"
"fc layers (the input's, or new ones from --fc) for N epochs on windows\n"
"of the training images (softmax over classes + background,\n"
"SGD with momentum, dropout); the SVMs then read the new fc output.\n"
"See docs/training.md and docs/method.md 2.5-2.9.\n");
}

/* The trainer's images are the annotation file's train and val images,
 * numbered in file order; each pass decodes some of them. */
typedef struct {
  const SppCoco *coco;
  const char *images_root;
  GArray *coco_index;   /* trainer index -> index into coco->images */
  int *trainer_index;   /* index into coco->images -> trainer index */
  SppTrainFrameFunc func;
  gpointer func_data;
  char *what;
  SppCliProgress progress;
} Source;

static gboolean
source_frame (guint index, const SppImage *frame, gpointer user_data,
              GError **error)
{
  Source *s = user_data;
  if (!s->func (s->trainer_index[index], frame, s->func_data, error))
    return FALSE;
  spp_cli_progress_step (&s->progress);
  return TRUE;
}

static gboolean
source_decode (const guint *indices, guint n, const char *stage,
               SppTrainFrameFunc func, gpointer func_data,
               gpointer user_data, GError **error)
{
  Source *s = user_data;
  g_autofree guint *coco_indices = g_new (guint, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    coco_indices[i] = g_array_index (s->coco_index, guint, indices[i]);
  s->func = func;
  s->func_data = func_data;
  g_free (s->what);
  s->what = g_strdup_printf ("spp train: %s", stage);
  spp_cli_progress_start (&s->progress, s->what, n);
  return spp_coco_foreach_image (s->coco, s->images_root, coco_indices, n,
                                 source_frame, s, error);
}

static void
log_line (const char *message, gpointer user_data)
{
  fprintf (stderr, "spp train: %s\n", message);
}

static int
fail (GError *error)
{
  fprintf (stderr, "spp train: %s\n", error->message);
  g_error_free (error);
  return 1;
}

/* --fc: "none" or up to SPP_TRAIN_FC_MAX widths. */
static gboolean
parse_fc (const char *arg, SppTrainParams *p, GError **error)
{
  p->new_head = TRUE;
  p->n_fc = 0;
  if (g_strcmp0 (arg, "none") == 0)
    return TRUE;
  g_auto (GStrv) parts = g_strsplit (arg, ",", -1);
  for (; parts[p->n_fc]; p->n_fc++) {
    char *end;
    guint64 v = g_ascii_strtoull (parts[p->n_fc], &end, 10);
    if (p->n_fc == SPP_TRAIN_FC_MAX || *end || end == parts[p->n_fc]
        || v < 1 || v > 65536) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "--fc %s: expected 'none' or 1 to %d widths in "
                   "1..65536, e.g. 256,128", arg, SPP_TRAIN_FC_MAX);
      return FALSE;
    }
    p->fc_widths[p->n_fc] = (guint) v;
  }
  return TRUE;
}

/* --finetune-fc needs fc layers: new ones (--fc) or the input's. */
static gboolean
check_finetune_head (const char *model_path, const SppTrainParams *p,
                     GError **error)
{
  guint n_trunk, n_head = p->n_fc;
  if (!p->new_head) {
    g_autoptr (SppModel) model = spp_model_load (model_path, error);
    if (model == NULL)
      return FALSE;
    spp_model_get_n_layers (model, &n_trunk, &n_head);
  }
  if (n_head == 0) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "--finetune-fc: %s has no fc layers to fine-tune; give "
                 "--fc 256,128 to create them",
                 p->new_head ? "--fc none" : model_path);
    return FALSE;
  }
  return TRUE;
}

/* Classes: --labels (names of COCO categories, in order) or all the
 * categories; cat_class maps each category to its class or -1. */
static char **
choose_classes (const SppCoco *coco, const char *labels_arg, int *cat_class,
                GError **error)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  for (guint c = 0; c < coco->categories->len; c++)
    cat_class[c] = labels_arg ? -1 : (int) c;
  if (labels_arg) {
    g_auto (GStrv) parts = g_strsplit (labels_arg, ",", -1);
    for (guint i = 0; parts[i]; i++) {
      int c = spp_coco_find_category (coco, parts[i]);
      if (c < 0 || cat_class[c] >= 0) {
        g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                     "--labels: '%s' is %s in %s", parts[i],
                     c < 0 ? "not a category" : "given twice", coco->path);
        return NULL;
      }
      cat_class[c] = (int) labels->len;
      g_ptr_array_add (labels, g_strdup (parts[i]));
    }
  } else {
    for (guint c = 0; c < coco->categories->len; c++)
      g_ptr_array_add (labels, g_strdup (((SppCocoCategory *)
          g_ptr_array_index (coco->categories, c))->name));
  }
  if (labels->len == 0) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL, "%s: no categories",
                 coco->path);
    return NULL;
  }
  g_ptr_array_add (labels, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&labels), FALSE);
}

/* The images: those whose "split" is train or val, or all of them when
 * the file has no splits (the trainer then picks the validation ones). */
static void
add_images (SppTrainer *trainer, const SppCoco *coco, const int *cat_class,
            Source *source)
{
  gboolean has_split = FALSE;
  for (guint i = 0; i < coco->images->len; i++)
    has_split |= ((SppCocoImage *) g_ptr_array_index (coco->images,
                                                      i))->split != NULL;
  for (guint i = 0; i < coco->images->len; i++) {
    const SppCocoImage *im = g_ptr_array_index (coco->images, i);
    gboolean train = !has_split || !g_strcmp0 (im->split, "train");
    gboolean val = has_split && !g_strcmp0 (im->split, "val");
    source->trainer_index[i] = -1;
    if (!train && !val)
      continue;
    g_autofree int *classes = g_new (int, MAX (im->boxes->len, 1));
    for (guint j = 0; j < im->boxes->len; j++)
      classes[j] = cat_class[g_array_index (im->category, guint, j)];
    SppTrainImage ti = { im->id, (const SppBox *) im->boxes->data, classes,
                         im->boxes->len, val };
    source->trainer_index[i] = (int) spp_trainer_add_image (trainer, &ti);
    g_array_append_val (source->coco_index, i);
  }
}

int
spp_cli_train (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *ann_path = NULL, *out_path = NULL;
  g_autofree char *root = NULL, *cache = NULL, *labels_arg = NULL;
  g_autofree char *scales_arg = NULL, *fc_arg = NULL;
  SppTrainParams p;
  spp_train_params_init (&p);
  int finetune_epochs = 0;
  double ft_lr = p.finetune_lr;
  double val_fraction = p.val_fraction, svm_c = p.svm_c;
  int max_props = (int) p.proposals.max_boxes;
  int min_size = (int) p.proposals.min_size;
  int seed = (int) p.seed, threads = 0, memory_mb = (int) p.memory_mb;
  int bbox_pairs = (int) p.max_bbox_pairs;
  double bbox_lambda = p.bbox_lambda;
  double box_vote = 0.0;
  int box_passes = 1;
  GError *error = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "trunk model", "FILE" },
    { "annotations", 'a', 0, G_OPTION_ARG_FILENAME, &ann_path, "COCO JSON", "FILE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "output model", "FILE" },
    { "images-root", 0, 0, G_OPTION_ARG_FILENAME, &root, "folder of the images", "DIR" },
    { "labels", 0, 0, G_OPTION_ARG_STRING, &labels_arg, "classes to train, in order", "LIST" },
    { "val-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &val_fraction, "validation share", "F" },
    { "max-proposals", 0, 0, G_OPTION_ARG_INT, &max_props, "proposals per image", "N" },
    { "scales", 's', 0, G_OPTION_ARG_STRING, &scales_arg, "shorter-side scales", "LIST" },
    { "min-size", 0, 0, G_OPTION_ARG_INT, &min_size, "smallest proposal side, working-image pixels (8)", "PX" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "random seed", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "proposal threads", "N" },
    { "cache", 0, 0, G_OPTION_ARG_FILENAME, &cache, "proposal cache folder", "DIR" },
    { "svm-c", 0, 0, G_OPTION_ARG_DOUBLE, &svm_c, "SVM C (paper: 0.001)", "C" },
    { "memory-mb", 0, 0, G_OPTION_ARG_INT, &memory_mb, "budget for cached features", "MB" },
    { "bbox-pairs", 0, 0, G_OPTION_ARG_INT, &bbox_pairs, "most box-regression pairs per class (20000)", "N" },
    { "bbox-lambda", 0, 0, G_OPTION_ARG_DOUBLE, &bbox_lambda, "ridge penalty of box regression (1000)", "L" },
    { "box-vote", 0, 0, G_OPTION_ARG_DOUBLE, &box_vote, "box voting IoU stored in the model (0: off)", "IOU" },
    { "box-passes", 0, 0, G_OPTION_ARG_INT, &box_passes, "box regression passes stored in the model (1..4)", "N" },
    { "fc", 0, 0, G_OPTION_ARG_STRING, &fc_arg, "new fc head replacing the input's: widths (256,128) or none", "LIST" },
    { "finetune-fc", 0, 0, G_OPTION_ARG_INT, &finetune_epochs, "fine-tune the fc layers for N epochs first (0: no)", "N" },
    { "finetune-lr", 0, 0, G_OPTION_ARG_DOUBLE, &ft_lr, "fine-tuning learning rate (0.01)", "LR" },
    { NULL }
  };
  int parsed = spp_cli_parse_options ("train", entries, NULL, usage, &argc,
                                      &argv);
  if (parsed >= 0)
    return parsed;
  if (argc != 1 || !model_path || !ann_path || !out_path
      || !(val_fraction >= 0 && val_fraction < 1) || max_props < 1
      || max_props > 100000 || threads < 0 || memory_mb < 16 || !(svm_c > 0 && svm_c < 1e6)
      || bbox_pairs < 2 || bbox_pairs > 1000000
      || !(bbox_lambda > 0 && bbox_lambda < 1e9)
      || !(box_vote >= 0 && box_vote <= 1)
      || box_passes < 1 || box_passes > SPP_MAX_BOX_PASSES
      || finetune_epochs < 0 || finetune_epochs > 100000
      || !(ft_lr > 0 && ft_lr < 10)) {
    usage (stderr);
    return 2;
  }
  if (min_size < 1 || min_size > 1000) {
    fprintf (stderr, "spp train: --min-size %d: expected 1..1000\n",
             min_size);
    return 2;
  }
  gint64 t_start = g_get_monotonic_time ();
  /* Proposals as the library, the element and spp detect have them,
   * with the options; they go into the output, so detection proposes
   * as training did. */
  p.proposals.max_boxes = (guint) max_props;
  p.proposals.min_size = (guint) min_size;
  p.proposals.n_threads = (guint) threads;
  p.proposals.seed = (guint32) seed;
  p.seed = (guint32) seed;
  p.svm_c = svm_c;
  p.val_fraction = val_fraction;
  p.memory_mb = (guint) memory_mb;
  p.max_bbox_pairs = (guint) bbox_pairs;
  p.bbox_lambda = bbox_lambda;
  p.box_vote = (float) box_vote;
  p.box_passes = (guint) box_passes;
  p.cache_dir = cache;
  p.data_name = ann_path;
  p.finetune_epochs = (guint) finetune_epochs;
  p.finetune_lr = (float) ft_lr;
  guint scales[16];
  if (scales_arg) {
    if (!spp_scales_parse (scales_arg, scales, G_N_ELEMENTS (scales),
                           &p.n_scales, &error))
      return fail (error);
    p.scales = scales;
  }
  if ((fc_arg && !parse_fc (fc_arg, &p, &error))
      || (finetune_epochs > 0 && !check_finetune_head (model_path, &p,
                                                       &error)))
    return fail (error);

  g_autoptr (SppCoco) coco = spp_coco_load (ann_path, &error);
  if (coco == NULL)
    return fail (error);
  g_autofree int *cat_class = g_new (int, MAX (coco->categories->len, 1));
  g_auto (GStrv) labels = choose_classes (coco, labels_arg, cat_class,
                                          &error);
  if (labels == NULL)
    return fail (error);
  g_autoptr (SppTrainer) trainer = spp_trainer_new (
      model_path, (const char *const *) labels, &p, &error);
  if (trainer == NULL)
    return fail (error);
  spp_trainer_set_log_func (trainer, log_line, NULL);
  g_autoptr (GArray) coco_index = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree int *trainer_index = g_new (int, MAX (coco->images->len, 1));
  Source source = { .coco = coco, .images_root = root,
                    .coco_index = coco_index,
                    .trainer_index = trainer_index };
  add_images (trainer, coco, cat_class, &source);
  gboolean ok = spp_trainer_run (trainer, source_decode, &source, out_path,
                                 &error);
  g_free (source.what);
  if (!ok)
    return fail (error);
  fprintf (stderr, "spp train: wrote %s in %.1f s\n", out_path,
           (g_get_monotonic_time () - t_start) / 1e6);
  return 0;
}
