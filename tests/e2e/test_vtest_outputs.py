#!/usr/bin/python3
"""The README's main command (examples/run-vtest.sh) on the first 30
frames of vtest.avi, with the plugin of this build (tests/meson.build
says what it checks).

  test_vtest_outputs.py SRC BUILD VIDEO PRELOAD REGISTRY
"""
import json, os, signal, subprocess, sys, tempfile
import cv2, numpy as np
src, build, video, preload, registry = sys.argv[1:6]
N = 30
out = tempfile.mkdtemp(prefix="sppvtest-")
env = dict(os.environ, GST_REGISTRY=registry)
def run(argv, env, limit):
    p = subprocess.Popen(argv, env=env, start_new_session=True)
    try:
        rc = p.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        sys.exit(f"{argv[0]} did not finish in {limit} s")
    assert rc == 0, f"{argv} exited with {rc}"
def count_frames(path):
    cap, n = cv2.VideoCapture(path, cv2.CAP_FFMPEG), 0
    while cap.read()[0]:
        n += 1
    return n
# identity refuses the buffer that reaches eos-after: N + 1 keeps N
clip = os.path.join(out, "vtest-first.mkv")
run(["gst-launch-1.0", "-q", "-e", "filesrc", "location=" + video, "!",
     "avidemux", "!", "identity", f"eos-after={N + 1}", "!", "matroskamux",
     "!", "filesink", "location=" + clip], env, 60)
assert count_frames(clip) == N, f"the clip has {count_frames(clip)} frames"
env.update(VTEST_NO_BUILD="1", BUILD_DIR=build, VTEST_OUT=out)
if preload:
    env["LD_PRELOAD"] = preload
    env["ASAN_OPTIONS"] = "detect_leaks=0"
run(["bash", os.path.join(src, "examples", "run-vtest.sh"), clip], env, 240)
mkv = os.path.join(out, "vtest-detected.mkv")
jsonl = os.path.join(out, "vtest-detected.jsonl")
assert os.path.getsize(mkv) > 10000, "tiny video file"
lines = open(jsonl).read().splitlines()
assert len(lines) == N, f"{len(lines)} JSON lines for {N} frames"
people = 0
frames = []
for i, line in enumerate(lines):
    o = json.loads(line)
    assert o["frame"] == i and o["resolution"] == {"width": 768, "height": 576}, line[:80]
    assert o["timestamp"] == i * 100000000, (i, o["timestamp"])  # 10 fps
    for ob in o["objects"]:
        assert ob["x"] >= 0 and ob["y"] >= 0 and ob["w"] > 0 and ob["h"] > 0
        assert ob["x"] + ob["w"] <= 768 and ob["y"] + ob["h"] <= 576
        assert 0 <= ob["detection"]["confidence"] <= 1
        people += ob["roi_type"] == "person"
    frames.append(o["objects"])
# vtest.avi shows 3 to 6 people a frame. Against the teacher's boxes of
# these frames (models/data/vtest-teacher.json), at the element's default
# thresholds: most people found (measured 68 of 118) and most person
# boxes on a person (66 of 77): one box over the whole frame, or boxes
# anywhere, would fail both.
assert people >= N // 3, f"{people} people in {N} frames of vtest.avi"
teacher = json.load(open(os.path.join(src, "models", "data", "vtest-teacher.json")))
truth = {}
for a in teacher["annotations"]:
    if a["category_id"] == 1 and a["image_id"] < N:
        truth.setdefault(a["image_id"], []).append(a["bbox"])
def iou(a, b):
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return 0.0 if ix <= 0 or iy <= 0 else ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)
found = total = on_person = boxes = 0
for i, objs in enumerate(frames):
    ps = [(o["x"], o["y"], o["w"], o["h"]) for o in objs if o["roi_type"] == "person"]
    for g in truth.get(i, []):
        total += 1
        found += max((iou(p, g) for p in ps), default=0.0) >= 0.5
    for p in ps:
        boxes += 1
        on_person += max((iou(p, g) for g in truth.get(i, [])), default=0.0) >= 0.5
assert found >= 0.4 * total, f"found {found} of {total} teacher people"
assert on_person >= 0.7 * boxes, f"{on_person} of {boxes} person boxes on a person"
cap = cv2.VideoCapture(mkv, cv2.CAP_FFMPEG)
orig = cv2.VideoCapture(video, cv2.CAP_FFMPEG)
n = 0
while True:
    ok, f = cap.read()
    if not ok:
        break
    assert n < N, "more frames in the video than lines"
    assert f.shape == (576, 768, 3), f.shape
    ok, g = orig.read()
    assert ok
    d = np.abs(f.astype(np.int16) - g.astype(np.int16))
    keep = np.ones(f.shape[:2], bool)
    for ob in frames[n]:
        x, y, w, h = ob["x"], ob["y"], ob["w"], ob["h"]
        # the 2-pixel outline on the left edge of every box
        assert d[y:y + h, x:x + 2].mean() > 20, (n, ob)
        keep[max(0, y - 12):y + h + 2, max(0, x - 2):x + w + 2] = False
    assert d[keep].mean() < 12, (n, d[keep].mean())  # coding noise only
    n += 1
assert n == N, f"{n} frames decoded from {mkv}, expected {N}"
for name in os.listdir(out):
    os.unlink(os.path.join(out, name))
os.rmdir(out)
print(f"{N} frames, {people} people; {found} of {total} teacher people found, "
      f"{on_person} of {boxes} person boxes on one")
