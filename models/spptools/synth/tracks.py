"""A synthetic clip with exact ground-truth tracks, for testing trackers.

Textured rectangles move over a textured background. The frame is cut
into horizontal lanes, two objects a lane going opposite ways, so the two
cross (one passes in front of the other; a fixed random depth order
decides which) every time they meet. Speed and the vertical offset in the
lane drift smoothly (mean-reverting random walks). An object that has
left the frame stays away 5 to 30 frames, then comes back in on the side
it left from the other end: it keeps its id, as MOTChallenge ground truth
does for an object that leaves and re-enters (Milan et al., "MOT16: a
benchmark for multi-object tracking", arXiv:1603.00831).

Ground truth: {"width", "height", "fps", "seed", "frames": {"N": [[id, x,
y, w, h, visibility], ...]}}. The box is the object's pixels inside the
frame (columns x .. x+w-1, rows y .. y+h-1); an object wholly outside the
frame is left out of that frame. An occluded object keeps its box (as
MOTChallenge ground truth does); visibility is the share of the box not
covered by objects in front (MOT16's visibility ratio). "Occluded" here
means visibility < 0.5. spptools.mot reads the first five fields.

The scene is redrawn from the same seed until it holds: no occlusion
longer than MAX_OCCLUSION (10) frames, at least one occlusion, one
crossing and one object leaving and coming back (check_invariants).
Deterministic: numpy.random.default_rng(seed) (PCG64) draws the scene,
default_rng([seed, 1 + frame]) each frame's sensor noise, and
default_rng([seed, 0]) the --noise detections.

  PYTHONPATH=models /usr/bin/python3 -m spptools.synth.tracks OUT \\
      [--seed 1] [--frames 300] [--objects 6] [--size 320x240] [--avi] \\
      [--noise DETS.jsonl [--sigma 0.05] [--dropout 0.1]] [--no-frames]

Writes OUT/gt.json and the frames as OUT/NNNN.png (or OUT/clip.avi,
MJPG, with --avi). --noise also writes detections: the boxes of objects
with visibility >= 0.5, each dropped with probability --dropout, else its
x, y, w and h moved by Gaussian noise of --sigma times its width or
height; as JSON lines in sppjsonlog's schema (docs/elements.md), without
ids, label "object".
"""
import argparse
import json
import math
import os

import cv2
import numpy as np

MAX_OCCLUSION = 10
HIDDEN = 0.5          # visibility below this is an occlusion
FPS = 10


def occlusion_runs(frames):
    """{id: [lengths of runs of consecutive frames with visibility <
    HIDDEN]}; a run ends where the object is visible or absent."""
    runs, cur = {}, {}
    for t in range(len(frames)):
        seen = set()
        for o in frames[t]:
            i = o[0]
            seen.add(i)
            if o[5] < HIDDEN:
                cur[i] = cur.get(i, 0) + 1
            elif cur.get(i):
                runs.setdefault(i, []).append(cur.pop(i))
        for i in [i for i in cur if i not in seen]:
            runs.setdefault(i, []).append(cur.pop(i))
    for i, n in cur.items():
        runs.setdefault(i, []).append(n)
    return runs


def crossings(frames):
    """(frame, id, id) where two objects present in this frame and the
    last swap left-right order while their boxes touch."""
    out = []
    for t in range(1, len(frames)):
        before = {o[0]: o for o in frames[t - 1]}
        now = [o for o in frames[t] if o[0] in before]
        for a in range(len(now)):
            for b in range(a + 1, len(now)):
                p, q = now[a], now[b]
                cx = lambda o: o[1] + o[3] / 2
                swap = ((cx(before[p[0]]) - cx(before[q[0]]))
                        * (cx(p) - cx(q)) < 0)
                touch = (min(p[1] + p[3], q[1] + q[3]) > max(p[1], q[1]) and
                         min(p[2] + p[4], q[2] + q[4]) > max(p[2], q[2]))
                if swap and touch:
                    out.append((t, p[0], q[0]))
    return out


def reentries(frames):
    """Ids that are present, then absent, then present again."""
    state, out = {}, set()
    for t in range(len(frames)):
        ids = {o[0] for o in frames[t]}
        for i in ids:
            if state.get(i) == "gone":
                out.add(i)
            state[i] = "in"
        for i, s in state.items():
            if s == "in" and i not in ids:
                state[i] = "gone"
    return out


def check_invariants(frames):
    """The problems of a ground truth (list of frames of [id, x, y, w, h,
    visibility]) as a list of strings; empty when all hold."""
    bad = []
    runs = [n for r in occlusion_runs(frames).values() for n in r]
    if not runs:
        bad.append("no occlusion")
    elif max(runs) > MAX_OCCLUSION:
        bad.append(f"an occlusion of {max(runs)} frames")
    if not crossings(frames):
        bad.append("no crossing")
    if not reentries(frames):
        bad.append("no object leaves and comes back")
    return bad


class Scene:
    def __init__(self, rng, n, width, height):
        self.n, self.W, self.H = n, width, height
        lanes = (n + 1) // 2
        self.lane_h = height / lanes
        self.w = rng.integers(18, 35, n)
        self.h = np.minimum(rng.integers(20, 37, n), int(self.lane_h) - 6)
        self.lane_y = (np.arange(n) // 2 + 0.5) * self.lane_h
        self.dir = np.where(np.arange(n) % 2 == 0, 1, -1)
        self.mean_speed = rng.uniform(2.0, 3.5, n)
        self.depth = rng.permutation(n)          # higher is nearer
        self.x = rng.uniform(-self.w, width, n)
        self.speed = self.mean_speed.copy()
        self.dy = np.zeros(n)
        self.away = np.zeros(n, dtype=int)      # frames left to stay out
        self.patches = [texture(rng, int(self.h[k]), int(self.w[k]))
                        for k in range(n)]

    def step(self, rng):
        """Advances one frame; returns integer (x, y) of every object."""
        spread = np.maximum(self.lane_h / 2 - self.h / 2 - 2, 0)
        self.speed += 0.2 * (self.mean_speed - self.speed) + rng.normal(0, 0.3, self.n)
        self.speed = np.clip(self.speed, 1.5, 4.5)
        self.dy = np.clip(0.9 * self.dy + rng.normal(0, 1.0, self.n), -spread, spread)
        for k in range(self.n):
            if self.away[k] > 0:
                self.away[k] -= 1
                if self.away[k] == 0:  # back in, from the far side
                    self.x[k] = -self.w[k] if self.dir[k] > 0 else self.W
                continue
            self.x[k] += self.dir[k] * self.speed[k]
            if self.x[k] >= self.W or self.x[k] + self.w[k] <= 0:
                self.away[k] = rng.integers(5, 31)
        return (np.round(self.x).astype(int),
                np.round(self.lane_y + self.dy - self.h / 2).astype(int))

    def boxes(self, xs, ys):
        """Ground truth of one frame (module docstring), and the
        objects drawn back to front as (k, x, y) for render()."""
        owner = np.full((self.H, self.W), -1)
        drawn = []
        for k in np.argsort(self.depth):
            if self.away[k]:
                continue
            x0, y0 = max(xs[k], 0), max(ys[k], 0)
            x1 = min(xs[k] + self.w[k], self.W)
            y1 = min(ys[k] + self.h[k], self.H)
            if x1 <= x0 or y1 <= y0:
                continue
            owner[y0:y1, x0:x1] = k
            drawn.append((k, x0, y0, x1, y1))
        gt = []
        for k, x0, y0, x1, y1 in sorted(drawn):
            area = (x1 - x0) * (y1 - y0)
            vis = float(np.count_nonzero(owner[y0:y1, x0:x1] == k)) / area
            gt.append([int(k), int(x0), int(y0), int(x1 - x0), int(y1 - y0),
                       round(vis, 4)])
        return gt, [(k, xs[k], ys[k]) for k, *_ in drawn]

    def render(self, background, drawn, noise_rng):
        img = background.copy()
        for k, x, y in drawn:
            p = self.patches[k]
            x0, y0 = max(x, 0), max(y, 0)
            x1, y1 = min(x + p.shape[1], self.W), min(y + p.shape[0], self.H)
            img[y0:y1, x0:x1] = p[y0 - y:y1 - y, x0 - x:x1 - x]
        noisy = img.astype(np.int16) + noise_rng.normal(0, 3, img.shape).astype(np.int16)
        return np.clip(noisy, 0, 255).astype(np.uint8)


def texture(rng, h, w):
    """A patch: a saturated colour with stripes or checks and noise."""
    base = rng.integers(40, 256, 3)
    yy, xx = np.mgrid[0:h, 0:w]
    period = int(rng.integers(3, 8))
    if rng.random() < 0.5:
        pattern = ((xx + yy) // period) % 2
    else:
        pattern = (xx // period + yy // period) % 2
    shade = 0.6 + 0.4 * pattern[..., None] + rng.normal(0, 0.05, (h, w, 1))
    return np.clip(base[None, None, :] * shade, 0, 255).astype(np.uint8)


def background(rng, width, height):
    """Blurred colour noise over a gradient, in muted colours."""
    noise = rng.integers(0, 256, (height // 4, width // 4, 3)).astype(np.uint8)
    noise = cv2.resize(cv2.GaussianBlur(noise, (5, 5), 0), (width, height),
                       interpolation=cv2.INTER_LINEAR)
    grad = np.linspace(60, 140, width)[None, :, None]
    return np.clip(0.4 * noise + 0.6 * grad, 0, 255).astype(np.uint8)


def generate(seed=1, frames=300, objects=6, width=320, height=240,
             attempts=200):
    """Returns (ground-truth frames, scene, background, per-frame drawing
    lists); redraws the scene until check_invariants holds."""
    rng = np.random.default_rng(seed)
    for _ in range(attempts):
        scene = Scene(rng, objects, width, height)
        bg = background(rng, width, height)
        gt, draws = [], []
        for _t in range(frames):
            boxes, drawn = scene.boxes(*scene.step(rng))
            gt.append(boxes)
            draws.append(drawn)
        if not check_invariants(gt):
            return gt, scene, bg, draws
    raise RuntimeError(f"no scene of seed {seed} holds the invariants")


def detections(gt, seed, width, height, sigma, dropout):
    """Noisy detections of the visible objects, sppjsonlog's JSON lines."""
    rng = np.random.default_rng([seed, 0])
    lines = []
    for t, boxes in enumerate(gt):
        objs = []
        for _i, x, y, w, h, vis in boxes:
            if vis < HIDDEN or rng.random() < dropout:
                continue
            d = rng.normal(0, sigma, 4) * [w, h, w, h]
            x0 = int(np.clip(round(x + d[0]), 0, width - 1))
            y0 = int(np.clip(round(y + d[1]), 0, height - 1))
            x1 = int(np.clip(round(x + w + d[2]), x0 + 1, width))
            y1 = int(np.clip(round(y + h + d[3]), y0 + 1, height))
            bb = dict(x_min=x0 / width, y_min=y0 / height,
                      x_max=x1 / width, y_max=y1 / height)
            objs.append(dict(x=x0, y=y0, w=x1 - x0, h=y1 - y0,
                             roi_type="object",
                             detection=dict(bounding_box=bb, confidence=1.0,
                                            label_id=0, label="object"),
                             propagated=False))
        lines.append(json.dumps(dict(
            resolution=dict(width=width, height=height),
            timestamp=t * (1000000000 // FPS), frame=t, objects=objs)))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--objects", type=int, default=6)
    ap.add_argument("--size", default="320x240", help="WxH")
    ap.add_argument("--avi", action="store_true",
                    help="write OUT/clip.avi (MJPG) instead of PNG files")
    ap.add_argument("--no-frames", action="store_true",
                    help="write the ground truth (and detections) only")
    ap.add_argument("--noise", metavar="DETS.jsonl",
                    help="also write noisy detections without ids")
    ap.add_argument("--sigma", type=float, default=0.05)
    ap.add_argument("--dropout", type=float, default=0.1)
    a = ap.parse_args()
    width, height = (int(v) for v in a.size.lower().split("x"))
    gt, scene, bg, draws = generate(a.seed, a.frames, a.objects, width, height)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "gt.json"), "w") as fh:
        json.dump(dict(width=width, height=height, fps=FPS, seed=a.seed,
                       frames={str(t): b for t, b in enumerate(gt)}), fh)
    if a.noise:
        with open(a.noise, "w") as fh:
            fh.write(detections(gt, a.seed, width, height, a.sigma, a.dropout))
    if a.no_frames:
        return
    writer = None
    if a.avi:
        writer = cv2.VideoWriter(os.path.join(a.out, "clip.avi"),
                                 cv2.VideoWriter_fourcc(*"MJPG"), FPS,
                                 (width, height))
    for t, drawn in enumerate(draws):
        img = scene.render(bg, drawn, np.random.default_rng([a.seed, 1 + t]))
        if writer:
            writer.write(img)
        else:
            cv2.imwrite(os.path.join(a.out, f"{t:04d}.png"), img)
    if writer:
        writer.release()


if __name__ == "__main__":
    main()
