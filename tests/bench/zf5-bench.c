/* ZF-5 conv1-5 forward, fc6 over 2000 windows and window SPP, against the
 * OpenBLAS sgemm peak of this machine measured in the same process.
 * Usage: zf5-bench MODEL_WITH_HEAD [REPS [TRUNK_MODEL]]
 * TRUNK_MODEL (e.g. models/nanodet-trunk.sppm) is timed at 768x576 and
 * 512x384 as well.
 *        zf5-bench MODEL REPS --forward H W   (REPS forwards at H x W)
 *        zf5-bench MODEL REPS --spp-only      (window SPP alone)
 * Prints one "key value" line per figure (zf5_bench.py reads them). */
#include "spp/spp.h"
#include "spp-engine/blas.h"
#include "model-private.h"
#include "detect-section.h"
#include "layers-private.h"
#include "spp-engine/parallel.h"
#include "spp-engine/pyramid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static float *
rand_floats (gsize n, guint32 seed)
{
  float *p = g_new (float, n);
  GRand *r = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (r, -1, 1);
  g_rand_free (r);
  return p;
}

/* A 1 x 3 x h x w input of uniform noise. */
static SppTensor *
rand_input (int h, int w, guint32 seed)
{
  g_autofree float *in = rand_floats ((gsize) 3 * h * w, seed);
  SppTensor *x = spp_tensor_new (1, 3, h, w);
  memcpy (spp_tensor_data (x), in, (gsize) 3 * h * w * 4);
  return x;
}

/* Best-of-reps GFLOP/s of one sgemm shape (row-major, A m x k, B k x n). */
static double
gemm_gflops (int m, int n, int k, int trans_b, int reps)
{
  float *a = rand_floats ((gsize) m * k, 1), *b = rand_floats ((gsize) k * n, 2);
  float *c = g_new (float, (gsize) m * n);
  double best = 1e9;
  for (int r = 0; r < reps + 1; r++) {
    double t0 = now ();
    spp_sgemm (SPP_BLAS_NO_TRANS, trans_b, m, n, k, 1.0f, a, k, b,
               trans_b == SPP_BLAS_TRANS ? k : n, 0.0f, c, n);
    double t = now () - t0;
    if (r > 0 || reps == 0)
      best = MIN (best, t);
  }
  g_free (a);
  g_free (b);
  g_free (c);
  return 2.0 * m * n * k / best / 1e9;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Median seconds of reps forwards, after one that plans the arena. */
static double
time_forward (SppNet *net, const SppTensor *x, SppTensor *y, int reps)
{
  g_autoptr (GError) error = NULL;
  double times[64];
  int n = CLAMP (reps, 1, 64);
  if (!spp_net_forward (net, x, y, &error)) {
    fprintf (stderr, "%s\n", error->message);
    exit (1);
  }
  for (int r = 0; r < n; r++) {
    double t0 = now ();
    spp_net_forward (net, x, y, NULL);
    times[r] = now () - t0;
  }
  qsort (times, n, sizeof (double), cmp_double);
  return times[n / 2];
}

/* The write floor of window SPP: the same N x D matrix written from both
 * cores with the fastest stores there are (non-temporal where the CPU has
 * AVX-512), no pooling. Memory bandwidth on these machines varies from
 * run to run, so the pooler is judged against this, measured beside it. */
typedef struct {
  float *rows;
  gsize d;
} FloorJob;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__ ((target ("avx512f"))) static void
stream_rows (float *p, gsize n)
{
  const __m512 v = _mm512_set1_ps (1.0f);
  for (gsize i = 0; i + 16 <= n; i += 16)
    _mm512_stream_ps (p + i, v);
  _mm_sfence ();
}
#endif

static void
floor_rows (gpointer data, int begin, int end, int worker)
{
  const FloorJob *j = data;
  float *p = j->rows + (gsize) begin * j->d;
  const gsize n = (gsize) (end - begin) * j->d;
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports ("avx512f") && n % 16 == 0) {
    stream_rows (p, n);
    return;
  }
#endif
  memset (p, 0, n * sizeof (float));
}

/* Window SPP of 2000 random windows on a conv5 map of an h x w image:
 * the public call (channel-major rows), the detector's path (BLOCKED
 * rows, projection included) and the write floor. Prints the median and
 * the best of each; returns the BLOCKED rows. */
static SppTensor *
time_window_spp (const SppTensor *y, const guint *levels, guint nl, int h,
                 int w, int n)
{
  enum { PUBLIC, BLOCKED, FLOOR };
  int mc, mh, mw;
  spp_tensor_get_shape (y, NULL, &mc, &mh, &mw);
  g_autofree SppBox *boxes = g_new (SppBox, 2000);
  GRand *r = g_rand_new_with_seed (5);
  for (int i = 0; i < 2000; i++) {
    float bw = g_rand_double_range (r, 20, w * 0.8);
    float bh = g_rand_double_range (r, 20, h * 0.8);
    boxes[i] = (SppBox) { g_rand_double_range (r, 0, w - bw),
                          g_rand_double_range (r, 0, h - bh), bw, bh };
  }
  g_rand_free (r);
  const gsize d = (gsize) mc * spp_pyramid_get_n_bins (levels, nl);
  g_autoptr (SppTensor) pooled = spp_tensor_new (0, 0, 0, 0);
  SppTensor *rows = spp_tensor_new (2000, (int) d, 1, 1);
  g_autofree int *cells = g_new (int, 4 * 2000);
  SppPoolMap pm;
  SppPoolScratch ps = { 0 };
  spp_pool_map_init (&pm);
  FloorJob fj = { spp_tensor_data (rows), d };
  double times[3][256];
  n = MIN (n, 256);
  /* Each in its own loop: right after 100 MB of streamed stores the
   * next pass pays for their drain, whichever it is. */
  for (int k = 0; k < n; k++) {
    double t0 = now ();
    spp_pyramid_pool_windows (y, levels, nl, 16, -20, boxes, 2000, pooled,
                              NULL);
    times[PUBLIC][k] = now () - t0;
  }
  for (int k = 0; k < n; k++) {
    double t0 = now ();
    spp_pool_map_prepare (&pm, y);
    for (int i = 0; i < 2000; i++)
      spp_pyramid_project_box (&boxes[i], 16, -20, pm.w, pm.h, cells + 4 * i);
    spp_pool_map_windows (&pm, levels, nl, cells, NULL, 2000,
                          SPP_POOL_BLOCKED, &ps, spp_tensor_data (rows));
    times[BLOCKED][k] = now () - t0;
  }
  for (int k = 0; k < n; k++) {
    double t0 = now ();
    spp_parallel_for (2000, floor_rows, &fj);
    times[FLOOR][k] = now () - t0;
  }
  spp_pool_scratch_clear (&ps);
  const char *names[] = { "spp_windows_2000", "spp_windows_2000_binmajor",
                          "spp_windows_2000_write_floor" };
  printf ("spp_windows_2000_map %dx%d\n", mw, mh);
  for (int v = 0; v < 3; v++) {
    qsort (times[v], n, sizeof (double), cmp_double);
    printf ("%s_ms %.2f\n%s_best_ms %.2f\n", names[v],
            times[v][n / 2] * 1e3, names[v], times[v][0] * 1e3);
  }
  return rows;
}

/* Multiply-adds of a model's conv layers for an in_h x in_w input. */
static double
conv_macs (const SppModel *m, int in_h, int in_w)
{
  g_autofree int *hw = g_new0 (int, 2 * (m->n_trunk + 1));
  double macs = 0;
  hw[0] = in_h;
  hw[1] = in_w;
  for (guint i = 0; i < m->n_trunk; i++) {
    const SppLayer *l = &m->layers[i];
    const SppWindow *win = &l->win;
    int h = hw[2 * l->inputs[0]], w = hw[2 * l->inputs[0] + 1];
    if (l->op == SPP_OP_CONV) {
      h = spp_conv_out_size (h, win->kh, win->sh, win->pad_t, win->pad_b,
                             win->dil_h);
      w = spp_conv_out_size (w, win->kw, win->sw, win->pad_l, win->pad_r,
                             win->dil_w);
      macs += (double) l->out_c * h * w * (l->in_c / l->groups) * win->kh
              * win->kw;
    } else if (l->op == SPP_OP_MAXPOOL || l->op == SPP_OP_AVGPOOL) {
      h = spp_pool_out_size (h, win->kh, win->sh, win->pad_t, win->pad_b,
                             l->ceil_mode);
      w = spp_pool_out_size (w, win->kw, win->sw, win->pad_l, win->pad_r,
                             l->ceil_mode);
    }
    hw[2 * (i + 1)] = h;
    hw[2 * (i + 1) + 1] = w;
  }
  return macs;
}


int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  if (argc < 2) {
    fprintf (stderr, "usage: %s MODEL [REPS] [TRUNK_MODEL | --spp-only | "
             "--forward H W]\n", argv[0]);
    return 2;
  }
  int reps = argc > 2 ? atoi (argv[2]) : 5;
  g_autoptr (SppModel) model = spp_model_load (argv[1], &error);
  if (!model) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  g_autoptr (SppNet) net = spp_net_new (model, &error);
  if (!net) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  if (argc > 5 && g_str_equal (argv[3], "--forward")) {
    /* REPS timed forwards at H x W, one line each: zf5_bench.py
     * interleaves these with PyTorch's forwards. */
    const int h = atoi (argv[4]), w = atoi (argv[5]);
    if (h < 1 || w < 1 || h > 4096 || w > 4096) {
      fprintf (stderr, "--forward: H and W must be in 1..4096\n");
      return 2;
    }
    g_autoptr (SppTensor) x = rand_input (h, w, 3);
    g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
    if (!spp_net_forward (net, x, y, &error)) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    for (int r = 0; r < reps; r++) {
      double t0 = now ();
      spp_net_forward (net, x, y, NULL);
      printf ("forward_ms %.3f\n", (now () - t0) * 1e3);
    }
    return 0;
  }
  if (argc > 3 && g_str_equal (argv[3], "--spp-only")) {
    /* Window SPP alone, on ZF-5's conv5 map of a 688x917 input: for
     * comparing pooler changes, many reps in a few seconds. */
    g_autoptr (SppTensor) x = rand_input (688, 917, 3);
    g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
    if (!spp_net_forward (net, x, y, &error)) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    guint nl;
    const guint *levels = spp_model_get_levels (model, &nl);
    spp_tensor_free (time_window_spp (y, levels, nl, 688, 917, reps));
    return 0;
  }
  printf ("openblas_core %s\n", spp_blas_get_corename ());
  printf ("openblas_threads %d\n", spp_blas_get_num_threads ());

  /* The GEMM peak: a large square product and every conv GEMM shape of
   * the 688x917 forward, best of reps each. */
  double peak = gemm_gflops (2048, 2048, 2048, SPP_BLAS_NO_TRANS, reps);
  printf ("sgemm_2048_gflops %.1f\n", peak);

  const int sizes[][2] = { { 688, 917 }, { 224, 224 } };
  for (int s = 0; s < 2; s++) {
    int h = sizes[s][0], w = sizes[s][1];
    g_autoptr (SppTensor) x = rand_input (h, w, 3);
    g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
    /* FLOPs of the conv layers, and the raw sgemm time of their shapes. */
    double flops = 0, gemm_time = 0;
    int ch = h, cw = w;
    for (guint i = 0; i < model->n_trunk; i++) {
      const SppLayer *l = &model->layers[i];
      const SppWindow *win = &l->win;
      if (l->op == SPP_OP_CONV) {
        int oh = spp_conv_out_size (ch, win->kh, win->sh, win->pad_t,
                                    win->pad_b, 1);
        int ow = spp_conv_out_size (cw, win->kw, win->sw, win->pad_l,
                                    win->pad_r, 1);
        int k = l->in_c * win->kh * win->kw;
        double f = 2.0 * l->out_c * (double) oh * ow * k;
        double g = gemm_gflops (l->out_c, oh * ow, k, SPP_BLAS_NO_TRANS, reps);
        peak = MAX (peak, g);
        printf ("gemm_%s_%dx%d %dx%dx%d %.1f\n", l->name, h, w, l->out_c,
                oh * ow, k, g);
        flops += f;
        gemm_time += f / (g * 1e9);
        ch = oh;
        cw = ow;
      } else if (l->op == SPP_OP_MAXPOOL) {
        ch = spp_pool_out_size (ch, win->kh, win->sh, win->pad_t, win->pad_b,
                                TRUE);
        cw = spp_pool_out_size (cw, win->kw, win->sw, win->pad_l, win->pad_r,
                                TRUE);
      }
    }
    double times[64];
    int n = MIN (reps, 64);
    double t = time_forward (net, x, y, reps);
    printf ("zf5_%dx%d_ms %.2f\n", h, w, t * 1e3);
    printf ("zf5_%dx%d_gflop %.3f\n", h, w, flops / 1e9);
    printf ("zf5_%dx%d_gflops %.1f\n", h, w, flops / t / 1e9);
    printf ("zf5_%dx%d_gemm_only_ms %.2f\n", h, w, gemm_time * 1e3);
    if (s == 0) {
      guint nl;
      const guint *levels = spp_model_get_levels (model, &nl);
      g_autoptr (SppTensor) rows = time_window_spp (y, levels, nl, h, w, n);
      /* fc6 over the 2000 pooled windows: one GEMM (plus bias, ReLU), as
       * the detector runs it: on the BLOCKED rows, with its permuted copy
       * of the weights. (The file's own weights are mapped pages: the GEMM
       * runs about 8% slower on those.) */
      if (model->n_layers > model->n_trunk) {
        const SppLayer *fc6 = &model->layers[model->n_trunk];
        const float *fc6_w, *bbox_w;
        spp_detect_section_get_binmajor (model, &fc6_w, &bbox_w);
        g_autoptr (SppTensor) f6 = spp_tensor_new (2000, fc6->out_c, 1, 1);
        double g = gemm_gflops (2000, fc6->out_c, fc6->in_c, SPP_BLAS_TRANS,
                                reps);
        peak = MAX (peak, g);
        for (int k = 0; k < n; k++) {
          double t0 = now ();
          spp_fc_forward (fc6, fc6_w, spp_tensor_const_data (rows), 2000,
                          spp_tensor_data (f6));
          times[k] = now () - t0;
        }
        qsort (times, n, sizeof (double), cmp_double);
        double f = 2.0 * 2000 * fc6->out_c * (double) fc6->in_c;
        printf ("fc6_2000_ms %.2f\n", times[n / 2] * 1e3);
        printf ("fc6_2000_gflops %.1f\n", f / times[n / 2] / 1e9);
        /* The peak is a best-of; so is this, for a like-for-like ratio. */
        printf ("fc6_2000_best_gflops %.1f\n", f / times[0] / 1e9);
        printf ("gemm_fc6_2000 %.1f\n", g);
      }
    }
  }
  if (argc > 3) {
    /* A trunk-only model (the element's default NanoDet trunk). */
    g_autoptr (SppModel) tm = spp_model_load (argv[3], &error);
    g_autoptr (SppNet) tnet = tm ? spp_net_new (tm, &error) : NULL;
    if (!tnet) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    const int tsizes[][2] = { { 576, 768 }, { 384, 512 } };
    for (int s = 0; s < 2; s++) {
      int h = tsizes[s][0], w = tsizes[s][1];
      g_autoptr (SppTensor) x = rand_input (h, w, 4);
      g_autoptr (SppTensor) y = spp_tensor_new (0, 0, 0, 0);
      double t = time_forward (tnet, x, y, reps);
      double macs = conv_macs (tm, h, w);
      printf ("trunk_%dx%d_ms %.2f\n", w, h, t * 1e3);
      printf ("trunk_%dx%d_gmac %.3f\n", w, h, macs / 1e9);
      printf ("trunk_%dx%d_gflops %.1f\n", w, h, 2 * macs / t / 1e9);
    }
  }
  printf ("sgemm_peak_gflops %.1f\n", peak);
  return 0;
}
