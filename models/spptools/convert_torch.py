"""Writes an .sppm model from a PyTorch state_dict (or an .npz of the same
keys, for machines without torch).

  PYTHONPATH=models /usr/bin/python3 -m spptools.convert_torch --arch zf5 \
      STATE_DICT.pt OUT.sppm [--labels a,b,...]

Architectures:
  zf5   conv1..conv5 {weight,bias} as spptools.zf5 lays them out
        (docs/method.md 3); optional fc6, fc7 {weight,bias} (ReLU) for the
        head; optional svm {weight,bias} and bbox {weight,bias} make it a
        detector (needs --labels).
Tensors are written as float32 in PyTorch's own layouts (conv
[out, in/groups, kh, kw], linear [out, in]), which are the .sppm layouts.
"""
import argparse
import sys

import numpy as np

from spptools import zf5


def load_state(path):
    if path.endswith(".npz"):
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    import torch  # only needed for .pt files
    sd = torch.load(path, map_location="cpu")
    if hasattr(sd, "state_dict"):
        sd = sd.state_dict()
    return {k: v.detach().cpu().numpy() for k, v in sd.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", choices=["zf5"], required=True)
    ap.add_argument("--labels", default=None)
    ap.add_argument("--levels", default="1,2,3,6")
    ap.add_argument("state")
    ap.add_argument("out")
    a = ap.parse_args()
    sd = load_state(a.state)
    missing = [n + ".weight" for n, *_ in zf5.SHAPES if n + ".weight" not in sd]
    if missing:
        sys.exit("%s: missing %s" % (a.state, ", ".join(missing)))
    for n, o, i, k, _, _ in zf5.SHAPES:
        if sd[n + ".weight"].shape != (o, i, k, k):
            sys.exit("%s: %s.weight is %s, expected %s" % (a.state, n, sd[n + ".weight"].shape, (o, i, k, k)))
    head = []
    for fc in ("fc6", "fc7"):
        if fc + ".weight" in sd:
            head.append((sd[fc + ".weight"], sd.get(fc + ".bias"), "relu"))
    m = zf5.build(sd, levels=[int(x) for x in a.levels.split(",")], head=head)
    if "svm.weight" in sd:
        if not a.labels:
            sys.exit("svm.weight present: --labels is required")
        labels = a.labels.split(",")
        if sd["svm.weight"].shape[0] != len(labels):
            sys.exit("svm.weight has %d rows for %d labels" % (sd["svm.weight"].shape[0], len(labels)))
        m.set("detect.labels", labels)
        for t in ("svm.weight", "svm.bias", "bbox.weight", "bbox.bias"):
            if t in sd:
                m.tensor(t, sd[t])
    m.write(a.out)


if __name__ == "__main__":
    main()
