"""Ground-truth tracks from per-frame labels, and tracker scores on them.

The teacher labels a video frame by frame (models/data/vtest-teacher.json,
COCO form, file names VIDEO#frame=N); they carry no identities. `gt`
links them into tracks: in each frame, within each category, the boxes
are matched to the live tracks by an optimal assignment on IoU against
each track's last box (spptools.mot.linear_assignment), pairs below
--iou (0.5) excluded; a matched box continues its track, an unmatched one
starts a new track, and a track not matched for more than --gap (5)
frames ends, so a person the teacher misses for a few frames keeps one
identity. The result is the simple form spptools.mot reads.

`score` reads a tracker's JSON lines (sppjsonlog after spptrack), keeps
the objects that have an id (a tracker reports confirmed objects only)
and the frames in --frames, and prints spptools.mot's scores against
the linked ground truth.

  PYTHONPATH=models /usr/bin/python3 -m spptools.link_tracks gt LABELS.json --frames 0-476 -o GT.json
  PYTHONPATH=models /usr/bin/python3 -m spptools.link_tracks score GT.json TRACKS.jsonl --frames 0-476
"""
import argparse
import json

import numpy as np

from spptools import mot


def _frame_range(text):
    a, b = text.split("-")
    return int(a), int(b)


def link(labels, first, last, iou_thresh=0.5, gap=5):
    """{frame: [(id, x, y, w, h), ...]} for frames first..last."""
    frame_of = {im["id"]: int(im["file_name"].rsplit("=", 1)[1])
                for im in labels["images"]}
    boxes = {}
    for a in labels["annotations"]:
        f = frame_of[a["image_id"]]
        if first <= f <= last:
            boxes.setdefault(f, []).append((a["category_id"], a["bbox"]))
    tracks = []          # [id, category, last box, last frame]
    out = {}
    next_id = 1
    for f in range(first, last + 1):
        out[f] = []
        tracks = [t for t in tracks if f - t[3] <= gap + 1]
        for cat in sorted({c for c, _ in boxes.get(f, [])}):
            dets = [b for c, b in boxes[f] if c == cat]
            live = [t for t in tracks if t[1] == cat]
            taken = set()
            if live and dets:
                ious = mot.iou_matrix([(0, *t[2]) for t in live],
                                      [(0, *b) for b in dets])
                cost = np.where(ious >= iou_thresh, 1.0 - ious, 1e6)
                for i, j in mot.linear_assignment(cost):
                    if cost[i, j] < 1e6:
                        live[i][2], live[i][3] = dets[j], f
                        out[f].append((live[i][0], *dets[j]))
                        taken.add(j)
            for j, b in enumerate(dets):
                if j not in taken:
                    tracks.append([next_id, cat, b, f])
                    out[f].append((next_id, *b))
                    next_id += 1
    return out


def identified(path, first, last):
    """A tracker's JSON lines: the objects with an id, frames first..last."""
    out = {}
    with open(path) as fh:
        for n, line in enumerate(fh):
            o = json.loads(line)
            f = int(o.get("frame", n))
            if first <= f <= last:
                res = o.get("resolution")
                out[f] = [(ob["id"], *mot._object_box(ob, res))
                          for ob in o.get("objects", []) if "id" in ob]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gt", help="link per-frame labels into tracks")
    g.add_argument("labels")
    g.add_argument("--frames", type=_frame_range, required=True)
    g.add_argument("--iou", type=float, default=0.5)
    g.add_argument("--gap", type=int, default=5)
    g.add_argument("-o", "--out", required=True)
    s = sub.add_parser("score", help="a tracker's JSON lines against them")
    s.add_argument("gt")
    s.add_argument("tracks")
    s.add_argument("--frames", type=_frame_range, required=True)
    s.add_argument("--iou", type=float, default=0.5)
    a = ap.parse_args()
    if a.cmd == "gt":
        with open(a.labels) as fh:
            labels = json.load(fh)
        tracks = link(labels, *a.frames, a.iou, a.gap)
        n_ids = len({o[0] for objs in tracks.values() for o in objs})
        with open(a.out, "w") as fh:
            json.dump({"frames": {str(f): [list(o) for o in objs]
                                  for f, objs in tracks.items()}}, fh)
        print(f"{a.out}: {len(tracks)} frames, {n_ids} tracks")
        return
    gt = {f: objs for f, objs in mot.load(a.gt, "ground truth").items()
          if a.frames[0] <= f <= a.frames[1]}
    r = mot.evaluate(gt, identified(a.tracks, *a.frames), a.iou)
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                      for k, v in r.items()}))


if __name__ == "__main__":
    main()
