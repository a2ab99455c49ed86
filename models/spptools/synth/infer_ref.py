"""Independent Python/torch reference of the detector's inference.

Reads an .sppm file (spptools.sppm.read), runs the trunk with
torch.nn.functional, and applies the detection rules the
C detector implements (docs/method.md 2):

 1. per scale s in detect.scales: shorter side -> s (rounded), bilinear
    when enlarging, area averaging when shrinking (cv2 INTER_LINEAR /
    INTER_AREA here, so expect small differences from the C resizer);
 2. planes in input.order, (pixel - mean) / std;
 3. trunk -> feature map at stride spp.stride;
 4. each proposal uses the one scale whose scaled area is closest to
    224^2, scaled by s / min(W, H) and projected with the paper's App. A
    rule (floor + 1 / ceil - 1, collapse, clamp);
 5. SPP with adaptive_max_pool2d per level, channel-major;
 6. head fc layers, times detect.feature_scale;
 7. confidence = sigmoid(a * (w.f + b) + b');
 8. box regression on the pooled vector (dx, dy, dw, dh), dw, dh
    clipped at 4;
 9. boxes clipped to the image, per class threshold, greedy NMS at
    IoU > detect.nms, at most 100 detections per image (best first).
Proposals are used as given (the C code clips them to the image first;
selective-search boxes are inside it anyway).

  PYTHONPATH=models /usr/bin/python3 -m spptools.synth.infer_ref \
      --model models/synth/synth.sppm --proposals props.jsonl IMAGE...
prints one JSON object per image like `spp detect --json`.
"""
import argparse
import json
import math
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from spptools import sppm

ACTS = {0: lambda x: x, 1: F.relu, 3: F.relu6, 4: F.hardswish,
        5: torch.sigmoid}


class SppModel:
    """An .sppm file (spptools.sppm.read) with its tensors in torch."""

    def __init__(self, path):
        f = sppm.read(path)
        self.kv = f.kv
        self.layers = f.layers
        self.tensors = {name: torch.from_numpy(a.copy())
                        for name, a in f.tensors.items()}

    def get(self, key, default=None):
        return self.kv.get(key, default)

    @staticmethod
    def _act(x, code, slope):
        if code == 2:
            return F.leaky_relu(x, slope)
        return ACTS[code](x)

    def trunk(self, x):
        """x: [1, 3, H, W] normalised planes -> feature map [1, C, H', W']."""
        nodes = [x]
        for l in self.layers:
            if l["section"] != 0:
                continue
            op, ip, fp = l["op"], l["ip"], l["fp"]
            src = [nodes[i] for i in l["inputs"]]
            if op == 1:       # conv
                p = sppm.conv_params(ip, fp)
                pt, pl, pb, pr = p["pad"]
                w = self.tensors[l["tensors"][0]]
                b = self.tensors[l["tensors"][1]] if len(l["tensors"]) > 1 else None
                y = F.pad(src[0], (pl, pr, pt, pb))
                y = F.conv2d(y, w, b, stride=tuple(p["stride"]),
                             dilation=tuple(p["dilation"]), groups=p["groups"])
                y = self._act(y, p["act"], p["slope"])
            elif op == 2:
                y = self._act(src[0], ip[0], fp[0] if fp else 0.1)
            elif op in (4, 11):   # maxpool, avgpool; symmetric pads only here
                p = sppm.pool_params(ip)
                k, kw2 = p["kernel"]
                pt, pl, pb, pr = p["pad"]
                assert k == kw2 and pt == pl == pb == pr
                if op == 4:
                    y = F.max_pool2d(src[0], k, p["stride"][0], pt,
                                     ceil_mode=p["ceil_mode"])
                else:
                    y = F.avg_pool2d(src[0], k, p["stride"][0], pt,
                                     ceil_mode=p["ceil_mode"],
                                     count_include_pad=p["count_include_pad"])
            elif op == 5:
                y = torch.cat(src, 1)
            elif op == 8:
                y = self._act(src[0] + src[1], ip[0] if ip else 0,
                              fp[0] if fp else 0.1)
            else:
                raise NotImplementedError("op %d in %s" % (op, l["name"]))
            nodes.append(y)
        return nodes[-1]

    def head(self, p):
        for l in self.layers:
            if l["section"] != 1:
                continue
            if l["op"] == 9:
                w = self.tensors[l["tensors"][0]]
                b = self.tensors[l["tensors"][1]] if len(l["tensors"]) > 1 else None
                p = F.linear(p, w, b)
                act = l["ip"][1] if len(l["ip"]) > 1 else 0
                p = self._act(p, act, l["fp"][0] if l["fp"] else 0.1)
            elif l["op"] == 10:
                p = F.softmax(p, 1)
            else:
                raise NotImplementedError(l["name"])
        return p


def resize_short(img, s, like_c=False):
    """Shorter side -> s, aspect kept, sides rounded to nearest."""
    h, w = img.shape[:2]
    f = s / min(w, h)
    nw, nh = int(math.floor(w * f + 0.5)), int(math.floor(h * f + 0.5))
    if (nw, nh) == (w, h):
        return img.copy()
    if like_c:
        return resize_like_c(img, nw, nh)
    interp = cv2.INTER_LINEAR if f > 1 else cv2.INTER_AREA
    return cv2.resize(img, (nw, nh), interpolation=interp)


def _taps(src, dst):
    """Source index ranges and weights per destination index, as
    src/engine/image.c builds them: area averaging when shrinking, half-pixel
    bilinear with clamped edges when enlarging."""
    s = src / dst
    taps = []
    for d in range(dst):
        if src > dst:
            a, b = d * s, (d + 1) * s
            i0, i1 = int(math.floor(a)), int(math.ceil(b - 1e-9))
            i1 = min(i1, src)
            if i1 <= i0:
                i1 = i0 + 1
            w = [np.float32(max(min(b, i + 1.0) - max(a, float(i)), 0.0) / s)
                 for i in range(i0, i1)]
        elif src == dst:
            i0, w = d, [np.float32(1.0)]
        else:
            f = min(max((d + 0.5) * s - 0.5, 0.0), src - 1.0)
            i0 = int(math.floor(f))
            fr = f - i0
            w = ([np.float32(1.0 - fr), np.float32(fr)]
                 if i0 + 1 < src and fr > 0 else [np.float32(1.0)])
        taps.append((i0, w))
    return taps


def resize_like_c(img, nw, nh):
    """Separable resize in float32, the same taps and order as the C
    library's spp_image_resize_rgb, rounded to u8 the same way."""
    src = img.astype(np.float32)
    h, w = img.shape[:2]
    tx = _taps(w, nw)
    ty = _taps(h, nh)
    n = max(len(t[1]) for t in tx)
    idx = np.array([[min(i0 + k, w - 1) for k in range(n)] for i0, _ in tx])
    wt = np.array([ws + [np.float32(0)] * (n - len(ws)) for _, ws in tx],
                  np.float32)
    hor = np.zeros((h, nw, 3), np.float32)
    for k in range(n):
        hor += wt[None, :, k, None] * src[:, idx[:, k], :]
    out = np.empty((nh, nw, 3), np.uint8)
    for dy, (i0, ws) in enumerate(ty):
        if len(ws) == 1:
            acc = hor[i0]
        else:
            acc = ws[0] * hor[i0]
            for k in range(1, len(ws)):
                acc = acc + ws[k] * hor[i0 + k]
        out[dy] = (np.clip(acc, 0, 255) + np.float32(0.5)).astype(np.uint8)
    return out


def normalise(model, img_rgb):
    order = model.get("input.order", "RGB")
    planes = img_rgb.astype(np.float32)
    if order == "BGR":
        planes = planes[:, :, ::-1]
    mean = np.asarray(model.get("input.mean"), np.float32)
    std = np.asarray(model.get("input.std"), np.float32)
    planes = (planes - mean) / std
    return torch.from_numpy(np.ascontiguousarray(planes.transpose(2, 0, 1)))[None]


def pick_scales(boxes, scales, short):
    """Index of the scale whose scaled box area is closest to 224^2 (the
    first one on ties)."""
    area = boxes[:, 2] * boxes[:, 3]
    d = np.stack([np.abs(area * (s / short) ** 2 - 224.0 * 224.0)
                  for s in scales], 1)
    return np.argmin(d, 1)


def project(box, f, S, off, fw, fh, fy=None):
    """Paper App. A on the box scaled by f (fy vertically if given);
    returns l, t, r, b inclusive."""
    fy = f if fy is None else fy
    x, w = float(box[0]) * f, float(box[2]) * f
    y, h = float(box[1]) * fy, float(box[3]) * fy
    l = math.floor((x + off) / S) + 1
    t = math.floor((y + off) / S) + 1
    r = math.ceil((x + w - 1 + off) / S) - 1
    b = math.ceil((y + h - 1 + off) / S) - 1
    if l > r:
        l = r = (l + r) // 2
    if t > b:
        t = b = (t + b) // 2
    cl = lambda v, hi: min(max(v, 0), hi)
    return cl(l, fw - 1), cl(t, fh - 1), cl(r, fw - 1), cl(b, fh - 1)


def spp_pool(fmap, win, levels):
    l, t, r, b = win
    w = fmap[:, :, t:b + 1, l:r + 1]
    return torch.cat([F.adaptive_max_pool2d(w, n).reshape(1, -1)
                      for n in levels], 1)


def iou_one(a, b):
    ix = np.minimum(a[0] + a[2], b[:, 0] + b[:, 2]) - np.maximum(a[0], b[:, 0])
    iy = np.minimum(a[1] + a[3], b[:, 1] + b[:, 3]) - np.maximum(a[1], b[:, 1])
    inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    union = a[2] * a[3] + b[:, 2] * b[:, 3] - inter
    return inter / np.maximum(union, 1e-12)


def nms(boxes, scores, thresh):
    # Confidence descending; ties (windows that project to the same cells
    # have identical scores) broken by x then y ascending, as src/detector/nms.c.
    order = np.lexsort((boxes[:, 1], boxes[:, 0], -scores))
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        if len(order) == 1:
            break
        ov = iou_one(boxes[i], boxes[order[1:]])
        order = order[1:][ov <= thresh]
    return keep


@torch.no_grad()
def detect(model, img_rgb, proposals, thresholds=None, with_raw=False,
           max_detections=100, like_c=False):
    """img_rgb: HxWx3 uint8; proposals: (N, 4) [x, y, w, h]. Returns a list
    of dicts {label, class, score, box} (and raw per-proposal arrays).
    like_c: resize exactly as src/engine/image.c and scale boxes by the resized
    image's own ratios (rw / W, rh / H) as src/detector/detector.c does, instead of
    cv2 and s / min(W, H) (the brief's rule)."""
    H, W = img_rgb.shape[:2]
    short = min(W, H)
    scales = list(model.get("detect.scales", [688]))
    levels = list(model.get("spp.levels"))
    S = model.get("spp.stride")
    off = model.get("spp.offset", 0.0)
    labels = list(model.get("detect.labels"))
    K = len(labels)
    if thresholds is None:
        thresholds = model.get("detect.thresholds", [0.5] * K)
    fs = model.get("detect.feature_scale", 1.0)
    a, bb = model.get("detect.score_a", 1.0), model.get("detect.score_b", 0.0)
    props = np.asarray(proposals, np.float64).reshape(-1, 4)
    if len(props) == 0:
        return ([], {}) if with_raw else []
    which = pick_scales(props, scales, short)
    pooled = [None] * len(props)
    for si, s in enumerate(scales):
        idx = np.nonzero(which == si)[0]
        if len(idx) == 0:
            continue
        resized = resize_short(img_rgb, s, like_c)
        fmap = model.trunk(normalise(model, resized))
        fh, fw = fmap.shape[2:]
        f = fy = s / short
        if like_c:
            f, fy = resized.shape[1] / W, resized.shape[0] / H
        for i in idx:
            pooled[i] = spp_pool(fmap, project(props[i], f, S, off, fw, fh,
                                               fy), levels)
    p = torch.cat(pooled, 0)
    feat = model.head(p) * fs
    score = F.linear(feat, model.tensors["svm.weight"], model.tensors["svm.bias"])
    conf = torch.sigmoid(a * score + bb).numpy()
    reg = F.linear(p, model.tensors["bbox.weight"],
                   model.tensors["bbox.bias"]).numpy().astype(np.float64)
    cx = props[:, 0] + props[:, 2] / 2
    cy = props[:, 1] + props[:, 3] / 2
    dets = []
    for k in range(K):
        d = reg[:, 4 * k:4 * k + 4]
        nw = props[:, 2] * np.exp(np.minimum(d[:, 2], 4.0))
        nh = props[:, 3] * np.exp(np.minimum(d[:, 3], 4.0))
        ncx = cx + d[:, 0] * props[:, 2]
        ncy = cy + d[:, 1] * props[:, 3]
        x0 = np.clip(ncx - nw / 2, 0, W)
        y0 = np.clip(ncy - nh / 2, 0, H)
        x1 = np.clip(ncx + nw / 2, 0, W)
        y1 = np.clip(ncy + nh / 2, 0, H)
        boxes = np.stack([x0, y0, x1 - x0, y1 - y0], 1)   # clipped to the image
        sel = np.nonzero((conf[:, k] >= thresholds[k]) & (boxes[:, 2] > 0)
                         & (boxes[:, 3] > 0))[0]
        for j in nms(boxes[sel], conf[sel, k], model.get("detect.nms", 0.3)):
            i = sel[j]
            dets.append(dict(label=labels[k], **{"class": k},
                             score=float(conf[i, k]),
                             box=[float(v) for v in boxes[i]], proposal=int(i)))
    dets.sort(key=lambda d: -d["score"])
    dets = dets[:max_detections]
    if with_raw:
        return dets, dict(conf=conf, reg=reg, which=which, pooled=p.numpy())
    return dets


def load_proposals(path):
    """{image path as written by spp proposals: boxes} from a JSON-lines
    file of `spp proposals --json`."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                o = json.loads(line)
                out[o["image"]] = np.asarray(o["boxes"], np.float64).reshape(-1, 4)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--proposals", required=True,
                    help="JSON lines from spp proposals --json")
    ap.add_argument("--threshold", type=float, default=None,
                    help="one threshold for every class")
    ap.add_argument("--like-c", action="store_true",
                    help="resize and scale boxes exactly as the C library")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = SppModel(a.model)
    props = load_proposals(a.proposals)
    K = len(m.get("detect.labels"))
    th = None if a.threshold is None else [a.threshold] * K
    for path in a.images:
        img = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        dets = detect(m, img, props[path], th, like_c=a.like_c)
        print(json.dumps(dict(image=path, width=img.shape[1],
                              height=img.shape[0], detections=dets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
