#!/usr/bin/python3
"""Generates the reference test vectors of libspp with PyTorch.

PyTorch is the independent implementation: every expected output here is
computed by torch.nn.functional, never by our C code. Run from the repo
root:  PYTHONPATH=models /usr/bin/python3 tests/vectors/gen_vectors.py
Needs Debian's python3-torch and python3-numpy. Writes tests/vectors/*.

Each case is a group in index.ini:
  kind   = trunk | head | spp | windows | zf5
  model  = the .sppm file (trunk, head)
  input, output = raw little-endian float32 files, shapes in *_shape
ZF-5's weights are not stored: tests regenerate them with spptools.zf5
from numpy's frozen RandomState (seed in the group), only torch's output
is stored.
"""
import configparser
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from spptools import zf5
from spptools.sppm import Model

HERE = os.path.dirname(os.path.abspath(__file__))

torch.set_grad_enabled(False)
rs = np.random.RandomState(20261125)
index = configparser.ConfigParser()


def save(name, arr):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    arr.tofile(os.path.join(HERE, name))
    return ",".join(str(d) for d in arr.shape)


def randn(*shape, scale=1.0):
    return (rs.standard_normal(shape) * scale).astype(np.float32)


def t(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float32))


ACTS = {
    "none": lambda x: x,
    "relu": F.relu,
    "leaky": lambda x, s=0.1: F.leaky_relu(x, s),
    "relu6": F.relu6,
    "hardswish": F.hardswish,
    "sigmoid": torch.sigmoid,
}


def lrn_within(x, size, alpha, beta):
    # Caffe WITHIN_CHANNEL: AVE pool of x^2 (divisor size^2), 1 + alpha*avg.
    avg = F.avg_pool2d(x * x, size, 1, size // 2, count_include_pad=True)
    return x * (1 + alpha * avg) ** (-beta)


class Case:
    """Builds a trunk in our format and in torch side by side."""

    def __init__(self, name, c=3, h=11, w=13):
        self.name, self.m = name, Model()
        self.m.set("general.name", name)
        self.m.set("input.order", "RGB")
        self.m.set("input.mean", [0.0, 0.0, 0.0])
        self.m.set("input.std", [1.0, 1.0, 1.0])
        self.m.set("spp.levels", [1])
        self.m.set("spp.stride", 1)
        self.x = randn(1, 3, h, w)
        self.nodes = [t(self.x)]

    def conv(self, src, o, k, stride=1, pad=0, dil=1, groups=1, act="none",
             bias=True, slope=0.1):
        inp = self.nodes[src]
        i = inp.shape[1]
        kh, kw = (k, k) if np.isscalar(k) else k
        wt = randn(o, i // groups, kh, kw, scale=1.0 / math.sqrt(i // groups * kh * kw))
        b = randn(o, scale=0.1) if bias else None
        if np.isscalar(pad):
            pads = (pad, pad, pad, pad)
        else:
            pads = pad  # t, l, b, r
        self.m.conv("conv%d" % len(self.nodes), src, wt, b,
                    stride=stride, pad=pads, dilation=dil, groups=groups,
                    act=act, slope=slope)
        pt, pl, pb, pr = pads
        y = F.conv2d(F.pad(inp, (pl, pr, pt, pb)), t(wt),
                     t(b) if b is not None else None,
                     stride=stride, dilation=dil, groups=groups)
        y = F.leaky_relu(y, slope) if act == "leaky" else ACTS[act](y)
        self.nodes.append(y)
        return len(self.nodes) - 1

    def act(self, src, act, slope=0.1):
        self.m.act("act", src, act, slope)
        y = self.nodes[src]
        self.nodes.append(F.leaky_relu(y, slope) if act == "leaky" else ACTS[act](y))
        return len(self.nodes) - 1

    def lrn(self, src, size, alpha, beta, k=1.0, within=False):
        self.m.lrn("lrn", src, size, alpha, beta, k, within)
        y = self.nodes[src]
        if within:
            z = lrn_within(y, size, alpha, beta)
        else:
            z = F.local_response_norm(y, size, alpha, beta, k)
        self.nodes.append(z)
        return len(self.nodes) - 1

    def maxpool(self, src, k, s, pad=0, ceil=True):
        self.m.maxpool("pool", src, k, s, pad, ceil)
        self.nodes.append(F.max_pool2d(self.nodes[src], k, s, pad, ceil_mode=ceil))
        return len(self.nodes) - 1

    def avgpool(self, src, k, s, pad=0, ceil=True, cip=True):
        self.m.avgpool("apool", src, k, s, pad, ceil, cip)
        self.nodes.append(F.avg_pool2d(self.nodes[src], k, s, pad, ceil_mode=ceil,
                                       count_include_pad=cip))
        return len(self.nodes) - 1

    def concat(self, srcs):
        self.m.concat("cat", srcs)
        self.nodes.append(torch.cat([self.nodes[s] for s in srcs], 1))
        return len(self.nodes) - 1

    def slice(self, src, start, count):
        self.m.slice("slice", src, start, count)
        self.nodes.append(self.nodes[src][:, start:start + count])
        return len(self.nodes) - 1

    def shuffle(self, src, groups):
        self.m.shuffle("shuffle", src, groups)
        y = self.nodes[src]
        n, c, h, w = y.shape
        y = y.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)
        self.nodes.append(y)
        return len(self.nodes) - 1

    def add(self, a, b, act="none"):
        self.m.add("add", a, b, act)
        self.nodes.append(ACTS[act](self.nodes[a] + self.nodes[b]))
        return len(self.nodes) - 1

    def finish(self):
        model = self.name + ".sppm"
        self.m.write(os.path.join(HERE, model))
        sec = {}
        sec["kind"] = "trunk"
        sec["model"] = model
        sec["input_shape"] = save(self.name + ".in", self.x)
        sec["input"] = self.name + ".in"
        sec["output_shape"] = save(self.name + ".out", self.nodes[-1].numpy())
        sec["output"] = self.name + ".out"
        index[self.name] = sec


# Convolutions of every shape the engine special-cases.
c = Case("conv3x3_pad1"); c.conv(0, 8, 3, pad=1); c.finish()
c = Case("conv7x7_s2_pad1_relu", h=23, w=17); c.conv(0, 6, 7, stride=2, pad=1, act="relu"); c.finish()
c = Case("conv5x5_s2_nobias"); c.conv(0, 5, 5, stride=2, bias=False); c.finish()
c = Case("conv_dilation2"); c.conv(0, 4, 3, pad=2, dil=2); c.finish()
c = Case("conv_asym_pad_rect"); c.conv(0, 4, (3, 5), pad=(0, 2, 1, 1)); c.finish()
c = Case("conv1x1"); c.conv(0, 7, 1, act="relu6"); c.finish()
c = Case("conv_groups2"); x = c.conv(0, 8, 1); c.conv(x, 6, 3, pad=1, groups=2, act="leaky"); c.finish()
c = Case("conv_depthwise_s1"); x = c.conv(0, 8, 1); c.conv(x, 8, 3, pad=1, groups=8); c.finish()
c = Case("conv_depthwise_s2_k5", h=14, w=15); x = c.conv(0, 6, 1); c.conv(x, 6, 5, stride=2, pad=2, groups=6, act="hardswish"); c.finish()
c = Case("conv_large_blocked", h=200, w=301); c.conv(0, 16, 7, stride=2, pad=3, act="relu"); c.finish()
# Activations.
for a in ["relu", "leaky", "relu6", "hardswish", "sigmoid"]:
    c = Case("act_" + a); x = c.conv(0, 4, 1); c.act(x, a, 0.1 if a != "leaky" else 0.2); c.finish()
# LRN, both Caffe modes (inputs scaled up so the normaliser matters).
c = Case("lrn_across"); x = c.conv(0, 9, 1); x = c.act(x, "relu"); c.lrn(x, 5, 1e-1, 0.75, 2.0); c.finish()
c = Case("lrn_within"); x = c.conv(0, 5, 1); c.lrn(x, 3, 5e-1, 0.75, within=True); c.finish()
c = Case("lrn_within_beta"); x = c.conv(0, 4, 1); c.lrn(x, 5, 3e-1, 0.6, within=True); c.finish()
# Pooling: Caffe ceil mode on odd sizes, padding, floor mode, average.
c = Case("maxpool_3s2_ceil", h=13, w=10); c.maxpool(0, 3, 2); c.finish()
c = Case("maxpool_3s2_pad1", h=12, w=9); c.maxpool(0, 3, 2, pad=1); c.finish()
c = Case("maxpool_2s2_floor", h=7, w=9); c.maxpool(0, 2, 2, ceil=False); c.finish()
c = Case("avgpool_3s2_pad1", h=11, w=8); c.avgpool(0, 3, 2, pad=1); c.finish()
c = Case("avgpool_nopadcount", h=11, w=8); c.avgpool(0, 3, 2, pad=1, cip=False); c.finish()
# Graph ops: concat, slice, shuffle, residual add.
c = Case("concat_slice_shuffle")
a = c.conv(0, 6, 1); b = c.conv(0, 4, 3, pad=1)
x = c.concat([a, b, 0]); s = c.slice(x, 2, 8); c.shuffle(s, 4); c.finish()
c = Case("add_relu"); a = c.conv(0, 5, 3, pad=1); b = c.conv(0, 5, 1); c.add(a, b, "relu"); c.finish()

# Head: trunk -> whole-map SPP -> fc (ReLU) -> fc -> softmax, torch's
# adaptive_max_pool2d being the SPP reference (it uses the same
# floor/ceil bin edges).
def spp_ref(fmap, levels):
    outs = [F.adaptive_max_pool2d(fmap, n).reshape(fmap.shape[0], -1) for n in levels]
    return torch.cat(outs, 1)


m = Model()
m.set("general.name", "head"); m.set("input.order", "RGB")
m.set("input.mean", [0.0] * 3); m.set("input.std", [1.0] * 3)
m.set("spp.levels", [1, 2, 3]); m.set("spp.stride", 1)
wc = randn(4, 3, 3, 3, scale=0.3)
m.conv("conv", 0, wc, None, pad=1, act="relu")
w6, b6 = randn(10, 4 * 14, scale=0.2), randn(10, scale=0.1)
w7, b7 = randn(5, 10, scale=0.3), randn(5, scale=0.1)
m.fc("fc6", w6, b6, act="relu"); m.fc("fc7", w7, b7); m.softmax("prob")
m.write(os.path.join(HERE, "head.sppm"))
x = randn(1, 3, 9, 7)
fmap = F.relu(F.conv2d(t(x), t(wc), padding=1))
pooled = spp_ref(fmap, [1, 2, 3])
y = F.softmax(F.linear(F.relu(F.linear(pooled, t(w6), t(b6))), t(w7), t(b7)), 1)
index["head"] = dict(kind="head", model="head.sppm", input="head.in",
                     input_shape=save("head.in", x), output="head.out",
                     output_shape=save("head.out", y.numpy()),
                     pooled="head.pooled",
                     pooled_shape=save("head.pooled", pooled.numpy()))

# Whole-map SPP on odd sizes.
for (h, w) in [(13, 13), (7, 11), (1, 1), (40, 3), (10, 10)]:
    name = "spp_%dx%d" % (h, w)
    fm = randn(1, 5, h, w)
    out = spp_ref(t(fm), [1, 2, 3, 6])
    index[name] = dict(kind="spp", levels="1,2,3,6", input=name + ".in",
                       input_shape=save(name + ".in", fm), output=name + ".out",
                       output_shape=save(name + ".out", out.numpy()))


# Window SPP: boxes projected with the paper's formula (App. A), written
# out here independently of the C code.
def project(box, S, off, W, H):
    x, y, w, h = box
    l = math.floor((x + off) / S) + 1
    tp = math.floor((y + off) / S) + 1
    r = math.ceil((x + w - 1 + off) / S) - 1
    b = math.ceil((y + h - 1 + off) / S) - 1
    if l > r:
        l = r = (l + r) // 2
    if tp > b:
        tp = b = (tp + b) // 2
    cl = lambda v, hi: min(max(v, 0), hi)
    return cl(l, W - 1), cl(tp, H - 1), cl(r, W - 1), cl(b, H - 1)


def windows_case(name, fm, boxes, levels, stride, offset):
    """Window SPP of each box, by the formula above and PyTorch's pool."""
    rows = []
    for bx in boxes:
        x0, y0, x1, y1 = project(bx, stride, offset, fm.shape[3], fm.shape[2])
        rows.append(spp_ref(t(fm[:, :, y0:y1 + 1, x0:x1 + 1]), levels))
    out = torch.cat(rows, 0)
    index[name] = dict(kind="windows", levels=",".join(str(n) for n in levels),
                       stride=str(stride), offset=str(offset), input=name + ".in",
                       input_shape=save(name + ".in", fm), boxes=name + ".boxes",
                       boxes_shape=save(name + ".boxes", boxes),
                       output=name + ".out",
                       output_shape=save(name + ".out", out.numpy()))


S, OFF = 16, 0.0
fm = randn(1, 6, 9, 12)
boxes = np.array([
    [0, 0, 192, 144],        # the whole image: touches every edge
    [0, 0, 1, 1],            # one pixel at the origin
    [100, 50, 1, 1],         # one pixel inside
    [160, 130, 40, 20],      # past the bottom-right edge
    [33, 17, 60, 90],
    [-50, -30, 80, 70],      # starts outside the top-left
    [15, 15, 2, 2],          # straddles a cell boundary, collapses
    [176, 128, 16, 16],      # the last cell exactly
    [500, 400, 30, 30],      # entirely outside
    [47, 47, 130, 19],
], dtype=np.float32)
windows_case("windows", fm, boxes, [1, 2, 3, 6], S, OFF)

# ZF-5 at two input sizes, weights from spptools.zf5's seeded generator.
ws = zf5.random_weights(seed=7)


def zf5_torch(x):
    y = t(x)
    for name, o, i, k, s, p in zf5.SHAPES:
        y = F.relu(F.conv2d(y, t(ws[name + ".weight"]), t(ws[name + ".bias"]),
                            stride=s, padding=p))
        if name in ("conv1", "conv2"):
            y = lrn_within(y, 3, 5e-5, 0.75)
            y = F.max_pool2d(y, 3, 2, ceil_mode=True)
    return y


for (h, w) in [(224, 224), (180, 253)]:
    name = "zf5_%dx%d" % (h, w)
    x = np.random.RandomState(h * 1000 + w).uniform(-128, 128, (1, 3, h, w)).astype(np.float32)
    y = zf5_torch(x)
    index[name] = dict(kind="zf5", seed="7", input_seed=str(h * 1000 + w),
                       input_shape="1,3,%d,%d" % (h, w), output=name + ".out",
                       output_shape=save(name + ".out", y.numpy()))

with open(os.path.join(HERE, "index.ini"), "w") as f:
    index.write(f)
total = sum(os.path.getsize(os.path.join(HERE, p)) for p in os.listdir(HERE))
print("wrote %d cases, %.2f MB" % (len(index.sections()), total / 1e6))

# Larger maps, so pooling bins span 2x2, 4x4 and 8x8 block tables.
for (h, w) in [(50, 61)]:
    name = "spp_%dx%d" % (h, w)
    fm = randn(1, 3, h, w)
    out = spp_ref(t(fm), [1, 2, 3, 6])
    index[name] = dict(kind="spp", levels="1,2,3,6", input=name + ".in",
                       input_shape=save(name + ".in", fm), output=name + ".out",
                       output_shape=save(name + ".out", out.numpy()))
fm = randn(1, 4, 40, 50)
boxes = np.array([[0, 0, 800, 640], [16, 16, 500, 300], [100, 40, 130, 600],
                  [300, 300, 70, 90], [10, 500, 790, 139]], dtype=np.float32)
windows_case("windows_large", fm, boxes, [1, 2, 4, 8], 16, 0.0)
with open(os.path.join(HERE, "index.ini"), "w") as f:
    index.write(f)

# A channel count that is not a multiple of the pooler's 16-channel chunks
# (37 = 2 chunks + 5), a level that does not divide the finest (5 of 6), and
# enough windows that the batch pooler splits them. Its own random stream,
# so the cases above keep their bytes.
rs2 = np.random.RandomState(20261129)
fm = rs2.standard_normal((1, 37, 23, 31)).astype(np.float32)
W, H = 31 * 16, 23 * 16
boxes = [[0, 0, W, H], [0, 0, 1, 1], [W - 1, H - 1, 1, 1], [W - 16, 0, 16, H],
         [0, H - 20, W, 20], [-40, -40, 60, 60]]
while len(boxes) < 48:
    bw, bh = rs2.uniform(1, W * 0.9), rs2.uniform(1, H * 0.9)
    boxes.append([rs2.uniform(-10, W - bw), rs2.uniform(-10, H - bh), bw, bh])
boxes = np.array(boxes, dtype=np.float32)
windows_case("windows_chunks", fm, boxes, [1, 2, 3, 5, 6], 16, -8.0)
with open(os.path.join(HERE, "index.ini"), "w") as f:
    index.write(f)

# 32 channels (whole 16-channel chunks: the batch pooler's streaming
# stores), levels 1,2,3,4,6 (2 merges from 4, 1 from 2, 3 from 6; 4 and 6
# are pooled), and a map large enough for bins wider than 8 cells.
rs3 = np.random.RandomState(20261130)
fm = rs3.standard_normal((1, 32, 61, 70)).astype(np.float32)
W, H = 70 * 16, 61 * 16
boxes = [[0, 0, W, H], [0, 0, 1, 1], [W - 1, 0, 1, H], [0, 0, W, 16],
         [16 * 5, 16 * 7, 16 * 60, 16 * 3]]
while len(boxes) < 40:
    bw, bh = rs3.uniform(1, W), rs3.uniform(1, H)
    boxes.append([rs3.uniform(-10, W - bw), rs3.uniform(-10, H - bh), bw, bh])
boxes = np.array(boxes, dtype=np.float32)
windows_case("windows_c32", fm, boxes, [1, 2, 3, 4, 6], 16, 0.0)
with open(os.path.join(HERE, "index.ini"), "w") as f:
    index.write(f)

# The conv row path (one GEMM per kernel row, conv.c): a deep input
# (64 channels x 5 columns), stride 2 with a dilation of 2, which puts
# every kernel row on even input rows (one phase of two used), asymmetric
# padding; weights over the panel path's limit, so the row path runs on
# any number of cores.
c = Case("conv_rows_s2_dil", h=29, w=37)
x = c.conv(0, 64, 1)
c.conv(x, 70, (3, 5), stride=2, pad=(1, 2, 0, 3), dil=2, act="leaky")
c.finish()
with open(os.path.join(HERE, "index.ini"), "w") as f:
    index.write(f)
