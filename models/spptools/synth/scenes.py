"""Procedural detection scenes with exact ground truth.

Three classes of drawn shapes (disc, box, star) with random colours,
gradients, stripes or noise textures, scale roughly 20..200 px and aspect
0.5..2, pasted on crops of real photographs from Debian's opencv-doc
package. Later objects may occlude earlier ones (at most 35% of an
object's visible area). Unlabelled triangles are added as distractors.

Deterministic: image i of (split, seed) is drawn from its own
numpy.random.default_rng([seed, split_id, i]) (PCG64, stable across numpy
versions) and cv2 drawing/resizing, so tests regenerate the held-out
split bit-exactly on the same Debian packages.

  PYTHONPATH=models /usr/bin/python3 -m spptools.synth.scenes --split test \
      --count 120 --seed 2 --out /tmp/synth-test

Writes DIR/NNNNN.png and DIR/annotations.json (COCO: images,
annotations with bbox [x, y, w, h] in pixels, the box covering pixel
columns x .. x+w-1, categories with ids 1..3 in LABELS order).
"""
import argparse
import json
import os

import cv2
import numpy as np

BG_DIR = "/usr/share/doc/opencv-doc/examples/data"
# Backgrounds are split by file, so held-out scenes show unseen photos.
# Left out: pictures of discs, boxes or grids (smarties, box, chessboards,
# sudoku, pic1-6, pca_test1) and near-duplicates of a listed file.
BG_TRAIN = [
    "aero1.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "basketball1.png",
    "board.jpg", "building.jpg", "butterfly.jpg", "fruits.jpg", "graf1.png",
    "home.jpg", "leuvenA.jpg", "messi5.jpg", "rubberwhale1.png",
    "squirrel_cls.jpg", "HappyFish.jpg", "chicky_512.png", "ela_original.jpg",
    "starry_night.jpg",
]
BG_TEST = [
    "box_in_scene.png", "Blender_Suzanne1.jpg", "left.jpg",
    "licenseplate_motion.jpg", "orange.jpg", "stuff.jpg", "text_motion.jpg",
]
LABELS = ["disc", "box", "star"]
WIDTH, HEIGHT = 320, 240
SPLIT_ID = {"train": 0, "val": 1, "test": 2}
SS = 4          # supersampling factor for anti-aliased masks

_bg_cache = {}


def _background(rng, files):
    name = files[rng.integers(len(files))]
    if name not in _bg_cache:
        im = cv2.imread(os.path.join(BG_DIR, name), cv2.IMREAD_COLOR)
        if im is None:
            raise SystemExit("missing background %s (apt install opencv-doc)"
                             % os.path.join(BG_DIR, name))
        _bg_cache[name] = cv2.cvtColor(im, cv2.COLOR_BGR2RGB)
    im = _bg_cache[name]
    h, w = im.shape[:2]
    # A 4:3 crop covering 35..100% of the largest 4:3 window.
    cw_max = min(w, h * 4 // 3)
    cw = int(round(cw_max * rng.uniform(0.35, 1.0)))
    ch = cw * 3 // 4
    x0 = int(rng.integers(0, w - cw + 1))
    y0 = int(rng.integers(0, h - ch + 1))
    crop = im[y0:y0 + ch, x0:x0 + cw]
    interp = cv2.INTER_AREA if cw >= WIDTH else cv2.INTER_LINEAR
    out = cv2.resize(crop, (WIDTH, HEIGHT), interpolation=interp)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    gain = rng.uniform(0.7, 1.2)
    return np.clip(out.astype(np.float32) * gain + rng.uniform(-20, 20), 0, 255)


def _colour(rng):
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(60, 256),
                      rng.integers(60, 256)]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _shape_mask(rng, kind, w, h):
    """Anti-aliased alpha in [0, 1] of shape `kind` filling a w x h patch."""
    W, H = w * SS, h * SS
    m = np.zeros((H, W), np.uint8)
    if kind == "disc":
        cv2.ellipse(m, (((W - 1) / 2.0, (H - 1) / 2.0), (W - 1.0, H - 1.0),
                        0.0), 255, -1, cv2.LINE_8)
    else:
        if kind == "box":
            pts = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64)
            ang = np.deg2rad(rng.uniform(-12, 12))
        elif kind == "star":
            n = int(rng.integers(5, 8))
            inner = rng.uniform(0.38, 0.55)
            a0 = rng.uniform(0, 2 * np.pi)
            a = a0 + np.arange(2 * n) * np.pi / n
            r = np.where(np.arange(2 * n) % 2 == 0, 1.0, inner)
            pts = np.stack([r * np.cos(a), r * np.sin(a)], 1)
            ang = 0.0
        else:   # triangle distractor
            a = rng.uniform(0, 2 * np.pi) + np.arange(3) * 2 * np.pi / 3
            pts = np.stack([np.cos(a), np.sin(a)], 1)
            ang = 0.0
        c, s = np.cos(ang), np.sin(ang)
        pts = pts @ np.array([[c, s], [-s, c]])
        lo, hi = pts.min(0), pts.max(0)
        pts = (pts - lo) / (hi - lo) * [W - 1, H - 1]
        cv2.fillPoly(m, [np.round(pts * 16).astype(np.int32)], 255,
                     cv2.LINE_8, shift=4)
    a = cv2.resize(m.astype(np.float32) / 255.0, (w, h),
                   interpolation=cv2.INTER_AREA)
    return a


def _texture(rng, w, h):
    """RGB float patch: flat, gradient, stripes or smooth noise."""
    c1, c2 = _colour(rng), _colour(rng)
    kind = rng.integers(4)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == 0:
        t = np.zeros((h, w), np.float32)
    elif kind == 1:
        ang = rng.uniform(0, 2 * np.pi)
        t = xx * np.cos(ang) + yy * np.sin(ang)
        t = (t - t.min()) / max(float(np.ptp(t)), 1.0)
    elif kind == 2:
        ang = rng.uniform(0, np.pi)
        period = rng.uniform(4, 16)
        t = 0.5 + 0.5 * np.sin((xx * np.cos(ang) + yy * np.sin(ang))
                               * 2 * np.pi / period)
    else:
        g = rng.random((max(h // 6, 2), max(w // 6, 2))).astype(np.float32)
        t = cv2.resize(g, (w, h), interpolation=cv2.INTER_LINEAR)
    return c1 * (1 - t[..., None]) + c2 * t[..., None]


def make_scene(rng, split):
    files = BG_TEST if split == "test" else BG_TRAIN
    img = _background(rng, files)
    n_obj = int(rng.integers(1, 5))
    vis = []        # per placed labelled object: visible mask
    objs = []
    kinds = [LABELS[rng.integers(3)] for _ in range(n_obj)]
    if rng.random() < 0.35:
        kinds.insert(int(rng.integers(len(kinds) + 1)), "triangle")
    for kind in kinds:
        for _ in range(40):
            size = np.exp(rng.uniform(np.log(20), np.log(200)))
            ar = np.exp(rng.uniform(np.log(0.5), np.log(2.0)))
            w = int(round(min(size * np.sqrt(ar), WIDTH - 4)))
            h = int(round(min(size / np.sqrt(ar), HEIGHT - 4)))
            x = int(rng.integers(0, WIDTH - w + 1))
            y = int(rng.integers(0, HEIGHT - h + 1))
            a = _shape_mask(rng, kind, w, h)
            full = np.zeros((HEIGHT, WIDTH), np.float32)
            full[y:y + h, x:x + w] = a
            ok = all(float((v * full).sum()) <= 0.35 * float(v.sum())
                     for v in vis)
            if ok:
                break
        else:
            continue
        tex = _texture(rng, w, h)
        if rng.random() < 0.4:   # darker rim
            rim = a - cv2.erode(a, np.ones((3, 3), np.uint8),
                                iterations=int(rng.integers(1, 3)))
            tex = tex * (1 - 0.6 * rim[..., None])
        patch = img[y:y + h, x:x + w]
        img[y:y + h, x:x + w] = patch * (1 - a[..., None]) + tex * a[..., None]
        vis = [v * (1 - full) for v in vis]
        if kind == "triangle":
            continue
        vis.append(full)
        ys, xs = np.nonzero(a >= 0.5)
        objs.append(dict(label=kind,
                         bbox=[x + int(xs.min()), y + int(ys.min()),
                               int(xs.max() - xs.min()) + 1,
                               int(ys.max() - ys.min()) + 1]))
    sigma = rng.uniform(0, 4)
    img = img + rng.standard_normal(img.shape).astype(np.float32) * sigma
    if rng.random() < 0.2:
        img = cv2.GaussianBlur(img, (3, 3), 0.8)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), objs


def generate(split, count, seed, out):
    os.makedirs(out, exist_ok=True)
    coco = dict(images=[], annotations=[],
                categories=[dict(id=i + 1, name=n) for i, n in enumerate(LABELS)])
    for i in range(count):
        rng = np.random.default_rng([seed, SPLIT_ID[split], i])
        img, objs = make_scene(rng, split)
        name = "%05d.png" % i
        cv2.imwrite(os.path.join(out, name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        coco["images"].append(dict(id=i, file_name=name, width=WIDTH,
                                   height=HEIGHT))
        for o in objs:
            x, y, w, h = o["bbox"]
            coco["annotations"].append(dict(
                id=len(coco["annotations"]) + 1, image_id=i,
                category_id=LABELS.index(o["label"]) + 1, bbox=[x, y, w, h],
                area=w * h, iscrowd=0))
    with open(os.path.join(out, "annotations.json"), "w") as f:
        json.dump(coco, f, indent=0)
    return coco


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=sorted(SPLIT_ID), required=True,
                    help="train/val use the training backgrounds, test the "
                    "held-out ones")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    coco = generate(a.split, a.count, a.seed, a.out)
    print("%d images, %d objects -> %s" % (len(coco["images"]),
                                           len(coco["annotations"]), a.out))


if __name__ == "__main__":
    main()
