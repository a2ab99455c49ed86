#!/usr/bin/python3
"""Serves a video file over RTSP (gst-rtsp-server), to try rtsp-client.sh:

    ./rtsp_server.py [file] [port]    ->  rtsp://127.0.0.1:8554/test

Motion JPEG, not MPEG-4: the server seeks the file back to 0 on PLAY and
avenc_mpeg4 then refuses every frame ("Invalid pts (0) <= last"), so an
MPEG-4 stream sends nothing. jpegenc has no such state.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else VTEST
    port = sys.argv[2] if len(sys.argv) > 2 else "8554"
    Gst.init(None)
    server = GstRtspServer.RTSPServer(service=port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f'( filesrc location="{path}" ! decodebin ! videoconvert '
        "! jpegenc quality=85 ! rtpjpegpay name=pay0 pt=26 )")
    factory.set_shared(True)
    server.get_mount_points().add_factory("/test", factory)
    server.attach(None)
    print(f"rtsp://127.0.0.1:{port}/test")
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
