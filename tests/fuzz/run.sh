#!/bin/bash
# Builds the model-loader fuzzer (meson -Dfuzz=true, clang, libFuzzer +
# ASan + UBSan; tests/fuzz/meson.build) and runs it for N seconds
# (default 60) on the seed corpus: the test models and every
# reference-vector model. Exits non-zero on any crash.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-60}"
out=build-fuzz
if [ ! -f "$out/build.ninja" ]; then
  CC=clang meson setup "$out" -Dfuzz=true -Dgst=disabled -Dcli=disabled \
    -Dtests=disabled -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
meson compile -C "$out" fuzz-model >/dev/null
mkdir -p "$out/corpus"
cp tests/data/*.sppm tests/vectors/*.sppm tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
# Slow units are bugs too: every check is linear in the file size.
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
"$out/tests/fuzz/fuzz-model" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/" \
  -max_len=65536 -print_final_stats=1 "$out/corpus" 2>&1 | tail -n 15
exit "${PIPESTATUS[0]}"
