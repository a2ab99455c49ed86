#!/usr/bin/python3
"""spptools.mot on cases worked out by hand, and its Kuhn-Munkres solver
against brute force.
Run: PYTHONPATH=models /usr/bin/python3 tests/track/test_mot_eval.py

Boxes are 10 x 10 and either the same (IoU 1) or far apart (IoU 0),
unless a case says otherwise. "GT 1: frames 0-3" means one ground-truth
box per frame, at the same place unless said.
"""
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

from spptools import mot


def box(i, x, y=0):
    return (i, x, y, 10, 10)


def tracks(*spec):
    """tracks((id, x, frames), ...) -> {frame: [box, ...]}"""
    out = {}
    for i, x, frames in spec:
        for f in frames:
            out.setdefault(f, []).append(box(i, x))
    return out


def check(name, gt, hyp, **want):
    got = mot.evaluate(gt, hyp)
    for k, v in want.items():
        ok = (math.isnan(got[k]) if isinstance(v, float) and math.isnan(v)
              else abs(got[k] - v) < 1e-9)
        assert ok, f"{name}: {k} = {got[k]}, expected {v} ({got})"
    print(f"ok {name}")


def main():
    # Perfect: GT 1 at x=0 and GT 2 at x=50, frames 0-3; hypotheses 10
    # and 20 on them. 8 GT boxes, 8 matches of IoU 1: FN = FP = IDSW = 0,
    # MOTA 1, MOTP 1; IDTP 8, IDF1 = 16 / 16 = 1.
    gt = tracks((1, 0, range(4)), (2, 50, range(4)))
    hyp = tracks((10, 0, range(4)), (20, 50, range(4)))
    check("perfect", gt, hyp, num_gt=8, num_matches=8, fn=0, fp=0, idsw=0,
          mota=1.0, motp=1.0, idtp=8, idfp=0, idfn=0, idf1=1.0)

    # One ID switch: GT 1 frames 0-5; hypothesis 7 frames 0-3, 8 frames
    # 4-5 on the same box. Frame 4 matches 8 after 7: IDSW 1, MOTA =
    # 1 - 1/6 = 5/6. Identity: GT 1 <-> 7 (4 frames) is the best pairing;
    # IDTP 4, IDFN 2, IDFP 2 (hypothesis 8): IDF1 = 8 / 12 = 2/3, IDP =
    # IDR = 4/6.
    gt = tracks((1, 0, range(6)))
    hyp = tracks((7, 0, range(4)), (8, 0, range(4, 6)))
    check("one-switch", gt, hyp, fn=0, fp=0, idsw=1, mota=5 / 6, idtp=4,
          idfp=2, idfn=2, idf1=2 / 3, idp=4 / 6, idr=4 / 6)

    # Two objects cross: GT 1 moves x = 0, 10, 20, 30, 40 and GT 2
    # x = 40, 30, 20, 10, 0 over frames 0-4; they coincide in frame 2.
    # Hypothesis 10 follows GT 1 up to frame 2, then GT 2; hypothesis 20
    # the other way round (a swap at the crossing). Frame 2: both boxes
    # equal, last frame's pairs (1-10, 2-20) are kept. Frame 3: GT 1 at 30,
    # hypothesis 10 at 10, IoU 0, so 1-20 and 2-10: IDSW 2. 10 GT boxes,
    # MOTA = 1 - 2/10 = 0.8. Identity: every GT/hypothesis pair matches
    # 3 frames (e.g. 1-10: frames 0, 1, 2; 1-20: frames 2, 3, 4), so
    # IDTP 6, IDFN = IDFP = 4, IDF1 = 12 / 20 = 0.6.
    check("crossing-swap", gt_swap(), hyp_swap(), num_matches=10, fn=0, fp=0, idsw=2,
          mota=0.8, idtp=6, idfp=4, idfn=4, idf1=0.6)

    # Last frame's pair is kept while IoU >= 0.5, even when another
    # hypothesis overlaps more: GT 1 at x=0 in frames 0-1; hypothesis 10
    # at x=0, then x=3 (IoU 70/130 = 0.538); hypothesis 20 at x=0 in
    # frame 1 (IoU 1). Frame 1 keeps 1-10: IDSW 0, FP 1 (20), MOTA =
    # 1 - 1/2 = 0.5, MOTP = (1 + 7/13) / 2. (Re-matching by IoU alone
    # would give IDSW 1 and MOTA 0.) Identity: 1-10 matches 2 frames:
    # IDTP 2, IDFP 1, IDFN 0, IDF1 = 4/5.
    gt = {0: [box(1, 0)], 1: [box(1, 0)]}
    hyp = {0: [box(10, 0)], 1: [box(10, 3), box(20, 0)]}
    check("keep-last-pair", gt, hyp, fn=0, fp=1, idsw=0, mota=0.5,
          motp=(1 + 7 / 13) / 2, idtp=2, idfp=1, idfn=0, idf1=0.8)

    # A missed frame: GT 1 frames 0-3, hypothesis 7 frames 0, 1, 3.
    # FN 1, IDSW 0 (7 again after the gap), MOTA = 1 - 1/4 = 0.75.
    # IDTP 3, IDFN 1, IDFP 0: IDF1 = 6/7, IDP 1, IDR 3/4.
    gt = tracks((1, 0, range(4)))
    hyp = tracks((7, 0, [0, 1, 3]))
    check("missed-frame", gt, hyp, fn=1, fp=0, idsw=0, mota=0.75, idtp=3,
          idfn=1, idfp=0, idf1=6 / 7, idp=1.0, idr=0.75)

    # A false positive: GT 1 frames 0-3 and hypothesis 7 on it, plus
    # hypothesis 9 at x=100 in frame 1. FP 1, MOTA 0.75; IDTP 4, IDFP 1,
    # IDFN 0: IDF1 = 8/9, IDP 4/5, IDR 1.
    gt = tracks((1, 0, range(4)))
    hyp = tracks((7, 0, range(4)), (9, 100, [1]))
    check("false-positive", gt, hyp, fn=0, fp=1, idsw=0, mota=0.75,
          idtp=4, idfp=1, idfn=0, idf1=8 / 9, idp=0.8, idr=1.0)

    # Below the threshold: GT 1 at x=0, hypothesis 7 at x=5 (IoU 50/150 =
    # 1/3) in frame 0: no match, FN 1 and FP 1, MOTA = 1 - 2 = -1, MOTP
    # undefined; IDTP 0, IDF1 0.
    check("below-threshold", {0: [box(1, 0)]}, {0: [box(7, 5)]}, fn=1,
          fp=1, num_matches=0, mota=-1.0, motp=math.nan, idtp=0, idf1=0.0)

    # A track fragmented into two ids: GT 1 frames 0-9; hypothesis 7 frames
    # 0-3, none in 4-5, hypothesis 8 frames 6-9. FN 2; frame 6's match (8)
    # differs from the latest one (7, frame 3): IDSW 1, counted once.
    # MOTA = 1 - 3/10 = 0.7. Identity: 1-7 or 1-8, 4 frames: IDTP 4,
    # IDFN 6, IDFP 4 (the other fragment): IDF1 = 8 / 18 = 4/9.
    gt = tracks((1, 0, range(10)))
    hyp = tracks((7, 0, range(4)), (8, 0, range(6, 10)))
    check("fragmented", gt, hyp, fn=2, fp=0, idsw=1, mota=0.7, idtp=4,
          idfn=6, idfp=4, idf1=4 / 9)

    # The identity matching is global, not greedy: GT 1 at x=0 and GT 2 at
    # x=100, frames 0-8. Hypothesis a on GT 1 in frames 0-4 and on GT 2 in
    # 5-8; hypothesis b on GT 1 in 5-8. Frames matched: 1-a 5, 2-a 4, 1-b 4,
    # 2-b 0. Best: 1-b + 2-a = 8 (greedy 1-a first would give 5).
    # 18 GT and 13 hypothesis boxes: IDTP 8, IDFN 10, IDFP 5,
    # IDF1 = 16 / 31. CLEAR: frames 0-4 miss GT 2 (FN 5); frame 5 matches
    # GT 1 to b after a: IDSW 1 (GT 2's first match is no switch);
    # MOTA = 1 - 6/18 = 2/3.
    gt = tracks((1, 0, range(9)), (2, 100, range(9)))
    hyp = {f: [box("a", 0 if f < 5 else 100)] for f in range(9)}
    for f in range(5, 9):
        hyp[f].append(box("b", 0))
    check("global-identity", gt, hyp, fn=5, fp=0, idsw=1, mota=2 / 3,
          idtp=8, idfn=10, idfp=5, idf1=16 / 31)

    # A pairing costs the hypothesis' unmatched frames too: GT 1 at x=0,
    # frames 0-9; hypothesis a on it in frames 0-4; hypothesis b on it in
    # 5-8, then at x=100 in frames 9-20 (16 boxes). Costs: 1-a 10 + 5 -
    # 2*5 = 5, plus b alone 16: 21; 1-b 10 + 16 - 2*4 = 18, plus a alone
    # 5: 23. So 1-a: IDTP 5, IDFN 5, IDFP 21 - 5 = 16, IDF1 = 10 / 31
    # (counting only the GT's misses would pick b, IDTP 4). CLEAR: frame 5
    # matches b after a (IDSW 1); frame 9 misses GT 1 (FN 1); b is false
    # in frames 9-20 (FP 12): MOTA = 1 - 14/10 = -0.4.
    gt = tracks((1, 0, range(10)))
    hyp = tracks(("a", 0, range(5)), ("b", 0, range(5, 9)),
                 ("b", 100, range(9, 21)))
    check("identity-counts-fp", gt, hyp, fn=1, fp=12, idsw=1, mota=-0.4,
          idtp=5, idfn=5, idfp=16, idf1=10 / 31)

    # Empty hypothesis: GT 1 frames 0-3, GT 2 frames 0-1: 6 misses,
    # MOTA 0, MOTP undefined; IDTP 0, IDFN 6, IDF1 0, IDR 0, IDP undefined.
    gt = tracks((1, 0, range(4)), (2, 50, range(2)))
    check("empty-hypothesis", gt, {}, num_gt=6, num_matches=0, fn=6, fp=0,
          idsw=0, mota=0.0, motp=math.nan, idtp=0, idfn=6, idfp=0,
          idf1=0.0, idr=0.0, idp=math.nan)

    # Kuhn-Munkres against every assignment, on seeded random rectangular
    # matrices (integers, so ties happen, and reals).
    rng = np.random.default_rng(5)
    for trial in range(300):
        n, m = (int(k) for k in rng.integers(1, 6, size=2))
        c = (rng.integers(0, 4, size=(n, m)).astype(float) if trial % 2
             else rng.normal(size=(n, m)))
        pairs = mot.linear_assignment(c)
        rows, cols = [p[0] for p in pairs], [p[1] for p in pairs]
        assert len(pairs) == min(n, m), (c, pairs)
        assert len(set(rows)) == len(rows) and len(set(cols)) == len(cols)
        if n <= m:
            best = min(sum(c[r, q[r]] for r in range(n))
                       for q in itertools.permutations(range(m), n))
        else:
            best = min(sum(c[q[k], k] for k in range(m))
                       for q in itertools.permutations(range(n), m))
        total = sum(c[a, b] for a, b in pairs)
        assert abs(total - best) < 1e-9, (c, pairs, total, best)
    print("ok hungarian-vs-brute-force (300 matrices)")

    # The CLI on the schema sppjsonlog writes (pixel x/y/w/h, or only the
    # normalised bounding_box) against the {"frames": ...} form: the
    # crossing-swap case again.
    with tempfile.TemporaryDirectory() as tmp:
        gpath, hpath = os.path.join(tmp, "gt.json"), os.path.join(tmp, "h.jsonl")
        with open(gpath, "w") as fh:
            json.dump({"frames": {str(f): [list(o) for o in objs]
                                  for f, objs in gt_swap().items()}}, fh)
        with open(hpath, "w") as fh:
            for f, objs in sorted(hyp_swap().items()):
                obs = []
                for k, (i, x, y, w, h) in enumerate(objs):
                    bb = dict(x_min=x / 200, y_min=y / 100,
                              x_max=(x + w) / 200, y_max=(y + h) / 100)
                    ob = dict(id=i, roi_type="object", propagated=False,
                              detection=dict(bounding_box=bb, label="object"))
                    if k == 0:
                        ob.update(x=x, y=y, w=w, h=h)
                    obs.append(ob)
                fh.write(json.dumps(dict(
                    resolution=dict(width=200, height=100),
                    timestamp=f * 100000000, frame=f, objects=obs)) + "\n")
        out = subprocess.run([sys.executable, "-m", "spptools.mot", gpath,
                              hpath, "--json"], check=True,
                             capture_output=True, text=True).stdout
        r = json.loads(out)
        assert (r["idsw"], r["num_matches"], r["idtp"]) == (2, 10, 6), r
        assert abs(r["mota"] - 0.8) < 1e-9 and abs(r["idf1"] - 0.6) < 1e-9, r
    print("ok cli")


def gt_swap():
    return {f: [box(1, 10 * f), box(2, 40 - 10 * f)] for f in range(5)}


def hyp_swap():
    out = {}
    for f in range(5):
        a, b = (10 * f, 40 - 10 * f) if f <= 2 else (40 - 10 * f, 10 * f)
        out[f] = [box(10, a), box(20, b)]
    return out


if __name__ == "__main__":
    main()
