/* sppdetect: SPP-net object detection on raw video, as ROI metas. */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_SPP_DETECT (gst_spp_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstSppDetect, gst_spp_detect, GST, SPP_DETECT,
    GstBaseTransform)

#define GST_TYPE_SPP_DETECT_PROPOSAL_MODE \
  (gst_spp_detect_proposal_mode_get_type ())
GType gst_spp_detect_proposal_mode_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (sppdetect);

G_END_DECLS
