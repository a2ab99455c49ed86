/* Every layer type, SPP and ZF-5 against PyTorch's outputs
 * (tests/vectors/gen_vectors.py writes them; see index.ini). */
#include "spp/spp.h"
#include "layers-private.h"
#include "spp-engine/parallel.h"
#include "spp-engine/pyramid.h"

#include <math.h>
#include <string.h>

static GKeyFile *index_file;
static char *vec_dir;

static float *
load_floats (const char *group, const char *key, int shape[4], gsize *n)
{
  g_autofree char *file = g_key_file_get_string (index_file, group, key, NULL);
  g_autofree char *skey = g_strconcat (key, "_shape", NULL);
  g_autofree char *sshape = g_key_file_get_string (index_file, group, skey,
                                                   NULL);
  g_assert_nonnull (file);
  g_assert_nonnull (sshape);
  g_auto (GStrv) dims = g_strsplit (sshape, ",", -1);
  guint nd = g_strv_length (dims);
  g_assert_cmpuint (nd, <=, 4);
  for (int i = 0; i < 4; i++)
    shape[i] = 1;
  gsize total = 1;
  for (guint i = 0; i < nd; i++) {
    shape[i] = atoi (dims[i]);
    total *= shape[i];
  }
  g_autofree char *path = g_build_filename (vec_dir, file, NULL);
  char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpuint (len, ==, total * 4);
  *n = total;
  return (float *) data;
}

/* |got - want| <= 1e-4 * (|want| + max|want| * 1e-2): relative 1e-4, with
 * a floor for values near zero that sums of many terms reach by
 * cancellation. */
static void
assert_close (const float *got, const float *want, gsize n, const char *what)
{
  float maxref = 0.0f, worst = 0.0f;
  gsize worst_i = 0;
  for (gsize i = 0; i < n; i++)
    maxref = MAX (maxref, fabsf (want[i]));
  for (gsize i = 0; i < n; i++) {
    /* A NaN anywhere fails at once: as a running maximum it would be
     * overwritten by the next finite error. */
    if (isnan (got[i]) || isnan (want[i]))
      g_error ("%s: element %zu is %.8g, PyTorch gives %.8g", what, i,
               got[i], want[i]);
    float tol = 1e-4f * (fabsf (want[i]) + maxref * 1e-2f) + 1e-7f;
    float err = fabsf (got[i] - want[i]) / tol;
    if (err > worst) {
      worst = err;
      worst_i = i;
    }
  }
  if (!(worst <= 1.0f))
    g_error ("%s: element %zu is %.8g, PyTorch gives %.8g (%.2fx the "
             "tolerance; max |ref| %g)", what, worst_i, got[worst_i],
             want[worst_i], worst, maxref);
}

static SppTensor *
tensor_from (const float *data, const int shape[4])
{
  SppTensor *t = spp_tensor_new (shape[0], shape[1], shape[2], shape[3]);
  memcpy (spp_tensor_data (t), data, spp_tensor_get_size (t) * 4);
  return t;
}

static void
run_trunk_case (const char *group, SppModel *model)
{
  int ishape[4], oshape[4];
  gsize ni, no;
  g_autofree float *in = load_floats (group, "input", ishape, &ni);
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autoptr (GError) error = NULL;
  g_autoptr (SppNet) net = spp_net_new (model, &error);
  g_assert_no_error (error);
  g_autoptr (SppTensor) x = tensor_from (in, ishape);
  g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
  /* Twice: the second run reuses the planned arena. */
  for (int rep = 0; rep < 2; rep++) {
    g_assert_true (spp_net_forward (net, x, y, &error));
    g_assert_no_error (error);
    int n, c, h, w;
    spp_tensor_get_shape (y, &n, &c, &h, &w);
    g_assert_cmpint (n, ==, oshape[0]);
    g_assert_cmpint (c, ==, oshape[1]);
    g_assert_cmpint (h, ==, oshape[2]);
    g_assert_cmpint (w, ==, oshape[3]);
    assert_close (spp_tensor_const_data (y), want, no, group);
  }
}

static SppModel *
load_model (const char *group)
{
  g_autofree char *file = g_key_file_get_string (index_file, group, "model",
                                                 NULL);
  g_autofree char *path = g_build_filename (vec_dir, file, NULL);
  g_autoptr (GError) error = NULL;
  SppModel *m = spp_model_load (path, &error);
  g_assert_no_error (error);
  return m;
}

static void
test_trunk (gconstpointer data)
{
  const char *group = data;
  g_autoptr (SppModel) m = load_model (group);
  run_trunk_case (group, m);
}

static void
test_head (gconstpointer data)
{
  const char *group = data;
  g_autoptr (SppModel) m = load_model (group);
  g_autoptr (GError) error = NULL;
  int ishape[4], oshape[4], pshape[4];
  gsize ni, no, np;
  g_autofree float *in = load_floats (group, "input", ishape, &ni);
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autofree float *want_pooled = load_floats (group, "pooled", pshape, &np);
  g_autoptr (SppNet) net = spp_net_new (m, &error);
  g_autoptr (SppTensor) x = tensor_from (in, ishape);
  g_autoptr (SppTensor) map = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (SppTensor) pooled = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
  guint n_levels;
  const guint *levels = spp_model_get_levels (m, &n_levels);
  g_assert_true (spp_net_forward (net, x, map, &error));
  g_assert_true (spp_pyramid_pool (map, levels, n_levels, pooled, &error));
  g_assert_cmpuint (spp_tensor_get_size (pooled), ==, np);
  g_assert_cmpuint (spp_model_get_pooled_size (m), ==, np);
  assert_close (spp_tensor_const_data (pooled), want_pooled, np, "pooled");
  g_assert_true (spp_net_forward_head (net, pooled, y, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spp_tensor_get_size (y), ==, no);
  assert_close (spp_tensor_const_data (y), want, no, group);
}

static guint *
parse_levels (const char *group, guint *n)
{
  g_autofree char *s = g_key_file_get_string (index_file, group, "levels",
                                              NULL);
  g_auto (GStrv) parts = g_strsplit (s, ",", -1);
  *n = g_strv_length (parts);
  guint *levels = g_new (guint, *n);
  for (guint i = 0; i < *n; i++)
    levels[i] = atoi (parts[i]);
  return levels;
}

static void
test_spp (gconstpointer data)
{
  const char *group = data;
  int ishape[4], oshape[4];
  gsize ni, no;
  guint n_levels;
  g_autofree guint *levels = parse_levels (group, &n_levels);
  g_autofree float *in = load_floats (group, "input", ishape, &ni);
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autoptr (SppTensor) map = tensor_from (in, ishape);
  g_autoptr (SppTensor) out = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (GError) error = NULL;
  g_assert_true (spp_pyramid_pool (map, levels, n_levels, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spp_tensor_get_size (out), ==, no);
  assert_close (spp_tensor_const_data (out), want, no, group);
}

typedef struct {
  float *rows;
  gsize d;
} SinkRows;

static void
collect_chunk (gpointer data, guint i, const float *values, gsize offset,
               gsize len, int worker)
{
  SinkRows *s = data;
  memcpy (s->rows + i * s->d + offset, values, len * sizeof (float));
}

/* rows (n x d, BLOCKED layout) back to the channel-major layout. */
static float *
unblock (const float *rows, guint n, gsize d, int c, const guint *levels,
         guint n_levels)
{
  g_autofree guint *perm = g_new (guint, d);
  spp_pyramid_permutation (c, levels, n_levels, perm);
  float *out = g_new (float, n * d);
  for (guint i = 0; i < n; i++)
    for (gsize j = 0; j < d; j++)
      out[i * d + perm[j]] = rows[i * d + j];
  return out;
}

/* n windows pooled into BLOCKED rows (rows[] as the pooler takes it),
 * returned in the channel-major layout. */
static float *
pool_blocked (const SppPoolMap *pm, const guint *levels, guint n_levels,
              const int *cells, const guint *rows, guint n, gsize d,
              SppPoolScratch *ps)
{
  /* A tensor's rows are 64-byte aligned: the streaming stores' case. */
  g_autoptr (SppTensor) blocked = spp_tensor_new (n, (int) d, 1, 1);
  spp_pool_map_windows (pm, levels, n_levels, cells, rows, n,
                        SPP_POOL_BLOCKED, ps, spp_tensor_data (blocked));
  return unblock (spp_tensor_const_data (blocked), n, d, pm->c, levels,
                  n_levels);
}

/* One instruction set's kernels on a windows case: the public call, then
 * the detector's paths on the same windows: BLOCKED rows (here in reverse
 * order, through rows[]) and the sink. */
static void
windows_case (const char *group, const guint *levels, guint n_levels,
              float *in, const int ishape[4], const float *want, gsize no,
              const float *boxes, guint n, guint stride, double offset)
{
  g_autoptr (SppTensor) map = tensor_from (in, ishape);
  g_autoptr (SppTensor) out = spp_tensor_new (0, 0, 0, 0);
  g_autoptr (GError) error = NULL;
  g_assert_true (spp_pyramid_pool_windows (map, levels, n_levels, stride,
                                           offset, (const SppBox *) boxes,
                                           n, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spp_tensor_get_size (out), ==, no);
  assert_close (spp_tensor_const_data (out), want, no, group);

  const gsize d = no / n;
  SppPoolMap pm;
  SppPoolScratch ps = { 0 };
  spp_pool_map_init (&pm);
  spp_pool_map_prepare (&pm, map);
  g_autofree int *cells = g_new (int, 4 * n);
  g_autofree guint *rows = g_new (guint, n);
  for (guint i = 0; i < n; i++) {
    spp_pyramid_project_box ((const SppBox *) boxes + i, stride, offset,
                             ishape[3], ishape[2], cells + 4 * i);
    rows[i] = n - 1 - i;
  }
  g_autofree float *back = pool_blocked (&pm, levels, n_levels, cells, rows,
                                        n, d, &ps);
  for (guint i = 0; i < n; i++)
    assert_close (back + (gsize) (n - 1 - i) * d, want + i * d, d, group);
  /* The windows again, tiled past 128 of them: many windows are split
   * between the workers by windows rather than by channels. */
  const guint tiles = (128 + n - 1) / n + 1, nt = tiles * n;
  g_autofree int *tcells = g_new (int, 4 * nt);
  for (guint i = 0; i < nt; i++)
    memcpy (tcells + 4 * i, cells + 4 * (i % n), 4 * sizeof (int));
  g_autofree float *tback = pool_blocked (&pm, levels, n_levels, tcells,
                                         NULL, nt, d, &ps);
  for (guint i = 0; i < nt; i++)
    assert_close (tback + (gsize) i * d, want + (gsize) (i % n) * d, d, group);
  SinkRows sink = { g_new0 (float, n * d), d };
  spp_pool_map_sink (&pm, levels, n_levels, cells, n, collect_chunk, &sink,
                     &ps);
  g_autofree float *back2 = unblock (sink.rows, n, d, ishape[1], levels,
                                     n_levels);
  assert_close (back2, want, no, group);
  g_free (sink.rows);
  spp_pool_scratch_clear (&ps);
}

static void
test_windows (gconstpointer data)
{
  const char *group = data;
  int ishape[4], oshape[4], bshape[4];
  gsize ni, no, nb;
  guint n_levels;
  g_autofree guint *levels = parse_levels (group, &n_levels);
  g_autofree float *in = load_floats (group, "input", ishape, &ni);
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autofree float *boxes = load_floats (group, "boxes", bshape, &nb);
  guint stride = g_key_file_get_integer (index_file, group, "stride", NULL);
  double offset = g_key_file_get_double (index_file, group, "offset", NULL);
  /* Every instruction set's kernels this CPU can run. */
  const char *isas[] = { "generic", "avx2", "avx512" };
  for (guint k = 0; k < G_N_ELEMENTS (isas); k++) {
    if (!spp_pool_force_kernels (isas[k]))
      continue;
    windows_case (group, levels, n_levels, in, ishape, want, no, boxes,
                  bshape[0], stride, offset);
  }
  spp_pool_force_kernels (NULL);
}

static void
test_zf5 (gconstpointer data)
{
  const char *group = data;
  const char *model = g_getenv ("SPP_TEST_ZF5");
  if (model == NULL) {
    g_test_skip ("SPP_TEST_ZF5 (the generated ZF-5 model) not set");
    return;
  }
  g_autoptr (GError) error = NULL;
  g_autoptr (SppModel) m = spp_model_load (model, &error);
  g_assert_no_error (error);
  int oshape[4];
  gsize no;
  g_autofree float *want = load_floats (group, "output", oshape, &no);
  g_autofree char *sshape = g_key_file_get_string (index_file, group,
                                                   "input_shape", NULL);
  g_autofree char *iname = g_strdup_printf ("%s.in", group);
  g_autofree char *ipath = g_build_filename (g_getenv ("G_TEST_BUILDDIR"),
                                             iname, NULL);
  /* The input is regenerated by make_zf5_input.py at build time. */
  char *raw = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (ipath, &raw, &len, NULL));
  g_autofree float *in = (float *) raw;
  int ishape[4];
  g_auto (GStrv) dims = g_strsplit (sshape, ",", -1);
  for (int i = 0; i < 4; i++)
    ishape[i] = atoi (dims[i]);
  g_assert_cmpuint (len, ==, (gsize) ishape[1] * ishape[2] * ishape[3] * 4);
  g_autoptr (SppNet) net = spp_net_new (m, &error);
  g_autoptr (SppTensor) x = tensor_from (in, ishape);
  g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
  g_assert_true (spp_net_forward (net, x, y, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (spp_tensor_get_size (y), ==, no);
  assert_close (spp_tensor_const_data (y), want, no, group);
}

static void
fill_random (float *p, gsize n, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (r, -1, 1);
  g_rand_free (r);
}

/* Direct convolution, the definition, for checking the GEMM paths. */
static void
naive_conv (const SppLayer *l, const float *in, int in_h, int in_w,
            float *out, int out_h, int out_w)
{
  const SppWindow *w = &l->win;
  const float *wt = spp_tensor_const_data (l->weight);
  for (int o = 0; o < l->out_c; o++)
    for (int y = 0; y < out_h; y++)
      for (int x = 0; x < out_w; x++) {
        double s = spp_tensor_const_data (l->bias)[o];
        for (int c = 0; c < l->in_c; c++)
          for (int i = 0; i < w->kh; i++)
            for (int j = 0; j < w->kw; j++) {
              int iy = y * w->sh - w->pad_t + i * w->dil_h;
              int ix = x * w->sw - w->pad_l + j * w->dil_w;
              if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w)
                s += wt[((o * l->in_c + c) * w->kh + i) * w->kw + j]
                     * in[((gsize) c * in_h + iy) * in_w + ix];
            }
        float v = (float) s;
        out[((gsize) o * out_h + y) * out_w + x] = v > 0 ? v : v * l->slope;
      }
}

/* Convolution in column panels per core (small weights, big maps), in
 * shared blocks (one worker), with im2col's stride-2 path and with one
 * GEMM per tap (deep inputs, stride 1), against the direct loop. */
static void
test_conv_paths (void)
{
  const struct {
    int in_c, out_c, k, s, pad, h, w, dil;
    gboolean rows; /* the row path runs it */
  } cases[] = {
    { 8, 16, 3, 1, 1, 64, 200, 1, FALSE },  /* NanoDet-like: panels */
    { 3, 12, 7, 2, 1, 150, 181, 1, FALSE }, /* ZF-5 conv1-like, stride 2 */
    { 128, 64, 3, 1, 1, 19, 41, 1, TRUE },  /* ZF-5 conv3-like */
    { 160, 9, 5, 1, 2, 10, 50, 1, TRUE },
    { 128, 6, 3, 1, 2, 12, 40, 2, TRUE },   /* dilated */
    { 48, 10, 5, 2, 2, 23, 31, 1, TRUE },   /* ZF-5 conv2-like: 2 phases */
    { 64, 7, 3, 2, 2, 17, 21, 2, TRUE },    /* dilated, one phase */
    { 64, 5, 3, 3, 1, 20, 22, 1, TRUE },    /* stride 3 */
  };
  for (guint t = 0; t < G_N_ELEMENTS (cases); t++) {
    SppLayer l = { 0 };
    l.op = SPP_OP_CONV;
    l.in_c = cases[t].in_c;
    l.out_c = cases[t].out_c;
    l.groups = 1;
    l.act = SPP_ACT_LEAKY;
    l.slope = 0.1f;
    l.win = (SppWindow) { cases[t].k, cases[t].k, cases[t].s, cases[t].s,
                          cases[t].pad, cases[t].pad, cases[t].pad,
                          cases[t].pad, cases[t].dil, cases[t].dil };
    g_autoptr (SppTensor) wt = spp_tensor_new (l.out_c, l.in_c, cases[t].k,
                                               cases[t].k);
    g_autoptr (SppTensor) b = spp_tensor_new (1, l.out_c, 1, 1);
    fill_random (spp_tensor_data (wt), spp_tensor_get_size (wt), 1);
    fill_random (spp_tensor_data (b), l.out_c, 2);
    l.weight = wt;
    l.bias = b;
    const int h = cases[t].h, w = cases[t].w;
    int oh = spp_conv_out_size (h, l.win.kh, l.win.sh, l.win.pad_t,
                                l.win.pad_b, l.win.dil_h);
    int ow = spp_conv_out_size (w, l.win.kw, l.win.sw, l.win.pad_l,
                                l.win.pad_r, l.win.dil_w);
    gsize n_in = (gsize) l.in_c * h * w, n_out = (gsize) l.out_c * oh * ow;
    g_autofree float *in = g_new (float, n_in);
    g_autofree float *want = g_new (float, n_out);
    g_autofree float *got = g_new (float, n_out);
    fill_random (in, n_in, 3);
    naive_conv (&l, in, h, w, want, oh, ow);
    g_autofree float *rows
        = spp_conv_has_rows (&l) ? spp_conv_row_weights (&l) : NULL;
    for (int workers = 1; workers <= 2; workers++) {
      spp_parallel_set_n_workers (workers);
      g_autofree float *scratch
          = g_new (float, spp_conv_scratch_size (&l, h, w));
      g_assert_cmpint (spp_conv_uses_rows (&l, h, w), ==, cases[t].rows);
      /* Both paths where the row path applies. */
      for (int use = 0; use <= (rows != NULL); use++) {
        memset (got, 0, n_out * sizeof (float));
        spp_conv_forward (&l, use ? rows : NULL, in, h, w, got, oh, ow,
                          scratch);
        assert_close (got, want, n_out, use ? "conv rows" : "conv");
      }
    }
    spp_parallel_set_n_workers (0);
  }
}

/* spp_parallel_for visits every item once, in calls that never run two
 * at a time for one worker index, whatever the number of workers. */
typedef struct {
  gint *visits;
  gint busy[8];
  gint bad;
} GrainJob;

static void
grain_visit (gpointer data, int begin, int end, int worker)
{
  GrainJob *j = data;
  if (worker < 0 || worker >= spp_parallel_get_n_workers () || begin >= end
      || g_atomic_int_add (&j->busy[worker], 1) != 0)
    g_atomic_int_inc (&j->bad);
  for (int i = begin; i < end; i++)
    g_atomic_int_inc (&j->visits[i]);
  g_usleep (50); /* lets the other worker in */
  g_atomic_int_add (&j->busy[worker], -1);
}

static void
test_parallel_grains (void)
{
  const int sizes[] = { 0, 1, 2, 3, 7, 8, 9, 31, 100, 1001 };
  for (int cap = 0; cap <= 2; cap++) {
    spp_parallel_set_n_workers (cap);
    for (guint t = 0; t < G_N_ELEMENTS (sizes); t++) {
      const int n = sizes[t];
      g_autofree gint *visits = g_new0 (gint, MAX (n, 1));
      GrainJob j = { visits, { 0 }, 0 };
      spp_parallel_for (n, grain_visit, &j);
      g_assert_cmpint (j.bad, ==, 0);
      for (int i = 0; i < n; i++)
        g_assert_cmpint (visits[i], ==, 1);
    }
  }
  spp_parallel_set_n_workers (0);
}

/* LRN within channel streamed into the max pool gives the same bits as
 * the two layers one after the other. */
static void
test_lrn_pool_fused (void)
{
  const int c = 5, h = 37, w = 45;
  SppLayer lrn = { 0 }, pool = { 0 };
  lrn.op = SPP_OP_LRN;
  lrn.lrn_within = 1;
  lrn.lrn_size = 3;
  lrn.lrn_alpha = 0.5f;
  lrn.lrn_beta = 0.75f;
  lrn.lrn_k = 1.0f;
  pool.op = SPP_OP_MAXPOOL;
  for (int pad = 0; pad <= 1; pad++) {
    pool.win = (SppWindow) { 3, 3, 2, 2, pad, pad, pad, pad, 1, 1 };
    pool.ceil_mode = !pad;
    int oh = spp_pool_out_size (h, 3, 2, pad, pad, pool.ceil_mode);
    int ow = spp_pool_out_size (w, 3, 2, pad, pad, pool.ceil_mode);
    gsize n = (gsize) c * h * w, no = (gsize) c * oh * ow;
    g_autofree float *in = g_new (float, n);
    g_autofree float *mid = g_new (float, n);
    g_autofree float *want = g_new (float, no);
    g_autofree float *got = g_new (float, no);
    g_autofree float *scratch = g_new (float, spp_lrn_scratch_size (h, w));
    fill_random (in, n, 4);
    spp_lrn_forward (&lrn, in, c, h, w, mid, scratch);
    spp_pool_forward (&pool, mid, c, h, w, want, oh, ow);
    spp_lrn_pool_forward (&lrn, &pool, in, c, h, w, got, oh, ow);
    g_assert_cmpmem (got, no * sizeof (float), want, no * sizeof (float));
  }
}

/* The comparison itself: a NaN in the middle of otherwise exact values
 * must fail it (run in a subprocess, since failing aborts). */
static void
test_assert_close_nan (void)
{
  if (g_test_subprocess ()) {
    const float want[4] = { 1, 2, 3, 4 };
    const float got[4] = { 1, NAN, 3, 4 };
    assert_close (got, want, 4, "nan-in-the-middle");
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*nan-in-the-middle: element 1 is nan*");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  vec_dir = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "vectors", NULL);
  g_autofree char *ini = g_build_filename (vec_dir, "index.ini", NULL);
  index_file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  if (!g_key_file_load_from_file (index_file, ini, 0, &error))
    g_error ("%s: %s", ini, error->message);
  g_auto (GStrv) groups = g_key_file_get_groups (index_file, NULL);
  for (guint i = 0; groups[i]; i++) {
    g_autofree char *kind = g_key_file_get_string (index_file, groups[i],
                                                   "kind", NULL);
    g_autofree char *name = g_strdup_printf ("/layers/%s/%s", kind, groups[i]);
    GTestDataFunc f = !g_strcmp0 (kind, "trunk")     ? test_trunk
                      : !g_strcmp0 (kind, "head")    ? test_head
                      : !g_strcmp0 (kind, "spp")     ? test_spp
                      : !g_strcmp0 (kind, "windows") ? test_windows
                                                     : test_zf5;
    g_test_add_data_func_full (name, g_strdup (groups[i]), f, g_free);
  }
  g_test_add_func ("/layers/assert-close-nan", test_assert_close_nan);
  g_test_add_func ("/layers/fused/conv-paths", test_conv_paths);
  g_test_add_func ("/layers/parallel/grains", test_parallel_grains);
  g_test_add_func ("/layers/fused/lrn-pool", test_lrn_pool_fused);
  int ret = g_test_run ();
  g_key_file_free (index_file);
  g_free (vec_dir);
  return ret;
}
