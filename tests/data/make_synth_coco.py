#!/usr/bin/python3
"""Synthetic detection data for tests/e2e/test_train_cli.py:

  make_synth_coco.py OUTDIR [N_IMAGES] [SEED]

Writes OUTDIR/img-NNN.png (160x120, grey noise with 1-3 red or blue
rectangles, 22-60 px, plus grey distractor rectangles) and
OUTDIR/annotations.json (COCO; categories "red" and "blue"; each image's
"split" is train, val or test in a fixed 50/20/30 pattern). PNGs are
written with zlib, no imaging library needed."""
import json
import os
import struct
import sys
import zlib

import numpy as np

COLOURS = {1: (220, 40, 40), 2: (40, 60, 220)}


def write_png(path, rgb):
    h, w, _ = rgb.shape
    raw = b"".join(b"\0" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(
        ">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(
        b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def overlaps(b, boxes):
    x, y, w, h = b
    for (x2, y2, w2, h2) in boxes:
        if x < x2 + w2 + 4 and x2 < x + w + 4 and y < y2 + h2 + 4 and \
                y2 < y + h + 4:
            return True
    return False


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rs = np.random.RandomState(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    os.makedirs(out, exist_ok=True)
    W, H = 160, 120
    images, anns = [], []
    pattern = ["train"] * 5 + ["val"] * 2 + ["test"] * 3
    for i in range(n):
        img = np.clip(rs.normal(128, 25, (H, W, 3)), 0, 255)
        boxes = []
        for _ in range(rs.randint(1, 4)):
            for _try in range(20):
                w, h = rs.randint(22, 61), rs.randint(22, 61)
                x, y = rs.randint(0, W - w), rs.randint(0, H - h)
                if not overlaps((x, y, w, h), [b[:4] for b in boxes]):
                    boxes.append((x, y, w, h, rs.randint(1, 3)))
                    break
        for _ in range(rs.randint(0, 3)):
            w, h = rs.randint(15, 40), rs.randint(15, 40)
            x, y = rs.randint(0, W - w), rs.randint(0, H - h)
            if not overlaps((x, y, w, h), [b[:4] for b in boxes]):
                g = rs.randint(40, 220)
                img[y:y + h, x:x + w] = g + rs.normal(0, 8, (h, w, 3))
        for (x, y, w, h, c) in boxes:
            img[y:y + h, x:x + w] = np.array(COLOURS[c]) + \
                rs.normal(0, 10, (h, w, 3))
            anns.append({"id": len(anns) + 1, "image_id": i + 1,
                         "category_id": int(c),
                         "bbox": [int(x), int(y), int(w), int(h)],
                         "area": int(w * h), "iscrowd": 0})
        name = "img-%03d.png" % i
        write_png(os.path.join(out, name),
                  np.clip(img, 0, 255).astype(np.uint8))
        images.append({"id": i + 1, "file_name": name, "width": W,
                       "height": H, "split": pattern[i % len(pattern)]})
    coco = {"images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "red"},
                           {"id": 2, "name": "blue"}]}
    with open(os.path.join(out, "annotations.json"), "w") as f:
        json.dump(coco, f, indent=1)


if __name__ == "__main__":
    main()
