#!/bin/bash
# Builds the model-loader fuzzer with clang (libFuzzer + ASan + UBSan) and
# runs it for N seconds (default 60) on the seed corpus: the test models
# and every reference-vector model. Exits non-zero on any crash.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-60}"
out=build-fuzz
mkdir -p "$out/corpus"
cp tests/data/*.sppm tests/vectors/*.sppm tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_GNU_SOURCE -DSPP_MODEL_INSTALL_DIR='"/nonexistent"' \
  -DSPP_MODEL_SOURCE_DIR='"/nonexistent"' \
  -Iinclude -Isrc $(pkg-config --cflags glib-2.0) \
  src/model.c src/tensor.c src/error.c src/pyramid.c src/box.c \
  tests/fuzz/fuzz-model.c $(pkg-config --libs glib-2.0) -lm \
  -o "$out/fuzz-model"
# Slow units are bugs too: every check is linear in the file size.
"$out/fuzz-model" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 "$out/corpus" 2>&1 | tail -n 15
