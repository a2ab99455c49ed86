"""Trains models/synth/synth.sppm, the small end-to-end test detector.

  PYTHONPATH=models /usr/bin/python3 -m spptools.synth.train \
      --spp build/src/cli/spp --work /tmp/synth-work \
      [--out models/synth/synth.sppm]

1. Generates the training scenes (spptools.synth.scenes, split train,
   seed 1) and a validation split (split val, seed 1, training
   backgrounds) into --work, and caches their selective-search proposals
   (`spp proposals --mode fast --max 2000 --json`), the same proposals
   the detector sees.
2. Trains the whole net from scratch on CPU (torch, 1 thread,
   deterministic): trunk avgpool 3/2, conv 16 5x5/2, maxpool 3/2, conv 32,
   64, 64 3x3 (stride 8, every layer pads floor(k/2) so cell m is centred
   on pixel 8m), SPP {1,2,3} on the projected window of each proposal at
   the scale the detector picks for it (docs/method.md 2.3-2.4), fc 256, fc 128
   (ReLU), then K = 3 sigmoid outputs stored as the "SVMs" and a linear
   box regressor on the pooled vector.
   Windows: positives = proposals and jittered ground truth with IoU >= 0.5
   to a ground-truth box (target 1 for its class), background = IoU < 0.5
   (half from [0.1, 0.5), half below 0.1); 25% positives per image.
   Loss: binary cross-entropy on the K outputs + smooth L1 on R-CNN box
   targets (dx/w, dy/h, log sw, log sh) divided by (0.1, 0.1, 0.2, 0.2);
   the divisor is folded into bbox.weight at export.
3. Writes the .sppm and prints the validation mAP@0.5 from
   spptools.synth.infer_ref.
"""
import argparse
import datetime
import json
import math
import os
import subprocess
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import cv2

from spptools import MODELS, voc_ap
from spptools.sppm import Model
from spptools.synth import infer_ref, scenes

SCALES = [224, 384]
LEVELS = [1, 2, 3]
STRIDE = 8
MEAN = [123.7, 116.3, 103.5]     # RGB
STD = [58.4, 57.1, 57.4]
BBOX_STD = np.array([0.1, 0.1, 0.2, 0.2], np.float32)
# (op, name, out channels, kernel, stride); every layer pads k // 2, so
# feature cell m is centred on pixel 8m (docs/method.md 2.4, offset 0). The 3/2
# average pool first halves the input cheaply (training time on 2 shared
# cores is the budget).
TRUNK = [("avgpool", "pool0", 0, 3, 2), ("conv", "conv1", 16, 5, 2),
         ("maxpool", "pool1", 0, 3, 2), ("conv", "conv2", 32, 3, 1),
         ("conv", "conv3", 64, 3, 1), ("conv", "conv4", 64, 3, 1)]
FC = [256, 128]


def proposals(spp, split_dir, cache):
    if not os.path.exists(cache):
        imgs = sorted(f for f in os.listdir(split_dir) if f.endswith(".png"))
        with open(cache + ".tmp", "w") as f:
            subprocess.run([spp, "proposals", "--mode", "fast", "--max", "2000",
                            "--threads", "2", "--json"] +
                           [os.path.join(split_dir, i) for i in imgs],
                           stdout=f, check=True)
        os.rename(cache + ".tmp", cache)
    out = {}
    for k, v in infer_ref.load_proposals(cache).items():
        out[os.path.basename(k)] = v
    return out


def dataset(spp, work, split, count, seed):
    d = os.path.join(work, "%s-%d-%d" % (split, seed, count))
    ann = os.path.join(d, "annotations.json")
    if not os.path.exists(ann):
        scenes.generate(split, count, seed, d)
    props = proposals(spp, d, d + "-proposals.jsonl")
    with open(ann) as f:
        coco = json.load(f)
    return d, coco, props


def iou_matrix(a, b):
    ix = (np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
          - np.maximum(a[:, None, 0], b[None, :, 0]))
    iy = (np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
          - np.maximum(a[:, None, 1], b[None, :, 1]))
    inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return inter / np.maximum(union, 1e-9)


def bbox_targets(rois, gt):
    cx, cy = rois[:, 0] + rois[:, 2] / 2, rois[:, 1] + rois[:, 3] / 2
    gx, gy = gt[:, 0] + gt[:, 2] / 2, gt[:, 1] + gt[:, 3] / 2
    return np.stack([(gx - cx) / rois[:, 2], (gy - cy) / rois[:, 3],
                     np.log(gt[:, 2] / rois[:, 2]),
                     np.log(gt[:, 3] / rois[:, 3])], 1).astype(np.float32)


def prepare(coco, props, rng, W=scenes.WIDTH, H=scenes.HEIGHT):
    """Per image: rois, their class target (-1 background), max IoU, box
    targets, chosen scale and projected window per scale."""
    gts = {}
    for a in coco["annotations"]:
        gts.setdefault(a["image_id"], []).append((a["bbox"], a["category_id"] - 1))
    items = []
    short = min(W, H)
    for im in coco["images"]:
        g = gts.get(im["id"], [])
        gb = np.array([b for b, _ in g], np.float64).reshape(-1, 4)
        gc = np.array([c for _, c in g], np.int64)
        rois = [props[im["file_name"]]]
        if len(gb):     # ground truth and jittered copies
            j = np.repeat(gb, 4, 0)
            sc = np.exp(rng.uniform(-0.15, 0.15, (len(j), 2)))
            sh = rng.uniform(-0.12, 0.12, (len(j), 2)) * j[:, 2:]
            nj = np.concatenate([j[:, :2] + sh + j[:, 2:] * (1 - sc) / 2,
                                 j[:, 2:] * sc], 1)
            rois += [gb, np.round(nj)]
        rois = np.concatenate(rois, 0)
        rois = rois[(rois[:, 2] >= 2) & (rois[:, 3] >= 2)]
        if len(gb):
            ov = iou_matrix(rois, gb)
            arg = ov.argmax(1)
            mx = ov.max(1)
            cls = np.where(mx >= 0.5, gc[arg], -1)
            tgt = bbox_targets(rois, gb[arg])
        else:
            mx = np.zeros(len(rois))
            cls = -np.ones(len(rois), np.int64)
            tgt = np.zeros((len(rois), 4), np.float32)
        which = infer_ref.pick_scales(rois, SCALES, short)
        # Windows for the image and for its mirror image (augmentation).
        flipped = rois.copy()
        flipped[:, 0] = W - rois[:, 0] - rois[:, 2]
        wins = np.zeros((2, len(rois), 4), np.int64)
        for si, s in enumerate(SCALES):
            fw, fh = feat_size(round_side(W * s / short)), feat_size(round_side(H * s / short))
            for i in np.nonzero(which == si)[0]:
                for f, r in enumerate((rois, flipped)):
                    wins[f, i] = infer_ref.project(r[i], s / short, STRIDE, 0.0,
                                                   fw, fh)
        items.append(dict(file=im["file_name"], rois=rois, cls=cls, iou=mx,
                          tgt=tgt, which=which, wins=wins))
    return items


def round_side(v):
    return int(math.floor(v + 0.5))


def feat_size(n):
    for op, _, _, k, s in TRUNK:
        p = k // 2
        if op == "conv":
            n = (n + 2 * p - k) // s + 1
        else:
            m = -(-(n + 2 * p - k) // s) + 1     # Caffe ceil mode
            n = m - 1 if (m - 1) * s >= n + p else m
    return n


class Net(nn.Module):
    def __init__(self, K):
        super().__init__()
        convs, c = [], 3
        for op, name, o, k, s in TRUNK:
            if op == "conv":
                convs.append(nn.Conv2d(c, o, k, s, k // 2))
                c = o
        self.convs = nn.ModuleList(convs)
        P = c * sum(n * n for n in LEVELS)
        fcs, d = [], P
        for o in FC:
            fcs.append(nn.Linear(d, o))
            d = o
        self.fcs = nn.ModuleList(fcs)
        self.cls = nn.Linear(d, K)
        self.reg = nn.Linear(P, 4 * K)
        nn.init.normal_(self.cls.weight, std=0.01)
        nn.init.zeros_(self.cls.bias)
        nn.init.normal_(self.reg.weight, std=0.001)
        nn.init.zeros_(self.reg.bias)
        self.drop = nn.Dropout(0.25)

    def trunk(self, x):
        convs = iter(self.convs)
        for op, _, _, k, s in TRUNK:
            if op == "conv":
                x = F.relu(next(convs)(x))
            elif op == "maxpool":
                x = F.max_pool2d(x, k, s, k // 2, ceil_mode=True)
            else:
                x = F.avg_pool2d(x, k, s, k // 2, ceil_mode=True,
                                 count_include_pad=True)
        return x

    def head(self, p):
        f = p
        for fc in self.fcs:
            f = self.drop(F.relu(fc(f)))
        return self.cls(f), self.reg(p)


def spp_windows(fmap, wins):
    """SPP of each window: adaptive_max_pool2d per level (docs/method.md 1
    bin edges), channel-major, levels concatenated."""
    out = []
    for l, t, r, b in wins:
        w = fmap[:, :, t:b + 1, l:r + 1]
        out.append(torch.cat([F.adaptive_max_pool2d(w, n).reshape(1, -1)
                              for n in LEVELS], 1))
    return torch.cat(out, 0)


def spp_windows_gather(fmap, wins):
    """The same values as spp_windows, faster, but gradients summed in
    another order (synth.sppm was trained with spp_windows). Levels
    {1, 2, 3} from one 6 x 6 adaptive pool:
    bin i of level n is exactly the union of bins 6i/n .. 6(i+1)/n - 1 of
    level 6 (floor(6i/n * w/6) = floor(i w/n), likewise ceil), so the max
    is the same, and one pool per window is much faster in Python."""
    assert LEVELS == [1, 2, 3]
    # The argmax cells come from a no-grad pass; one gather then carries the
    # gradient (slicing per window would backpropagate a whole-map tensor
    # per window).
    C, H, W = fmap.shape[1:]
    with torch.no_grad():
        idx = []
        for l, t, r, b in wins:
            _, ind = F.adaptive_max_pool2d(fmap[:, :, t:b + 1, l:r + 1], 6,
                                           return_indices=True)
            ww = r - l + 1
            idx.append((t + ind // ww) * W + l + ind % ww)
        idx = torch.cat(idx, 0)                              # R, C, 6, 6
    R = idx.shape[0]
    g = fmap[0].reshape(C, -1).gather(1, idx.permute(1, 0, 2, 3).reshape(C, -1))
    six = g.reshape(C, R, 6, 6).permute(1, 0, 2, 3)
    outs = []
    for n in LEVELS:
        k = 6 // n
        outs.append(six.reshape(R, C, n, k, n, k).amax((3, 5)).reshape(R, -1))
    return torch.cat(outs, 1)


def load_image(d, name):
    return cv2.cvtColor(cv2.imread(os.path.join(d, name), cv2.IMREAD_COLOR),
                        cv2.COLOR_BGR2RGB)


def normalise(img):
    x = (img.astype(np.float32) - np.float32(MEAN)) / np.float32(STD)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def sample(it, rng, n=64, frac_pos=0.25):
    pos = np.nonzero(it["cls"] >= 0)[0]
    hard = np.nonzero((it["cls"] < 0) & (it["iou"] >= 0.1))[0]
    easy = np.nonzero((it["cls"] < 0) & (it["iou"] < 0.1))[0]
    npos = min(len(pos), int(n * frac_pos))
    sel = [rng.choice(pos, npos, replace=False)] if npos else []
    nneg = n - npos
    nh = min(len(hard), nneg // 2)
    if nh:
        sel.append(rng.choice(hard, nh, replace=False))
    ne = min(len(easy), nneg - nh)
    if ne:
        sel.append(rng.choice(easy, ne, replace=False))
    return np.concatenate(sel) if sel else np.zeros(0, np.int64)


def export(net, path, thresholds, desc):
    m = Model()
    m.set("general.name", "synth")
    m.set("general.description", desc)
    m.set("input.order", "RGB")
    m.set("input.mean", MEAN)
    m.set("input.std", STD)
    m.set("input.min_size", 32)
    m.set("spp.levels", LEVELS)
    m.set("spp.stride", STRIDE)
    m.set("spp.offset", 0.0)
    m.set("detect.scales", SCALES)
    m.set("detect.labels", scenes.LABELS)
    m.set("detect.thresholds", [float(t) for t in thresholds])
    m.set("detect.nms", 0.3)
    m.set("detect.feature_scale", 1.0)
    m.set("detect.score_a", 1.0)
    m.set("detect.score_b", 0.0)
    # The proposal settings of the cached training proposals (the
    # library defaults when they were made), pinned.
    m.set("proposals.min_size", 20)
    m.set("proposals.max_boxes", 2000)
    g = lambda t: t.detach().numpy().astype(np.float32)
    x = 0
    convs = iter(net.convs)
    for op, name, _, k, s in TRUNK:
        if op == "conv":
            conv = next(convs)
            x = m.conv(name, x, g(conv.weight), g(conv.bias), stride=s,
                       pad=k // 2, act="relu")
        elif op == "maxpool":
            x = m.maxpool(name, x, k, s, pad=k // 2)
        else:
            x = m.avgpool(name, x, k, s, pad=k // 2)
    for i, fc in enumerate(net.fcs):
        m.fc("fc%d" % (i + 1), g(fc.weight), g(fc.bias), act="relu")
    m.tensor("svm.weight", g(net.cls.weight))
    m.tensor("svm.bias", g(net.cls.bias))
    K = len(scenes.LABELS)
    sd = np.tile(BBOX_STD, K)
    m.tensor("bbox.weight", g(net.reg.weight) * sd[:, None])
    m.tensor("bbox.bias", g(net.reg.bias) * sd)
    return m.write(path)


def evaluate(model_path, d, coco, props, threshold=None):
    m = infer_ref.SppModel(model_path)
    K = len(scenes.LABELS)
    dets = []
    for im in coco["images"]:
        img = load_image(d, im["file_name"])
        for r in infer_ref.detect(m, img, props[im["file_name"]],
                                  None if threshold is None else [threshold] * K):
            dets.append(dict(image_id=im["id"], category_id=r["class"] + 1,
                             score=r["score"], bbox=r["box"]))
    return voc_ap.evaluate(dets, coco)


@torch.no_grad()
def check_export(net, path, d, coco, props):
    """The written file, run by infer_ref, must give the net's scores."""
    m = infer_ref.SppModel(path)
    im = coco["images"][0]
    img = load_image(d, im["file_name"])
    rois = props[im["file_name"]][:300]
    _, raw = infer_ref.detect(m, img, rois, [2.0] * len(scenes.LABELS),
                              with_raw=True)
    W, H = img.shape[1], img.shape[0]
    short = min(W, H)
    ps = []
    for i, s in enumerate(SCALES):
        fmap = net.trunk(normalise(infer_ref.resize_short(img, s)))
        fh, fw = fmap.shape[2:]
        wins = [infer_ref.project(r, s / short, STRIDE, 0.0, fw, fh)
                for r in rois]
        ps.append(spp_windows(fmap, wins))
    p = torch.stack([ps[w][i] for i, w in enumerate(raw["which"])])
    logit, reg = net.head(p)
    conf = torch.sigmoid(logit).numpy()
    reg = reg.numpy() * np.tile(BBOX_STD, len(scenes.LABELS))
    e1 = np.abs(conf - raw["conf"]).max()
    e2 = np.abs(reg - raw["reg"]).max()
    print("export check: max |conf diff| %.2e, max |reg diff| %.2e" % (e1, e2))
    assert e1 < 1e-4 and e2 < 1e-4


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spp", default="build/src/cli/spp")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", default=os.path.join(MODELS, "synth", "synth.sppm"))
    ap.add_argument("--count", type=int, default=800)
    ap.add_argument("--val-count", type=int, default=100)
    ap.add_argument("--iters", type=int, default=5000)
    ap.add_argument("--flip", action="store_true",
                    help="mirror half the images (not used for synth.sppm)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    # One thread: on 2 cores shared with other jobs, 2 threads ran the
    # trunk 7x slower (spinning OpenMP workers).
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()
    d, coco, props = dataset(a.spp, a.work, "train", a.count, a.seed)
    vd, vcoco, vprops = dataset(a.spp, a.work, "val", a.val_count, a.seed)
    items = prepare(coco, props, rng)
    print("data: %d images, %.0f s" % (len(items), time.time() - t0), flush=True)

    K = len(scenes.LABELS)
    net = Net(K)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=a.iters,
                                                pct_start=0.1)
    t1 = time.time()
    ims_per_iter = 1
    run = dict(cls=0.0, reg=0.0, n=0)
    for it in range(a.iters):
        net.train()
        ps, cl, tg = [], [], []
        for j in rng.choice(len(items), ims_per_iter, replace=False):
            item = items[j]
            sel = sample(item, rng, n=128)
            img = load_image(d, item["file"])
            flip = int(a.flip and rng.random() < 0.5)
            if flip:
                img = np.ascontiguousarray(img[:, ::-1])
            for si in range(len(SCALES)):
                idx = sel[item["which"][sel] == si]
                if len(idx) == 0:
                    continue
                fmap = net.trunk(normalise(infer_ref.resize_short(img, SCALES[si])))
                ps.append(spp_windows(fmap, item["wins"][flip, idx]))
                cl.append(item["cls"][idx])
                t = item["tgt"][idx].copy()
                if flip:
                    t[:, 0] = -t[:, 0]
                tg.append(t)
        p = torch.cat(ps, 0)
        cls = torch.from_numpy(np.concatenate(cl))
        tgt = torch.from_numpy(np.concatenate(tg) / BBOX_STD)
        logit, reg = net.head(p)
        onehot = torch.zeros_like(logit)
        pos = cls >= 0
        onehot[pos, cls[pos]] = 1.0
        loss_cls = F.binary_cross_entropy_with_logits(logit, onehot) * K
        if pos.any():
            r = reg.view(-1, K, 4)[pos, cls[pos]]
            loss_reg = F.smooth_l1_loss(r, tgt[pos], beta=1.0)
        else:
            loss_reg = reg.sum() * 0
        loss = loss_cls + loss_reg
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        run["cls"] += float(loss_cls)
        run["reg"] += float(loss_reg)
        run["n"] += 1
        if (it + 1) % 100 == 0:
            print("iter %d  cls %.4f  reg %.4f  lr %.2e  %.0f s" % (
                it + 1, run["cls"] / run["n"], run["reg"] / run["n"],
                sched.get_last_lr()[0], time.time() - t1), flush=True)
            run = dict(cls=0.0, reg=0.0, n=0)
    train_s = time.time() - t1
    net.eval()
    date = datetime.date.today().isoformat()
    desc = ("synthetic-scene test detector (spptools.synth.train, %s): "
            "%d scenes seed %d, SS fast proposals, %d iters x %d image x 128 "
            "windows, Adam, trained end to end from scratch on CPU in %.0f s"
            % (date, a.count, a.seed, a.iters, ims_per_iter, train_s))
    size = export(net, a.out, [0.5] * K, desc)
    check_export(net, a.out, vd, vcoco, vprops)
    ev_m, ev_aps = evaluate(a.out, vd, vcoco, vprops, threshold=0.5)
    print("trained in %.0f s; %s: %d bytes; val mAP@0.5 %.4f %s"
          % (train_s, a.out, size, ev_m,
             " ".join("%s %.3f" % kv for kv in ev_aps.items())))


if __name__ == "__main__":
    main()
