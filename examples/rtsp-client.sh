#!/bin/bash
# RTSP camera or server: detect and display, logging detections.
#   ./rtsp-client.sh rtsp://host:8554/stream [log.jsonl]
# async=true: never delays the live stream; latency=200 is the jitter
# buffer. For a test server, see rtsp_server.py next to this script.
set -euo pipefail
source "$(dirname "$0")/common.sh"
URL=${1:?usage: $0 rtsp://host:port/path [log.jsonl]}
JSON=${2:-rtsp-detections.jsonl}
exec gst-launch-1.0 -e \
  rtspsrc location="$URL" latency=200 ! decodebin ! videoconvert \
  ! video/x-raw,format=I420 \
  ! sppdetect async=true \
  ! sppjsonlog location="$JSON" \
  ! sppoverlay ! videoconvert ! autovideosink sync=false
