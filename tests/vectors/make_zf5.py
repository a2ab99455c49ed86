#!/usr/bin/python3
"""Writes ZF-5 with seeded random weights (spptools.zf5) as an .sppm.
Usage: make_zf5.py OUT.sppm [SEED] [--head] [--svm]
       make_zf5.py OUT.npz SEED --state   (the weights only, as a state dict)
With --head it adds fc6 4096 and fc7 4096 (ReLU), as the paper, and with
--svm 20 random SVMs and box regressors: for benchmarks only."""
import sys

import numpy as np

from spptools import zf5

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("-") else 7
if "--state" in sys.argv:
    # The seeded weights as a state_dict-like .npz, for spptools.convert_torch.
    np.savez(out, **zf5.random_weights(seed))
    sys.exit(0)
head = None
if "--head" in sys.argv:
    rs = np.random.RandomState(seed + 1)
    head = [((rs.standard_normal((4096, 12800)) * 0.01).astype(np.float32),
             np.zeros(4096, np.float32), "relu"),
            ((rs.standard_normal((4096, 4096)) * 0.01).astype(np.float32),
             np.zeros(4096, np.float32), "relu")]
m = zf5.build(zf5.random_weights(seed), head=head)
if "--svm" in sys.argv:
    # 20 VOC-like classes with random SVMs and box regressors: for timing.
    rs = np.random.RandomState(seed + 2)
    width = 4096 if head else 12800
    m.set("detect.labels", ["class%d" % i for i in range(20)])
    m.tensor("svm.weight", (rs.standard_normal((20, width)) * 0.01).astype(np.float32))
    m.tensor("svm.bias", np.zeros(20, np.float32))
    m.tensor("bbox.weight", (rs.standard_normal((80, 12800)) * 1e-4).astype(np.float32))
    m.tensor("bbox.bias", np.zeros(80, np.float32))
m.write(out)
