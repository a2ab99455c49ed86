/* sppdetect GStreamer plugin: registers the elements, nothing else. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstsppoverlay.h"
#include "gstsppjsonlog.h"
#include "gstsppdetect.h"
#include "gstspptrack.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (sppoverlay, plugin);
  ret |= GST_ELEMENT_REGISTER (sppjsonlog, plugin);
  ret |= GST_ELEMENT_REGISTER (sppdetect, plugin);
  ret |= GST_ELEMENT_REGISTER (spptrack, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, spp,
    "SPP-net object detection, overlay and JSON logging",
    plugin_init, VERSION, "LGPL", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
