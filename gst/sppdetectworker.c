/* sppdetect: the async worker.
 *
 * One slot, not a queue: the streaming thread leaves a copy of a frame
 * only while the worker is idle and the slot empty, so the worker always
 * starts on the newest frame it could have, and frames that arrive while
 * it infers pass on at once (they get the newest finished detections,
 * shifted by motion: sppdetectpropagate.h). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "sppdetectworker.h"

struct _SppDetectWorker
{
  SppDetectWorkerFunc func;
  gpointer user_data;
  GThread *thread;

  /* under lock */
  GMutex lock;
  GCond cond;
  gboolean stop;
  gboolean busy;
  GstBuffer *pending;           /* our own copy */
  guint64 pending_frame_no;
  GstVideoInfo pending_info;

  GError *error;                /* atomic: the first one not taken yet */
};

static gpointer
spp_detect_worker_main (gpointer data)
{
  SppDetectWorker *w = data;

  g_mutex_lock (&w->lock);
  for (;;) {
    GstBuffer *buf;
    GstVideoInfo info;
    GstVideoFrame frame;
    guint64 frame_no;
    GError *err = NULL;

    while (!w->pending && !w->stop)
      g_cond_wait (&w->cond, &w->lock);
    if (w->stop)
      break;
    buf = g_steal_pointer (&w->pending);
    frame_no = w->pending_frame_no;
    info = w->pending_info;
    w->busy = TRUE;
    g_mutex_unlock (&w->lock);

    if (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ)) {
      w->func (&frame, frame_no, w->user_data, &err);
      gst_video_frame_unmap (&frame);
    }
    gst_buffer_unref (buf);

    /* Only the first error is kept: the later ones follow from it */
    if (err && !g_atomic_pointer_compare_and_exchange (&w->error, NULL, err))
      g_error_free (err);
    g_mutex_lock (&w->lock);
    w->busy = FALSE;
  }
  g_mutex_unlock (&w->lock);
  return NULL;
}

SppDetectWorker *
spp_detect_worker_new (SppDetectWorkerFunc func, gpointer user_data)
{
  SppDetectWorker *w = g_new0 (SppDetectWorker, 1);

  w->func = func;
  w->user_data = user_data;
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->thread = g_thread_new ("sppdetect-worker", spp_detect_worker_main, w);
  return w;
}

void
spp_detect_worker_free (SppDetectWorker * w)
{
  if (!w)
    return;
  g_mutex_lock (&w->lock);
  w->stop = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  g_thread_join (w->thread);
  gst_clear_buffer (&w->pending);
  g_clear_error (&w->error);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

void
spp_detect_worker_offer (SppDetectWorker * w, const GstVideoInfo * info,
    const GstVideoFrame * frame, guint64 frame_no)
{
  GstBuffer *copy;
  GstVideoFrame dst;

  g_mutex_lock (&w->lock);
  if (w->busy || w->pending) {
    g_mutex_unlock (&w->lock);
    return;
  }
  g_mutex_unlock (&w->lock);

  /* Copied outside the lock: the worker is idle, nobody waits for it */
  copy = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info), NULL);
  if (!copy || !gst_video_frame_map (&dst, info, copy, GST_MAP_WRITE)) {
    g_clear_pointer (&copy, gst_buffer_unref);
    return;
  }
  gst_video_frame_copy (&dst, frame);
  gst_video_frame_unmap (&dst);

  g_mutex_lock (&w->lock);
  gst_clear_buffer (&w->pending);
  w->pending = copy;
  w->pending_frame_no = frame_no;
  w->pending_info = *info;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

GError *
spp_detect_worker_take_error (SppDetectWorker * w)
{
  return g_atomic_pointer_exchange (&w->error, NULL);
}
