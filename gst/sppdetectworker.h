/* sppdetect: the async worker (docs/elements.md, "async"): a thread that
 * infers on the newest frame, so that the stream never waits for it. */
#pragma once

#include <gst/video/video.h>

G_BEGIN_DECLS

/* Runs on the worker thread, on a frame mapped for reading */
typedef void (*SppDetectWorkerFunc) (const GstVideoFrame * frame,
    guint64 frame_no, gpointer user_data, GError ** error);

typedef struct _SppDetectWorker SppDetectWorker;

/* Starts the thread; it calls @func on each frame it takes */
SppDetectWorker *spp_detect_worker_new (SppDetectWorkerFunc func,
    gpointer user_data);
/* Stops the thread (after the frame in progress) and drops the rest */
void spp_detect_worker_free (SppDetectWorker * worker);
/* Hands a copy of @frame (laid out as @info: the caps', not necessarily
 * the frame's own strides) to the worker if it is idle: the copy it takes
 * next is always the newest frame, and a busy worker costs the caller
 * nothing. */
void spp_detect_worker_offer (SppDetectWorker * worker,
    const GstVideoInfo * info, const GstVideoFrame * frame,
    guint64 frame_no);
/* The first error since the last call, if any */
GError *spp_detect_worker_take_error (SppDetectWorker * worker);

G_END_DECLS
