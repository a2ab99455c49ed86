/* A minimal parallel-for. OpenBLAS already runs its GEMMs on every core;
 * this gives the element-wise, LRN, pooling and im2col passes between
 * them the same cores, which would otherwise idle while one thread
 * streams tens of megabytes through them. */
#include "parallel-private.h"

#define MAX_WORKERS 8

typedef struct {
  SppRangeFunc fn;
  gpointer data;
  int begin, end, worker;
  gint *pending;
  GMutex *lock;
  GCond *done;
} Range;

static GThreadPool *pool;
static int n_cores = 1;
static gint n_workers_cap = 0;

static void
run_range (gpointer item, gpointer user_data)
{
  Range *r = item;
  r->fn (r->data, r->begin, r->end, r->worker);
  g_mutex_lock (r->lock);
  if (--(*r->pending) == 0)
    g_cond_signal (r->done);
  g_mutex_unlock (r->lock);
}

static gpointer
init_pool (gpointer unused)
{
  n_cores = CLAMP ((int) g_get_num_processors (), 1, MAX_WORKERS);
  if (n_cores > 1)
    pool = g_thread_pool_new (run_range, NULL, n_cores - 1, FALSE, NULL);
  return NULL;
}

int
spp_parallel_get_n_workers (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, init_pool, NULL);
  int cap = g_atomic_int_get (&n_workers_cap);
  int n = pool ? n_cores : 1;
  return cap > 0 ? MIN (cap, n) : n;
}

void
spp_parallel_set_n_workers (int n)
{
  g_atomic_int_set (&n_workers_cap, MAX (n, 0));
}

void
spp_parallel_for (int n, SppRangeFunc fn, gpointer data)
{
  int workers = MIN (spp_parallel_get_n_workers (), n);
  if (workers <= 1) {
    if (n > 0)
      fn (data, 0, n, 0);
    return;
  }
  Range ranges[MAX_WORKERS];
  GMutex lock;
  GCond done;
  gint pending = workers - 1;
  g_mutex_init (&lock);
  g_cond_init (&done);
  for (int i = 0; i < workers; i++)
    ranges[i] = (Range) { fn, data, (int) ((gint64) n * i / workers),
                          (int) ((gint64) n * (i + 1) / workers), i, &pending,
                          &lock, &done };
  for (int i = 1; i < workers; i++)
    if (!g_thread_pool_push (pool, &ranges[i], NULL)) {
      /* Could not queue: do it here. */
      run_range (&ranges[i], NULL);
    }
  fn (data, ranges[0].begin, ranges[0].end, 0);
  g_mutex_lock (&lock);
  while (pending > 0)
    g_cond_wait (&done, &lock);
  g_mutex_unlock (&lock);
  g_mutex_clear (&lock);
  g_cond_clear (&done);
}
