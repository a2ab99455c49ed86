#!/usr/bin/python3
"""Benchmark of the sppdetect element, one table:

  (a) default   filesrc vtest.avi ! decodebin ! videoconvert ! sppdetect
                ! fakesink sync=false, default settings
  (b) every     the same, inference-interval=1 proposal-interval=1
                (selective search and inference on every frame)
  (c) interval  the same, inference-interval=5
  (d) live      videotestsrc is-live=true (768x576, 30 fps, pattern=ball)
                ! sppdetect async=true ! fakesink sync=true qos=true
                max-lateness=20 ms (a video sink's settings)
  (e) live-sync (d) with async=false, for the latency the element reports
  (f) live-none (d) without sppdetect: what the source and sink add alone
      (a live source stamps a frame when its capture starts and pushes it
      one frame duration, 33 ms, later)

Files: frames per second between the first and the last frame at the sink
(model loading and the first frame excluded; "wall s" includes them) and
CPU ms per frame (this process, all threads). Live: the pipeline's latency
query (min), the delay of each frame when it reaches the sink (clock time
minus base time minus the buffer's running time, from a pad probe before
the sink waits), late frames (delay above the reported latency, so the
sink renders them late), and the sink's dropped count.

Usage:
  /usr/bin/python3 tests/bench/element_bench.py [--build build]
      [--frames N] [--live-frames N] [--video vtest.avi] [--only a,b,...]
--frames limits the file runs (default: all 795 frames of vtest.avi).
"""
import argparse
import os
import platform
import resource
import statistics
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
LIVE_CAPS = "video/x-raw,format=I420,width=768,height=576,framerate=30/1"


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_model():
    """'model name (family F, model M)' of the first CPU."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break
                k, _, v = line.partition(":")
                info[k.strip()] = v.strip()
    except OSError:
        pass
    name = info.get("model name") or platform.processor() or "unknown"
    if "cpu family" in info and "model" in info:
        name += f" (family {info['cpu family']}, model {info['model']})"
    return name


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Run:
    """One pipeline, stopped after `frames` frames at the sink (None: EOS)."""

    def __init__(self, desc, frames, live, timeout):
        self.desc = desc
        self.frames = frames
        self.live = live
        self.timeout = timeout
        self.lock = threading.Lock()
        self.count = 0
        self.t_first = self.t_last = None
        self.cpu_first = self.cpu_last = None
        self.delays = []  # ns, live only
        self.done = threading.Event()

    def probe(self, pad, info):
        buf = info.get_buffer()
        now = time.monotonic()
        if self.live:
            clock = self.pipeline.get_clock()
            seg_ev = pad.get_sticky_event(Gst.EventType.SEGMENT, 0)
            if clock is not None and seg_ev is not None \
                    and buf.pts != Gst.CLOCK_TIME_NONE:
                seg = seg_ev.parse_segment()
                rt = seg.to_running_time(Gst.Format.TIME, buf.pts)
                arrival = clock.get_time() - self.pipeline.get_base_time()
                self.delays.append(arrival - rt)
        with self.lock:
            self.count += 1
            if self.count == 1:
                self.t_first, self.cpu_first = now, cpu_seconds()
            if self.frames is None or self.count <= self.frames:
                self.t_last, self.cpu_last = now, cpu_seconds()
            if self.frames is not None and self.count >= self.frames:
                self.done.set()
        return Gst.PadProbeReturn.OK

    def run(self):
        self.pipeline = Gst.parse_launch(self.desc)
        sink = self.pipeline.get_by_name("sink")
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER,
                                              self.probe)
        bus = self.pipeline.get_bus()
        t0 = time.monotonic()
        if self.pipeline.set_state(Gst.State.PLAYING) == \
                Gst.StateChangeReturn.FAILURE:
            self.pipeline.set_state(Gst.State.NULL)
            msg = bus.pop_filtered(Gst.MessageType.ERROR)
            raise RuntimeError("cannot start: " + (
                msg.parse_error()[0].message if msg else self.desc))
        self.latency = None
        self.timed_out = False
        while not self.done.is_set():
            if time.monotonic() - t0 > self.timeout:
                self.timed_out = True
                break
            msg = bus.timed_pop_filtered(100 * Gst.MSECOND,
                                         Gst.MessageType.ERROR
                                         | Gst.MessageType.EOS)
            if msg is None:
                if self.live and self.latency is None and self.count > 0:
                    q = Gst.Query.new_latency()
                    if self.pipeline.query(q):
                        self.latency = q.parse_latency()[1]
                continue
            if msg.type == Gst.MessageType.ERROR:
                err, dbg = msg.parse_error()
                self.pipeline.set_state(Gst.State.NULL)
                raise RuntimeError(f"{err.message} ({dbg})")
            break  # EOS
        if self.live:
            # The latency as configured at the end (after LATENCY messages)
            q = Gst.Query.new_latency()
            if self.pipeline.query(q):
                self.latency = q.parse_latency()[1]
            stats = sink.get_property("stats")
            self.dropped = stats.get_value("dropped")
        self.wall = time.monotonic() - t0
        self.pipeline.set_state(Gst.State.NULL)
        self.pipeline = None
        return self

    def row(self, name, settings):
        n = min(self.count, self.frames) if self.frames else self.count
        span = (self.t_last - self.t_first) if self.t_first else 0
        fps = (n - 1) / span if n > 1 and span > 0 else float("nan")
        cpu = 1000 * (self.cpu_last - self.cpu_first) / (n - 1) \
            if n > 1 else float("nan")
        r = {"run": name, "settings": settings, "frames": n,
             "wall s": f"{self.wall:.1f}" + (" (timeout)" if self.timed_out
                                             else ""),
             "fps": f"{fps:.2f}", "CPU ms/frame": f"{cpu:.0f}",
             "latency ms": "-", "delay ms mean/p95/max": "-",
             "late": "-", "dropped": "-"}
        if self.live:
            d = sorted(x / 1e6 for x in self.delays)
            if d:
                p95 = d[min(len(d) - 1, int(0.95 * len(d)))]
                r["delay ms mean/p95/max"] = \
                    f"{statistics.mean(d):.0f}/{p95:.0f}/{d[-1]:.0f}"
            if self.latency is not None:
                r["latency ms"] = f"{self.latency / 1e6:.0f}"
                r["late"] = str(sum(1 for x in self.delays
                                    if x > self.latency))
            r["dropped"] = str(self.dropped)
        return r


def main():
    ap = argparse.ArgumentParser(
        description="sppdetect element benchmark")
    ap.add_argument("--build", default="build",
                    help="meson build directory (gst/libgstspp.so)")
    ap.add_argument("--video", default=VTEST)
    ap.add_argument("--frames", type=int, default=None,
                    help="frames per file run (default: the whole file)")
    ap.add_argument("--live-frames", type=int, default=300,
                    help="frames per live run (default 300, 10 s)")
    ap.add_argument("--only", default="a,b,c,d,e,f",
                    help="comma-separated runs to do, of a,b,c,d,e,f")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds per run before it is cut short")
    args = ap.parse_args()

    plugin_dir = os.path.abspath(os.path.join(args.build, "gst"))
    if not os.path.exists(os.path.join(plugin_dir, "libgstspp.so")):
        sys.exit(f"no {plugin_dir}/libgstspp.so: build first "
                 f"(meson setup {args.build} && ninja -C {args.build})")
    os.environ["GST_PLUGIN_PATH"] = plugin_dir
    Gst.init(None)
    if Gst.ElementFactory.find("sppdetect") is None:
        sys.exit(f"sppdetect not found in {plugin_dir}")
    if not os.path.exists(args.video):
        sys.exit(f"{args.video} missing (Debian package opencv-doc)")

    file_desc = (f'filesrc location="{args.video}" ! decodebin ! videoconvert '
                 "! {} ! fakesink name=sink sync=false")
    live_desc = (f"videotestsrc is-live=true pattern=ball ! {LIVE_CAPS} "
                 "! {} ! fakesink name=sink sync=true qos=true "
                 "max-lateness=20000000")
    runs = {
        "a": ("default", "(defaults)", file_desc, "sppdetect", False),
        "b": ("every", "inference-interval=1 proposal-interval=1", file_desc,
              "sppdetect inference-interval=1 proposal-interval=1", False),
        "c": ("interval", "inference-interval=5", file_desc,
              "sppdetect inference-interval=5", False),
        "d": ("live", "async=true, live 30 fps", live_desc,
              "sppdetect async=true", True),
        "e": ("live-sync", "async=false, live 30 fps", live_desc,
              "sppdetect async=false", True),
        "f": ("live-none", "no sppdetect, live 30 fps", live_desc,
              "identity", True),
    }
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; "
          f"{Gst.version_string()}; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}")
    print(f"load average at start: {loadavg()}")
    rows = []
    for key in args.only.split(","):
        name, settings, desc, element, live = runs[key.strip()]
        frames = args.live_frames if live else args.frames
        print(f"({key}) {name}: {settings} ...", flush=True)
        r = Run(desc.format(element), frames, live, args.timeout).run()
        rows.append(r.row(f"({key}) {name}", settings))
    print(f"load average at end: {loadavg()}")

    cols = list(rows[0].keys())
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("| " + " | ".join(c.ljust(width[c]) for c in cols) + " |")
    print("|" + "|".join("-" * (width[c] + 2) for c in cols) + "|")
    for r in rows:
        print("| " + " | ".join(str(r[c]).ljust(width[c]) for c in cols)
              + " |")


if __name__ == "__main__":
    main()
