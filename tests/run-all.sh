#!/bin/bash
# Sets up a fresh Debian 12 machine, builds, and runs every test:
# the unit and pipeline tests (meson test), the same suite under
# AddressSanitizer + LeakSanitizer, and the model-loader fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh

meson setup build --reconfigure >/dev/null 2>&1 || meson setup build
meson compile -C build
meson test -C build --print-errorlogs

# Sanitizers: the same tests, built with ASan+UBSan (LeakSanitizer is on
# by default with ASan on Linux).
meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=debugoptimized --reconfigure >/dev/null 2>&1 ||
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debugoptimized
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs

if [ -x tests/fuzz/run.sh ]; then
  bash tests/fuzz/run.sh "${SPP_FUZZ_SECONDS:-60}"
fi
