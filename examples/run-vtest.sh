#!/bin/bash
# The main job, from a fresh Debian 12 machine: installs what is needed,
# builds, and runs the SPP-net detector with the bundled default model on
# vtest.avi (Debian's opencv-doc), writing an annotated video and a JSON
# lines sidecar (one line per frame, DL Streamer gvametaconvert schema):
#   out/vtest-detected.mkv, out/vtest-detected.jsonl
# Usage: bash examples/run-vtest.sh [input-video]
# Optional settings, both off by default (tests/meson.build's
# vtest-outputs test uses them):
#   VTEST_OUT=DIR     write DIR/vtest-detected.{mkv,jsonl} (default: out)
#   VTEST_NO_BUILD=1  no package install and no build: use the plugin in
#                     $BUILD_DIR (or GST_PLUGIN_PATH) as it is
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VTEST_NO_BUILD:-}" ]; then
  bash .ci/install-deps.sh
  meson setup build --reconfigure >/dev/null 2>&1 || meson setup build
  meson compile -C build
  export BUILD_DIR="$PWD/build"
fi
OUT=${VTEST_OUT:-out}
mkdir -p "$OUT"
IN=${1:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}
source examples/common.sh
rm -f "$OUT/vtest-detected.jsonl"   # sppjsonlog appends
start=$(date +%s.%N)
gst-launch-1.0 -e \
  filesrc location="$IN" ! decodebin ! videoconvert ! video/x-raw,format=I420 \
  ! sppdetect \
  ! sppjsonlog location="$OUT/vtest-detected.jsonl" \
  ! sppoverlay \
  ! avenc_mpeg4 bitrate=4000000 ! matroskamux ! filesink location="$OUT/vtest-detected.mkv"
end=$(date +%s.%N)
frames=$(wc -l < "$OUT/vtest-detected.jsonl")
objects=$(grep -o '"roi_type"' "$OUT/vtest-detected.jsonl" | wc -l)
echo "wrote $OUT/vtest-detected.mkv and $OUT/vtest-detected.jsonl:" \
     "$frames frames, $objects detections, $(awk "BEGIN{printf \"%.1f\", $end - $start}") s"
