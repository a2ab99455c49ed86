"""spptools.link_tracks on a hand-made label file: a person walking right,
missed by the labeller for 3 frames (kept: the gap is within 5) and later
for 7 (a new track), and a vehicle on the same spot as the person at
frame 0 (another category: its own track)."""
from spptools import link_tracks


def labels(frames):
    images, anns = [], []
    for f, boxes in frames.items():
        images.append({"id": f, "file_name": f"clip.avi#frame={f:06d}"})
        for cat, box in boxes:
            anns.append({"image_id": f, "category_id": cat, "bbox": box})
    return {"images": images, "annotations": anns}


frames = {}
for f in range(30):
    person = [] if 5 <= f < 8 or 15 <= f < 22 else [(1, [10 + 2 * f, 20, 30, 60])]
    frames[f] = person + ([(2, [10, 20, 30, 60])] if f == 0 else [])
out = link_tracks.link(labels(frames), 0, 29)

ids = {f: [o[0] for o in objs] for f, objs in out.items()}
assert ids[0] == [1, 2], ids[0]              # person, then vehicle
assert all(ids[f] == [] for f in range(5, 8))
assert ids[8] == [1], ids[8]                 # back after 3 frames: same
assert all(ids[f] == [] for f in range(15, 22))
assert ids[22] == [3], ids[22]               # back after 7 frames: new
assert out[8][0][1:] == (26, 20, 30, 60), out[8][0]
# Frames outside the range are left out.
assert sorted(link_tracks.link(labels(frames), 3, 9)) == list(range(3, 10))
print("ok")
