#!/bin/sh
# gst-plugin-scanner for the tests. In a sanitizer build the plugin links
# the ASan runtime, which must be loaded before anything else: the stock
# scanner is not instrumented, so it gets the runtime preloaded (and no
# leak check: its leaks are GStreamer's, not ours). Scanning in a helper
# keeps every system plugin out of the test process.
if [ -n "$SPP_SCANNER_PRELOAD" ]; then
  LD_PRELOAD="$SPP_SCANNER_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}"
  ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export LD_PRELOAD ASAN_OPTIONS
fi
exec "$SPP_REAL_SCANNER" "$@"
