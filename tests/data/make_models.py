#!/usr/bin/python3
"""Writes the small test models of tests/data (from anywhere, with the
repository's models/ on PYTHONPATH):
  tiny.sppm         a valid 2-class detector: conv trunk (stride 4), SPP
                    {1,2}, fc head, SVMs, box regressors; random weights
  bad-magic.sppm    wrong magic
  bad-version.sppm  version 99
  bad-dims.sppm     a tensor with 5 dims
  truncated.sppm    tiny.sppm cut in the middle of its weights
  fc-mismatch.sppm  fc6 input width != channels x SPP bins
  nan-weight.sppm   a NaN in a conv weight
  probe-bgr.sppm    input.order BGR with an identity 1x1 conv, for the
                    input-order test (loads)
  huge-count.sppm   n_tensors = 2^31 in the header
The bad-*, truncated, fc-mismatch, nan-weight and huge-count models must
fail to load with SPP_ERROR_FORMAT; the others load."""
import os
import struct

import numpy as np

from spptools.sppm import Model

HERE = os.path.dirname(os.path.abspath(__file__))
rs = np.random.RandomState(42)


def tiny(fc_in=None, nan=False, head=True):
    m = Model()
    m.set("general.name", "tiny")
    m.set("general.description", "test model with random weights")
    m.set("input.order", "RGB")
    m.set("input.mean", [123.0, 117.0, 104.0])
    m.set("input.std", [58.0, 57.0, 57.0])
    m.set("spp.levels", [1, 2])
    m.set("spp.stride", 4)
    m.set("detect.scales", [96])
    m.set("detect.labels", ["person", "vehicle"])
    m.set("detect.thresholds", [0.5, 0.5])
    m.set("detect.nms", 0.3)
    w1 = rs.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3
    if nan:
        w1[0, 0, 0, 0] = np.nan
    x = m.conv("conv1", 0, w1, np.zeros(8), stride=2, pad=1, act="relu")
    x = m.conv("conv2", x, rs.standard_normal((16, 8, 3, 3)) * 0.2, np.zeros(16),
               stride=2, pad=1, act="relu")
    pooled = 16 * 5
    if head:
        m.fc("fc6", rs.standard_normal((32, fc_in or pooled)) * 0.1, np.zeros(32), act="relu")
    m.tensor("svm.weight", rs.standard_normal((2, 32 if head else pooled)) * 0.1)
    m.tensor("svm.bias", np.zeros(2))
    m.tensor("bbox.weight", rs.standard_normal((8, pooled)) * 0.01)
    m.tensor("bbox.bias", np.zeros(8))
    return m


def out(name):
    return os.path.join(HERE, name)


t = tiny()
t.write(out("tiny.sppm"))
# The head tensors alone, for test-detector's by-hand computation.
np.concatenate([t.tensors[t.tensor_index[n]][1].ravel() for n in
                ("svm.weight", "svm.bias", "bbox.weight", "bbox.bias")]
               ).astype("<f4").tofile(out("tiny-weights.bin"))
good = open(out("tiny.sppm"), "rb").read()
open(out("bad-magic.sppm"), "wb").write(b"GGUF" + good[4:])
open(out("bad-version.sppm"), "wb").write(good[:4] + struct.pack("<I", 99) + good[8:])
open(out("truncated.sppm"), "wb").write(good[: len(good) * 2 // 3])
open(out("huge-count.sppm"), "wb").write(good[:20] + struct.pack("<I", 1 << 31) + good[24:])
tiny(fc_in=99).write(out("fc-mismatch.sppm"))
tiny(nan=True).write(out("nan-weight.sppm"))
m = tiny()
m.tensors.append(("extra", np.zeros((1, 1, 1, 1, 2), np.float32)))
m.write(out("bad-dims.sppm"))

# Without fc layers the SVMs read the SPP vector directly (the default
# model's shape): svm.weight [2, 80].
rs = np.random.RandomState(43)
t = tiny(head=False)
t.set("general.name", "tiny-nohead")
t.write(out("tiny-nohead.sppm"))
np.concatenate([t.tensors[t.tensor_index[n]][1].ravel() for n in
                ("svm.weight", "svm.bias", "bbox.weight", "bbox.bias")]
               ).astype("<f4").tofile(out("tiny-nohead-weights.bin"))

# A probe of the input's channel order and normalisation: input.order
# BGR, per-plane mean and std, one 1x1 identity conv, SPP level 1 (each
# window's per-plane maximum), no SVMs. test-detector compares its
# pooled values on a flat colour with a hand computation.
p = Model()
p.set("general.name", "probe-bgr")
p.set("general.description", "channel-order probe: identity 1x1 conv")
p.set("input.order", "BGR")
p.set("input.mean", [10.0, 20.0, 30.0])
p.set("input.std", [2.0, 4.0, 8.0])
p.set("spp.levels", [1])
p.set("spp.stride", 1)
p.set("detect.scales", [32])
p.conv("identity", 0, np.eye(3, dtype=np.float32).reshape(3, 3, 1, 1),
       np.zeros(3))
p.write(out("probe-bgr.sppm"))
