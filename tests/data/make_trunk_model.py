#!/usr/bin/python3
"""Writes a tiny trunk-only model (no head, no SVMs), what `spp train`
starts from in tests/e2e/test_train_cli.py:

  make_trunk_model.py OUT.sppm

conv1 3->8 (3x3, stride 2, ReLU) has hand-set colour-opponent filters
(R-G, G-R, B-R, R-B, B-G, G-B, bright, dark) so the features tell
coloured shapes apart without training; conv2 8->16 (3x3, stride 2,
ReLU) passes them through (8) and mixes them at random (8). SPP levels {1, 2, 3}: 16 x 14 = 224 floats per
window; one scale, 128."""
import sys

import numpy as np

from spptools.sppm import Model


def trunk():
    rs = np.random.RandomState(7)
    m = Model()
    m.set("general.name", "tiny-trunk")
    m.set("general.description", "test trunk: colour-opponent conv1, "
          "random conv2, no head, no SVMs (tests/data/make_trunk_model.py)")
    m.set("input.order", "RGB")
    m.set("input.mean", [128.0, 128.0, 128.0])
    m.set("input.std", [64.0, 64.0, 64.0])
    m.set("spp.levels", [1, 2, 3])
    m.set("spp.stride", 4)
    m.set("detect.scales", [128])
    m.set("detect.nms", 0.3)
    opp = [(1, -1, 0), (-1, 1, 0), (-1, 0, 1), (1, 0, -1), (0, -1, 1),
           (0, 1, -1), (1, 1, 1), (-1, -1, -1)]
    w1 = np.zeros((8, 3, 3, 3), np.float32)
    for o, c in enumerate(opp):
        for ch in range(3):
            w1[o, ch] = c[ch] / 9.0
    x = m.conv("conv1", 0, w1, np.zeros(8), stride=2, pad=1, act="relu")
    # conv2: the first 8 outputs pass conv1's colour channels through (a
    # 3x3 average), the other 8 mix them at random.
    w2 = np.abs(rs.standard_normal((16, 8, 3, 3))) * 0.1
    w2 *= rs.choice([1.0, 0.0], size=(16, 8, 1, 1), p=[0.4, 0.6])
    w2[:8] = 0
    for o in range(8):
        w2[o, o] = 1.0 / 9.0
    m.conv("conv2", x, w2, np.zeros(16), stride=2, pad=1, act="relu")
    return m


if __name__ == "__main__":
    trunk().write(sys.argv[1])
