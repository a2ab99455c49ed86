#!/usr/bin/python3
"""Runs a pipeline with sppdetect and prints each frame's detections as
JSON, read from the ROI metas in a pad probe (PyGObject):

    ./read_metas.py [video file] [model]

GStreamer 1.22's Python bindings cannot iterate metas, so detections are
fetched by id: sppdetect numbers its ROI metas 0..n-1 on each frame.
"""
import json
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, Gst, GstVideo  # noqa: E402

VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
FIELDS_DOUBLE = ("x_min", "y_min", "x_max", "y_max", "confidence")


def detections(buf):
    roi_api = GstVideo.VideoRegionOfInterestMeta.get_info().api
    n = buf.get_n_meta(roi_api)
    out = []
    for roi_id in range(n):
        roi = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, roi_id)
        if roi is None:
            continue
        obj = {"roi_type": GLib.quark_to_string(roi.roi_type),
               "x": roi.x, "y": roi.y, "w": roi.w, "h": roi.h}
        det = roi.get_param("detection")
        if det is not None:
            for f in FIELDS_DOUBLE:
                ok, v = det.get_double(f)
                if ok:
                    obj[f] = round(v, 4)
            ok, v = det.get_int("label_id")
            if ok:
                obj["label_id"] = v
            ok, v = det.get_boolean("propagated")
            if ok:
                obj["propagated"] = v
            ok, v = det.get_uint64("source-frame")
            if ok:
                obj["source_frame"] = v
        out.append(obj)
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else VTEST
    model = f'model="{sys.argv[2]}"' if len(sys.argv) > 2 else ""
    Gst.init(None)
    pipeline = Gst.parse_launch(
        f'filesrc location="{path}" ! decodebin ! videoconvert '
        f"! sppdetect {model} inference-interval=5 ! fakesink name=sink")
    frame = [0]

    def probe(pad, info):
        buf = info.get_buffer()
        print(json.dumps({"frame": frame[0], "pts": buf.pts,
                          "objects": detections(buf)}), flush=True)
        frame[0] += 1
        return Gst.PadProbeReturn.OK

    sink = pipeline.get_by_name("sink")
    sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, probe)
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    msg = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    status = 0
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print(f"error: {err.message}\n{dbg}", file=sys.stderr)
        status = 1
    pipeline.set_state(Gst.State.NULL)
    return status


if __name__ == "__main__":
    sys.exit(main())
