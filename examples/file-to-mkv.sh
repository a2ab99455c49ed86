#!/bin/bash
# File in, annotated file out, plus a JSON-lines sidecar (one line per
# frame, DL Streamer gvametaconvert schema):
#   ./file-to-mkv.sh [input] [output.mkv] [output.jsonl]
# Inference on every 5th frame; the 4 between get the detections shifted
# by the global motion (propagated=true in the JSON).
set -euo pipefail
source "$(dirname "$0")/common.sh"
IN=${1:-$VTEST}
OUT=${2:-vtest-detected.mkv}
JSON=${3:-vtest-detected.jsonl}
rm -f "$JSON"   # sppjsonlog appends
exec gst-launch-1.0 -e \
  filesrc location="$IN" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
  ! sppdetect inference-interval=5 threshold=0.5 \
  ! sppjsonlog location="$JSON" \
  ! sppoverlay \
  ! avenc_mpeg4 bitrate=2000000 ! matroskamux ! filesink location="$OUT"
