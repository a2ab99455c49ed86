#!/bin/bash
# The main job, from a fresh Debian 12 machine: installs what is needed,
# builds, and runs the SPP-net detector with the bundled default model on
# vtest.avi (Debian's opencv-doc), writing an annotated video and a JSON
# lines sidecar (one line per frame, DL Streamer gvametaconvert schema):
#   out/vtest-detected.mkv, out/vtest-detected.jsonl
# Usage: bash examples/run-vtest.sh [input-video]
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh
meson setup build --reconfigure >/dev/null 2>&1 || meson setup build
meson compile -C build
mkdir -p out
IN=${1:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}
export BUILD_DIR="$PWD/build"
source examples/common.sh
rm -f out/vtest-detected.jsonl   # sppjsonlog appends
start=$(date +%s.%N)
gst-launch-1.0 -e \
  filesrc location="$IN" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
  ! sppdetect \
  ! sppjsonlog location=out/vtest-detected.jsonl \
  ! sppoverlay \
  ! avenc_mpeg4 bitrate=4000000 ! matroskamux ! filesink location=out/vtest-detected.mkv
end=$(date +%s.%N)
frames=$(wc -l < out/vtest-detected.jsonl)
objects=$(grep -o '"roi_type"' out/vtest-detected.jsonl | wc -l)
echo "wrote out/vtest-detected.mkv and out/vtest-detected.jsonl:" \
     "$frames frames, $objects detections, $(awk "BEGIN{printf \"%.1f\", $end - $start}") s"
