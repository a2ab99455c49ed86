#!/bin/bash
# Rebuilds models/default.sppm from models/nanodet-trunk.sppm and the
# teacher labels, then evaluates it on the held-out frames.
#   bash models/make_default.sh [BUILD_DIR] [OUT]
# About 10 minutes on the 2-core machine (selective search on 382
# training frames is most of it; --cache makes reruns faster).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${2:-models/default.sppm}
DATA=/usr/share/doc/opencv-doc/examples/data
SPP=$BUILD/src/cli/spp
mkdir -p out

# 1. The trunk: NanoDet to its stride-8 stage (Concat_27, 128 channels),
#    then a 1x1 conv onto the 64 principal components of its cells on
#    training frames at the working scale (models/reduce_trunk.py says why).
/usr/bin/python3 models/reduce_trunk.py --cut Concat_27 --channels 64 \
  --scale 384 --step 16 -o out/nanodet-s8-pca64.sppm

# 2. SVMs, box regressors, Platt scaling and thresholds (spp train, the
#    paper's recipe on fixed features), at the scale the element runs.
"$SPP" train --model out/nanodet-s8-pca64.sppm \
  --annotations models/data/vtest-teacher.json --images-root "$DATA" \
  --out "$OUT" --scales 384 --max-proposals 3000 --min-size 8 \
  --labels person,vehicle --cache out/train-cache-p3000-m8

# 3. Held-out frames 477-794, never seen in training.
"$SPP" eval --model "$OUT" --images-root "$DATA" --split heldout \
  models/data/vtest-teacher.json
