#!/bin/bash
# Soak test of sppdetect: 8 streams, 20,000 frames, resident
# memory after 10 % of the frames against the end (fails at 5 % or more).
# A few minutes; not part of `meson test` or tests/run-all.sh.
#   bash tests/soak/run.sh [build-dir] [soak.py options, e.g. --frames 4000]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
shift || true
if [ ! -e "$BUILD/build.ninja" ]; then
  bash .ci/install-deps.sh
  meson setup "$BUILD"
fi
meson compile -C "$BUILD" >/dev/null
exec /usr/bin/python3 tests/soak/soak.py --build "$BUILD" "$@"
