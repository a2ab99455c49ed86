#!/bin/bash
# Installs what the benchmarks need beyond .ci/install-deps.sh: PyTorch
# (Debian's python3-torch) for tests/bench/zf5_bench.py, which times
# libspp against it; the reference vectors' generator
# (tests/vectors/gen_vectors.py) needs it too. Not part of CI (.ci/run):
# the package is large and no test needs it. Safe to run again; needs
# root (or sudo).
set -euo pipefail
bash "$(dirname "$0")/apt-install.sh" python3-torch python3-numpy python3-opencv
