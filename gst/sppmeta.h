/* sppdetect: the names of the ROI meta param that sppdetect writes and
 * sppoverlay and sppjsonlog read, defined once (docs/elements.md lists
 * them). The structure and the box, confidence and label fields are DL
 * Streamer's gvadetect convention, "object_id" gvatrack's; "propagated"
 * and "source-frame" are ours. */
#pragma once

#define SPP_META_DETECTION "detection"
#define SPP_META_X_MIN "x_min"
#define SPP_META_Y_MIN "y_min"
#define SPP_META_X_MAX "x_max"
#define SPP_META_Y_MAX "y_max"
#define SPP_META_CONFIDENCE "confidence"
#define SPP_META_LABEL_ID "label_id"
#define SPP_META_LABEL "label"
#define SPP_META_PROPAGATED "propagated"
#define SPP_META_SOURCE_FRAME "source-frame"
/* spptrack's id, where DL Streamer's gvatrack puts it. */
#define SPP_META_OBJECT_ID "object_id"
#define SPP_META_ID "id"
/* spptrack's line and zone events of a frame: a GstCustomMeta of this
 * name whose structure holds "events", a list of structures "event" with
 * type, line or zone, direction (lines), id, label. */
#define SPP_META_EVENTS "SppTrackEventsMeta"
