#!/usr/bin/python3
"""ZF-5 benchmark: libspp vs PyTorch (2 threads each) and vs the OpenBLAS
sgemm peak, all in one run. Needs python3-torch (.ci/install-bench-deps.sh).
Usage (from the repo root, after building):
  PYTHONPATH=models /usr/bin/python3 tests/bench/zf5_bench.py [BUILD_DIR] [REPS] [TRUNK_MODEL]
TRUNK_MODEL (default models/nanodet-trunk.sppm, the element's default
trunk; "none" skips it) is timed at 768x576 and 512x384.
Prints a table; docs/performance.md records its output."""
import os
import subprocess
import sys
import time

import numpy as np

from spptools import ROOT, zf5

build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 7
trunk = sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "models", "nanodet-trunk.sppm")
model = os.path.join(build, "tests", "bench", "zf5-head.sppm")
if not os.path.exists(model):
    subprocess.check_call(["/usr/bin/python3", os.path.join(ROOT, "tests", "vectors", "make_zf5.py"),
                           model, "7", "--head"])

cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
print("CPU: %s, %d cores" % (cpu, os.cpu_count()))
out = subprocess.run([os.path.join(build, "tests", "bench", "zf5-bench"), model, str(reps)]
                     + ([trunk] if trunk != "none" else []),
                     check=True, capture_output=True, text=True).stdout
ours = {}
for line in out.splitlines():
    k, v = line.split(" ", 1)
    ours[k] = v
    print("  " + line)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
torch.set_num_threads(2)
torch.set_grad_enabled(False)
ws = {k: torch.from_numpy(v) for k, v in zf5.random_weights(7).items()}


def torch_zf5(x):
    y = x
    for name, o, i, k, s, p in zf5.SHAPES:
        y = F.relu(F.conv2d(y, ws[name + ".weight"], ws[name + ".bias"], stride=s, padding=p))
        if name in ("conv1", "conv2"):
            avg = F.avg_pool2d(y * y, 3, 1, 1, count_include_pad=True)
            y = y * (1 + 5e-5 * avg) ** (-0.75)
            y = F.max_pool2d(y, 3, 2, ceil_mode=True)
    return y


print("PyTorch %s, %d threads" % (torch.__version__, torch.get_num_threads()))
peak = float(ours["sgemm_peak_gflops"])
bench = os.path.join(build, "tests", "bench", "zf5-bench")
# The speed-up compares forwards taken in the same minutes: this machine's
# speed drifts (by 10-30% for minutes at a time), so ROUNDS rounds each
# run our forwards (a fresh process, its first forward untimed) and then
# PyTorch's, and the ratio is of the medians over all rounds.
ROUNDS = 3
rows = []
for h, w in [(688, 917), (224, 224)]:
    x = torch.from_numpy(np.random.RandomState(0).uniform(-1, 1, (1, 3, h, w)).astype(np.float32))
    torch_zf5(x)
    ours_t, pt_t = [], []
    for _ in range(ROUNDS):
        out = subprocess.run([bench, model, str(reps), "--forward", str(h), str(w)],
                             check=True, capture_output=True, text=True).stdout
        ours_t += [float(l.split()[1]) for l in out.splitlines() if l.startswith("forward_ms ")]
        for _ in range(max(2, reps // 3) if h * w > 300000 else reps):
            t0 = time.perf_counter()
            torch_zf5(x)
            pt_t.append((time.perf_counter() - t0) * 1e3)
    ms = float(np.median(ours_t))
    pt = float(np.median(pt_t))
    gf = float(ours["zf5_%dx%d_gflop" % (h, w)]) / ms * 1e3
    print("  interleaved %dx%d: libspp %d forwards, median %.1f ms (range %.1f-%.1f);"
          " PyTorch %d forwards, median %.1f ms (range %.1f-%.1f)"
          % (h, w, len(ours_t), ms, min(ours_t), max(ours_t), len(pt_t), pt, min(pt_t), max(pt_t)))
    rows.append((h, w, ms, pt, pt / ms, gf, gf / peak))
print()
print("| input | libspp ms | PyTorch ms | speed-up | libspp GFLOP/s | of sgemm peak |")
print("|---|---|---|---|---|---|")
for h, w, ms, pt, ratio, gf, frac in rows:
    print("| %dx%d | %.1f | %.1f | %.1fx | %.1f | %.0f%% |" % (h, w, ms, pt, ratio, gf, 100 * frac))
print()
print("sgemm peak (best of 2048^3 and the conv/fc shapes): %.1f GFLOP/s, kernels %s"
      % (peak, ours["openblas_core"]))
ours_mb = 2000 * 256 * 50 * 4 / 1e6
if "fc6_2000_gflops" in ours:
    print("fc6 on 2000 windows: %s ms, %s GFLOP/s = %.0f%% of peak (median run;"
          " best run %s GFLOP/s = %.0f%%, as the peak is a best run)"
          % (ours["fc6_2000_ms"], ours["fc6_2000_gflops"], 100 * float(ours["fc6_2000_gflops"]) / peak,
             ours["fc6_2000_best_gflops"], 100 * float(ours["fc6_2000_best_gflops"]) / peak))
print("window SPP, 2000 windows on the %s conv5 map: %s ms (public call, channel-major),"
      " %s ms (detector path, blocked layout); writing the same %.0f MB matrix"
      " alone takes %s ms (the memory floor, same run)"
      % (ours["spp_windows_2000_map"], ours["spp_windows_2000_ms"],
         ours.get("spp_windows_2000_binmajor_ms", "-"), ours_mb,
         ours.get("spp_windows_2000_write_floor_ms", "-")))
for w, h in [(768, 576), (512, 384)]:
    key = "trunk_%dx%d" % (w, h)
    if key + "_ms" in ours:
        print("trunk %s at %dx%d: %s ms, %s GMAC, %s GFLOP/s = %.0f%% of peak"
              % (os.path.basename(trunk), w, h, ours[key + "_ms"], ours[key + "_gmac"],
                 ours[key + "_gflops"], 100 * float(ours[key + "_gflops"]) / peak))
