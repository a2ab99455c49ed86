"""End-to-end check of the C detector on the held-out synthetic scenes.

Regenerates the held-out split (spptools.synth.scenes --split test,
seed 2, 120 images; background photos never seen in training) into a
temporary directory, runs `spp detect --json --model MODEL` on it (no
shell), and prints the VOC mAP@0.5 (spptools.voc_ap). Exit status 0 when
the mAP is at least --min-map, 1 when below, 2 on a usage or run error,
77 (meson's skip) when spp was built without GStreamer.

With --ref it also runs the Python reference (spptools.synth.infer_ref)
on the proposals of `spp proposals` from the same binary and lists where
the two disagree, to tell C bugs from model errors.

  PYTHONPATH=models /usr/bin/python3 -m spptools.synth.eval_c \
      --spp build/src/cli/spp --model models/synth/synth.sppm --min-map 0.7
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from spptools import MODELS, voc_ap
from spptools.synth import scenes


class SkipTest(Exception):
    pass


def run_detect(spp, model, images, threshold):
    cmd = [spp, "detect", "--json", "--model", model]
    if threshold is not None:
        cmd += ["--threshold", repr(threshold)]
    r = subprocess.run(cmd + images, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if "without GStreamer" in r.stderr:
        raise SkipTest(r.stderr.strip())
    if r.returncode != 0:
        raise subprocess.CalledProcessError(r.returncode, cmd[:2], r.stdout,
                                            r.stderr)
    out = {}
    for line in r.stdout.splitlines():
        if line.strip():
            o = json.loads(line)
            out[o["image"]] = o
    return out


def run_ref(spp, model, images, threshold, like_c):
    import cv2
    import numpy as np
    import torch
    from spptools.synth import infer_ref
    torch.set_num_threads(1)
    r = subprocess.run([spp, "proposals", "--mode", "fast", "--max", "2000",
                        "--json"] + images, stdout=subprocess.PIPE, check=True,
                       universal_newlines=True)
    props = {}
    for line in r.stdout.splitlines():
        if line.strip():
            o = json.loads(line)
            props[o["image"]] = np.asarray(o["boxes"], np.float64).reshape(-1, 4)
    m = infer_ref.SppModel(model)
    K = len(m.get("detect.labels"))
    th = None if threshold is None else [threshold] * K
    out = {}
    for path in images:
        img = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        out[path] = infer_ref.detect(m, img, props[path], th, like_c=like_c)
    return out


def compare(c_out, ref_out, coco_images, limit=10):
    """Prints the detections that only one side has (same class, IoU >=
    0.9 counts as the same box), or whose confidence differs by > 0.02."""
    import numpy as np
    n_diff = 0
    lines = []
    for path, ref in ref_out.items():
        cd = [(d["label_id"], d["confidence"], [d["x"], d["y"], d["w"], d["h"]])
              for d in c_out.get(path, {}).get("detections", [])]
        rd = [(d["class"], d["score"], d["box"]) for d in ref]
        used = set()
        for k, s, b in rd:
            best, bi = 0.0, -1
            for j, (k2, s2, b2) in enumerate(cd):
                if k2 == k and j not in used:
                    v = float(voc_ap.iou(np.asarray(b, float), [b2])[0])
                    if v > best:
                        best, bi = v, j
            if best >= 0.9:
                used.add(bi)
                if abs(cd[bi][1] - s) > 0.02:
                    n_diff += 1
                    lines.append("%s: class %d conf ref %.3f C %.3f, box ref %s "
                                 "C %s" % (os.path.basename(path), k, s,
                                           cd[bi][1], fmt(b), fmt(cd[bi][2])))
            else:
                n_diff += 1
                lines.append("%s: class %d %.3f %s only in the reference "
                             "(best C IoU %.2f)" % (os.path.basename(path), k,
                                                    s, fmt(b), best))
        for j, (k, s, b) in enumerate(cd):
            if j not in used:
                n_diff += 1
                lines.append("%s: class %d %.3f %s only in C"
                             % (os.path.basename(path), k, s, fmt(b)))
    for l in lines[:limit]:
        print("  " + l)
    if len(lines) > limit:
        print("  ... %d more" % (len(lines) - limit))
    return n_diff


def fmt(b):
    return "[%.1f, %.1f, %.1f, %.1f]" % tuple(b)


def to_coco_dets(per_image, index, c_side):
    dets = []
    for path, v in per_image.items():
        if c_side:
            for d in v.get("detections", []):
                dets.append(dict(image_id=index[path],
                                 category_id=d["label_id"] + 1,
                                 score=d["confidence"],
                                 bbox=[d["x"], d["y"], d["w"], d["h"]]))
        else:
            for d in v:
                dets.append(dict(image_id=index[path], category_id=d["class"] + 1,
                                 score=d["score"], bbox=d["box"]))
    return dets


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spp", default="build/src/cli/spp",
                    help="the spp program (built with GStreamer)")
    ap.add_argument("--model", default=os.path.join(MODELS, "synth", "synth.sppm"))
    ap.add_argument("--count", type=int, default=120)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--threshold", type=float, default=None,
                    help="one confidence threshold for all classes "
                    "(default: the model's)")
    ap.add_argument("--min-map", type=float, default=0.0)
    ap.add_argument("--ref", action="store_true",
                    help="also run spptools.synth.infer_ref and compare")
    ap.add_argument("--like-c", action="store_true",
                    help="with --ref: resize and scale boxes exactly as the C "
                    "library does (else cv2 and the s / min(W, H) rule)")
    ap.add_argument("--keep", metavar="DIR",
                    help="write the scenes here and keep them")
    a = ap.parse_args()
    if not os.path.exists(a.spp) or not os.path.exists(a.model):
        print("eval_c: missing %s" % (a.spp if not os.path.exists(a.spp)
                                      else a.model), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="synth-test-") as tmp:
        d = a.keep or tmp
        coco = scenes.generate("test", a.count, a.seed, d)
        images = [os.path.join(d, im["file_name"]) for im in coco["images"]]
        index = {p: im["id"] for p, im in zip(images, coco["images"])}
        try:
            c_out = run_detect(a.spp, a.model, images, a.threshold)
        except SkipTest as e:
            print("eval_c: skipped: %s" % e, file=sys.stderr)
            return 77
        except subprocess.CalledProcessError as e:
            print("eval_c: spp detect failed (%d): %s" % (e.returncode,
                                                         e.stderr), file=sys.stderr)
            return 2
        except (OSError, ValueError) as e:
            print("eval_c: spp detect failed: %s" % e, file=sys.stderr)
            return 2
        if len(c_out) != len(images):
            print("eval_c: spp detect answered for %d of %d images"
                  % (len(c_out), len(images)), file=sys.stderr)
            return 2
        secs = sum(o.get("seconds", 0) for o in c_out.values())
        m, aps = voc_ap.evaluate(to_coco_dets(c_out, index, True), coco)
        n_det = sum(len(o["detections"]) for o in c_out.values())
        print("C detector: %d images, %d objects, %d detections, %.3f s/image"
              % (len(images), len(coco["annotations"]), n_det,
                 secs / len(images)))
        print("C mAP@0.5 %.4f  (%s)" % (m, ", ".join(
            "%s %.3f" % kv for kv in aps.items())))
        if a.ref:
            ref = run_ref(a.spp, a.model, images, a.threshold, a.like_c)
            rm, raps = voc_ap.evaluate(to_coco_dets(ref, index, False), coco)
            print("Python reference mAP@0.5 %.4f  (%s)" % (rm, ", ".join(
                "%s %.3f" % kv for kv in raps.items())))
            n = compare(c_out, ref, coco["images"])
            print("%d detections differ between C and the reference" % n)
    ok = m >= a.min_map
    print("%s: mAP %.4f %s %.4f" % ("PASS" if ok else "FAIL", m,
                                    ">=" if ok else "<", a.min_map))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
