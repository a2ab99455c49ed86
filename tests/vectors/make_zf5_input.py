#!/usr/bin/python3
"""Writes the seeded ZF-5 test input (as gen_vectors.py makes it).
Usage: make_zf5_input.py OUT H W SEED"""
import sys

import numpy as np

out, h, w, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x = np.random.RandomState(seed).uniform(-128, 128, (1, 3, h, w)).astype("<f4")
x.tofile(out)
