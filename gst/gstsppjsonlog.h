/* sppjsonlog: one JSON line per video frame, describing its ROI metas. */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_SPP_JSON_LOG (gst_spp_json_log_get_type ())
G_DECLARE_FINAL_TYPE (GstSppJsonLog, gst_spp_json_log, GST, SPP_JSON_LOG,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (sppjsonlog);

G_END_DECLS
