/* spptrack: object ids on the ROI metas of sppdetect (or any detector). */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_SPP_TRACK (gst_spp_track_get_type ())
G_DECLARE_FINAL_TYPE (GstSppTrack, gst_spp_track, GST, SPP_TRACK,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (spptrack);

G_END_DECLS
