"""Person AP@0.5 and AP@0.75 of several detectors on one or more COCO
sets, in one table: models (`spp detect`, every detection), OpenCV's HOG
people detector, and the teacher (whose output the labels are, so it
scores 1 on them by construction: the row says how far the others are
from the teacher, not how good the teacher is).

  PYTHONPATH=models /usr/bin/python3 -m spptools.compare [--spp build/src/cli/spp]
      --model NAME=FILE [--model NAME=FILE ...] SET.json [SET.json ...]

Sets are COCO JSON with absolute file names (spptools.dataset build
writes them: out/trainset/test-photos.json, heldout-vtest.json, ...);
"VIDEO#frame=N" names are decoded by GStreamer, as `spp eval` and the
element decode them. HOG: cv2.HOGDescriptor_getDefaultPeopleDetector on
the image enlarged so that its shorter side is 1152 px (vtest's people
are too small for its 64x128 window otherwise), each window shrunk to the
person inside it as OpenCV's peopledetect sample does, NMS at IoU 0.3.
AP: spptools.voc_ap (VOC devkit matching, all-point).
"""
import argparse
import json
import os
import subprocess
import tempfile

import cv2
import numpy as np

from spptools import ROOT, voc_ap


def nms(boxes, scores, thr=0.3):
    order = list(np.argsort(-np.asarray(scores)))
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        order = [j for j in order
                 if voc_ap.iou(np.asarray(boxes[i], float), [boxes[j]])[0] <= thr]
    return keep


def images_of(coco, tmp):
    """{image id: path of a still image} (video frames written as PNG)."""
    paths, videos = {}, {}
    for im in coco["images"]:
        name = im["file_name"]
        if "#frame=" in name:
            v, f = name.split("#frame=")
            videos.setdefault(v, {})[int(f)] = im
        else:
            paths[im["id"]] = name
    for v, want in videos.items():
        W, H = next(iter(want.values()))["width"], next(iter(want.values()))["height"]
        dec = subprocess.Popen(
            ["gst-launch-1.0", "-q", "filesrc", "location=" + v, "!", "decodebin",
             "!", "videoconvert", "!", "video/x-raw,format=BGR", "!", "fdsink"],
            stdout=subprocess.PIPE)
        i = 0
        while True:
            buf = dec.stdout.read(W * H * 3)
            if len(buf) < W * H * 3:
                break
            if i in want:
                p = os.path.join(tmp, "%s-%06d.png" % (os.path.basename(v), i))
                cv2.imwrite(p, np.frombuffer(buf, np.uint8).reshape(H, W, 3))
                paths[want[i]["id"]] = p
            i += 1
        dec.wait()
    return paths


def hog_detect(paths, person):
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    dets = []
    for iid, p in paths.items():
        bgr = cv2.imread(p, cv2.IMREAD_COLOR)
        f = 1152 / min(bgr.shape[:2])
        big = cv2.resize(bgr, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR)
        rects, weights = hog.detectMultiScale(big, hitThreshold=-0.5, winStride=(8, 8),
                                              padding=(8, 8), scale=1.05)
        boxes = [[(x + 0.1 * w) / f, (y + 0.07 * h) / f, 0.8 * w / f, 0.8 * h / f]
                 for x, y, w, h in rects]
        scores = [float(np.ravel(w)[0]) for w in weights]
        for k in nms(boxes, scores):
            dets.append(dict(image_id=iid, category_id=person, score=scores[k],
                             bbox=boxes[k]))
    return dets


def spp_detect(spp, model, paths, person):
    by_path = {p: i for i, p in paths.items()}
    out = subprocess.run([spp, "detect", "--json", "--threshold", "0",
                          "--max-detections", "200", "--model", model]
                         + sorted(by_path), check=True, capture_output=True,
                         text=True).stdout
    dets = []
    for line in out.splitlines():
        o = json.loads(line)
        for d in o["detections"]:
            if d["label"] == "person":
                dets.append(dict(image_id=by_path[o["image"]], category_id=person,
                                 score=d["confidence"],
                                 bbox=[d["x"], d["y"], d["w"], d["h"]]))
    return dets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spp", default=os.path.join(ROOT, "build", "src", "cli", "spp"))
    ap.add_argument("--model", action="append", required=True, help="NAME=FILE")
    ap.add_argument("--no-hog", action="store_true")
    ap.add_argument("sets", nargs="+")
    a = ap.parse_args()
    rows = {}
    names = []
    for s in a.sets:
        coco = json.load(open(s))
        person = [c["id"] for c in coco["categories"] if c["name"] == "person"][0]
        sub = dict(images=coco["images"], categories=[c for c in coco["categories"]
                                                      if c["id"] == person],
                   annotations=[x for x in coco["annotations"]
                                if x["category_id"] == person])
        label = "%s (%d images, %d people)" % (os.path.basename(s).rsplit(".", 1)[0],
                                               len(sub["images"]), len(sub["annotations"]))
        names.append(label)
        with tempfile.TemporaryDirectory() as tmp:
            paths = images_of(coco, tmp)
            dets = {}
            for m in a.model:
                n, f = m.split("=", 1)
                dets[n] = spp_detect(a.spp, f, paths, person)
            if not a.no_hog:
                dets["OpenCV HOG"] = hog_detect(paths, person)
            dets["teacher (the labels)"] = [dict(x, score=x.get("score", 1.0))
                                            for x in sub["annotations"]]
        for n, d in dets.items():
            rows.setdefault(n, {})[label] = (voc_ap.evaluate(d, sub, 0.5)[0],
                                             voc_ap.evaluate(d, sub, 0.75)[0])
    print("| detector | " + " | ".join(f"{n} AP@0.5 | AP@0.75" for n in names) + " |")
    print("|---|" + "---|---|" * len(names))
    for n, r in rows.items():
        print(f"| {n} | " + " | ".join("%.3f | %.3f" % r[x] for x in names) + " |")


if __name__ == "__main__":
    main()
