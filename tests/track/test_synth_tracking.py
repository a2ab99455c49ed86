"""The object tracker on spptools.synth.tracks' clip: the ground-truth
boxes of visible objects jittered (sigma 5% of the size) with 10% dropped
as detections, through SppObjectTracker (track-jsonl), scored by
spptools.mot against the exact tracks. Usage: test_synth_tracking.py
TRACK_JSONL

The floor below guards against regressions at the level measured when the
tracker landed (IDF1 0.45-0.48, MOTA 0.83-0.85, 11-16 id switches on
seeds 1-3); it is not the goal. Most of the lost identity comes from
objects that leave the frame and come back (the clip keeps their id, a
tracker without appearance cannot) and from objects hidden for several
frames. The goal, IDF1 >= 0.95 with at most 2 id switches, needs more than
motion and overlap; it is printed so that progress shows."""
import subprocess
import sys
import tempfile

from spptools import mot

binary = sys.argv[1]
failed = False
with tempfile.TemporaryDirectory() as tmp:
    for seed in (1, 2, 3):
        subprocess.run([sys.executable, "-m", "spptools.synth.tracks", tmp,
                        "--seed", str(seed), "--no-frames",
                        "--noise", f"{tmp}/dets.jsonl"], check=True,
                       stdout=subprocess.DEVNULL)
        with open(f"{tmp}/dets.jsonl") as src, \
                open(f"{tmp}/tracks.jsonl", "w") as dst:
            subprocess.run([binary], stdin=src, stdout=dst, check=True)
        r = mot.evaluate(mot.load(f"{tmp}/gt.json"),
                         mot.load(f"{tmp}/tracks.jsonl"))
        print(f"seed {seed}: IDF1 {r['idf1']:.3f} MOTA {r['mota']:.3f} "
              f"IDSW {r['idsw']} FN {r['fn']} FP {r['fp']} GT {r['num_gt']}")
        goal = r["idf1"] >= 0.95 and r["idsw"] <= 2
        print(f"  goal (IDF1 >= 0.95, IDSW <= 2): {'met' if goal else 'not met'}")
        if not (r["idf1"] >= 0.40 and r["mota"] >= 0.80):
            failed = True
sys.exit(1 if failed else 0)
