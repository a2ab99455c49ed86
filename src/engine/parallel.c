/* A minimal parallel-for. OpenBLAS already runs its GEMMs on every core;
 * this gives the element-wise, LRN, pooling and im2col passes between
 * them the same cores, which would otherwise idle while one thread
 * streams tens of megabytes through them. */
#include "spp-engine/parallel.h"

#define MAX_WORKERS 8

/* Grains per worker: each worker takes the next grain of the range until
 * none is left, so a core that runs slower (these are shared virtual
 * machines) or a pool thread that wakes late does less, instead of
 * holding the others up at the end of every pass. */
#define GRAINS_PER_WORKER 4

typedef struct {
  SppRangeFunc fn;
  gpointer data;
  int n, grain, worker;
  gint *next; /* the next grain to take */
  gint *pending;
  GMutex *lock;
  GCond *done;
} Range;

static void
take_grains (const Range *r)
{
  const int n_grains = (r->n + r->grain - 1) / r->grain;
  int g;
  while ((g = g_atomic_int_add (r->next, 1)) < n_grains)
    r->fn (r->data, g * r->grain, MIN (r->n, (g + 1) * r->grain), r->worker);
}

static GThreadPool *pool;
static int n_cores = 1;
static gint n_workers_cap = 0;

static void
run_range (gpointer item, gpointer user_data)
{
  Range *r = item;
  take_grains (r);
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
  gint pending = workers - 1, next = 0;
  const int grain = MAX (1, n / (workers * GRAINS_PER_WORKER));
  g_mutex_init (&lock);
  g_cond_init (&done);
  for (int i = 0; i < workers; i++)
    ranges[i] = (Range) { fn, data, n, grain, i, &next, &pending, &lock,
                          &done };
  for (int i = 1; i < workers; i++)
    if (!g_thread_pool_push (pool, &ranges[i], NULL)) {
      /* Could not queue: do it here. */
      run_range (&ranges[i], NULL);
    }
  take_grains (&ranges[0]);
  g_mutex_lock (&lock);
  while (pending > 0)
    g_cond_wait (&done, &lock);
  g_mutex_unlock (&lock);
  g_mutex_clear (&lock);
  g_cond_clear (&done);
}
