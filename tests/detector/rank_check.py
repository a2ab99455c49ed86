#!/usr/bin/python3
"""SPP-net window scores against R-CNN warped-crop scores of the same
model and proposals, on held-out synthetic scenes (regenerated from their
seed): the mean Spearman rank correlation must reach MIN_RHO.
Usage: rank_check.py RANK_CHECK_BINARY BUILD_DIR MIN_RHO"""
import os
import subprocess
import sys

from spptools import MODELS
from spptools.synth import scenes

binary, out, min_rho = sys.argv[1], sys.argv[2], sys.argv[3]
scene_dir = os.path.join(out, "rank-scenes")
scenes.generate("test", 4, 2, scene_dir)
images = sorted(os.path.join(scene_dir, f) for f in os.listdir(scene_dir)
                if f.endswith(".png"))
sys.exit(subprocess.call([binary, os.path.join(MODELS, "synth", "synth.sppm"),
                          min_rho] + images))
