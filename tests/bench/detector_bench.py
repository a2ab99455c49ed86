#!/usr/bin/python3
"""SPP-net detector timing on a real 768x576 frame (vtest.avi frame 100)
with 2000 selective-search proposals: 1 scale vs 5 scales, stage by stage,
and R-CNN mode (a window at a time) on the same frame and proposals, with
the ZF-5 network (random weights: timing does not depend on them).
  PYTHONPATH=models /usr/bin/python3 tests/bench/detector_bench.py [BUILD_DIR] [RCNN_WINDOWS]
(tests/vectors/make_zf5.py, which it runs, imports spptools)."""
import os
import subprocess
import sys

import cv2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
rcnn_n = sys.argv[2] if len(sys.argv) > 2 else "100"
outdir = os.path.join(build, "tests", "bench")
model = os.path.join(outdir, "zf5-svm.sppm")
if not os.path.exists(model):
    subprocess.check_call(["/usr/bin/python3", os.path.join(ROOT, "tests", "vectors", "make_zf5.py"),
                           model, "7", "--head", "--svm"])
cap = cv2.VideoCapture("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
cap.set(cv2.CAP_PROP_POS_FRAMES, 100)
ok, bgr = cap.read()
assert ok, "cannot read vtest.avi"
frame = os.path.join(outdir, "vtest-100.rgb")
cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).tofile(frame)
h, w = bgr.shape[:2]
cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
print("CPU: %s, %d cores; frame %dx%d" % (cpu, os.cpu_count(), w, h))
out = subprocess.run([os.path.join(outdir, "detector-bench"), model, frame, str(w), str(h), rcnn_n],
                     check=True, capture_output=True, text=True).stdout
v = {}
for line in out.splitlines():
    k, x = line.split(" ", 1)
    v[k] = x
print("proposals: %s in %s ms" % (v["proposals"], v["proposals_ms"]))
print()
print("| stage (ms) | SPP 1 scale (688) | SPP 5 scales |")
print("|---|---|---|")
for st in ["resize", "conv", "spp", "fc", "svm_bbox", "nms", "total"]:
    print("| %s | %s | %s |" % (st, v["spp1_%s_ms" % st], v["spp5_%s_ms" % st]))
print("| trunk forwards | %s | %s |" % (v["spp1_forwards"], v["spp5_forwards"]))
r = float(v["rcnn_2000_est_ms"])
print()
print("R-CNN mode: %s ms per window (%s windows timed) -> %.0f ms for 2000 windows"
      % (v["rcnn_per_window_ms"], v["rcnn_subset_windows"], r))
print("speed-up of SPP-net over R-CNN: %.0fx (1 scale), %.0fx (5 scales)"
      % (r / float(v["spp1_total_ms"]), r / float(v["spp5_total_ms"])))
