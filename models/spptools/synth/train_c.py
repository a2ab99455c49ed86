"""The synthetic scenes trained by `spp train`, start to finish.

Generates the scenes (spptools.synth.scenes: train seed 1 x 800, val
seed 1 x 100, held-out test seed 2 x 120) into --work, merges them into
one COCO file with a "split" per image, keeps the conv trunk of
models/synth/synth.sppm (its fc head, SVMs and box regressors are
replaced: `--fc`), runs `spp train`, then `spp eval --split test` on
the held-out scenes. Prints the training time and the held-out mAP@0.5;
exit status 0 when it reaches --min-map.

  PYTHONPATH=models /usr/bin/python3 -m spptools.synth.train_c \\
      --spp build/src/cli/spp --work /tmp/synth-c \\
      --out /tmp/synth-c/ft.sppm --fc 256,128 --finetune-fc 6

`--fc none` trains the SVMs on the pooled SPP vector (no fc layers).
`--cache` keeps the proposals in WORK/cache, so a rerun skips selective
search (the time printed then is not a from-scratch time).
"""
import argparse
import json
import os
import subprocess
import sys
import time

from spptools import MODELS
from spptools.synth import scenes as scene_gen

SPLITS = (("train", 1, 800), ("val", 1, 100), ("test", 2, 120))


def scenes(work):
    coco = None
    for split, seed, count in SPLITS:
        d = os.path.join(work, split)
        ann = os.path.join(d, "annotations.json")
        if not (os.path.exists(ann)
                and len(json.load(open(ann))["images"]) == count):
            scene_gen.generate(split, count, seed, d)
        j = json.load(open(ann))
        if coco is None:
            coco = {"categories": j["categories"], "images": [],
                    "annotations": []}
        # Ids made unique across the splits.
        base = len(coco["images"])
        for im in j["images"]:
            coco["images"].append(dict(im, id=im["id"] + base, split=split,
                                       file_name=split + "/" +
                                       im["file_name"]))
        for a in j["annotations"]:
            coco["annotations"].append(dict(a, id=len(coco["annotations"]),
                                            image_id=a["image_id"] + base))
    path = os.path.join(work, "synth.json")
    json.dump(coco, open(path, "w"))
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spp", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", default=os.path.join(MODELS, "synth", "synth.sppm"),
                    help="the trunk is taken from it")
    ap.add_argument("--fc", default="256,128")
    ap.add_argument("--finetune-fc", type=int, default=6)
    ap.add_argument("--finetune-lr", default="0.01")
    ap.add_argument("--svm-c", default="0.1")
    ap.add_argument("--max-proposals", default="2000")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--cache", action="store_true")
    ap.add_argument("--min-map", type=float, default=0.6)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()
    ann = scenes(a.work)
    t1 = time.time()
    cmd = [a.spp, "train", "--model", a.model, "--annotations", ann,
           "--out", a.out, "--fc", a.fc, "--finetune-fc",
           str(a.finetune_fc), "--finetune-lr", a.finetune_lr,
           "--svm-c", a.svm_c, "--max-proposals", a.max_proposals,
           "--seed", a.seed]
    if a.cache:
        cmd += ["--cache", os.path.join(a.work, "cache")]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    t2 = time.time()
    r = subprocess.run([a.spp, "eval", "--model", a.out, "--split", "test",
                        "--json", ann], check=True, stdout=subprocess.PIPE,
                       universal_newlines=True)
    t3 = time.time()
    e = json.loads(r.stdout)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print("scenes %.0f s, spp train %.0f s, spp eval %.0f s (load average "
          "%s)" % (t1 - t0, t2 - t1, t3 - t2, " ".join(load)))
    print("held-out mAP@0.5 %.3f (%s), mAP@[.5:.95] %.3f" % (
        e["map"], ", ".join("%s %.3f" % (c["label"], c["ap"])
                            for c in e["classes"]), e["map_50_95"]))
    return 0 if e["map"] >= a.min_map else 1


if __name__ == "__main__":
    sys.exit(main())
