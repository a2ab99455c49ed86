/* The SPP-net detector: each frame is resized once per scale, the trunk
 * runs once per scale that has windows, every window is pooled from the
 * feature map of its own scale, and the fc head, SVMs and box regressors
 * run as one GEMM each over all windows (docs/method.md 2). */
#include "detector-private.h"
#include "spp-engine/image.h"

#include "spp/net.h"
#include "spp/pyramid.h"
#include "detect-section.h"
#include "spp-engine/blas.h"
#include "spp-engine/cpu.h"
#include "spp-engine/model.h"
#include "spp-engine/net.h"
#include "spp-engine/parallel.h"
#include "spp-engine/pyramid.h"
#include "spp-orc.h"

#include <math.h>
#include <string.h>

#define MAX_SCALES 16
#define DEFAULT_MAX_DETECTIONS 100

/* What the frame loop reads of the model, taken once from the engine's
 * getters and the detector's section. */
typedef struct {
  const SppDetectSection *sec;
  SppChannelOrder order;
  float mean[3], std[3];
  guint min_size, multiple, stride;
  float offset;
  const guint *levels;
  guint n_levels;
  guint pooled_size, head_size, map_channels, n_trunk, n_layers;
} ModelInfo;

static void
model_info_init (ModelInfo *mi, const SppModel *model)
{
  guint n_head;
  mi->sec = spp_detect_section_get (model);
  mi->order = spp_model_get_channel_order (model);
  spp_model_get_normalization (model, mi->mean, mi->std);
  spp_model_get_input_size (model, &mi->min_size, &mi->multiple);
  mi->stride = spp_model_get_stride (model);
  mi->offset = spp_model_get_offset (model);
  mi->levels = spp_model_get_levels (model, &mi->n_levels);
  mi->pooled_size = spp_model_get_pooled_size (model);
  mi->head_size = spp_model_get_head_width (model);
  mi->map_channels = spp_model_get_feature_channels (model);
  spp_model_get_n_layers (model, &mi->n_trunk, &n_head);
  mi->n_layers = mi->n_trunk + n_head;
}

struct _SppDetector {
  SppModel *model;
  ModelInfo mi;
  SppNet *net;
  guint scales[MAX_SCALES], n_scales;
  float threshold; /* < 0: the model's per-class thresholds */
  float nms;
  float vote; /* box voting IoU; 0: off */
  guint box_passes; /* box regression passes; 1: the usual single one */
  guint max_detections;

  /* Buffers reused from frame to frame. */
  guint8 *rgb;
  gsize rgb_size;
  SppTensor *input, *map;
  SppTensor *maps[MAX_SCALES]; /* each scale's trunk output */
  SppPoolMap pool[MAX_SCALES];  /* borrows maps[s] */
  gboolean map_ready[MAX_SCALES]; /* pool[s] holds this frame's map */
  float fx[MAX_SCALES], fy[MAX_SCALES];
  SppTensor *pooled, *feat, *scores, *deltas;
  SppPoolScratch batch;
  GArray *cells, *rows; /* one scale's windows on its map, their rows */
  GArray *windows; /* SppBox, clipped proposals kept */
  GArray *window_scale; /* guint */
  GArray *dets;    /* SppDetection */
  GArray *cands;   /* SppDetection: the candidates before NMS, for voting */
  SppDetectorTimings timings;
};

/* An empty array with room for per elements per window of
 * SPP_POOL_RESERVED_WINDOWS windows, touched (see detector_new). */
static GArray *
reserved_array (guint elem, guint per)
{
  const guint n = SPP_POOL_RESERVED_WINDOWS * per;
  GArray *a = g_array_sized_new (FALSE, FALSE, elem, n);
  memset (a->data, 0, (gsize) n * elem);
  return a;
}

static SppDetector *
detector_new (SppModel *model, GError **error)
{
  SppNet *net = spp_net_new (model, error);
  if (net == NULL)
    return NULL;
  SppDetector *d = g_new0 (SppDetector, 1);
  d->model = spp_model_ref (model);
  model_info_init (&d->mi, model);
  d->net = net;
  guint n;
  const guint *scales = spp_model_get_scales (model, &n);
  d->n_scales = MIN (n, MAX_SCALES);
  memcpy (d->scales, scales, d->n_scales * sizeof (guint));
  d->threshold = -1.0f;
  d->nms = spp_model_get_nms_threshold (model);
  d->vote = spp_model_get_box_vote (model);
  d->box_passes = spp_model_get_box_passes (model);
  d->max_detections = DEFAULT_MAX_DETECTIONS;
  d->input = spp_tensor_new (0, 0, 0, 0);
  d->map = spp_tensor_new (0, 0, 0, 0);
  for (int i = 0; i < MAX_SCALES; i++) {
    d->maps[i] = spp_tensor_new (0, 0, 0, 0);
    spp_pool_map_init (&d->pool[i]);
  }
  d->pooled = spp_tensor_new (0, 0, 0, 0);
  /* Room for SPP_POOL_RESERVED_WINDOWS windows' scores from the start
   * (spp_tensor_new zeroes, so the pages are resident): memory per stream
   * stays flat as the number of windows per frame varies. */
  d->feat = spp_tensor_new (SPP_POOL_RESERVED_WINDOWS,
                            5 * MAX (spp_model_get_n_classes (model), 1), 1, 1);
  d->scores = spp_tensor_new (0, 0, 0, 0);
  d->deltas = spp_tensor_new (0, 0, 0, 0);
  d->windows = reserved_array (sizeof (SppBox), 1);
  d->window_scale = reserved_array (sizeof (guint), 1);
  d->cells = reserved_array (sizeof (int), 4);
  d->rows = reserved_array (sizeof (guint), 1);
  d->dets = g_array_new (FALSE, FALSE, sizeof (SppDetection));
  d->cands = g_array_new (FALSE, FALSE, sizeof (SppDetection));
  return d;
}

SppDetector *
spp_detector_new (SppModel *model, GError **error)
{
  g_return_val_if_fail (model != NULL, NULL);
  if (!spp_model_has_detector (model)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "%s: the model has no SVMs ('svm.weight'), so it cannot "
                 "detect", spp_model_get_path (model));
    return NULL;
  }
  return detector_new (model, error);
}

/* A detector for feature extraction only: any model with a trunk. */
SppDetector *
spp_detector_new_for_features (SppModel *model, GError **error)
{
  g_return_val_if_fail (model != NULL, NULL);
  return detector_new (model, error);
}

void
spp_detector_free (SppDetector *d)
{
  if (d == NULL)
    return;
  spp_net_free (d->net);
  spp_model_unref (d->model);
  g_free (d->rgb);
  spp_tensor_free (d->input);
  spp_tensor_free (d->map);
  for (int i = 0; i < MAX_SCALES; i++)
    spp_tensor_free (d->maps[i]);
  spp_tensor_free (d->pooled);
  spp_tensor_free (d->feat);
  spp_tensor_free (d->scores);
  spp_tensor_free (d->deltas);
  spp_pool_scratch_clear (&d->batch);
  g_array_unref (d->cells);
  g_array_unref (d->rows);
  g_array_unref (d->windows);
  g_array_unref (d->window_scale);
  g_array_unref (d->dets);
  g_array_unref (d->cands);
  g_free (d);
}

SppModel *
spp_detector_get_model (const SppDetector *d)
{
  return d->model;
}

gboolean
spp_scales_parse (const char *text, guint *scales, guint max, guint *n,
                  GError **error)
{
  g_return_val_if_fail (n != NULL && (scales != NULL || max == 0), FALSE);
  *n = 0;
  if (text == NULL || *text == '\0')
    return TRUE;
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  guint k = 0;
  for (guint i = 0; parts[i]; i++) {
    const char *p = g_strstrip (parts[i]);
    char *end = NULL;
    guint64 v = g_ascii_strtoull (p, &end, 10);
    if (*p == '\0' || *end != '\0' || v < 32 || v > 4096) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "scales \"%s\": \"%s\" is not an integer in 32..4096",
                   text, p);
      return FALSE;
    }
    if (k == max) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "scales \"%s\": more than %u", text, max);
      return FALSE;
    }
    scales[k++] = (guint) v;
  }
  *n = k;
  return TRUE;
}

gboolean
spp_detector_set_scales (SppDetector *d, const guint *scales, guint n,
                         GError **error)
{
  if (n < 1 || n > MAX_SCALES) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "%u scales given, expected 1..%d", n, MAX_SCALES);
    return FALSE;
  }
  for (guint i = 0; i < n; i++)
    if (scales[i] < 32 || scales[i] > 4096) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                   "scale %u is %u, expected 32..4096", i, scales[i]);
      return FALSE;
    }
  memcpy (d->scales, scales, n * sizeof (guint));
  d->n_scales = n;
  return TRUE;
}

void
spp_detector_set_threshold (SppDetector *d, float threshold)
{
  d->threshold = threshold;
}

void
spp_detector_set_nms_threshold (SppDetector *d, float iou)
{
  d->nms = CLAMP (iou, 0.0f, 1.0f);
}

void
spp_detector_set_box_vote (SppDetector *d, float iou)
{
  g_return_if_fail (d != NULL);
  d->vote = CLAMP (iou, 0.0f, 1.0f);
}

void
spp_detector_set_box_passes (SppDetector *d, guint passes)
{
  g_return_if_fail (d != NULL);
  d->box_passes = CLAMP (passes, 1, SPP_MAX_BOX_PASSES);
}

void
spp_detector_set_max_detections (SppDetector *d, guint max)
{
  d->max_detections = max;
}

typedef struct {
  SppDetector *d;
  const SppImage *frame;
  int w, h;
  GError *error;       /* set by band 0 only: all bands fail alike */
} PrepareJob;

/* Rows [begin, end): resized to packed RGB, then deinterleaved one plane
 * row at a time and normalised with ORC. */
static void
prepare_rows (gpointer data, int begin, int end, int worker)
{
  PrepareJob *job = data;
  SppDetector *d = job->d;
  const ModelInfo *m = &d->mi;
  const int w = job->w;
  const gsize need = (gsize) w * job->h * 3;
  if (!spp_image_resize_rgb_rows (job->frame, d->rgb, w, job->h, w * 3,
                                  begin, end,
                                  worker == 0 && job->error == NULL
                                      ? &job->error
                                      : NULL))
    return;
  float *planes = spp_tensor_data (d->input);
  const gsize plane = (gsize) w * job->h;
  for (int y = begin; y < end; y++) {
    const guint8 *rgb = d->rgb + (gsize) y * w * 3;
    guint8 *tmp = d->rgb + need + (gsize) y * w;
    for (int c = 0; c < 3; c++) {
      int src_c = m->order == SPP_CHANNEL_BGR ? 2 - c : c;
      for (int x = 0; x < w; x++)
        tmp[x] = rgb[x * 3 + src_c];
      spp_orc_u8_to_f32_norm (planes + c * plane + (gsize) y * w, tmp,
                              m->mean[c], 1.0f / m->std[c], w);
    }
  }
}

/* Frame -> normalised planar float input at w x h, in the model's
 * channel order. */
static gboolean
prepare_input (SppDetector *d, const SppImage *frame, int w, int h,
               GError **error)
{
  /* Packed RGB, then room for one deinterleaved plane. */
  gsize need = (gsize) w * h * 3;
  if (need + (gsize) w * h > d->rgb_size) {
    g_free (d->rgb);
    d->rgb = g_try_malloc (need + (gsize) w * h);
    d->rgb_size = d->rgb ? need + (gsize) w * h : 0;
    if (d->rgb == NULL) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_NOMEM,
                   "cannot allocate a %dx%d RGB frame", w, h);
      return FALSE;
    }
  }
  if (!spp_tensor_reshape (d->input, 1, 3, h, w, error))
    return FALSE;
  /* What the bands can fail on, checked once: the bands below report
   * only through worker 0, which need not get any band. */
  if (!spp_image_validate (frame, error))
    return FALSE;
  PrepareJob job = { d, frame, w, h, NULL };
  /* Bands of rows on every core: at 512x384 this pass alone costs about
   * as much as the SPP pooling of 3000 windows. */
  spp_parallel_for (h, prepare_rows, &job);
  if (job.error) {
    g_propagate_error (error, job.error);
    return FALSE;
  }
  return TRUE;
}

/* out (n_out) += w (n_out x len, rows stride apart) . x (len), for the few
 * outputs of the SVMs and box regressors read straight off a pooled row
 * (or one chunk of it): eight outputs at a time,
 * so the x loads are shared and the accumulators are independent chains.
 * (OpenBLAS packs the whole left matrix before a product this skinny.) */
typedef float SppV16 __attribute__ ((vector_size (64)));

SPP_HOT_LOOP static void
row_dot (const float *x, gsize len, const float *w, gsize stride, int n_out,
         float *out)
{
  const gsize D16 = len / 16 * 16;
  for (int o0 = 0; o0 < n_out; o0 += 8) {
    const int no = MIN (8, n_out - o0);
    SppV16 acc[8] = { 0 };
    for (gsize j = 0; j < D16; j += 16) {
      SppV16 xv, wv;
      memcpy (&xv, x + j, sizeof xv);
      for (int o = 0; o < no; o++) {
        memcpy (&wv, w + (gsize) (o0 + o) * stride + j, sizeof wv);
        acc[o] += xv * wv;
      }
    }
    for (int o = 0; o < no; o++) {
      const float *wo = w + (gsize) (o0 + o) * stride;
      float sum = 0;
      for (gsize j = D16; j < len; j++)
        sum += x[j] * wo[j];
      for (int l = 0; l < 16; l++)
        sum += acc[o][l];
      out[o0 + o] += sum;
    }
  }
}

/* Window i's cells on the map of its scale. */
static void
window_cells (SppDetector *d, int i, guint s, int cells[4])
{
  const ModelInfo *m = &d->mi;
  const SppBox *b = &g_array_index (d->windows, SppBox, i);
  SppBox scaled = { b->x * d->fx[s], b->y * d->fy[s], b->w * d->fx[s],
                    b->h * d->fy[s] };
  spp_pyramid_project_box (&scaled, m->stride, m->offset, d->pool[s].w,
                           d->pool[s].h, cells);
}

/* Scale s's windows: their cells in d->cells, their indices in d->rows. */
static guint
scale_windows (SppDetector *d, guint s)
{
  g_array_set_size (d->cells, 0);
  g_array_set_size (d->rows, 0);
  for (guint i = 0; i < d->windows->len; i++) {
    if (g_array_index (d->window_scale, guint, i) != s)
      continue;
    int cells[4];
    window_cells (d, i, s, cells);
    g_array_append_vals (d->cells, cells, 4);
    g_array_append_val (d->rows, i);
  }
  return d->rows->len;
}

/* Without fc layers the SVMs and regressors read the pooled rows directly:
 * each window's chunk of pooled values is scored as it comes, while in
 * L1, instead of writing N x D floats (38 MB for 3000 windows of 3200)
 * and reading them back. */
typedef struct {
  SppDetector *d;
  const float *weights; /* the SVMs' and regressors' rows, BLOCKED */
} ScoreJob;

static void
score_chunk (gpointer data, guint i, const float *values, gsize offset,
             gsize len, int worker)
{
  const ScoreJob *j = data;
  const ModelInfo *m = &j->d->mi;
  const int n_out = 5 * m->sec->n_classes;
  const guint row = g_array_index (j->d->rows, guint, i);
  row_dot (values, len, j->weights + offset, m->pooled_size, n_out,
           spp_tensor_data (j->d->feat) + (gsize) row * n_out);
}

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static float
sigmoid (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

/* Clips the proposals and picks each one's scale; returns how many. */
static guint
collect_windows (SppDetector *d, int W, int H, const SppBox *proposals,
                 guint n_proposals, guint used[MAX_SCALES])
{
  g_array_set_size (d->windows, 0);
  g_array_set_size (d->window_scale, 0);
  memset (used, 0, sizeof (guint) * MAX_SCALES);
  for (guint i = 0; i < n_proposals; i++) {
    SppBox b = proposals[i];
    if (!spp_bbox_clip (&b, W, H))
      continue;
    guint s = spp_scale_choose (&b, W, H, d->scales, d->n_scales);
    g_array_append_val (d->windows, b);
    g_array_append_val (d->window_scale, s);
    used[s]++;
  }
  return d->windows->len;
}

/* SPP-net: one trunk forward per scale that has windows, then every
 * window pooled from its scale's map into one N x D matrix, bin-major
 * (the weights reading it are permuted to match). */
static gboolean
pool_spp (SppDetector *d, const SppImage *frame, const guint used[],
          gboolean fuse_scores, GError **error)
{
  const ModelInfo *m = &d->mi;
  const int W = frame->width, H = frame->height;
  const guint n = d->windows->len;
  for (guint s = 0; s < d->n_scales; s++) {
    if (!used[s])
      continue;
    int rw, rh;
    spp_scale_resized_size (W, H, d->scales[s], m->min_size, m->multiple,
                            &rw, &rh);
    d->fx[s] = (float) rw / W;
    d->fy[s] = (float) rh / H;
    double t0 = now ();
    if (!prepare_input (d, frame, rw, rh, error))
      return FALSE;
    double t1 = now ();
    if (!spp_net_forward (d->net, d->input, d->maps[s], error))
      return FALSE;
    spp_pool_map_prepare (&d->pool[s], d->maps[s]);
    d->map_ready[s] = TRUE;
    d->timings.resize += t1 - t0;
    d->timings.conv += now () - t1;
    d->timings.n_forwards++;
  }
  double t0 = now ();
  if (fuse_scores) {
    if (!spp_tensor_reshape (d->feat, n, 5 * m->sec->n_classes, 1, 1, error))
      return FALSE;
    memset (spp_tensor_data (d->feat), 0,
            spp_tensor_get_size (d->feat) * sizeof (float));
  } else if (!spp_tensor_reshape (d->pooled, n, (int) m->pooled_size, 1, 1,
                                  error)) {
    return FALSE;
  }
  /* The weights once per frame, not per window: the model's lock. */
  ScoreJob job = { d, NULL };
  if (fuse_scores) {
    const float *bbox_w;
    spp_detect_section_get_binmajor (d->model, &job.weights, &bbox_w);
  }
  /* A scale at a time: the pooler builds each chunk's tables of that
   * scale's map once and pools all its windows from them. */
  for (guint s = 0; s < d->n_scales; s++) {
    if (!used[s] || scale_windows (d, s) == 0)
      continue;
    const int *cells = (const int *) d->cells->data;
    if (fuse_scores)
      spp_pool_map_sink (&d->pool[s], m->levels, m->n_levels, cells,
                         d->rows->len, score_chunk, &job, &d->batch);
    else
      spp_pool_map_windows (&d->pool[s], m->levels, m->n_levels, cells,
                            (const guint *) d->rows->data, d->rows->len,
                            SPP_POOL_BLOCKED, &d->batch,
                            spp_tensor_data (d->pooled));
  }
  d->timings.spp += now () - t0;
  return TRUE;
}

/* R-CNN, the baseline: every window cropped from the frame, warped to
 * SPP_RCNN_SIZE square and run through the trunk on its own; the whole
 * map is pooled (for ZF-5 at 224 that is pool5 as R-CNN has it). */
static gboolean
pool_rcnn (SppDetector *d, const SppImage *frame, GError **error)
{
  const ModelInfo *m = &d->mi;
  const int W = frame->width, H = frame->height;
  const guint n = d->windows->len;
  const int S = SPP_RCNN_SIZE;
  double t0 = now ();
  /* The frame as packed RGB once; windows are views into it. */
  g_autofree guint8 *full = g_try_malloc ((gsize) W * H * 3);
  if (full == NULL || !spp_image_resize_rgb (frame, full, W, H, W * 3, error)) {
    if (full == NULL)
      g_set_error (error, SPP_ERROR, SPP_ERROR_NOMEM,
                   "cannot allocate a %dx%d frame", W, H);
    return FALSE;
  }
  d->timings.resize += now () - t0;
  if (!spp_tensor_reshape (d->pooled, n, (int) m->pooled_size, 1, 1, error))
    return FALSE;
  float *pooled = spp_tensor_data (d->pooled);
  for (guint i = 0; i < n; i++) {
    const SppBox *b = &g_array_index (d->windows, SppBox, i);
    int x0 = (int) floorf (b->x), y0 = (int) floorf (b->y);
    int x1 = MIN ((int) ceilf (b->x + b->w), W);
    int y1 = MIN ((int) ceilf (b->y + b->h), H);
    SppImage crop = { SPP_PIXEL_RGB, MAX (x1 - x0, 1), MAX (y1 - y0, 1),
                      { full + ((gsize) y0 * W + x0) * 3 }, { W * 3 } };
    double t1 = now ();
    if (!prepare_input (d, &crop, S, S, error))
      return FALSE;
    double t2 = now ();
    if (!spp_net_forward (d->net, d->input, d->map, error))
      return FALSE;
    spp_pool_map_prepare (&d->pool[0], d->map);
    int mh, mw;
    spp_tensor_get_shape (d->map, NULL, NULL, &mh, &mw);
    int cells[4] = { 0, 0, mw - 1, mh - 1 };
    spp_pool_map_windows (&d->pool[0], m->levels, m->n_levels, cells, NULL,
                          1, SPP_POOL_BLOCKED, &d->batch,
                          pooled + (gsize) i * m->pooled_size);
    d->timings.resize += t2 - t1;
    d->timings.conv += now () - t2;
    d->timings.n_forwards++;
  }
  return TRUE;
}

/* Iterative box regression (Gidaris and Komodakis, ICCV 2015, "Object
 * detection via a multi-region and semantic segmentation-aware CNN
 * model", section 5): each kept box is pooled again where the regressor
 * put it, on the computed map whose scale suits it best, and its class's
 * regressor moves it once more. Only the kept boxes (at most
 * max_detections) are pooled, so the cost is small beside the windows'. */
static void
refine_boxes (SppDetector *d, int W, int H)
{
  const ModelInfo *m = &d->mi;
  const gsize D = m->pooled_size;
  const float *pooled_w, *bbox_w;
  spp_detect_section_get_binmajor (d->model, &pooled_w, &bbox_w);
  if (bbox_w == NULL || d->dets->len == 0)
    return;
  g_autofree float *row = g_new (float, D);
  for (guint pass = 1; pass < d->box_passes; pass++) {
    for (guint i = 0; i < d->dets->len; i++) {
      SppDetection *det = &g_array_index (d->dets, SppDetection, i);
      guint s = spp_scale_choose (&det->box, W, H, d->scales, d->n_scales);
      /* The nearest scale whose map this frame computed. */
      for (guint k = 1; !d->map_ready[s] && k < d->n_scales; k++) {
        if (s >= k && d->map_ready[s - k]) s -= k;
        else if (s + k < d->n_scales && d->map_ready[s + k]) s += k;
      }
      if (!d->map_ready[s])
        return;
      SppBox scaled = { det->box.x * d->fx[s], det->box.y * d->fy[s],
                        det->box.w * d->fx[s], det->box.h * d->fy[s] };
      int cells[4];
      const guint zero = 0;
      spp_pyramid_project_box (&scaled, m->stride, m->offset, d->pool[s].w,
                               d->pool[s].h, cells);
      spp_pool_map_windows (&d->pool[s], m->levels, m->n_levels, cells,
                            &zero, 1, SPP_POOL_BLOCKED, &d->batch, row);
      const int k = det->label_id;
      float dl[4];
      for (int j = 0; j < 4; j++) {
        const float *w = bbox_w + (gsize) (4 * k + j) * D;
        double acc = m->sec->bbox_b->data[4 * k + j];
        for (gsize c = 0; c < D; c++)
          acc += (double) w[c] * row[c];
        dl[j] = (float) acc;
      }
      SppBox moved = spp_bbox_apply (&det->box, dl);
      if (spp_bbox_clip (&moved, W, H))
        det->box = moved;
    }
  }
}

/* The head, SVMs, regressors, threshold and NMS over the pooled rows. */
static gboolean
score_windows (SppDetector *d, int W, int H, gboolean fused, GError **error)
{
  const ModelInfo *m = &d->mi;
  const guint n = d->windows->len;
  const gsize D = m->pooled_size;
  const float *pooled = spp_tensor_const_data (d->pooled);
  const float *pooled_w, *bbox_w;
  spp_detect_section_get_binmajor (d->model, &pooled_w, &bbox_w);

  /* fc head, then the SVMs: scores = feature_scale * feat . W^T + b. */
  double t0 = now ();
  const gboolean has_head = m->n_trunk < m->n_layers;
  /* Without fc layers the SVMs read the pooled rows themselves. */
  if (has_head
      && !spp_net_forward_head_with (d->net, d->pooled, pooled_w, d->feat,
                                     error))
    return FALSE;
  double t1 = now ();
  const int K = m->sec->n_classes, F = m->head_size;
  if (!spp_tensor_reshape (d->scores, n, K, 1, 1, error))
    return FALSE;
  float *scores = spp_tensor_data (d->scores);
  float *deltas = NULL;
  if (m->sec->bbox_w
      && !spp_tensor_reshape (d->deltas, n, 4 * K, 1, 1, error))
    return FALSE;
  if (!has_head && m->sec->bbox_w) {
    /* SVMs and regressors both read the pooled rows: one pass over the
     * K + 4K stacked weight rows, done while pooling (score_chunk). */
    if (!fused) {
      if (!spp_tensor_reshape (d->feat, n, 5 * K, 1, 1, error))
        return FALSE;
      memset (spp_tensor_data (d->feat), 0, (gsize) n * 5 * K * sizeof (float));
      for (guint i = 0; i < n; i++)
        row_dot (pooled + (gsize) i * D, D, pooled_w, D, 5 * K,
                 spp_tensor_data (d->feat) + (gsize) i * 5 * K);
    }
    float *both = spp_tensor_data (d->feat);
    deltas = spp_tensor_data (d->deltas);
    for (guint i = 0; i < n; i++) {
      for (int k = 0; k < K; k++)
        scores[i * K + k] = m->sec->feature_scale * both[i * 5 * K + k];
      memcpy (deltas + (gsize) i * 4 * K, both + (gsize) i * 5 * K + K,
              4 * K * sizeof (float));
    }
  } else {
    spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_TRANS, n, K, F, m->sec->feature_scale,
               has_head ? spp_tensor_const_data (d->feat) : pooled, F,
               has_head ? m->sec->svm_w->data : pooled_w, F, 0.0f, scores, K);
    if (m->sec->bbox_w) {
      deltas = spp_tensor_data (d->deltas);
      spp_sgemm (SPP_BLAS_NO_TRANS, SPP_BLAS_TRANS, n, 4 * K, (int) D, 1.0f,
                 pooled, (int) D, bbox_w, (int) D, 0.0f, deltas, 4 * K);
    }
  }

  /* Candidates above threshold, regressed and clipped. */
  g_array_set_size (d->dets, 0);
  for (guint i = 0; i < n; i++) {
    const SppBox *b = &g_array_index (d->windows, SppBox, i);
    for (int k = 0; k < K; k++) {
      scores[i * K + k] += m->sec->svm_b->data[k];
      float score = scores[i * K + k];
      float conf = sigmoid (m->sec->score_a * score + m->sec->score_b);
      float thr = d->threshold >= 0 ? d->threshold : m->sec->thresholds[k];
      if (!(conf >= thr))
        continue;
      SppDetection det = { *b, k, conf, m->sec->labels[k] };
      if (deltas) {
        float dl[4];
        for (int j = 0; j < 4; j++)
          dl[j] = deltas[i * 4 * K + 4 * k + j] + m->sec->bbox_b->data[4 * k + j];
        det.box = spp_bbox_apply (b, dl);
      }
      if (spp_bbox_clip (&det.box, W, H))
        g_array_append_val (d->dets, det);
    }
  }
  double t2 = now ();
  if (d->vote > 0.0f) {
    g_array_set_size (d->cands, 0);
    g_array_append_vals (d->cands, d->dets->data, d->dets->len);
  }
  guint kept = spp_nms ((SppDetection *) d->dets->data, d->dets->len, d->nms,
                        d->max_detections);
  g_array_set_size (d->dets, kept);
  if (d->vote > 0.0f)
    spp_box_vote ((SppDetection *) d->dets->data, kept,
                  (const SppDetection *) d->cands->data, d->cands->len,
                  d->vote);
  if (d->box_passes > 1)
    refine_boxes (d, W, H);
  d->timings.fc += t1 - t0;
  d->timings.svm += t2 - t1;
  d->timings.nms += now () - t2;
  return TRUE;
}

static gboolean
detect (SppDetector *d, const SppImage *frame, const SppBox *proposals,
        guint n_proposals, gboolean rcnn, const SppDetection **detections,
        guint *n_detections, GError **error)
{
  g_return_val_if_fail (d != NULL && frame != NULL, FALSE);
  g_return_val_if_fail (detections != NULL && n_detections != NULL, FALSE);
  g_return_val_if_fail (proposals != NULL || n_proposals == 0, FALSE);
  guint used[MAX_SCALES];

  memset (&d->timings, 0, sizeof d->timings);
  memset (d->map_ready, 0, sizeof d->map_ready);
  *detections = NULL;
  *n_detections = 0;
  g_array_set_size (d->dets, 0);
  if (!spp_image_validate (frame, error))
    return FALSE;
  guint n = collect_windows (d, frame->width, frame->height, proposals,
                             n_proposals, used);
  d->timings.n_windows = n;
  if (n > 0) {
    const ModelInfo *m = &d->mi;
    /* R-CNN pools every window from its own forward, so never fused */
    gboolean fused = !rcnn && m->n_trunk == m->n_layers && m->sec->bbox_w;
    gboolean ok = rcnn ? pool_rcnn (d, frame, error)
                       : pool_spp (d, frame, used, fused, error);
    if (!ok || !score_windows (d, frame->width, frame->height, fused,
                               error)) {
      g_array_set_size (d->dets, 0);
      return FALSE;
    }
  }
  *detections = (const SppDetection *) d->dets->data;
  *n_detections = d->dets->len;
  return TRUE;
}

gboolean
spp_detector_detect (SppDetector *d, const SppImage *frame,
                     const SppBox *proposals, guint n_proposals,
                     const SppDetection **detections, guint *n_detections,
                     GError **error)
{
  return detect (d, frame, proposals, n_proposals, FALSE, detections,
                 n_detections, error);
}

gboolean
spp_detector_compute_features (SppDetector *d, const SppImage *frame,
                               const SppBox *boxes, guint n_boxes,
                               SppTensor *pooled_out, SppTensor *features,
                               GError **error)
{
  g_return_val_if_fail (d != NULL && frame != NULL && pooled_out != NULL,
                        FALSE);
  g_return_val_if_fail (boxes != NULL || n_boxes == 0, FALSE);
  const ModelInfo *m = &d->mi;
  const gsize D = m->pooled_size;
  guint used[MAX_SCALES];
  if (!spp_image_validate (frame, error))
    return FALSE;
  /* Keep every box (row i is box i): clip, and mark empty ones. */
  g_array_set_size (d->windows, 0);
  g_array_set_size (d->window_scale, 0);
  memset (used, 0, sizeof used);
  g_autofree gboolean *empty = g_new0 (gboolean, MAX (n_boxes, 1));
  for (guint i = 0; i < n_boxes; i++) {
    SppBox b = boxes[i];
    if (!spp_bbox_clip (&b, frame->width, frame->height)) {
      empty[i] = TRUE;
      b = (SppBox) { 0, 0, 1, 1 };
    }
    guint s = spp_scale_choose (&b, frame->width, frame->height, d->scales,
                                d->n_scales);
    g_array_append_val (d->windows, b);
    g_array_append_val (d->window_scale, s);
    used[s]++;
  }
  if (!spp_tensor_reshape (pooled_out, n_boxes, (int) D, 1, 1, error))
    return FALSE;
  if (n_boxes == 0)
    return features == NULL
           || spp_tensor_reshape (features, 0, (int) m->head_size, 1, 1,
                                  error);
  if (!pool_spp (d, frame, used, FALSE, error))
    return FALSE;
  /* Head features from the bin-major rows, as detection computes them. */
  if (features) {
    const float *pooled_w, *bbox_w;
    spp_detect_section_get_binmajor (d->model, &pooled_w, &bbox_w);
    if (m->n_trunk < m->n_layers) {
      if (!spp_net_forward_head_with (d->net, d->pooled, pooled_w, features,
                                      error))
        return FALSE;
    } else if (!spp_tensor_reshape (features, n_boxes, (int) D, 1, 1, error)) {
      return FALSE;
    }
  }
  /* Back to the file's channel-major layout. */
  g_autofree guint *perm = g_new (guint, D);
  spp_pyramid_permutation (m->map_channels, m->levels, m->n_levels, perm);
  const float *src = spp_tensor_const_data (d->pooled);
  float *dst = spp_tensor_data (pooled_out);
  for (guint i = 0; i < n_boxes; i++) {
    float *row = dst + (gsize) i * D;
    const float *in = src + (gsize) i * D;
    if (empty[i])
      memset (row, 0, D * sizeof (float));
    else
      for (gsize j = 0; j < D; j++)
        row[perm[j]] = in[j];
  }
  if (features) {
    float *f = spp_tensor_data (features);
    const gsize F = spp_tensor_get_size (features) / MAX (n_boxes, 1);
    if (m->n_trunk == m->n_layers) /* no head: the features are the rows */
      memcpy (f, dst, (gsize) n_boxes * D * sizeof (float));
    for (gsize i = 0; i < (gsize) n_boxes * F; i++)
      f[i] *= m->sec->feature_scale;
    for (guint i = 0; i < n_boxes; i++)
      if (empty[i])
        memset (f + (gsize) i * F, 0, F * sizeof (float));
  }
  return TRUE;
}

gboolean
spp_detector_detect_rcnn (SppDetector *d, const SppImage *frame,
                          const SppBox *proposals, guint n_proposals,
                          const SppDetection **detections,
                          guint *n_detections, GError **error)
{
  return detect (d, frame, proposals, n_proposals, TRUE, detections,
                 n_detections, error);
}

const SppDetectorTimings *
spp_detector_get_timings (const SppDetector *d)
{
  return &d->timings;
}

const float *
spp_detector_get_window_scores (const SppDetector *d, guint *n_windows,
                                guint *n_classes)
{
  *n_windows = d->windows->len;
  *n_classes = d->mi.sec->n_classes;
  return spp_tensor_const_data (d->scores);
}
