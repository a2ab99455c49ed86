#!/bin/bash
# Live camera: detect, draw, show. async=true keeps the display at the
# camera's rate whatever the inference time: each frame gets the newest
# finished detections, shifted by the global motion.
#   ./camera.sh [/dev/video0]
set -euo pipefail
source "$(dirname "$0")/common.sh"
DEVICE=${1:-/dev/video0}
exec gst-launch-1.0 -e \
  v4l2src device="$DEVICE" ! videoconvert ! video/x-raw,format=I420 \
  ! sppdetect async=true num-threads=1 \
  ! sppoverlay ! videoconvert ! autovideosink sync=false
