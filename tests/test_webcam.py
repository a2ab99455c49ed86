#!/usr/bin/python3
"""The default model on people close to the lens, as a webcam sees them:
each photo goes through a real pipeline (filesrc ! decodebin ! videoconvert
! imagefreeze ! sppdetect ! sppjsonlog ! fakesink) with the element's
default settings, and a person box must overlap the hand-drawn box of the
person by IoU >= 0.5 on every frame.

  test_webcam.py PLUGIN_DIR REGISTRY MODEL

The photos are split "suite" in models/data/sources.json: they train and
choose nothing, so this test is not a training-set check. They come from
Debian packages unpacked by .ci/install-deps.sh (python3-skimage and
python-matplotlib-data, under /opt/spp-testdata); the boxes were drawn by
hand on the photos (x, y, w, h in pixels).
"""
import json
import os
import subprocess
import sys
import tempfile

DATA = os.environ.get("SPP_TESTDATA", "/opt/spp-testdata")
CASES = [
    # Grace Hopper, head and shoulders, the shoulders leave the frame at
    # the bottom (512x600).
    ("usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
     (15, 22, 497, 578)),
    # An astronaut, head to waist, a helmet held in front (512x512).
    ("usr/lib/python3/dist-packages/skimage/data/astronaut.png",
     (20, 15, 345, 497)),
]
FRAMES = 3


def iou(a, b):
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def main():
    plugins, registry, model = sys.argv[1:4]
    env = dict(os.environ, GST_PLUGIN_PATH=plugins, GST_REGISTRY=registry)
    failures = []
    for rel, truth in CASES:
        path = os.path.join(DATA, rel)
        if not os.path.exists(path):
            sys.exit(f"{path}: missing (bash .ci/install-deps.sh unpacks it)")
        with tempfile.TemporaryDirectory(prefix="sppwebcam-") as tmp:
            log = os.path.join(tmp, "out.jsonl")
            argv = ["gst-launch-1.0", "-q", "filesrc", f"location={path}", "!",
                    "decodebin", "!", "videoconvert", "!", "imagefreeze",
                    f"num-buffers={FRAMES}", "!", "sppdetect", f"model={model}",
                    "!", "sppjsonlog", f"location={log}", "!", "fakesink"]
            r = subprocess.run(argv, env=env, capture_output=True, text=True,
                               timeout=120)
            if r.returncode != 0:
                sys.exit(f"{' '.join(argv)}: exit {r.returncode}\n{r.stderr}")
            lines = open(log).read().splitlines()
        if len(lines) != FRAMES:
            sys.exit(f"{path}: {len(lines)} JSON lines for {FRAMES} frames")
        for n, line in enumerate(lines):
            people = [(o["x"], o["y"], o["w"], o["h"], o["detection"]["confidence"])
                      for o in json.loads(line)["objects"]
                      if o["roi_type"] == "person"]
            best = max((iou(p[:4], truth) for p in people), default=0.0)
            print(f"{os.path.basename(path)} frame {n}: {len(people)} people, "
                  f"best IoU {best:.2f} with the hand-drawn box; "
                  + ", ".join("%d,%d,%d,%d@%.2f" % p for p in people))
            if best < 0.5:
                failures.append(f"{os.path.basename(path)} frame {n}")
    if failures:
        sys.exit("person not found: " + ", ".join(failures))
    print(f"{len(CASES)} photos, {FRAMES} frames each: the person found in every frame")


if __name__ == "__main__":
    main()
