#!/usr/bin/python3
"""`spp train` and `spp eval` end to end on synthetic data (< 1 min):

  test-train.py SPP_EXE

makes a trunk-only model (tests/data/make_trunk_model.py) and 60 images of
red and blue rectangles on noise (tests/data/make_synth_coco.py; split
train/val/test 50/20/30 %), trains, and checks with `spp eval` on the
test split that the model finds them (mAP@0.5 >= 0.6; chance is near 0:
about 900 detections per class for 16 objects). Also: the same seed
gives the same file with 1 thread and fresh proposals as with all
threads and proposals from the cache; bad input fails cleanly with a message naming the culprit."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SPP = sys.argv[1]


def run(*args, ok=True):
    p = subprocess.run([SPP] + list(args), capture_output=True, text=True)
    if ok and p.returncode != 0:
        sys.exit("FAIL: spp %s: rc %d\n%s" % (" ".join(args), p.returncode,
                                                p.stderr))
    if not ok and p.returncode == 0:
        sys.exit("FAIL: spp %s should have failed" % " ".join(args))
    return p


with tempfile.TemporaryDirectory() as d:
    py = "/usr/bin/python3"
    subprocess.run([py, os.path.join(HERE, "data", "make_synth_coco.py"), d,
                    "60", "1"], check=True)
    trunk = os.path.join(d, "trunk.sppm")
    subprocess.run([py, os.path.join(HERE, "data", "make_trunk_model.py"),
                    trunk], check=True)
    ann = os.path.join(d, "annotations.json")
    out = [os.path.join(d, n) for n in ("a.sppm", "b.sppm")]
    cache = os.path.join(d, "cache")
    # C 0.1, not the paper's 1e-3: 30 positives per class, not thousands.
    common = ["train", "--model", trunk, "--annotations", ann,
              "--max-proposals", "300", "--svm-c", "0.1", "--seed", "3"]
    p = run(*common, "--out", out[0], "--threads", "1", "--cache", cache)
    for stage in ("features", "hard negatives", "validation", "Platt",
                  "wrote"):
        assert stage in p.stderr, (stage, p.stderr)
    # All threads, proposals from the cache: the same bytes.
    run(*common, "--out", out[1], "--cache", cache)
    blobs = [open(f, "rb").read() for f in out[:2]]
    assert blobs[0] == blobs[1], "not deterministic"
    assert len(os.listdir(cache)) == 30, os.listdir(cache)  # train images

    info = run("info", out[0]).stdout
    assert "classes: 2 red" in info and "box regression: yes" in info, info
    assert "max 300" in info, info    # proposals.max_boxes for detection
    e = json.loads(run("eval", "--model", out[0], "--split", "test",
                       "--json", ann).stdout)
    print("test split:", e["map"], e["map_50_95"],
          [(c["label"], c["ap"]) for c in e["classes"]])
    assert e["images"] == 18, e
    assert e["map"] >= 0.6, e
    assert all(c["ap"] >= 0.4 and c["ground_truth"] > 0
               for c in e["classes"]), e
    assert 0 < e["map_50_95"] < e["map"], e

    # --labels picks and orders a subset.
    run(*common, "--out", out[1], "--labels", "blue")
    assert "classes: 1 blue" in run("info", out[1]).stdout

    # Clean failures.
    p = run(*common, "--out", out[1], "--labels", "red,green", ok=False)
    assert "'green'" in p.stderr, p.stderr
    p = run("train", "--model", trunk, "--annotations", ann + ".none",
            "--out", out[1], ok=False)
    assert ".none" in p.stderr, p.stderr
    bad = os.path.join(d, "bad.json")
    for text, what in (('{"images": [{"id": 1}], "categories": []}',
                        "file_name"),
                       ('{"images": [], "categories": [{"id": 1, "name": '
                        '"x"}], "annotations": [{"image_id": 5, '
                        '"category_id": 1, "bbox": [0, 0, 1, 1]}]}',
                        "image_id 5"),
                       ('{"images": [{"id": 1, "file_name": "a.png"}], '
                        '"categories": [{"id": 1, "name": "x"}], '
                        '"annotations": [{"image_id": 1, "category_id": 1, '
                        '"bbox": [0, 0, -1, 1]}]}', "bbox"),
                       ('{"images": [', "bad.json")):
        open(bad, "w").write(text)
        p = run("train", "--model", trunk, "--annotations", bad, "--out",
                out[1], ok=False)
        assert what in p.stderr, (what, p.stderr)
        run("eval", "--model", out[0], bad, ok=False)
    p = run("eval", "--model", trunk, ann, ok=False)      # no SVMs
    assert "SVM" in p.stderr, p.stderr
    # A missing image file.
    j = json.load(open(ann))
    j["images"][0]["file_name"] = "missing.png"
    json.dump(j, open(bad, "w"))
    p = run("eval", "--model", out[0], bad, ok=False)
    assert "missing.png" in p.stderr, p.stderr
print("ok")
