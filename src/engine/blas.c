/* OpenBLAS, opened with dlopen instead of linked.
 *
 * Debian's OpenBLAS 0.3.21 picks its kernels when the library loads, from
 * CPUID or the OPENBLAS_CORETYPE variable. It does not know AMD Zen 5 and
 * falls back to its AVX2 "Haswell" kernels there, at about half the speed
 * its AVX-512 "SkylakeX" kernels reach on the same core. A linked library
 * is initialised before any of our code runs, so the only way to give users
 * the fast kernels without asking them to set a variable is to choose the
 * core type first and open the library after. If the process already has
 * OpenBLAS (someone linked it), that copy is used as it is.
 *
 * OPENBLAS_CORETYPE is overridden while we open the library, because
 * machines ship it set to a conservative value (Haswell) that costs half
 * the speed on AVX-512 parts; SPP_OPENBLAS_CORETYPE forces a core type
 * ("auto", the default, picks SkylakeX on AVX-512 CPUs and leaves
 * OPENBLAS_CORETYPE alone otherwise). The variable is restored after. */
#include "spp-engine/blas.h"

#include "spp/error.h"

#include <gmodule.h>
#include <stdlib.h>

typedef void (*SgemmFunc) (int order, int ta, int tb, int m, int n, int k,
                           float alpha, const float *a, int lda,
                           const float *b, int ldb, float beta, float *c,
                           int ldc);
typedef char *(*CorenameFunc) (void);
typedef int (*GetThreadsFunc) (void);
typedef void (*SetThreadsFunc) (int);
typedef int (*GetParallelFunc) (void);

static struct {
  GModule *module;
  SgemmFunc sgemm;
  CorenameFunc corename;
  GetThreadsFunc get_threads;
  SetThreadsFunc set_threads;
  GetParallelFunc get_parallel;
  char *error_message;
} blas;

enum { CBLAS_ROW_MAJOR = 101 };

static gboolean
cpu_has_avx512 (void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init ();
  return __builtin_cpu_supports ("avx512f")
         && __builtin_cpu_supports ("avx512bw")
         && __builtin_cpu_supports ("avx512dq")
         && __builtin_cpu_supports ("avx512vl");
#else
  return FALSE;
#endif
}

static gpointer
blas_open (gpointer data)
{
  static const char *const names[] = {
    "libopenblas.so.0", "libopenblasp.so.0", "libopenblas.so",
  };
  GModule *self = g_module_open (NULL, 0);
  gpointer sym = NULL;

  /* Already in the process: take it as it is. */
  if (self && g_module_symbol (self, "openblas_get_corename", &sym)) {
    blas.module = self;
  } else {
    const char *want = getenv ("SPP_OPENBLAS_CORETYPE");
    const char *old = getenv ("OPENBLAS_CORETYPE");
    g_autofree char *saved = g_strdup (old);
    const char *core = NULL;
    if (self)
      g_module_close (self);
    if (want && *want && g_ascii_strcasecmp (want, "auto") != 0)
      core = want;
    else if (cpu_has_avx512 ())
      core = "SkylakeX"; /* Zen 4, Zen 5 and Intel AVX-512 parts */
    if (core) {
      if (saved && g_ascii_strcasecmp (saved, core) != 0)
        g_debug ("OpenBLAS: using %s kernels instead of OPENBLAS_CORETYPE=%s"
                 " (set SPP_OPENBLAS_CORETYPE to choose)", core, saved);
      setenv ("OPENBLAS_CORETYPE", core, 1);
    }
    /* OpenBLAS's idle workers spin (sched_yield) for 2^28 cycles after
     * each call by default, taking the cores from our own parallel passes
     * between the GEMMs; 2^4 makes them sleep at once. */
    gboolean set_timeout = getenv ("OPENBLAS_THREAD_TIMEOUT") == NULL;
    if (set_timeout)
      setenv ("OPENBLAS_THREAD_TIMEOUT", "4", 1);
    for (guint i = 0; i < G_N_ELEMENTS (names) && !blas.module; i++)
      blas.module = g_module_open (names[i], G_MODULE_BIND_LOCAL);
    if (set_timeout)
      unsetenv ("OPENBLAS_THREAD_TIMEOUT");
    if (core) {
      if (saved)
        setenv ("OPENBLAS_CORETYPE", saved, 1);
      else
        unsetenv ("OPENBLAS_CORETYPE");
    }
  }
  if (blas.module == NULL) {
    blas.error_message = g_strdup_printf (
        "cannot open OpenBLAS (libopenblas.so.0): %s", g_module_error ());
    return NULL;
  }
  if (!g_module_symbol (blas.module, "cblas_sgemm", (gpointer *) &blas.sgemm)
      || blas.sgemm == NULL) {
    blas.error_message = g_strdup ("OpenBLAS has no cblas_sgemm");
    return NULL;
  }
  g_module_symbol (blas.module, "openblas_get_corename",
                   (gpointer *) &blas.corename);
  g_module_symbol (blas.module, "openblas_get_num_threads",
                   (gpointer *) &blas.get_threads);
  g_module_symbol (blas.module, "openblas_set_num_threads",
                   (gpointer *) &blas.set_threads);
  g_module_symbol (blas.module, "openblas_get_parallel",
                   (gpointer *) &blas.get_parallel);
  return NULL;
}

gboolean
spp_blas_init (GError **error)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, blas_open, NULL);
  if (blas.sgemm == NULL) {
    g_set_error_literal (error, SPP_ERROR, SPP_ERROR_IO,
                         blas.error_message ? blas.error_message
                                            : "OpenBLAS not available");
    return FALSE;
  }
  return TRUE;
}

void
spp_sgemm (int trans_a, int trans_b, int m, int n, int k, float alpha,
           const float *a, int lda, const float *b, int ldb, float beta,
           float *c, int ldc)
{
  /* Every public entry point calls spp_blas_init first and fails cleanly,
   * so this only guards against a caller bug. */
  if (G_UNLIKELY (blas.sgemm == NULL) && !spp_blas_init (NULL)) {
    g_critical ("spp_sgemm called without OpenBLAS");
    return;
  }
  blas.sgemm (CBLAS_ROW_MAJOR, trans_a, trans_b, m, n, k, alpha, a, lda, b,
              ldb, beta, c, ldc);
}

const char *
spp_blas_get_corename (void)
{
  if (!spp_blas_init (NULL) || blas.corename == NULL)
    return "unknown";
  return blas.corename ();
}

int
spp_blas_get_num_threads (void)
{
  if (!spp_blas_init (NULL) || blas.get_threads == NULL)
    return 1;
  return blas.get_threads ();
}

/* OpenBLAS's threading: 0 sequential, 1 its own pthreads pool, 2 OpenMP,
 * -1 unknown. */
static int
blas_parallel_mode (void)
{
  if (!spp_blas_init (NULL) || blas.get_parallel == NULL)
    return -1;
  return blas.get_parallel ();
}

gboolean
spp_blas_can_run_per_thread (void)
{
  int mode = blas_parallel_mode ();
  /* The OpenMP build frees per-thread buffers when the count drops,
   * under GEMMs that other threads may be running: not there. */
  return mode == 0 || (mode == 1 && blas.set_threads && blas.get_threads);
}

/* The thread count is process-wide: it stays 1 while any caller is
 * inside a begin/end pair (GEMMs of other threads meanwhile run on
 * fewer cores, correctly) and is put back after the last. */
static GMutex per_thread_lock;
static int per_thread_users, per_thread_saved;

void
spp_blas_per_thread_begin (void)
{
  if (blas_parallel_mode () != 1)
    return;
  g_mutex_lock (&per_thread_lock);
  if (per_thread_users++ == 0) {
    per_thread_saved = blas.get_threads ();
    blas.set_threads (1);
  }
  g_mutex_unlock (&per_thread_lock);
}

void
spp_blas_per_thread_end (void)
{
  if (blas_parallel_mode () != 1)
    return;
  g_mutex_lock (&per_thread_lock);
  if (--per_thread_users == 0)
    blas.set_threads (per_thread_saved);
  g_mutex_unlock (&per_thread_lock);
}
