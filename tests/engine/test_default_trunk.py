#!/usr/bin/python3
"""The default model's trunk (NanoDet cut at Concat_27, stride 8, then a
1x1 PCA projection) run by libspp, against the original TF.js graph's
output at Concat_27 (tests/data/nanodet-ref, dumped by
models/teacher/dump_backbone.mjs with tfjs-backend-wasm) projected with
the file's own 1x1 weights in NumPy.

The file is read by the Python reader (spptools.sppm, through
spptools.check_nanodet), independent of libspp's loader; libspp runs
through ctypes, as any C caller would.

  test_default_trunk.py LIBSPP.so MODEL.sppm"""
import ctypes
import json
import os
import sys

import numpy as np

from spptools import ROOT
from spptools import check_nanodet as cn

lib_path, model_path = sys.argv[1:3]
ref = os.path.join(ROOT, "tests", "data", "nanodet-ref")
meta = json.load(open(os.path.join(ref, "meta.json")))
shape_in = meta["files"]["input.f32"]["shape"]
shape_27 = meta["files"]["concat27.f32"]["shape"]
x = np.fromfile(os.path.join(ref, "input.f32"), "<f4").reshape(shape_in)
c27 = np.fromfile(os.path.join(ref, "concat27.f32"), "<f4").reshape(shape_27)[0]

kv, layers = cn.read_sppm(model_path)
names = [l["name"] for l in layers]
assert "Concat_27" in names, f"{model_path}: no Concat_27 layer: {names}"
tail = layers[names.index("Concat_27") + 1:]
assert len(tail) == 1 and tail[0]["op"] == "conv", \
    f"{model_path}: expected one 1x1 conv after Concat_27, got {tail}"
w = tail[0]["weight"][:, :, 0, 0].astype(np.float64)
b = tail[0]["bias"].astype(np.float64)
want = np.einsum("oc,chw->ohw", w, c27.astype(np.float64)) + b[:, None, None]

lib = ctypes.CDLL(lib_path)
lib.spp_model_load.restype = ctypes.c_void_p
lib.spp_model_load.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
lib.spp_net_new.restype = ctypes.c_void_p
lib.spp_net_new.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
lib.spp_tensor_new.restype = ctypes.c_void_p
lib.spp_tensor_new.argtypes = [ctypes.c_int] * 4
lib.spp_tensor_data.restype = ctypes.POINTER(ctypes.c_float)
lib.spp_tensor_data.argtypes = [ctypes.c_void_p]
lib.spp_tensor_get_shape.argtypes = [ctypes.c_void_p] + [ctypes.POINTER(ctypes.c_int)] * 4
lib.spp_net_forward.restype = ctypes.c_int
lib.spp_net_forward.argtypes = [ctypes.c_void_p] * 4
for f in ("spp_net_free", "spp_model_unref", "spp_tensor_free"):
    getattr(lib, f).argtypes = [ctypes.c_void_p]

model = lib.spp_model_load(model_path.encode(), None)
assert model, f"libspp cannot load {model_path}"
net = lib.spp_net_new(model, None)
assert net
tin = lib.spp_tensor_new(*shape_in)
ctypes.memmove(lib.spp_tensor_data(tin), x.astype("<f4").tobytes(), x.nbytes)
tout = lib.spp_tensor_new(0, 0, 0, 0)
assert lib.spp_net_forward(net, tin, tout, None), "spp_net_forward failed"
dims = [ctypes.c_int() for _ in range(4)]
lib.spp_tensor_get_shape(tout, *[ctypes.byref(d) for d in dims])
dims = [d.value for d in dims]
assert dims == [1] + list(want.shape), f"output {dims}, want {want.shape}"
got = np.ctypeslib.as_array(lib.spp_tensor_data(tout), shape=(int(np.prod(dims)),))
got = got.reshape(want.shape).astype(np.float64)
err = np.abs(got - want).max()
scale = np.abs(want).max()
print(f"max abs error {err:.3g} (max |ref| {scale:.3g}), output {dims}")
for t in (tin, tout):
    lib.spp_tensor_free(t)
lib.spp_net_free(net)
lib.spp_model_unref(model)
# float16 weights widened alike on both sides; what is left is summation
# order, through 17 convs and the projection.
sys.exit(0 if err < 1e-4 * scale else 1)
