"""Check an extracted NanoDet trunk against the TFJS reference vectors.

  PYTHONPATH=models /usr/bin/python3 -m spptools.check_nanodet out/nanodet-trunk.sppm
  PYTHONPATH=models /usr/bin/python3 -m spptools.check_nanodet \
      nanodet-backbone.json nanodet-backbone.npz

Runs an independent NumPy forward (im2col + matmul, float32; Caffe output
sizes; max pool ignores padding) of the layers read back from a .sppm file
(by spptools.sppm.read), or of the intermediate JSON + npz from
spptools.nanodet_extract, on tests/data/nanodet-ref/input.f32 and
compares the last trunk node with concat42.f32 (and the node named
Concat_27 with concat27.f32).
"""
import json
import os
import sys

import numpy as np

from spptools import ROOT, sppm

REF = os.path.join(ROOT, "tests", "data", "nanodet-ref")


def read_sppm(path):
    """Return (kv, layers): the trunk layers of an .sppm file
    (spptools.sppm.read) in the intermediate-JSON form."""
    f = sppm.read(path)
    layers = []
    names = ["input"]
    for raw in f.layers:
        if raw["section"] != 0:
            continue
        op = sppm.OP_NAME[raw["op"]]
        l = dict(name=raw["name"], op=op, inputs=[names[i] for i in raw["inputs"]])
        if op == "conv":
            p = sppm.conv_params(raw["ip"], raw["fp"])
            assert p["groups"] == 1 and p["dilation"] == [1, 1], raw["name"]
            ts = raw["tensors"]
            l.update(weight=f.tensors[ts[0]],
                     bias=f.tensors[ts[1]] if len(ts) > 1 else None,
                     stride=p["stride"], pad=p["pad"],
                     act={0: "none", 2: "leaky"}[p["act"]], slope=p["slope"])
        elif op == "maxpool":
            p = sppm.pool_params(raw["ip"])
            l.update(kernel=p["kernel"], stride=p["stride"], pad=p["pad"],
                     ceil_mode=p["ceil_mode"])
        elif op == "act":
            l.update(act={2: "leaky"}[raw["ip"][0]],
                     slope=raw["fp"][0] if raw["fp"] else 0.1)
        elif op != "concat":
            raise NotImplementedError("%s: op %s" % (raw["name"], op))
        layers.append(l)
        names.append(raw["name"])
    return f.kv, layers


def read_intermediate(json_path, npz_path):
    d = json.load(open(json_path))
    w = np.load(npz_path)
    layers = []
    for l in d["layers"]:
        l = dict(l)
        if l["op"] == "conv":
            l["weight"] = w[l["weight"]]
            l["bias"] = w[l["bias"]] if l["bias"] else None
        layers.append(l)
    return d, layers


def out_size(n, k, s, pa, pb, ceil):
    span = n + pa + pb - k
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + pa:
        o -= 1
    return o


def conv(x, w, b, stride, pad):
    c, h, wd = x.shape
    oc, ic, kh, kw = w.shape
    pt, pl, pb, pr = pad
    xp = np.zeros((c, h + pt + pb, wd + pl + pr), np.float32)
    xp[:, pt:pt + h, pl:pl + wd] = x
    oh = out_size(h, kh, stride[0], pt, pb, False)
    ow = out_size(wd, kw, stride[1], pl, pr, False)
    cols = np.empty((c, kh, kw, oh, ow), np.float32)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = xp[:, i:i + stride[0] * oh:stride[0], j:j + stride[1] * ow:stride[1]]
    y = w.reshape(oc, -1) @ cols.reshape(-1, oh * ow)
    if b is not None:
        y += b[:, None]
    return y.reshape(oc, oh, ow)


def maxpool(x, k, s, pad, ceil):
    c, h, w = x.shape
    pt, pl, pb, pr = pad
    oh = out_size(h, k[0], s[0], pt, pb, ceil)
    ow = out_size(w, k[1], s[1], pl, pr, ceil)
    xp = np.full((c, h + pt + pb + k[0], w + pl + pr + k[1]), -np.inf, np.float32)
    xp[:, pt:pt + h, pl:pl + w] = x
    y = np.full((c, oh, ow), -np.inf, np.float32)
    for i in range(k[0]):
        for j in range(k[1]):
            y = np.maximum(y, xp[:, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]])
    return y


def forward(layers, x):
    vals = {"input": x}
    for l in layers:
        ins = [vals[i] for i in l["inputs"]]
        if l["op"] == "conv":
            y = conv(ins[0], l["weight"], l["bias"], l["stride"], l["pad"])
        elif l["op"] == "maxpool":
            y = maxpool(ins[0], l["kernel"], l["stride"], l["pad"], l["ceil_mode"])
        elif l["op"] == "concat":
            y = np.concatenate(ins, axis=0)
        elif l["op"] == "act":
            y = ins[0]
        if l.get("act") == "leaky":
            y = np.where(y >= 0, y, y * np.float32(l["slope"]))
        vals[l["name"]] = y.astype(np.float32)
    return vals


def main():
    if len(sys.argv) == 2:
        kv, layers = read_sppm(sys.argv[1])
        print("sppm:", kv.get("general.name"), "levels", kv.get("spp.levels"),
              "stride", kv.get("spp.stride"), "order", kv.get("input.order"))
    elif len(sys.argv) == 3:
        _, layers = read_intermediate(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
    meta = json.load(open(os.path.join(REF, "meta.json")))

    def ref(name):
        f = meta["files"][name]
        return np.fromfile(os.path.join(REF, name), "<f4").reshape(f["shape"])

    x = ref("input.f32")[0]
    vals = forward(layers, x)
    worst = 0.0
    checks = [("concat42.f32", layers[-1]["name"])]
    mid = [l["name"] for l in layers if l["name"].endswith("Concat_27")]
    if mid:
        checks.append(("concat27.f32", mid[0]))
    for fname, lname in checks:
        r = ref(fname)[0]
        y = vals[lname]
        if y.shape != r.shape:
            print(f"{fname}: shape {y.shape} != reference {r.shape}")
            sys.exit(1)
        err = np.abs(y - r)
        rel = err.max() / max(np.abs(r).max(), 1e-12)
        print(f"{fname} vs {lname}: shape {y.shape}, max |ref| {np.abs(r).max():.4f}, "
              f"max abs err {err.max():.3e}, mean abs err {err.mean():.3e}, "
              f"max err / max |ref| {rel:.2e}")
        worst = max(worst, rel)
    ok = worst < 1e-4
    print("PASS" if ok else "FAIL", f"(tolerance: max err <= 1e-4 x max |ref|)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
