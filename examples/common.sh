# Sourced by the example scripts: finds the plugin in a build directory
# when it is not installed. Set BUILD_DIR to use another one.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for d in "${BUILD_DIR:-}" "$here/../build" "$here/../builddir"; do
  if [ -n "$d" ] && [ -e "$d/gst/libgstspp.so" ]; then
    export GST_PLUGIN_PATH="$d/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    break
  fi
done
if ! gst-inspect-1.0 sppdetect >/dev/null 2>&1; then
  echo "sppdetect not found: build the project (meson setup build && ninja -C build)" \
       "or set BUILD_DIR / GST_PLUGIN_PATH" >&2
  exit 1
fi
VTEST=${VTEST:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}
