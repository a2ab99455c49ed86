#!/usr/bin/python3
"""Writes ZF-5 with seeded random weights (models/zf5.py) as an .sppm.
Usage: make_zf5.py OUT.sppm [SEED] [--head]
With --head it adds fc6 4096 and fc7 4096 (ReLU), as the paper, for
benchmarks of the fc GEMM."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
import zf5  # noqa: E402

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("-") else 7
head = None
if "--head" in sys.argv:
    rs = np.random.RandomState(seed + 1)
    head = [((rs.standard_normal((4096, 12800)) * 0.01).astype(np.float32),
             np.zeros(4096, np.float32), "relu"),
            ((rs.standard_normal((4096, 4096)) * 0.01).astype(np.float32),
             np.zeros(4096, np.float32), "relu")]
zf5.build(zf5.random_weights(seed), head=head).write(out)
