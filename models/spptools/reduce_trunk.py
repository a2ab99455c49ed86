"""Append a 1x1 conv that projects a trunk's feature map onto its top
principal components, so SPP vectors, SVMs and box regressors get smaller.

  PYTHONPATH=models /usr/bin/python3 -m spptools.reduce_trunk
      [--trunk models/nanodet-trunk.sppm] [--channels 64] [--scale 384]
      [--step 8] [-o out/nanodet-trunk-r64.sppm]

Why: the default model's SVMs read the SPP vector directly (no fc head).
With the NanoDet trunk's 256 channels that is 12,800 floats per window and
2,000 windows a frame: 100 MB written by SPP and read back by the SVM GEMM
every frame, more time than the whole head is worth. The 1x1 conv costs
(256 x C) MACs per stride-16 cell, about 30 MFLOP a frame for C = 64.

The projection is plain PCA (centred, bias = -W mean) of the stride-16 cell
vectors of vtest.avi's *training* frames only (split "train" of
models/data/vtest-teacher.json, every --step-th), run at --scale; it needs
no labels. The forward here is spptools.check_nanodet's NumPy forward, which is
checked against the TFJS graph (models/README.md), so no part of libspp
is involved in making the file that libspp then runs.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np

from spptools import MODELS, ROOT, sppm
from spptools import check_nanodet as cn

VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"


def rebuild(m, layers):
    """Write read_sppm()'s layers back as trunk layers; return the last node."""
    node = {"input": 0}
    last = None
    for l in layers:
        srcs = [node[i] for i in l["inputs"]]
        if l["op"] == "conv":
            last = m.conv(l["name"], srcs[0], l["weight"], l["bias"],
                          stride=tuple(l["stride"]), pad=tuple(l["pad"]),
                          act=l["act"], slope=l["slope"])
        elif l["op"] == "maxpool":
            last = m.maxpool(l["name"], srcs[0], l["kernel"][0],
                             l["stride"][0], pad=l["pad"][0],
                             ceil_mode=l["ceil_mode"])
        elif l["op"] == "concat":
            last = m.concat(l["name"], srcs)
        elif l["op"] == "act":
            last = m.act(l["name"], srcs[0], l["act"], l["slope"])
        else:
            raise NotImplementedError(l["op"])
        node[l["name"]] = last
    return last


def train_frames(step):
    coco = json.load(open(os.path.join(MODELS, "data", "vtest-teacher.json")))
    ids = sorted(im["id"] for im in coco["images"] if im.get("split") == "train")
    return ids[::step]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trunk", default=os.path.join(MODELS, "nanodet-trunk.sppm"))
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--scale", type=int, default=384,
                    help="shorter side the frames are resized to")
    ap.add_argument("--step", type=int, default=8, help="every N-th train frame")
    ap.add_argument("--cut", default=None,
                    help="end the trunk at this layer (e.g. Concat_27, stride 8)")
    ap.add_argument("--photos", default=None,
                    help="COCO JSON whose train images join the fit "
                         "(models/data/photos-teacher.json)")
    ap.add_argument("-o", "--output",
                    default=os.path.join(ROOT, "out", "nanodet-trunk-r64.sppm"))
    a = ap.parse_args()

    kv, layers = cn.read_sppm(a.trunk)
    if a.cut:
        names = [l["name"] for l in layers]
        if a.cut not in names:
            sys.exit(f"{a.trunk}: no layer '{a.cut}' (layers: {', '.join(names)})")
        layers = layers[:names.index(a.cut) + 1]
        stride = {"input": 1}
        for l in layers:
            s = max(stride[i] for i in l["inputs"])
            stride[l["name"]] = s * l.get("stride", [1])[0]
        kv["spp.stride"] = stride[layers[-1]["name"]]
        kv["input.multiple"] = kv["spp.stride"]
    mean = np.array(kv["input.mean"], np.float32)[:, None, None]
    std = np.array(kv["input.std"], np.float32)[:, None, None]
    assert kv["input.order"] == "BGR"
    def cells(bgr):
        """The cut's feature vectors of one image at --scale, one row a cell."""
        h, w = bgr.shape[:2]
        f = a.scale / min(h, w)
        img = cv2.resize(bgr, (round(w * f), round(h * f)),
                         interpolation=cv2.INTER_AREA)
        x = (img.transpose(2, 0, 1).astype(np.float32) - mean) / std
        y = cn.forward(layers, x)[layers[-1]["name"]]
        if y.ndim == 4:
            y = y[0]
        return y.reshape(y.shape[0], -1).T

    frames = set(train_frames(a.step))
    cap = cv2.VideoCapture(VTEST)
    feats = []
    idx = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if idx in frames:
            feats.append(cells(bgr))
            print(f"frame {idx}: {feats[-1].shape[0]} cells", file=sys.stderr)
        idx += 1
    if not feats:
        sys.exit(f"{VTEST}: no training frames decoded")
    n_vtest = len(feats)
    if a.photos:
        # Other cameras' training images too, so that the components kept
        # are not only those that vary in one street scene.
        coco = json.load(open(a.photos))
        for im in coco["images"]:
            if im.get("split") != "train":
                continue
            path = im["file_name"]
            feats.append(cells(cv2.imread(
                path if os.path.isabs(path) else os.path.join(ROOT, path),
                cv2.IMREAD_COLOR)))
        print(f"{len(feats) - n_vtest} training photos of {a.photos}",
              file=sys.stderr)
    x = np.concatenate(feats).astype(np.float64)
    mu = x.mean(0)
    cov = np.cov(x - mu, rowvar=False)
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1]
    evals, evecs = evals[order], evecs[:, order]
    c = a.channels
    kept = evals[:c].sum() / evals.sum()
    wt = evecs[:, :c].T.astype(np.float32)            # C x 256
    bias = (-wt.astype(np.float64) @ mu).astype(np.float32)

    m = sppm.Model()
    for k, v in kv.items():
        m.set(k, v)
    m.set("general.name", kv.get("general.name", "trunk") + f"-pca{c}")
    m.set("general.description",
          kv.get("general.description", "") +
          (f"; cut at {a.cut}" if a.cut else "") +
          f"; then a 1x1 conv onto the top {c} principal components of the "
          f"stride-{kv['spp.stride']} cells ({n_vtest} training frames of "
          f"vtest.avi, {len(feats) - n_vtest} other training images, at "
          f"shorter side {a.scale}, {x.shape[0]} cells, "
          f"{kept:.1%} of the variance), spptools.reduce_trunk")
    last = rebuild(m, layers)
    m.conv("pca", last, wt.reshape(c, -1, 1, 1), bias)
    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    size = m.write(a.output)
    print(f"{a.output}: {size} bytes; {c} of {wt.shape[1]} channels keep "
          f"{kept:.1%} of the variance ({x.shape[0]} cells)", file=sys.stderr)


if __name__ == "__main__":
    main()
