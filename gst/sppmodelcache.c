/* sppdetect: the process-wide model cache, and the background loader that
 * swaps a model in while an element runs (docs/elements.md, "Resources"
 * and the "model" property). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <inttypes.h>
#include <sys/stat.h>

#include "spp/error.h"

#include "sppmodelcache.h"

/* ---- The cache: instances using one file share one SppModel ---- */

typedef struct
{
  SppModel *model;
  guint users;
} SppModelCacheEntry;

static GMutex cache_lock;
static GHashTable *cache;       /* cache key -> SppModelCacheEntry */

/* The key includes the file's identity and mtime, so a file replaced on
 * disk is loaded again instead of served stale. */
static gchar *
spp_model_cache_key (const gchar * path)
{
  struct stat st;

  if (stat (path, &st) != 0)
    return g_strdup (path);
  return g_strdup_printf ("%s\n%ju:%ju:%jd:%ld:%jd", path,
      (uintmax_t) st.st_dev, (uintmax_t) st.st_ino, (intmax_t) st.st_mtime,
      (long) st.st_mtim.tv_nsec, (intmax_t) st.st_size);
}

SppModel *
spp_model_cache_ref (const gchar * path, GError ** error)
{
  g_autofree gchar *key = spp_model_cache_key (path);
  SppModelCacheEntry *e;
  SppModel *model;

  g_mutex_lock (&cache_lock);
  if (!cache)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  e = g_hash_table_lookup (cache, key);
  if (e) {
    e->users++;
    model = spp_model_ref (e->model);
    g_mutex_unlock (&cache_lock);
    return model;
  }
  g_mutex_unlock (&cache_lock);

  /* Load outside the lock: other instances keep running meanwhile */
  model = spp_model_load (path, error);
  if (!model)
    return NULL;

  g_mutex_lock (&cache_lock);
  e = g_hash_table_lookup (cache, key);
  if (e) {
    /* Another instance loaded the same file meanwhile: use its copy */
    spp_model_unref (model);
  } else {
    e = g_new0 (SppModelCacheEntry, 1);
    e->model = model;
    g_hash_table_insert (cache, g_steal_pointer (&key), e);
  }
  e->users++;
  model = spp_model_ref (e->model);
  g_mutex_unlock (&cache_lock);
  return model;
}

/* By the model, not the path: the file may have changed on disk since,
 * which would give another key. */
void
spp_model_cache_unref (SppModel * model)
{
  GHashTableIter iter;
  gpointer value;

  if (!model)
    return;
  g_mutex_lock (&cache_lock);
  if (cache) {
    g_hash_table_iter_init (&iter, cache);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      SppModelCacheEntry *e = value;

      if (e->model != model)
        continue;
      if (--e->users == 0) {
        spp_model_unref (e->model);
        g_hash_table_iter_remove (&iter);
      }
      break;
    }
  }
  g_mutex_unlock (&cache_lock);
  spp_model_unref (model);
}

void
spp_detect_model_free (SppDetectModel * model)
{
  if (!model)
    return;
  if (model->detector)
    spp_detector_free (model->detector);
  spp_model_cache_unref (model->model);
  g_free (model);
}

SppDetectModel *
spp_detect_model_load (const gchar * path, GError ** error)
{
  SppDetectModel *model = g_new0 (SppDetectModel, 1);

  model->model = spp_model_cache_ref (path, error);
  if (!model->model)
    goto fail;
  if (!spp_model_has_detector (model->model)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
        "%s: the model has no detector (SVMs); it can only compute "
        "features", path);
    goto fail;
  }
  model->detector = spp_detector_new (model->model, error);
  if (!model->detector)
    goto fail;
  return model;

fail:
  spp_detect_model_free (model);
  return NULL;
}

/* ---- Hot swap: loading while the stream runs ---- */

struct _SppModelLoader
{
  GMutex lock;
  GThread *thread;              /* the last one started; joined before the
                                 * next one starts */
  gboolean running;
  gboolean stopping;
  gchar *want;                  /* the newest path asked for */
  SppDetectModel *ready;        /* atomic: loaded, not taken yet */
  SppModelLoaderDoneFunc done;
  gpointer user_data;
};

/* Under the lock: a newer path was asked for than @path */
static gboolean
spp_model_loader_superseded (SppModelLoader * loader, const gchar * path)
{
  return !loader->stopping && g_strcmp0 (loader->want, path) != 0;
}

static gpointer
spp_model_loader_main (gpointer data)
{
  SppModelLoader *loader = data;

  for (;;) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *path = NULL;
    SppDetectModel *model, *old = NULL;
    gboolean report, again;

    g_mutex_lock (&loader->lock);
    path = g_strdup (loader->want);
    g_mutex_unlock (&loader->lock);

    model = spp_detect_model_load (path, &err);

    g_mutex_lock (&loader->lock);
    if (spp_model_loader_superseded (loader, path)) {
      /* Asked for another while loading: load the newest instead */
      g_mutex_unlock (&loader->lock);
      spp_detect_model_free (model);
      continue;
    }
    /* A model loaded for a stopped stream is dropped without a word; a
     * failure is still worth telling */
    report = err != NULL || !loader->stopping;
    if (model && !loader->stopping)
      old = g_atomic_pointer_exchange (&loader->ready,
          g_steal_pointer (&model));
    g_mutex_unlock (&loader->lock);
    spp_detect_model_free (old);
    spp_detect_model_free (model);
    if (report)
      loader->done (path, err, loader->user_data);

    g_mutex_lock (&loader->lock);
    /* Asked for another while done() ran: that one is ours to load too */
    again = spp_model_loader_superseded (loader, path);
    loader->running = again;
    g_mutex_unlock (&loader->lock);
    if (!again)
      break;
  }
  return NULL;
}

SppModelLoader *
spp_model_loader_new (SppModelLoaderDoneFunc done, gpointer user_data)
{
  SppModelLoader *loader = g_new0 (SppModelLoader, 1);

  g_mutex_init (&loader->lock);
  loader->done = done;
  loader->user_data = user_data;
  return loader;
}

void
spp_model_loader_request (SppModelLoader * loader, const gchar * path)
{
  g_mutex_lock (&loader->lock);
  g_free (loader->want);
  loader->want = g_strdup (path);
  if (!loader->running && !loader->stopping) {
    /* The last thread has nothing left to do but return: the join is
     * short, and needs no lock from it */
    if (loader->thread)
      g_thread_join (loader->thread);
    loader->running = TRUE;
    loader->thread = g_thread_new ("sppdetect-load", spp_model_loader_main,
        loader);
  }
  g_mutex_unlock (&loader->lock);
}

SppDetectModel *
spp_model_loader_take (SppModelLoader * loader)
{
  return g_atomic_pointer_exchange (&loader->ready, NULL);
}

void
spp_model_loader_free (SppModelLoader * loader)
{
  GThread *thread;

  if (!loader)
    return;
  g_mutex_lock (&loader->lock);
  loader->stopping = TRUE;
  thread = g_steal_pointer (&loader->thread);
  g_mutex_unlock (&loader->lock);
  /* done() may still run meanwhile: the caller must not hold a lock that
   * done() takes */
  if (thread)
    g_thread_join (thread);
  spp_detect_model_free (loader->ready);
  g_free (loader->want);
  g_mutex_clear (&loader->lock);
  g_free (loader);
}
