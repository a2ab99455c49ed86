"""ZF-5 (docs/method.md 3) as an .sppm trunk, from any weights.

Layer order and paddings follow the Caffe definition of ZF-5 released with
SPP-net:
conv1 96@7x7/2 pad 1, ReLU, LRN (within channel, 3, 5e-5, 0.75), pool 3/2;
conv2 256@5x5/2 pad 0, ReLU, LRN, pool 3/2; conv3 384, conv4 384,
conv5 256 @3x3 pad 1, ReLU. Pools ceil (Caffe). With these paddings conv5
cell m is centred on pixel 16m + 20, so spp.offset = -20 maps the paper's
projection (centre 16m) onto this net.
"""
import numpy as np

from spptools.sppm import Model

SHAPES = [  # name, out, in, k, stride, pad
    ("conv1", 96, 3, 7, 2, 1),
    ("conv2", 256, 96, 5, 2, 0),
    ("conv3", 384, 256, 3, 1, 1),
    ("conv4", 384, 384, 3, 1, 1),
    ("conv5", 256, 384, 3, 1, 1),
]
LRN = dict(size=3, alpha=5e-5, beta=0.75)


def random_weights(seed=1):
    """He-initialised weights from numpy's frozen legacy RandomState, so the
    same seed gives the same floats on every machine and numpy version."""
    rs = np.random.RandomState(seed)
    w = {}
    for name, o, i, k, _, _ in SHAPES:
        std = np.sqrt(2.0 / (i * k * k))
        w[name + ".weight"] = (rs.standard_normal((o, i, k, k)) * std).astype(np.float32)
        w[name + ".bias"] = (rs.standard_normal(o) * 0.01).astype(np.float32)
    return w


def build(weights, levels=(1, 2, 3, 6), head=None):
    """Returns a spptools.sppm.Model of ZF-5's trunk; head is a list of
    (weight, bias, act) fc layers."""
    m = Model()
    m.set("general.name", "zf5")
    m.set("input.order", "BGR")
    m.set("input.mean", [128.0, 128.0, 128.0])   # docs/method.md 2.2: BGR - 128
    m.set("input.std", [1.0, 1.0, 1.0])
    m.set("input.min_size", 64)
    m.set("spp.levels", list(levels))
    m.set("spp.stride", 16)
    m.set("spp.offset", -20.0)
    m.set("detect.scales", [688])
    x = 0
    for name, o, i, k, s, p in SHAPES:
        x = m.conv(name, x, weights[name + ".weight"], weights[name + ".bias"],
                   stride=s, pad=p, act="relu")
        if name in ("conv1", "conv2"):
            x = m.lrn("norm" + name[-1], x, LRN["size"], LRN["alpha"],
                      LRN["beta"], within=True)
            x = m.maxpool("pool" + name[-1], x, 3, 2)
    for j, (w, b, act) in enumerate(head or []):
        m.fc("fc%d" % (6 + j), w, b, act=act)
    return m
