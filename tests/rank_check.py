#!/usr/bin/python3
"""SPP-net window scores against R-CNN warped-crop scores of the same
model and proposals, on held-out synthetic scenes (regenerated from their
seed): the mean Spearman rank correlation must reach MIN_RHO.
Usage: rank_check.py RANK_CHECK_BINARY BUILD_DIR MIN_RHO"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary, out, min_rho = sys.argv[1], sys.argv[2], sys.argv[3]
scenes = os.path.join(out, "rank-scenes")
subprocess.check_call(["/usr/bin/python3", os.path.join(ROOT, "models", "synth", "scenes.py"),
                       "--split", "test", "--count", "4", "--seed", "2", "--out", scenes],
                      stdout=subprocess.DEVNULL)
images = sorted(os.path.join(scenes, f) for f in os.listdir(scenes) if f.endswith(".png"))
sys.exit(subprocess.call([binary, os.path.join(ROOT, "models", "synth", "synth.sppm"), min_rho] + images))
