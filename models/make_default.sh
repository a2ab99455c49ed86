#!/bin/bash
# Rebuilds models/default.sppm from installed packages: the NanoDet trunk
# (models/nanodet-trunk.sppm), the committed teacher labels of vtest.avi
# and of the photos and videos in models/data/sources.json, and the
# augmented training set made from them; then prints the validation
# figures (models/README.md, "The default model").
#   bash models/make_default.sh [BUILD_DIR] [OUT]
# About 10 minutes on the 2-core machine. Needs network access to the
# Debian and npm registries for the source packages (unpacked under out/,
# nothing is installed), and Node only to remake the person masks of the
# copy-paste augmentation (models/teacher: npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${2:-models/default.sppm}
SPP=$BUILD/src/cli/spp
# The Python tools are the package models/spptools, run as modules.
PY=/usr/bin/python3
export PYTHONPATH="$PWD/models${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p out

# 1. The source packages and the frames cut from their videos. The teacher
#    labels of these files are committed (models/data/photos-teacher.json;
#    `spptools.dataset label` remakes them with the teacher).
$PY -m spptools.dataset fetch

# 2. Person masks for copy-paste (MediaPipe selfie segmentation, Node),
#    then the augmented training set with its splits.
if [ ! -f out/people/people.npz ]; then
  (cd models/teacher && [ -d node_modules ] || npm ci)
  $PY -m spptools.dataset people
fi
$PY -m spptools.dataset build --out out/trainset

# 3. The trunk: NanoDet to its stride-8 stage (Concat_27, 128 channels),
#    then a 1x1 conv onto the 64 principal components of its cells on the
#    training frames and photos (models/spptools/reduce_trunk.py says why).
$PY -m spptools.reduce_trunk --cut Concat_27 --channels 64 --scale 384 \
  --step 16 --photos models/data/photos-teacher.json \
  -o out/nanodet-s8-pca64-photos.sppm

# 4. SVMs, box regressors, Platt scaling and thresholds (spp train, the
#    paper's recipe on fixed features), at the scale the element runs.
#    Box voting (IoU 0.6) and the rest were chosen on the validation
#    split; models/README.md has the comparisons.
"$SPP" train --model out/nanodet-s8-pca64-photos.sppm \
  --annotations out/trainset/train.json \
  --out "$OUT" --scales 384 --max-proposals 3000 --min-size 8 \
  --labels person,vehicle --memory-mb 2048 --box-vote 0.6

# 5. Validation figures: photos outside vtest, and vtest frames 0-476 that
#    were held out of training. The test photos and vtest frames 477-794
#    are for the final figure only (models/README.md).
for set in val-photos val-vtest; do
  echo "== $set"
  "$SPP" eval --model "$OUT" out/trainset/$set.json
  "$SPP" eval --model "$OUT" --iou 0.75 out/trainset/$set.json | grep -i person
done
