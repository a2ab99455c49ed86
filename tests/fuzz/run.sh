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
orcc --include glib.h --implementation -o "$out/spp-orc.c" src/spp-orc.orc
orcc --include glib.h --header -o "$out/spp-orc.h" src/spp-orc.orc
# The loader and shape inference (net.c), with the core they link to.
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_GNU_SOURCE -DSPP_MODEL_INSTALL_DIR='"/nonexistent"' \
  -DSPP_MODEL_SOURCE_DIR='"/nonexistent"' \
  -Iinclude -Isrc -I"$out" $(pkg-config --cflags glib-2.0 gmodule-2.0 orc-0.4) \
  src/model.c src/tensor.c src/error.c src/pyramid.c src/window-pool.c \
  src/box.c src/net.c \
  src/conv.c src/pool.c src/lrn.c src/eltwise.c src/channel.c src/fc.c \
  src/blas.c src/parallel.c "$out/spp-orc.c" \
  tests/fuzz/fuzz-model.c $(pkg-config --libs glib-2.0 gmodule-2.0 orc-0.4) -lm \
  -o "$out/fuzz-model"
# Slow units are bugs too: every check is linear in the file size.
"$out/fuzz-model" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/" \
  -max_len=65536 -print_final_stats=1 "$out/corpus" 2>&1 | tail -n 15
