#!/usr/bin/python3
"""spptools.synth.tracks: the clip's invariants, and spptools.mot on it.
Run: PYTHONPATH=models /usr/bin/python3 tests/track/test_synth_tracks.py

- Deterministic: two runs with seed 3 write the same gt.json, frames and
  --noise detections; seed 4 writes another ground truth.
- The ground truth holds what a tracker test needs, checked here from
  gt.json on its own: an object hidden (visibility < 0.5) for 1 to 10
  frames and none for longer, two objects that cross (left-right order
  swaps while their boxes touch), an object that leaves the frame and
  comes back with the same id; every box inside the frame.
- The evaluator scores the ground truth against itself as MOTA 1, IDF1 1;
  with the ids of two crossing objects swapped from the first frame after
  the crossing where their boxes are apart, as exactly 2 ID switches
  (MOTA = 1 - 2 / GT boxes) and IDF1 < 1.
- The detections: sppjsonlog's schema, no ids, only visible objects,
  within a few sigma of their boxes.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from spptools import mot
from spptools.synth import tracks


def run(out, seed):
    subprocess.run([sys.executable, "-m", "spptools.synth.tracks", out,
                    "--seed", str(seed), "--noise",
                    os.path.join(out, "dets.jsonl")], check=True)
    digest = {}
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), "rb") as fh:
            digest[name] = hashlib.sha256(fh.read()).hexdigest()
    return digest


def check_clip(frames, W, H):
    """The invariants of the module docstring, from the boxes alone."""
    for boxes in frames:
        for i, x, y, w, h, vis in boxes:
            assert 0 <= x and 0 <= y and w > 0 and h > 0, (i, x, y, w, h)
            assert x + w <= W and y + h <= H and 0 <= vis <= 1
    runs = [n for r in tracks.occlusion_runs(frames).values() for n in r]
    assert runs and max(runs) <= 10, runs
    assert tracks.crossings(frames)
    # Leaving and coming back: out through a side of the frame, away 5
    # frames or more, back through a side, the same id.
    at_side = lambda b: b[1] == 0 or b[1] + b[3] == W
    last, back = {}, []
    for t, boxes in enumerate(frames):
        for b in boxes:
            if b[0] in last and last[b[0]][0] < t - 5 and at_side(b) \
                    and at_side(last[b[0]][1]):
                back.append((b[0], t))
            last[b[0]] = (t, b)
    assert back, "no object leaves through a side and comes back"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        a, b, c = (os.path.join(tmp, n) for n in "abc")
        da, db, dc = run(a, 3), run(b, 3), run(c, 4)
        assert len(da) == 300 + 2, sorted(da)[:5]
        assert da == db, "seed 3 twice gave different files"
        assert da["gt.json"] != dc["gt.json"], "seeds 3 and 4 gave one clip"
        print("ok deterministic")
        with open(os.path.join(a, "gt.json")) as fh:
            doc = json.load(fh)
        W, H = doc["width"], doc["height"]
        frames = [doc["frames"][str(t)] for t in range(len(doc["frames"]))]
        with open(os.path.join(a, "dets.jsonl")) as fh:
            det_lines = fh.read().splitlines()

    assert (W, H, len(frames)) == (320, 240, 300)
    check_clip(frames, W, H)
    # More seeds, so that scenes the generator must redraw are seen too.
    for seed in range(5, 11):
        check_clip(tracks.generate(seed)[0], W, H)
    print("ok invariants, seeds 3 and 5-10")
    # No default seed tried needs a redraw, so the generator's own check
    # (check_invariants) is tried here on made-up tracks: object 0 hidden
    # 11 frames (frames 1-11), no crossing, nobody leaving.
    made_up = [[[0, 10, 10, 10, 10, 0.2 if 1 <= t <= 11 else 1.0]]
               for t in range(13)]
    assert tracks.check_invariants(made_up) == [
        "an occlusion of 11 frames", "no crossing",
        "no object leaves and comes back"], tracks.check_invariants(made_up)
    made_up[11][0][5] = 1.0        # 10 frames is allowed
    assert tracks.check_invariants(made_up)[0] == "no crossing"

    gt = mot.load_frames(doc)
    r = mot.evaluate(gt, gt)
    n_gt = sum(len(v) for v in frames)
    assert (r["num_gt"], r["num_matches"], r["fn"], r["fp"], r["idsw"]) == \
        (n_gt, n_gt, 0, 0, 0), r
    assert r["mota"] == 1.0 and r["idf1"] == 1.0, r
    print("ok ground truth against itself: MOTA 1, IDF1 1")

    cross = tracks.crossings(frames)
    # The first crossing after which both objects are seen apart.
    apart = lambda p, q: (min(p[1] + p[3], q[1] + q[3]) <= max(p[1], q[1]) or
                          min(p[2] + p[4], q[2] + q[4]) <= max(p[2], q[2]))
    swap_at = None
    for t0, i, j in cross:
        for t in range(t0, len(frames)):
            o = {b[0]: b for b in frames[t]}
            if i not in o or j not in o:
                break
            if apart(o[i], o[j]):
                swap_at = (t, i, j)
                break
        if swap_at:
            break
    assert swap_at, cross
    t, i, j = swap_at
    other = {i: j, j: i}
    hyp = {f: [(other.get(o[0], o[0]) if f >= t else o[0], *o[1:5])
               for o in objs] for f, objs in gt.items()}
    r = mot.evaluate(gt, hyp)
    assert (r["fn"], r["fp"], r["idsw"]) == (0, 0, 2), (swap_at, r)
    assert abs(r["mota"] - (1 - 2 / n_gt)) < 1e-12 and r["idf1"] < 1, r
    print(f"ok ids {i} and {j} swapped from frame {t}: IDSW 2, "
          f"MOTA {r['mota']:.4f}, IDF1 {r['idf1']:.4f}")

    assert len(det_lines) == 300
    n_det = 0
    for t, line in enumerate(det_lines):
        o = json.loads(line)
        assert o["frame"] == t and o["resolution"] == dict(width=W, height=H)
        visible = [b for b in frames[t] if b[5] >= tracks.HIDDEN]
        assert len(o["objects"]) <= len(visible)
        for ob in o["objects"]:
            assert "id" not in ob and ob["w"] > 0 and ob["h"] > 0
            bb = ob["detection"]["bounding_box"]
            assert abs(bb["x_min"] * W - ob["x"]) < 1e-6
            assert abs((bb["y_max"] - bb["y_min"]) * H - ob["h"]) < 1e-6
            box = (0, ob["x"], ob["y"], ob["w"], ob["h"])
            assert mot.iou_matrix([box], visible).max() > 0.5, (t, ob)
        n_det += len(o["objects"])
    n_vis = sum(b[5] >= tracks.HIDDEN for f in frames for b in f)
    assert 0.8 * n_vis <= n_det < n_vis, (n_det, n_vis)  # 10 % dropped
    print(f"ok detections ({n_det} of {n_vis} visible boxes)")


if __name__ == "__main__":
    main()
