"""Multi-object tracking scores: CLEAR MOT and the identity measures.

Tracks are dicts {frame: [(id, x, y, w, h), ...]}, boxes in pixels with
x, y the top-left corner (extra trailing fields, such as the synthetic
clips' visibility, are ignored). Overlap is the IoU of spptools.voc_ap
(continuous boxes, no +1).

CLEAR MOT (K. Bernardin, R. Stiefelhagen, "Evaluating multiple object
tracking performance: the CLEAR MOT metrics", EURASIP JIVP 2008), as the
MOTChallenge devkit computes it: in each frame a ground-truth object keeps
the hypothesis it was matched to in the previous frame if that hypothesis
is still there with IoU >= the threshold; the others are matched by an
optimal assignment (Kuhn-Munkres) among pairs with IoU >= the threshold.
As in the devkit, pairs below the threshold get a prohibitive cost, so
the assignment makes as many matches as possible and, among those, has
the largest total IoU. A match is an ID switch when the object's previous
match (in any earlier frame, not only the last one) had another
hypothesis id. MOTA = 1 - (FN + FP + IDSW) / number of ground-truth
boxes; MOTP here is the mean IoU of the matches (higher is better).

Identity measures (E. Ristani, F. Solera, R. Zou, R. Cucchiara,
C. Tomasi, "Performance measures and a data set for multi-target,
multi-camera tracking", ECCV workshops 2016): whole ground-truth
trajectories are matched one to one with whole hypothesis trajectories
by a min-cost bipartite matching. Pairing trajectory i with hypothesis j
costs the frames where they are not matched (IoU below the threshold or
one of them absent): FN_ij + FP_ij. Each ground-truth trajectory also
has its own false-negative node (cost: its length) and each hypothesis
its own false-positive node (cost: its length); the two sets of extra
nodes are matched to each other at no cost. The optimum gives IDFN and
IDFP; IDTP = GT boxes - IDFN; IDF1 = 2 IDTP / (2 IDTP + IDFP + IDFN).

  PYTHONPATH=models /usr/bin/python3 -m spptools.mot GT HYP [--iou 0.5] [--json]

GT and HYP are either JSON lines as sppjsonlog writes them (gvametaconvert's
schema, docs/elements.md: one line per frame, "frame" and "objects"; each
object's pixel box "x", "y", "w", "h", else its normalised
detection.bounding_box scaled by "resolution"; the track id in "id") or a
JSON object {"frames": {"0": [[id, x, y, w, h], ...], ...}} (the form
spptools.synth.tracks writes).
"""
import argparse
import json
import math

import numpy as np

from spptools.voc_ap import iou


def linear_assignment(cost):
    """Min-cost assignment of a finite (n, m) cost matrix: min(n, m)
    (row, col) pairs, rows and columns used once, with the least total
    cost. Kuhn-Munkres as shortest augmenting paths with potentials
    (Jonker & Volgenant's form, O(n^2 m)); one row is added per outer
    step, the column loop is vectorised."""
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError("cost must be a 2-D matrix")
    if c.size == 0:
        return []
    if not np.all(np.isfinite(c)):
        raise ValueError("cost must be finite")
    flip = c.shape[0] > c.shape[1]
    if flip:
        c = c.T
    n, m = c.shape
    u = np.zeros(n + 1)            # row potentials (1-based rows)
    v = np.zeros(m + 1)            # column potentials; column 0 is a sentinel
    p = np.zeros(m + 1, dtype=int)  # p[j]: row (1-based) holding column j
    way = np.zeros(m + 1, dtype=int)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            free = ~used
            free[0] = False
            red = np.full(m + 1, np.inf)
            red[1:] = c[i0 - 1] - u[i0] - v[1:]
            better = free & (red < minv)
            minv[better] = red[better]
            way[better] = j0
            j1 = int(np.argmin(np.where(free, minv, np.inf)))
            delta = minv[j1]
            u[p[used]] += delta
            v[used] -= delta
            minv[free] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:                  # flip the augmenting path
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    pairs = [(int(p[j]) - 1, j - 1) for j in range(1, m + 1) if p[j]]
    if flip:
        pairs = [(b, a) for a, b in pairs]
    return sorted(pairs)


def _boxes(objs):
    return np.asarray([o[1:5] for o in objs], dtype=np.float64).reshape(-1, 4)


def iou_matrix(a, b):
    """IoU of every box of list a with every box of list b."""
    a, b = _boxes(a), _boxes(b)
    out = np.zeros((len(a), len(b)))
    for k in range(len(a)):
        out[k] = iou(a[k], b)
    return out


def _ids(objs, what, frame):
    ids = [o[0] for o in objs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{what}: an id appears twice in frame {frame}")
    return ids


def clear_mot(gt, hyp, iou_thresh=0.5):
    """CLEAR MOT counts and scores (module docstring)."""
    prev = {}      # GT id -> hyp id matched in the previous frame
    last = {}      # GT id -> hyp id of its latest match, any frame
    fn = fp = idsw = n_match = n_gt = 0
    iou_sum = 0.0
    for f in sorted(set(gt) | set(hyp)):
        g, h = gt.get(f, []), hyp.get(f, [])
        gid, hid = _ids(g, "ground truth", f), _ids(h, "hypotheses", f)
        ov = iou_matrix(g, h)
        hpos = {j: c for c, j in enumerate(hid)}
        match = {}                 # GT row -> hyp column
        for r, i in enumerate(gid):
            c = hpos.get(prev.get(i))
            if c is not None and ov[r, c] >= iou_thresh:
                match[r] = c
        rows = [r for r in range(len(g)) if r not in match]
        cols = [c for c in range(len(h)) if c not in match.values()]
        if rows and cols:
            sub = ov[np.ix_(rows, cols)]
            ok = sub >= iou_thresh
            # 1 + min(n, m) is more than any set of allowed pairs costs.
            cost = np.where(ok, 1.0 - sub, 1.0 + min(sub.shape))
            for a, b in linear_assignment(cost):
                if ok[a, b]:
                    match[rows[a]] = cols[b]
        for r, c in match.items():
            if gid[r] in last and last[gid[r]] != hid[c]:
                idsw += 1
            last[gid[r]] = hid[c]
            iou_sum += ov[r, c]
        prev = {gid[r]: hid[c] for r, c in match.items()}
        n_gt += len(g)
        n_match += len(match)
        fn += len(g) - len(match)
        fp += len(h) - len(match)
    return dict(
        num_gt=n_gt, num_matches=n_match, fn=fn, fp=fp, idsw=idsw,
        mota=1.0 - (fn + fp + idsw) / n_gt if n_gt else math.nan,
        motp=iou_sum / n_match if n_match else math.nan)


def id_scores(gt, hyp, iou_thresh=0.5):
    """IDTP, IDFP, IDFN, IDF1, IDP, IDR (module docstring)."""
    gids = sorted({o[0] for objs in gt.values() for o in objs})
    hids = sorted({o[0] for objs in hyp.values() for o in objs})
    gpos = {i: k for k, i in enumerate(gids)}
    hpos = {j: k for k, j in enumerate(hids)}
    ng, nh = len(gids), len(hids)
    glen, hlen = np.zeros(ng), np.zeros(nh)
    both = np.zeros((ng, nh))      # frames where trajectory pairs match
    for f in sorted(set(gt) | set(hyp)):
        g, h = gt.get(f, []), hyp.get(f, [])
        gr = [gpos[i] for i in _ids(g, "ground truth", f)]
        hc = [hpos[j] for j in _ids(h, "hypotheses", f)]
        glen[gr] += 1
        hlen[hc] += 1
        if gr and hc:
            both[np.ix_(gr, hc)] += iou_matrix(g, h) >= iou_thresh
    n_g, n_h = float(glen.sum()), float(hlen.sum())
    big = n_g + n_h + 1            # stands for "not allowed"
    cost = np.full((ng + nh, nh + ng), big)
    cost[:ng, :nh] = glen[:, None] + hlen[None, :] - 2 * both
    cost[ng:, nh:] = 0             # false-positive node x false-negative node
    for k in range(ng):
        cost[k, nh + k] = glen[k]  # GT k unmatched: all its boxes missed
    for k in range(nh):
        cost[ng + k, k] = hlen[k]  # hypothesis k unmatched: all false
    idtp = 0.0
    for a, b in linear_assignment(cost):
        if a < ng and b < nh:
            idtp += both[a, b]
    idfn, idfp = n_g - idtp, n_h - idtp
    den = 2 * idtp + idfp + idfn
    return dict(
        idtp=int(idtp), idfp=int(idfp), idfn=int(idfn),
        idf1=2 * idtp / den if den else math.nan,
        idp=idtp / n_h if n_h else math.nan,
        idr=idtp / n_g if n_g else math.nan)


def evaluate(gt, hyp, iou_thresh=0.5):
    """CLEAR MOT and identity scores in one dict."""
    out = clear_mot(gt, hyp, iou_thresh)
    out.update(id_scores(gt, hyp, iou_thresh))
    return out


def _object_box(ob, res):
    if all(k in ob for k in ("x", "y", "w", "h")):
        return [float(ob[k]) for k in ("x", "y", "w", "h")]
    bb = ob["detection"]["bounding_box"]
    w, h = res["width"], res["height"]
    return [bb["x_min"] * w, bb["y_min"] * h,
            (bb["x_max"] - bb["x_min"]) * w, (bb["y_max"] - bb["y_min"]) * h]


def parse_jsonl(lines, what="tracks"):
    """Tracks from sppjsonlog / gvametaconvert JSON lines (module
    docstring); the line number stands for a missing "frame"."""
    out = {}
    n = 0
    for line in lines:
        if not line.strip():
            continue
        o = json.loads(line)
        f = int(o.get("frame", n))
        n += 1
        objs = []
        for ob in o.get("objects", []):
            if "id" not in ob:
                raise ValueError(f"{what}: an object without an id in frame {f}")
            objs.append((ob["id"], *_object_box(ob, o.get("resolution"))))
        out[f] = objs
    return out


def load(path, what="tracks"):
    """Tracks from a file in either form (module docstring)."""
    with open(path) as fh:
        text = fh.read()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None                 # several lines: JSON lines
    if isinstance(doc, dict) and "frames" in doc:
        return load_frames(doc)
    return parse_jsonl(text.splitlines(), what)


def load_frames(doc):
    """Tracks from a parsed {"frames": {"N": [[id, x, y, w, h, ...]]}}."""
    return {int(f): [tuple(o) for o in objs]
            for f, objs in doc["frames"].items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gt")
    ap.add_argument("hyp")
    ap.add_argument("--iou", type=float, default=0.5,
                    help="IoU a match needs (default 0.5)")
    ap.add_argument("--json", action="store_true",
                    help="print the scores as one JSON object")
    a = ap.parse_args()
    r = evaluate(load(a.gt, "ground truth"), load(a.hyp, "hypotheses"), a.iou)
    if a.json:
        print(json.dumps(r))
        return
    print(f"MOTA {r['mota']:.4f}  MOTP {r['motp']:.4f}  IDF1 {r['idf1']:.4f}"
          f"  IDP {r['idp']:.4f}  IDR {r['idr']:.4f}")
    print(f"GT {r['num_gt']}  matches {r['num_matches']}  FN {r['fn']}"
          f"  FP {r['fp']}  IDSW {r['idsw']}  IDTP {r['idtp']}"
          f"  IDFP {r['idfp']}  IDFN {r['idfn']}")


if __name__ == "__main__":
    main()
