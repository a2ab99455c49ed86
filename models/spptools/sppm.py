"""The .sppm model format in Python: Model writes a file, read() reads one
back.

docs/model-format.md is the specification; src/engine/model.c is the C loader.
The writer serves the converters (spptools.convert_torch,
spptools.convert_nanodet, spptools.reduce_trunk), the test model and
vector generators and the training scripts. The reader is the project's
only Python reader of the format (spptools.check_nanodet,
spptools.reduce_trunk, spptools.synth.infer_ref and the Python tests use
it). It is written from the specification's byte layout, not from the
writer's helpers: the two share only the constants below.
"""
import struct

import numpy as np

MAGIC = b"SPPM"
VERSION = 1
ALIGN = 64

OP = dict(conv=1, act=2, lrn=3, maxpool=4, concat=5, slice=6, shuffle=7,
          add=8, fc=9, softmax=10, avgpool=11)
ACT = dict(none=0, relu=1, leaky=2, relu6=3, hardswish=4, sigmoid=5)
T_U32, T_I32, T_F32, T_STR, T_ARR = 0, 1, 2, 3, 4


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<I", len(b)) + b


def _scalar(t, v):
    if t == T_U32:
        return struct.pack("<I", v)
    if t == T_I32:
        return struct.pack("<i", v)
    if t == T_F32:
        return struct.pack("<f", v)
    return _str(v)


def _kv(key, value):
    """Infer the type: str, int (u32), float (f32), or a list of them."""
    if isinstance(value, (list, tuple, np.ndarray)):
        vals = list(value)
        if all(isinstance(v, str) for v in vals):
            t = T_STR
        elif all(isinstance(v, (int, np.integer)) for v in vals):
            t = T_U32
        else:
            t = T_F32
        body = struct.pack("<III", T_ARR, t, len(vals))
        body += b"".join(_scalar(t, (int(v) if t == T_U32 else
                                     float(v) if t == T_F32 else v))
                         for v in vals)
        return _str(key) + body
    if isinstance(value, str):
        return _str(key) + struct.pack("<I", T_STR) + _str(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return _str(key) + struct.pack("<I", T_U32) + _scalar(T_U32, int(value))
    return _str(key) + struct.pack("<I", T_F32) + _scalar(T_F32, float(value))


class Model:
    """Collects metadata, tensors and layers, then write()s one file."""

    def __init__(self):
        self.kv = {}
        self.tensors = []          # (name, float32 array)
        self.tensor_index = {}
        self.layers = []           # dicts
        self.n_trunk = 0

    def set(self, key, value):
        self.kv[key] = value

    def tensor(self, name, array):
        a = np.ascontiguousarray(np.asarray(array, dtype="<f4"))
        if not 1 <= a.ndim <= 4:
            raise ValueError(f"tensor {name}: {a.ndim} dims")
        if name in self.tensor_index:
            raise ValueError(f"tensor {name} twice")
        self.tensor_index[name] = len(self.tensors)
        self.tensors.append((name, a))
        return self.tensor_index[name]

    def _layer(self, op, name, section, inputs, ip, fp, tensors):
        self.layers.append(dict(op=OP[op], name=name, section=section,
                                inputs=list(inputs), ip=list(ip),
                                fp=list(fp), tensors=list(tensors)))
        if section == 0:
            if any(l["section"] == 1 for l in self.layers[:-1]):
                raise ValueError("trunk layers must come before head layers")
            self.n_trunk += 1
            return self.n_trunk   # node id of this layer's output
        return None

    # Trunk layers: `src` is a node id (0 = image); each returns its node.
    def conv(self, name, src, weight, bias=None, stride=1, pad=0,
             dilation=1, groups=1, act="none", slope=0.1):
        w = np.asarray(weight, dtype=np.float32)
        sh, sw = (stride, stride) if np.isscalar(stride) else stride
        if np.isscalar(pad):
            pt = pl = pb = pr = pad
        elif len(pad) == 2:
            pt, pl = pad
            pb, pr = pad
        else:
            pt, pl, pb, pr = pad
        dh, dw = (dilation, dilation) if np.isscalar(dilation) else dilation
        ts = [self.tensor(name + ".weight", w)]
        if bias is not None:
            ts.append(self.tensor(name + ".bias", bias))
        ip = [w.shape[0], w.shape[2], w.shape[3], sh, sw, pt, pl, pb, pr,
              dh, dw, groups, ACT[act]]
        return self._layer("conv", name, 0, [src], ip, [slope], ts)

    def act(self, name, src, act, slope=0.1):
        return self._layer("act", name, 0, [src], [ACT[act]], [slope], [])

    def lrn(self, name, src, size, alpha, beta, k=1.0, within=False):
        return self._layer("lrn", name, 0, [src], [1 if within else 0, size],
                           [alpha, beta, k], [])

    def maxpool(self, name, src, kernel, stride, pad=0, ceil_mode=True):
        pt = pl = pb = pr = pad
        return self._layer("maxpool", name, 0, [src],
                           [kernel, kernel, stride, stride, pt, pl, pb, pr,
                            1 if ceil_mode else 0], [], [])

    def avgpool(self, name, src, kernel, stride, pad=0, ceil_mode=True,
                count_include_pad=True):
        return self._layer("avgpool", name, 0, [src],
                           [kernel, kernel, stride, stride, pad, pad, pad, pad,
                            1 if ceil_mode else 0,
                            1 if count_include_pad else 0], [], [])

    def concat(self, name, srcs):
        return self._layer("concat", name, 0, srcs, [], [], [])

    def slice(self, name, src, start, count):
        return self._layer("slice", name, 0, [src], [start, count], [], [])

    def shuffle(self, name, src, groups):
        return self._layer("shuffle", name, 0, [src], [groups], [], [])

    def add(self, name, a, b, act="none", slope=0.1):
        return self._layer("add", name, 0, [a, b], [ACT[act]], [slope], [])

    # Head layers: a chain on the pooled vectors.
    def fc(self, name, weight, bias=None, act="none", slope=0.1):
        w = np.asarray(weight, dtype=np.float32)
        ts = [self.tensor(name + ".weight", w)]
        if bias is not None:
            ts.append(self.tensor(name + ".bias", bias))
        self._layer("fc", name, 1, [], [w.shape[0], ACT[act]], [slope], ts)

    def softmax(self, name):
        self._layer("softmax", name, 1, [], [], [], [])

    def write(self, path):
        kv = b"".join(_kv(k, v) for k, v in self.kv.items())
        tinfo = b""
        offset = 0
        offsets = []
        for name, a in self.tensors:
            offsets.append(offset)
            tinfo += _str(name) + struct.pack("<I", a.ndim)
            tinfo += struct.pack("<%dI" % a.ndim, *a.shape)
            tinfo += struct.pack("<IQ", 0, offset)
            offset += (a.nbytes + ALIGN - 1) // ALIGN * ALIGN
        layers = b""
        for l in self.layers:
            layers += struct.pack("<I", l["op"]) + _str(l["name"])
            layers += struct.pack("<I", l["section"])
            layers += struct.pack("<I%dI" % len(l["inputs"]),
                                  len(l["inputs"]), *l["inputs"])
            layers += struct.pack("<I%di" % len(l["ip"]), len(l["ip"]),
                                  *l["ip"])
            layers += struct.pack("<I%df" % len(l["fp"]), len(l["fp"]),
                                  *l["fp"])
            layers += struct.pack("<I%dI" % len(l["tensors"]),
                                  len(l["tensors"]), *l["tensors"])
        head_len = 40
        tables = kv + tinfo + layers
        data_offset = (head_len + len(tables) + ALIGN - 1) // ALIGN * ALIGN
        file_size = data_offset + offset
        header = MAGIC + struct.pack("<IQIIIIQ", VERSION, file_size,
                                     len(self.kv), len(self.tensors),
                                     len(self.layers), ALIGN, data_offset)
        assert len(header) == head_len
        with open(path, "wb") as f:
            f.write(header + tables)
            f.write(b"\0" * (data_offset - head_len - len(tables)))
            for (name, a), off in zip(self.tensors, offsets):
                assert f.tell() == data_offset + off
                f.write(a.tobytes())
                pad = (-a.nbytes) % ALIGN
                f.write(b"\0" * pad)
        return file_size


OP_NAME = {v: k for k, v in OP.items()}
ACT_NAME = {v: k for k, v in ACT.items()}


class _Cursor:
    """Little-endian fields read in order from a bytes object."""

    def __init__(self, buf, pos):
        self.buf = buf
        self.pos = pos

    def take(self, fmt):
        v = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return v

    def u32(self):
        return self.take("I")[0]

    def string(self):
        n = self.u32()
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def counted(self, code):
        """A u32 count, then that many values of struct code `code`."""
        return list(self.take("%d%s" % (self.u32(), code)))

    def value(self, t):
        if t == T_STR:
            return self.string()
        if t == T_ARR:
            et = self.u32()
            return [self.value(et) for _ in range(self.u32())]
        return self.take("Iif"[t])[0]


class ModelFile:
    """An .sppm file read back.

    kv       {key: value}: u32 and i32 as int, f32 as float, arrays as lists
    tensors  {name: float32 array of the tensor's shape}, in file order;
             read-only views of the file's bytes
    layers   [dict(op, name, section, inputs, ip, fp, tensors)] in file
             order: op the code (OP_NAME names it), inputs node ids, ip
             and fp the parameters as stored (the defaults of missing
             ones: conv_params, pool_params), tensors by name
    """

    def __init__(self, path):
        buf = open(path, "rb").read()
        if buf[:4] != MAGIC:
            raise ValueError("%s: not an .sppm file (magic %r)" % (path, buf[:4]))
        c = _Cursor(buf, 4)
        ver, fsize, n_kv, n_t, n_l, _, doff = c.take("IQIIIIQ")
        if ver != VERSION or fsize != len(buf):
            raise ValueError("%s: version %d, file_size %d of %d bytes"
                             % (path, ver, fsize, len(buf)))
        self.kv = {}
        for _ in range(n_kv):
            key = c.string()
            self.kv[key] = c.value(c.u32())
        self.tensors = {}
        for _ in range(n_t):
            name = c.string()
            dims = c.counted("I")
            dtype, off = c.take("IQ")
            if dtype != 0:
                raise ValueError("%s: tensor %s has dtype %d" % (path, name, dtype))
            self.tensors[name] = np.frombuffer(
                buf, "<f4", int(np.prod(dims)), doff + off).reshape(dims)
        names = list(self.tensors)
        self.layers = []
        for _ in range(n_l):
            self.layers.append(dict(
                op=c.u32(), name=c.string(), section=c.u32(),
                inputs=c.counted("I"), ip=c.counted("i"), fp=c.counted("f"),
                tensors=[names[i] for i in c.counted("I")]))

    def get(self, key, default=None):
        return self.kv.get(key, default)


def read(path):
    """The ModelFile of `path`. ValueError on a wrong magic, version or
    file size; nothing more is validated (src/engine/model.c does that)."""
    return ModelFile(path)


def _with_defaults(ip, defaults):
    """iparams padded with the format's defaults; a default may be the
    index of an earlier parameter whose value it takes ("kw = kh")."""
    v = list(ip)
    for i in range(len(v), len(defaults)):
        d = defaults[i]
        v.append(v[d[0]] if isinstance(d, tuple) else d)
    return v


def conv_params(ip, fp):
    """A conv layer's parameters, missing ones at their defaults."""
    v = _with_defaults(ip, [None, None, (1,), 1, (3,), 0, (5,), (5,), (6,),
                            1, (9,), 1, 0])
    return dict(out_c=v[0], kernel=v[1:3], stride=v[3:5], pad=v[5:9],
                dilation=v[9:11], groups=v[11], act=v[12],
                slope=fp[0] if fp else 0.1)


def pool_params(ip):
    """A maxpool's or avgpool's parameters, missing ones at their
    defaults (count_include_pad is the avgpool's alone)."""
    v = _with_defaults(ip, [None, (0,), (0,), (2,), 0, (4,), (4,), (5,), 1, 1])
    return dict(kernel=v[0:2], stride=v[2:4], pad=v[4:8],
                ceil_mode=bool(v[8]), count_include_pad=bool(v[9]))
