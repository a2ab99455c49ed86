#!/usr/bin/python3
"""`spp proposals` end to end.

  test_proposals_cli.py photo SPP PHOTO   the JSON of a real photo decoded
      by GStreamer: boxes inside the image, at most --max, and the blue
      candy of smarties.png found (tests/data/proposals-gt/boxes.json)
  test_proposals_cli.py missing SPP SUPP  a missing file: exit status 1 and
      a message naming it (a crash or a sanitizer abort must not pass)
"""
import json
import os
import subprocess
import sys
import tempfile


def photo(argv):
    # Under LeakSanitizer: GLib's own load-time allocation is not ours (full
    # stacks so that the suppression can see where it came from).
    sup = tempfile.NamedTemporaryFile("w", suffix=".supp", delete=False)
    sup.write("leak:_dl_init\n")
    sup.close()
    env = dict(os.environ, LSAN_OPTIONS="suppressions=" + sup.name,
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "")
               + ":fast_unwind_on_malloc=0")
    out = subprocess.run([argv[0], "proposals", "--json", "--max", "300",
                          argv[1]], check=True, capture_output=True,
                         text=True, env=env).stdout
    os.unlink(sup.name)
    o = json.loads(out)
    assert (o["width"], o["height"]) == (413, 356), o["width"]
    b = o["boxes"]
    assert 0 < len(b) <= 300, len(b)
    for x, y, w, h in b:
        assert x >= 0 and y >= 0 and x + w <= 413.01 and y + h <= 356.01
    def iou(a, c):
        ix = max(0, min(a[0] + a[2], c[0] + c[2]) - max(a[0], c[0]))
        iy = max(0, min(a[1] + a[3], c[1] + c[3]) - max(a[1], c[1]))
        return ix * iy / (a[2] * a[3] + c[2] * c[3] - ix * iy)
    # the blue candy at the top right (tests/data/proposals-gt/boxes.json)
    assert max(iou([350, 55, 53, 53], c) for c in b) >= 0.7


def missing(argv):
    # Under ASan: glib's start-up allocation (_dl_init) is the one leak
    # LeakSanitizer reports, and its report would change the exit status.
    env = dict(os.environ, LSAN_OPTIONS="suppressions=" + argv[1]
               + ":print_suppressions=0:fast_unwind_on_malloc=0")
    r = subprocess.run([argv[0], "proposals", "/nonexistent/none.png"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "/nonexistent/none.png" in r.stderr, r.stderr
    assert "no such file" in r.stderr, r.stderr
    assert r.stdout == "", r.stdout


if __name__ == "__main__":
    dict(photo=photo, missing=missing)[sys.argv[1]](sys.argv[2:])
