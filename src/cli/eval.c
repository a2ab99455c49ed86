/* spp eval: VOC-style AP of a model on COCO-annotated images (the
 * evaluator itself is the library's, include/spp/eval.h). */
#include "cli.h"
#include "coco.h"

#include "spp/spp.h"
#include "spp/eval.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  guint image; /* index into coco->images */
  SppDetection det;
} Detection;

typedef struct {
  const SppCoco *coco;
  SppDetector *detector;
  const SppProposalParams *params;
  GArray *out;
  SppCliProgress progress;
} DetectRun;

static gboolean
detect_one (guint index, const SppImage *frame, gpointer user_data,
            GError **error)
{
  DetectRun *r = user_data;
  guint n_props = 0, n_dets = 0;
  const SppDetection *dets = NULL;
  g_autofree SppBox *props = spp_proposals_compute (frame, r->params,
                                                    &n_props, error);
  if (props == NULL
      || !spp_detector_detect (r->detector, frame, props, n_props, &dets,
                               &n_dets, error))
    return FALSE;
  for (guint i = 0; i < n_dets; i++) {
    Detection d = { index, dets[i] };
    g_array_append_val (r->out, d);
  }
  spp_cli_progress_step (&r->progress);
  return TRUE;
}

/* Selective search and @detector on the images @indices: every
 * detection, as Detection (label pointers are the model's). */
static GArray *
detect_images (const SppCoco *coco, const char *images_root,
               const guint *indices, guint n, SppDetector *detector,
               const SppProposalParams *params, GError **error)
{
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (Detection));
  DetectRun r = { coco, detector, params, out, { 0 } };
  spp_cli_progress_start (&r.progress, "spp eval", n);
  if (!spp_coco_foreach_image (coco, images_root, indices, n, detect_one, &r,
                               error))
    return NULL;
  return g_steal_pointer (&out);
}

static void
usage (FILE *f)
{
  fprintf (f,
           "usage: spp eval --model FILE [--images-root DIR] [--split NAME]\n"
           "                [--iou 0.5] [--max-proposals N] [--scales LIST]\n"
           "                [--json] ANNOTATIONS.json\n"
           "Runs selective search (fast mode) and the detector on the\n"
           "annotated images (or only those whose \"split\" is NAME) and\n"
           "prints VOC AP per class (all-point, IoU >= --iou), the mAP and\n"
           "mAP@[.5:.95]. --max-proposals defaults to the model's own\n"
           "setting (proposals.max_boxes, which spp train writes).\n"
           "Categories are matched to the model's labels by name; others\n"
           "are ignored. Every detection counts (the model's\n"
           "thresholds are not applied), at most 100 per class per image.\n");
}

static void
print_num (double v)
{
  if (isnan (v))
    printf ("null");
  else
    printf ("%.4f", v);
}

int
spp_cli_eval (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *root = NULL, *split = NULL;
  g_autofree char *scales_arg = NULL;
  double iou = 0.5, box_vote = -1;
  int box_passes = 0;
  int max_props = 0; /* 0: the model's, else the library's 3000 */
  gboolean json = FALSE;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "model file", "FILE" },
    { "images-root", 0, 0, G_OPTION_ARG_FILENAME, &root, "folder of the images", "DIR" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "only images of this split", "NAME" },
    { "iou", 0, 0, G_OPTION_ARG_DOUBLE, &iou, "IoU for a match", "IOU" },
    { "max-proposals", 0, 0, G_OPTION_ARG_INT, &max_props, "proposals per image", "N" },
    { "scales", 's', 0, G_OPTION_ARG_STRING, &scales_arg, "shorter-side scales", "LIST" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "one JSON object", NULL },
    { "box-vote", 0, 0, G_OPTION_ARG_DOUBLE, &box_vote, "box voting IoU (0 off; default: the model's)", "IOU" },
    { "box-passes", 0, 0, G_OPTION_ARG_INT, &box_passes, "box regression passes, 1..4 (default: the model's)", "N" },
    { NULL }
  };
  int parsed = spp_cli_parse_options ("eval", entries, "ANNOTATIONS.json", usage, &argc,
                                      &argv);
  if (parsed >= 0)
    return parsed;
  if (argc != 2 || !(iou > 0 && iou <= 1) || max_props < 0
      || max_props > 100000) {
    usage (stderr);
    return 2;
  }
  if (model_path == NULL)
    model_path = spp_model_get_default_path ();
  g_autoptr (SppModel) model = spp_model_load (model_path, &error);
  g_autoptr (SppDetector) det = model ? spp_detector_new (model, &error)
                                      : NULL;
  g_autoptr (SppCoco) coco = det ? spp_coco_load (argv[1], &error) : NULL;
  if (coco == NULL) {
    fprintf (stderr, "spp eval: %s\n", error->message);
    return 1;
  }
  if (scales_arg) {
    guint scales[16], n;
    if (!spp_scales_parse (scales_arg, scales, 16, &n, &error)
        || !spp_detector_set_scales (det, scales, n, &error)) {
      fprintf (stderr, "spp eval: --scales: %s\n", error->message);
      return 2;
    }
  }
  if (!spp_cli_set_box_options (det, "eval", box_vote, box_passes))
    return 2;
  /* All windows go to NMS and AP: the threshold only cuts the curve. */
  spp_detector_set_threshold (det, 0.0f);
  /* docs/method.md 2.6: up to 100 boxes per class per image; the
   * detector's top-k is per frame, over all classes. */
  spp_detector_set_max_detections (det,
                                   100 * MAX (spp_model_get_n_classes (model), 1));
  /* The proposals the model was trained with, unless overridden. */
  SppProposalParams pp;
  spp_proposal_params_init (&pp);
  spp_model_get_proposal_params (model, &pp);
  if (max_props > 0)
    pp.max_boxes = max_props;

  const guint K = spp_model_get_n_classes (model);
  g_autofree int *cat_class = g_new (int, MAX (coco->categories->len, 1));
  for (guint c = 0; c < coco->categories->len; c++) {
    const SppCocoCategory *cat = g_ptr_array_index (coco->categories, c);
    cat_class[c] = spp_model_find_label (model, cat->name);
  }
  g_autoptr (GArray) sel = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (SppEvaluator) ev = spp_evaluator_new (K);
  for (guint i = 0; i < coco->images->len; i++) {
    const SppCocoImage *im = g_ptr_array_index (coco->images, i);
    if (split && g_strcmp0 (im->split, split) != 0)
      continue;
    g_array_append_val (sel, i);
    for (guint j = 0; j < im->boxes->len; j++) {
      int k = cat_class[g_array_index (im->category, guint, j)];
      if (k >= 0)
        spp_evaluator_add_ground_truth (ev, i, k,
                                        &g_array_index (im->boxes, SppBox, j));
    }
  }
  if (sel->len == 0) {
    fprintf (stderr, "spp eval: %s: no images%s%s\n", argv[1],
             split ? " in split " : "", split ? split : "");
    return 1;
  }
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (GArray) dets = detect_images (coco, root, (guint *) sel->data,
                                           sel->len, det, &pp, &error);
  if (dets == NULL) {
    fprintf (stderr, "spp eval: %s\n", error->message);
    return 1;
  }
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  g_autofree guint *n_dets = g_new0 (guint, MAX (K, 1));
  for (guint i = 0; i < dets->len; i++) {
    const Detection *d = &g_array_index (dets, Detection, i);
    spp_evaluator_add_detection (ev, d->image, d->det.label_id, &d->det.box,
                                 d->det.confidence);
    n_dets[d->det.label_id]++;
  }

  double map = spp_evaluator_mean_ap (ev, iou);
  double map_coco = spp_evaluator_mean_ap_coco (ev);
  if (json) {
    printf ("{\"model\":");
    spp_cli_print_json_string (model_path);
    printf (",\"annotations\":");
    spp_cli_print_json_string (argv[1]);
    printf (",\"split\":");
    if (split)
      spp_cli_print_json_string (split);
    else
      printf ("null");
    printf (",\"images\":%u,\"iou\":%.2f,\"seconds\":%.2f,\"classes\":[",
            sel->len, iou, seconds);
    for (guint k = 0; k < K; k++) {
      printf ("%s{\"label\":", k ? "," : "");
      spp_cli_print_json_string (spp_model_get_label (model, k));
      printf (",\"ground_truth\":%u,\"detections\":%u,\"ap\":",
              spp_evaluator_get_n_ground_truth (ev, k), n_dets[k]);
      print_num (spp_evaluator_average_precision (ev, k, iou));
      printf (",\"ap50\":");
      print_num (spp_evaluator_average_precision (ev, k, 0.5f));
      printf (",\"ap75\":");
      print_num (spp_evaluator_average_precision (ev, k, 0.75f));
      printf ("}");
    }
    printf ("],\"map\":");
    print_num (map);
    printf (",\"map_50_95\":");
    print_num (map_coco);
    printf ("}\n");
  } else {
    printf ("%s on %s: %u images%s%s, %.1f s\n", model_path, argv[1],
            sel->len, split ? ", split " : "", split ? split : "", seconds);
    printf ("%-16s %8s %8s %8s\n", "class", "GT", "dets", "AP");
    for (guint k = 0; k < K; k++)
      printf ("%-16s %8u %8u %8.4f\n", spp_model_get_label (model, k),
              spp_evaluator_get_n_ground_truth (ev, k), n_dets[k],
              spp_evaluator_average_precision (ev, k, iou));
    printf ("mAP@%.2f %.4f  mAP@[.5:.95] %.4f\n", iou, map, map_coco);
  }
  return 0;
}
