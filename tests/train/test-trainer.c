/* The trainer through its public API (include/spp/train.h), with frames
 * drawn in memory, so the library is checked without GStreamer: the
 * stages it asks for, a model that loads and finds the rectangles it
 * was trained on, the same bytes from the same seed, the proposal cache,
 * fine-tuning, and the errors of bad settings and bad data. */
#include "spp/spp.h"
#include "train-test.h"

#include <glib/gstdio.h>
#include <string.h>

#define W 96
#define H 72
#define N_IMAGES 16

/* Grey noise with one red (class 0) or blue (class 1) rectangle. */
typedef struct {
  guint8 px[W * H * 3];
  SppBox box;
  int cls;
} Frame;

static Frame frames[N_IMAGES];

static void
draw_frames (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  for (guint i = 0; i < N_IMAGES; i++) {
    Frame *f = &frames[i];
    for (guint j = 0; j < sizeof f->px; j++)
      f->px[j] = (guint8) g_rand_int_range (rand, 100, 140);
    f->cls = i % 2;
    int w = g_rand_int_range (rand, 22, 40), h = g_rand_int_range (rand, 22, 34);
    int x = g_rand_int_range (rand, 0, W - w), y = g_rand_int_range (rand, 0,
                                                                   H - h);
    f->box = (SppBox) { x, y, w, h };
    for (int r = y; r < y + h; r++)
      for (int c = x; c < x + w; c++) {
        guint8 *p = f->px + (r * W + c) * 3;
        p[0] = f->cls ? 40 : 220;
        p[1] = 50;
        p[2] = f->cls ? 220 : 40;
      }
  }
}

typedef struct {
  GPtrArray *stages;
  guint fail_at; /* decode fails at this image (G_MAXUINT: never) */
  guint decoded;
} Source;

static gboolean
decode (const guint *indices, guint n, const char *stage,
        SppTrainFrameFunc func, gpointer frame_data, gpointer user_data,
        GError **error)
{
  Source *s = user_data;
  g_ptr_array_add (s->stages, g_strdup (stage));
  for (guint i = 0; i < n; i++) {
    if (s->decoded++ == s->fail_at) {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "image %u: gone",
                   indices[i]);
      return FALSE;
    }
    const Frame *f = &frames[indices[i]];
    SppImage img = { SPP_PIXEL_RGB, W, H, { f->px }, { W * 3 } };
    if (!func (indices[i], &img, frame_data, error))
      return FALSE;
  }
  return TRUE;
}

static void
collect_log (const char *message, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (message));
}

static const char *const labels[] = { "red", "blue", NULL };

static void
params_init (SppTrainParams *p)
{
  spp_train_params_init (p);
  p->proposals.max_boxes = 150;
  p->proposals.min_size = 10;
  p->proposals.n_threads = 1;
  p->svm_c = 0.1;
  p->seed = 3;
  p->memory_mb = 64;
  p->data_name = "frames";
}

static SppTrainer *
new_trainer (const SppTrainParams *p, gboolean validation, GError **error)
{
  g_autofree char *model = spp_test_data_path ("tiny.sppm");
  SppTrainer *t = spp_trainer_new (model, labels, p, error);
  if (t == NULL)
    return NULL;
  for (guint i = 0; i < N_IMAGES; i++) {
    SppTrainImage im = { 1000 + i, &frames[i].box, &frames[i].cls, 1,
                         validation && i % 4 == 3 };
    g_assert_cmpuint (spp_trainer_add_image (t, &im), ==, i);
  }
  return t;
}

/* Trains to @out; returns the file's bytes. */
static GBytes *
train (const SppTrainParams *p, const char *out, GPtrArray *stages,
       GPtrArray *log)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SppTrainer) t = new_trainer (p, TRUE, &error);
  g_assert_no_error (error);
  if (log)
    spp_trainer_set_log_func (t, collect_log, log);
  Source s = { stages, G_MAXUINT, 0 };
  g_assert_true (spp_trainer_run (t, decode, &s, out, &error));
  g_assert_no_error (error);
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (out, &contents, &len, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static gboolean
has_line (GPtrArray *log, const char *needle)
{
  for (guint i = 0; i < log->len; i++)
    if (strstr (g_ptr_array_index (log, i), needle))
      return TRUE;
  return FALSE;
}

typedef struct {
  char *dir, *out;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("spp-trainer-XXXXXX", NULL);
  f->out = g_build_filename (f->dir, "out.sppm", NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d))) {
    g_autofree char *path = g_build_filename (f->dir, name, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      g_autoptr (GDir) sub = g_dir_open (path, 0, NULL);
      const char *s;
      while (sub && (s = g_dir_read_name (sub))) {
        g_autofree char *p = g_build_filename (path, s, NULL);
        g_unlink (p);
      }
      g_rmdir (path);
    } else {
      g_unlink (path);
    }
  }
  g_rmdir (f->dir);
  g_free (f->out);
  g_free (f->dir);
}

static void
test_train (Fixture *f, gconstpointer data)
{
  SppTrainParams p;
  params_init (&p);
  g_autoptr (GPtrArray) stages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) first = train (&p, f->out, stages, log);
  g_assert_cmpuint (stages->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (stages, 0), ==, "features");
  g_assert_cmpstr (g_ptr_array_index (stages, 1), ==, "hard negatives");
  g_assert_cmpstr (g_ptr_array_index (stages, 2), ==, "validation");
  g_assert_true (has_line (log, "2 classes, 12 train / 4 val images"));
  g_assert_true (has_line (log, "initial SVMs trained"));
  g_assert_true (has_line (log, "Platt a"));

  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load (f->out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (spp_model_get_n_classes (m), ==, 2);
  g_assert_cmpstr (spp_model_get_label (m, 1), ==, "blue");
  SppProposalParams pp;
  spp_proposal_params_init (&pp);
  spp_model_get_proposal_params (m, &pp);
  g_assert_cmpuint (pp.max_boxes, ==, 150);
  g_assert_cmpuint (pp.min_size, ==, 10);
  g_autofree char *desc = spp_model_describe (m);
  g_assert_nonnull (strstr (desc, "12 training images of frames"));

  /* The rectangles it was trained on are found: the best detection of
   * most training frames is the right class on the rectangle. */
  g_autoptr (SppDetector) det = spp_detector_new (m, &error);
  g_assert_no_error (error);
  spp_detector_set_threshold (det, 0.0f);
  guint found = 0;
  for (guint i = 0; i < N_IMAGES; i++) {
    SppImage img = { SPP_PIXEL_RGB, W, H, { frames[i].px }, { W * 3 } };
    guint n_props, n_dets;
    const SppDetection *dets;
    g_autofree SppBox *props = spp_proposals_compute (&img, &pp, &n_props,
                                                      &error);
    g_assert_no_error (error);
    g_assert_true (spp_detector_detect (det, &img, props, n_props, &dets,
                                        &n_dets, &error));
    found += n_dets > 0 && dets[0].label_id == frames[i].cls
             && spp_box_iou (&dets[0].box, &frames[i].box) >= 0.5f;
  }
  g_test_message ("best detection right on %u of %u frames", found,
                  N_IMAGES);
  g_assert_cmpuint (found, >=, N_IMAGES * 3 / 4);

  /* The same data, settings and seed: the same bytes, with proposals
   * computed again or read from the cache (written on the first run). */
  g_autoptr (GBytes) again = train (&p, f->out, stages, NULL);
  g_assert_true (g_bytes_equal (first, again));
  g_autofree char *cache = g_build_filename (f->dir, "cache", NULL);
  p.cache_dir = cache;
  g_autoptr (GBytes) cached1 = train (&p, f->out, stages, NULL);
  g_autofree char *one = g_build_filename (cache, "1000.props", NULL);
  g_assert_true (g_file_test (one, G_FILE_TEST_IS_REGULAR));
  g_autoptr (GBytes) cached2 = train (&p, f->out, stages, NULL);
  g_assert_true (g_bytes_equal (first, cached1));
  g_assert_true (g_bytes_equal (first, cached2));
  /* Another seed, another model. */
  p.seed = 4;
  g_autoptr (GBytes) other = train (&p, f->out, stages, NULL);
  g_assert_false (g_bytes_equal (first, other));
}

/* New fc layers, fine-tuned: a pass of fine-tuning windows first, one
 * loss line per epoch, and a model with the two new layers. */
static void
test_finetune (Fixture *f, gconstpointer data)
{
  SppTrainParams p;
  params_init (&p);
  p.new_head = TRUE;
  p.n_fc = 2;
  p.fc_widths[0] = 24;
  p.fc_widths[1] = 12;
  p.finetune_epochs = 2;
  g_autoptr (GPtrArray) stages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) bytes = train (&p, f->out, stages, log);
  g_assert_cmpstr (g_ptr_array_index (stages, 0), ==, "fine-tuning windows");
  g_assert_true (has_line (log, "fine-tuning fc: epoch 2/2"));
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load_from_bytes (bytes, "ft", &error);
  g_assert_no_error (error);
  guint n_trunk, n_head;
  spp_model_get_n_layers (m, &n_trunk, &n_head);
  g_assert_cmpuint (n_head, ==, 2);
}

static void
expect_new_error (const SppTrainParams *p, const char *model, int code,
                  const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = spp_test_data_path (model);
  g_autoptr (SppTrainer) t = spp_trainer_new (path, labels, p, &error);
  g_assert_null (t);
  g_assert_error (error, SPP_ERROR, code);
  if (!strstr (error->message, needle))
    g_error ("'%s' lacks '%s'", error->message, needle);
}

static void
test_bad_settings (void)
{
  SppTrainParams p;
  params_init (&p);
  p.svm_c = 0;
  expect_new_error (&p, "tiny.sppm", SPP_ERROR_INVAL, "svm_c");
  params_init (&p);
  p.val_fraction = 1;
  expect_new_error (&p, "tiny.sppm", SPP_ERROR_INVAL, "val_fraction");
  params_init (&p);
  p.new_head = TRUE;
  p.n_fc = 1;
  p.fc_widths[0] = 0;
  expect_new_error (&p, "tiny.sppm", SPP_ERROR_INVAL, "fc_widths");
  params_init (&p);
  p.finetune_epochs = 1;
  expect_new_error (&p, "tiny-nohead.sppm", SPP_ERROR_INVAL,
                    "has no fc layers to fine-tune");
  p.new_head = TRUE;
  expect_new_error (&p, "tiny.sppm", SPP_ERROR_INVAL,
                    "a head of none has no fc layers");
  params_init (&p);
  expect_new_error (&p, "no-such.sppm", SPP_ERROR_IO, "no-such.sppm");
  expect_new_error (&p, "truncated.sppm", SPP_ERROR_FORMAT,
                    "truncated.sppm");
  const guint scales[] = { 8 };
  p.scales = scales;
  p.n_scales = 1;
  expect_new_error (&p, "tiny.sppm", SPP_ERROR_INVAL, "8");
}

static void
test_bad_data (Fixture *f, gconstpointer data)
{
  SppTrainParams p;
  params_init (&p);
  g_autoptr (GPtrArray) stages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  /* Every image for validation: nothing to train on. */
  g_autofree char *model = spp_test_data_path ("tiny.sppm");
  g_autoptr (SppTrainer) t = spp_trainer_new (model, labels, &p, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++) {
    SppTrainImage im = { i, &frames[i].box, &frames[i].cls, 1, TRUE };
    spp_trainer_add_image (t, &im);
  }
  Source s = { stages, G_MAXUINT, 0 };
  g_assert_false (spp_trainer_run (t, decode, &s, f->out, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "frames: no training images"));
  g_clear_error (&error);
  /* The decoder fails half-way: its error comes back, nothing is
   * written. */
  g_autoptr (SppTrainer) t2 = new_trainer (&p, TRUE, &error);
  Source s2 = { stages, 20, 0 };
  g_assert_false (spp_trainer_run (t2, decode, &s2, f->out, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_false (g_file_test (f->out, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  draw_frames ();
  g_test_add ("/trainer/train", Fixture, NULL, setup, test_train, teardown);
  g_test_add ("/trainer/finetune", Fixture, NULL, setup, test_finetune,
              teardown);
  g_test_add_func ("/trainer/bad-settings", test_bad_settings);
  g_test_add ("/trainer/bad-data", Fixture, NULL, setup, test_bad_data,
              teardown);
  return g_test_run ();
}
