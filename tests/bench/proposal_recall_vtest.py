#!/usr/bin/python3
"""Person recall of selective search on held-out vtest.avi frames against
the teacher labels (models/data/vtest-teacher.json), for choosing the
proposal settings of a surveillance model. Frames 480, 496, ... 784 (20).
  /usr/bin/python3 tests/bench/proposal_recall_vtest.py BUILD [spp proposals options]
e.g.  ... build --max 1000        (selective search's own min size, 20)
      ... build --max 2000 --min-size 10"""
import json
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models", "synth"))
import voc_ap  # noqa: E402

build, args = sys.argv[1], sys.argv[2:]
coco = json.load(open(os.path.join(ROOT, "models", "data", "vtest-teacher.json")))
frames = list(range(480, 795, 16))
tmp = tempfile.mkdtemp()
cap = cv2.VideoCapture("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
paths, i = {}, 0
while True:
    ok, f = cap.read()
    if not ok:
        break
    if i in frames:
        p = os.path.join(tmp, "%04d.png" % i)
        cv2.imwrite(p, f)
        paths[p] = i
    i += 1
out = subprocess.run([os.path.join(build, "src", "cli", "spp"), "proposals", "--json"] + args
                     + sorted(paths), check=True, capture_output=True, text=True).stdout
hit5 = hit7 = n = 0
secs, counts = [], []
for line in out.splitlines():
    o = json.loads(line)
    boxes = np.asarray(o["boxes"], float).reshape(-1, 4)
    secs.append(o["seconds"])
    counts.append(len(boxes))
    for a in coco["annotations"]:
        if a["image_id"] == paths[o["image"]] and a["category_id"] == 1:
            best = voc_ap.iou(np.asarray(a["bbox"], float), boxes).max() if len(boxes) else 0
            n += 1
            hit5 += best >= 0.5
            hit7 += best >= 0.7
print("%s: person recall@0.5 %.3f, @0.7 %.3f over %d boxes; %.2f s/frame, %d proposals/frame"
      % (" ".join(args) or "defaults", hit5 / n, hit7 / n, n, np.mean(secs), np.mean(counts)))
