#!/usr/bin/python3
"""convert_torch.py on a state dict (as .npz) of the seeded ZF-5 weights
must write exactly the file make_zf5.py writes from the same weights.
Usage: check_convert.py BUILD_DIR"""
import filecmp
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import zf5  # noqa: E402

out = sys.argv[1]
np.savez(os.path.join(out, "zf5-state.npz"), **zf5.random_weights(7))
subprocess.check_call(["/usr/bin/python3", os.path.join(HERE, "..", "..", "models", "convert_torch.py"),
                       "--arch", "zf5", os.path.join(out, "zf5-state.npz"),
                       os.path.join(out, "zf5-converted.sppm")])
same = filecmp.cmp(os.path.join(out, "zf5-converted.sppm"), os.path.join(out, "zf5.sppm"), shallow=False)
print("converted file identical to make_zf5.py's:", same)
sys.exit(0 if same else 1)
