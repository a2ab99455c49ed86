"""Render vtest.avi frames with teacher labels to PNG for review.

Usage (Debian's python3, needs cv2):
  PYTHONPATH=models /usr/bin/python3 -m spptools.teacher.draw_labels
      [--labels models/data/vtest-teacher.json]
      [--raw models/teacher/cache/raw-dets.json --raw-thr 0.3] [--out /tmp/teacher-review]
      FRAME [FRAME ...]

Green = person, orange = vehicle (COCO labels, with score). With --raw, the
cached pre-threshold teacher detections (all COCO classes, score >= --raw-thr)
are drawn too, thin and grey-blue, labelled with the COCO class index.
"""
import argparse
import json
import os

import cv2

from spptools import MODELS

VIDEO = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
COLORS = {1: (0, 200, 0), 2: (0, 140, 255)}
NAMES = {1: "person", 2: "vehicle"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", default=os.path.join(MODELS, "data", "vtest-teacher.json"))
    ap.add_argument("--raw", default=None)
    ap.add_argument("--raw-thr", type=float, default=0.3)
    ap.add_argument("--out", default="/tmp/teacher-review")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("frames", type=int, nargs="+")
    a = ap.parse_args()

    coco = json.load(open(a.labels))
    by_img = {}
    for ann in coco["annotations"]:
        by_img.setdefault(ann["image_id"], []).append(ann)
    raw = {}
    if a.raw:
        for f in json.load(open(a.raw))["frames"]:
            raw[f["frame"]] = f["dets"]

    os.makedirs(a.out, exist_ok=True)
    cap = cv2.VideoCapture(VIDEO)
    want = set(a.frames)
    idx = 0
    while want:
        ok, img = cap.read()
        if not ok:
            break
        if idx in want:
            want.discard(idx)
            for d in raw.get(idx, []):
                if d["score"] < a.raw_thr:
                    continue
                x1, y1, x2, y2 = [int(round(v)) for v in d["box"]]
                cv2.rectangle(img, (x1, y1), (x2, y2), (200, 120, 60), 1)
                cv2.putText(img, "%d:%.2f" % (d["cls"], d["score"]), (x1, y2 + 10),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.3, (200, 120, 60), 1)
            for ann in by_img.get(idx, []):
                x, y, w, h = ann["bbox"]
                c = COLORS[ann["category_id"]]
                cv2.rectangle(img, (int(round(x)), int(round(y))),
                              (int(round(x + w)), int(round(y + h))), c, 2)
                cv2.putText(img, "%s %.2f" % (NAMES[ann["category_id"]], ann.get("score", 1)),
                            (int(x), max(10, int(y) - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, c, 1)
            cv2.putText(img, "frame %d" % idx, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 2)
            if a.scale != 1.0:
                img = cv2.resize(img, None, fx=a.scale, fy=a.scale, interpolation=cv2.INTER_AREA)
            p = os.path.join(a.out, "frame%06d.png" % idx)
            cv2.imwrite(p, img)
            print(p)
        idx += 1


if __name__ == "__main__":
    main()
