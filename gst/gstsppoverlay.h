/* sppoverlay: draws GstVideoRegionOfInterestMeta boxes and labels. */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_SPP_OVERLAY (gst_spp_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstSppOverlay, gst_spp_overlay, GST, SPP_OVERLAY,
    GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (sppoverlay);

G_END_DECLS
