"""Contact sheets of a COCO JSON's boxes, for reviewing teacher labels by
eye: every image as a thumbnail with its boxes (green person, blue
vehicle, the score beside each), 4 x 4 per PNG.

  PYTHONPATH=models /usr/bin/python3 -m spptools.teacher.contact_sheet \
      models/data/photos-teacher.json [--out /tmp/sheets] [--split val] [--root .]
"""
import argparse
import json
import os

import cv2
import numpy as np

TILE = 320
COLOURS = {1: (0, 200, 0), 2: (255, 80, 0)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("coco")
    ap.add_argument("--out", default="/tmp/sheets")
    ap.add_argument("--split")
    ap.add_argument("--root", default=".")
    a = ap.parse_args()
    with open(a.coco) as f:
        coco = json.load(f)
    by = {}
    for x in coco["annotations"]:
        by.setdefault(x["image_id"], []).append(x)
    ims = [im for im in coco["images"] if a.split in (None, im.get("split"))]
    os.makedirs(a.out, exist_ok=True)
    for s in range(0, len(ims), 16):
        sheet = np.zeros((4 * TILE, 4 * TILE, 3), np.uint8)
        for k, im in enumerate(ims[s:s + 16]):
            path = im["file_name"]
            if not os.path.isabs(path):
                path = os.path.join(a.root, path)
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            f = TILE / max(img.shape[:2])
            img = cv2.resize(img, (int(img.shape[1] * f), int(img.shape[0] * f)))
            for x in by.get(im["id"], []):
                bx, by_, bw, bh = [v * f for v in x["bbox"]]
                c = COLOURS.get(x["category_id"], (0, 0, 255))
                cv2.rectangle(img, (int(bx), int(by_)), (int(bx + bw), int(by_ + bh)), c, 2)
                cv2.putText(img, "%.2f" % x.get("score", 1), (int(bx) + 2, int(by_) + 12),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.4, c, 1)
            cv2.putText(img, "%d %s" % (im["id"], os.path.basename(path)[:28]), (2, TILE - 6),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 255), 1)
            r, c = divmod(k, 4)
            sheet[r * TILE:r * TILE + img.shape[0], c * TILE:c * TILE + img.shape[1]] = img
        name = os.path.join(a.out, "sheet-%03d.png" % (s // 16))
        cv2.imwrite(name, sheet)
        print(name)


if __name__ == "__main__":
    main()
