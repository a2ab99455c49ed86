#!/usr/bin/python3
"""Recall of selective search on annotated images: the share of ground
truth boxes (person and vehicle) that some proposal overlaps by IoU >= 0.5
and >= 0.7, with the time and number of proposals per image, for each
setting given. For choosing the proposal defaults on validation images of
several cameras (spptools.dataset build writes the sets).

  PYTHONPATH=models /usr/bin/python3 tests/bench/proposal_recall.py \\
      BUILD SET.json [SET.json ...] \\
      -- "--max 2000" "--max 3000 --min-size 8" ...

Each quoted group is one run of `spp proposals` (its options); images
named "VIDEO#frame=N" are decoded by GStreamer, as spp eval does.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from spptools import voc_ap
from spptools.compare import images_of


def main():
    argv = sys.argv[1:]
    if "--" not in argv or len(argv) < 4:
        sys.exit(__doc__)
    cut = argv.index("--")
    build, sets, settings = argv[0], argv[1:cut], argv[cut + 1:]
    spp = os.path.join(build, "src", "cli", "spp")
    print("| set | setting | recall@0.5 | recall@0.7 | boxes | s/image | proposals/image |")
    print("|---|---|---|---|---|---|---|")
    for s in sets:
        coco = json.load(open(s))
        with tempfile.TemporaryDirectory() as tmp:
            paths = images_of(coco, tmp)
            by_path = {p: i for i, p in paths.items()}
            gt = {}
            for a in coco["annotations"]:
                gt.setdefault(a["image_id"], []).append(a["bbox"])
            for setting in settings:
                out = subprocess.run([spp, "proposals", "--json"] + setting.split()
                                     + sorted(by_path), check=True,
                                     capture_output=True, text=True).stdout
                hit5 = hit7 = n = 0
                secs, counts = [], []
                for line in out.splitlines():
                    o = json.loads(line)
                    boxes = np.asarray(o["boxes"], float).reshape(-1, 4)
                    secs.append(o["seconds"])
                    counts.append(len(boxes))
                    for b in gt.get(by_path[o["image"]], []):
                        best = voc_ap.iou(np.asarray(b, float), boxes).max() \
                            if len(boxes) else 0.0
                        n += 1
                        hit5 += best >= 0.5
                        hit7 += best >= 0.7
                print("| %s | %s | %.3f | %.3f | %d | %.2f | %d |"
                      % (os.path.basename(s), setting, hit5 / max(n, 1),
                         hit7 / max(n, 1), n, np.mean(secs), np.mean(counts)))


if __name__ == "__main__":
    main()
