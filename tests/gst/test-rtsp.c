/* RTSP integration: a real gst-rtsp-server in another process
 * (rtsp-test-server, on 127.0.0.1 and a free port) and a client pipeline
 *
 *   rtspsrc ! decodebin ! videoconvert ! sppdetect ! sppjsonlog ! fakesink
 *
 * Checks that frames with ROI metas reach the sink and that the JSON lines
 * arrive and parse, then kills the server (SIGKILL) mid-stream and checks
 * that the client ends with a message on the bus, not a crash or a hang:
 *
 * - UDP (rtspsrc's default, what examples/rtsp-client.sh uses): an ERROR
 *   from rtspsrc ("Could not connect to server").
 * - TCP interleaved: rtspsrc 1.22 treats the closed connection as the end
 *   of the stream: a WARNING ("The server closed the connection") and EOS.
 *
 * Either way the JSON file holds only whole, valid lines afterwards. Every
 * wait is bounded; the server exits by itself if this test dies.
 * Uses tests/data/tiny.sppm with threshold=0 (random weights: every frame
 * gets boxes). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include <gst/check/gstcheck.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#define N_FRAMES 30
#define WIDTH 160
#define HEIGHT 120
#define SERVER_START_TIMEOUT_MS 20000
#define FRAMES_TIMEOUT (40 * GST_SECOND)
#define END_TIMEOUT (30 * GST_SECOND)

static gchar *tiny_model;
static const gchar *server_path;

typedef struct
{
  GPid pid;
  gint stdin_fd;                /* kept open: the server quits when it closes */
  guint port;
} Server;

typedef struct
{
  gint frames;                  /* atomic: the streaming thread writes */
  gint frames_with_rois;
} Counts;

static GstClockTime
now_ns (void)
{
  return (GstClockTime) g_get_monotonic_time () * GST_USECOND;
}

/* Starts the server and reads its port, waiting at most
 * SERVER_START_TIMEOUT_MS for the line. */
static void
server_start (Server * s)
{
  g_autoptr (GError) err = NULL;
  gchar *argv[] = { (gchar *) server_path, (gchar *) "120", NULL };
  gchar line[32] = { 0 };
  gsize len = 0;
  gint out_fd;
  guint64 port;

  fail_unless (g_spawn_async_with_pipes (NULL, argv, NULL,
          G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &s->pid, &s->stdin_fd,
          &out_fd, NULL, &err), "cannot start %s: %s", server_path,
      err ? err->message : "");
  while (len < sizeof line - 1 && !memchr (line, '\n', len)) {
    struct pollfd pfd = { out_fd, POLLIN, 0 };
    gssize n;
    gint r = poll (&pfd, 1, SERVER_START_TIMEOUT_MS);

    if (r < 0 && errno == EINTR)
      continue;
    fail_unless (r == 1, "%s printed no port within %d ms", server_path,
        SERVER_START_TIMEOUT_MS);
    n = read (out_fd, line + len, sizeof line - 1 - len);
    fail_unless (n > 0, "%s exited before printing its port", server_path);
    len += n;
  }
  close (out_fd);
  g_strchomp (line);
  fail_unless (g_ascii_string_to_unsigned (line, 10, 1, 65535, &port, NULL),
      "%s printed '%s', not a port", server_path, line);
  s->port = (guint) port;
}

/* SIGKILL, then reap (bounded: SIGKILL cannot be caught) */
static void
server_kill (Server * s)
{
  int status;

  if (s->pid <= 0)
    return;
  kill (s->pid, SIGKILL);
  while (waitpid (s->pid, &status, 0) < 0 && errno == EINTR);
  g_spawn_close_pid (s->pid);
  close (s->stdin_fd);
  s->pid = 0;
}

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Counts *c = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  g_atomic_int_inc (&c->frames);
  if (gst_buffer_get_video_region_of_interest_meta (buf))
    g_atomic_int_inc (&c->frames_with_rois);
  return GST_PAD_PROBE_OK;
}

static void
fail_on_message (GstMessage * msg, const gchar * when)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dbg = NULL;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &err, &dbg);
  fail ("%s: %s from %s: %s (%s)", when, GST_MESSAGE_TYPE_NAME (msg),
      GST_MESSAGE_SRC_NAME (msg), err ? err->message : "",
      dbg ? dbg : "");
}

/* Every line of the log parses and describes a WIDTHxHEIGHT frame, the
 * frame numbers run 0, 1, ...; returns the number of lines and, in
 * *n_objects, the objects over all lines. */
static guint
check_log (const gchar * path, guint * n_objects)
{
  g_autofree gchar *contents = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len;
  guint n;

  fail_unless (g_file_get_contents (path, &contents, &len, NULL),
      "no JSON log at %s", path);
  fail_unless (len > 0 && contents[len - 1] == '\n',
      "the log does not end with a whole line");
  contents[len - 1] = '\0';
  lines = g_strsplit (contents, "\n", -1);
  n = g_strv_length (lines);
  *n_objects = 0;
  for (guint i = 0; i < n; i++) {
    g_autoptr (GError) err = NULL;
    JsonObject *o, *res;

    fail_unless (json_parser_load_from_data (parser, lines[i], -1, &err),
        "line %u does not parse: %s", i, err ? err->message : "");
    o = json_node_get_object (json_parser_get_root (parser));
    fail_unless (o != NULL, "line %u is not an object", i);
    fail_unless_equals_int (json_object_get_int_member (o, "frame"), i);
    res = json_object_get_object_member (o, "resolution");
    fail_unless_equals_int (json_object_get_int_member (res, "width"), WIDTH);
    fail_unless_equals_int (json_object_get_int_member (res, "height"),
        HEIGHT);
    *n_objects += json_array_get_length (json_object_get_array_member (o,
            "objects"));
  }
  return n;
}

static void
run_rtsp_case (const gchar * protocols, gboolean over_tcp)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("spprtsp-XXXXXX", NULL);
  g_autofree gchar *log_path = NULL;
  g_autofree gchar *desc = NULL;
  Server server = { 0 };
  Counts counts = { 0 };
  GstElement *pipeline, *sink;
  GstMessage *msg;
  GstBus *bus;
  GstPad *pad;
  GstClockTime deadline;
  guint n_lines, n_objects, frames_at_kill;
  gboolean warned = FALSE, ended = FALSE;

  fail_unless (dir != NULL, "cannot make a temporary directory");
  log_path = g_build_filename (dir, "rtsp.jsonl", NULL);
  server_start (&server);

  desc = g_strdup_printf ("rtspsrc name=src "
      "location=rtsp://127.0.0.1:%u/test protocols=%s latency=100 "
      "! decodebin ! videoconvert ! video/x-raw,format=I420 "
      "! sppdetect model=\"%s\" threshold=0 num-threads=1 "
      "! sppjsonlog location=\"%s\" ! fakesink name=sink sync=false",
      server.port, protocols, tiny_model, log_path);
  pipeline = gst_parse_launch (desc, &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe, &counts,
      NULL);
  gst_object_unref (pad);
  bus = gst_element_get_bus (pipeline);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  /* N_FRAMES frames at the sink, no error or EOS before */
  deadline = now_ns () + FRAMES_TIMEOUT;
  while (g_atomic_int_get (&counts.frames) < N_FRAMES) {
    fail_unless (now_ns () < deadline,
        "%d frames in %" GST_TIME_FORMAT " over RTSP/%s, expected %d",
        g_atomic_int_get (&counts.frames), GST_TIME_ARGS (FRAMES_TIMEOUT),
        protocols, N_FRAMES);
    msg = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    if (msg)
      fail_on_message (msg, "before the server was killed");
  }
  fail_unless (g_atomic_int_get (&counts.frames_with_rois) > 0,
      "no frame reached the sink with ROI metas");
  n_lines = check_log (log_path, &n_objects);
  fail_unless (n_lines >= N_FRAMES, "%u JSON lines for %d frames", n_lines,
      N_FRAMES);
  fail_unless (n_objects > 0, "no objects in %u JSON lines", n_lines);

  /* Kill the server mid-stream: the client must end, with a message */
  frames_at_kill = g_atomic_int_get (&counts.frames);
  server_kill (&server);
  deadline = now_ns () + END_TIMEOUT;
  while (!ended) {
    GstClockTime now = now_ns ();

    fail_unless (now < deadline, "RTSP/%s: no %s within %" GST_TIME_FORMAT
        " of killing the server", protocols,
        over_tcp ? "warning + EOS" : "error", GST_TIME_ARGS (END_TIMEOUT));
    msg = gst_bus_timed_pop_filtered (bus, deadline - now,
        GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_EOS);
    if (!msg)
      continue;
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR:{
        g_autoptr (GError) e = NULL;
        g_autofree gchar *dbg = NULL;

        gst_message_parse_error (msg, &e, &dbg);
        if (over_tcp)
          fail_on_message (msg, "after the server was killed");
        fail_unless (e->domain == GST_RESOURCE_ERROR,
            "error not about the resource: %s", e->message);
        GST_INFO ("ended with error: %s (%s)", e->message, dbg);
        ended = TRUE;
        break;
      }
      case GST_MESSAGE_WARNING:{
        g_autoptr (GError) e = NULL;

        gst_message_parse_warning (msg, &e, NULL);
        GST_INFO ("warning: %s", e->message);
        if (e->domain == GST_RESOURCE_ERROR)
          warned = TRUE;
        break;
      }
      case GST_MESSAGE_EOS:
        if (!over_tcp)
          fail_on_message (msg, "after the server was killed");
        fail_unless (warned, "EOS without a warning about the server");
        ended = TRUE;
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  fail_unless (gst_element_set_state (pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);

  /* Still only whole, valid lines, one per frame that reached the sink */
  n_lines = check_log (log_path, &n_objects);
  fail_unless (n_lines >= (guint) g_atomic_int_get (&counts.frames),
      "%u lines for %d frames", n_lines, g_atomic_int_get (&counts.frames));
  GST_INFO ("RTSP/%s: %d frames (%d at the kill), %u lines, %u objects",
      protocols, g_atomic_int_get (&counts.frames), frames_at_kill, n_lines,
      n_objects);

  gst_object_unref (bus);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_unlink (log_path);
  g_rmdir (dir);
}

GST_START_TEST (test_rtsp_udp)
{
  run_rtsp_case ("udp", FALSE);
}

GST_END_TEST;

GST_START_TEST (test_rtsp_tcp)
{
  run_rtsp_case ("tcp", TRUE);
}

GST_END_TEST;

static Suite *
rtsp_suite (void)
{
  Suite *s = suite_create ("rtsp");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_rtsp_udp);
  tcase_add_test (tc, test_rtsp_tcp);
  return s;
}

int
main (int argc, char **argv)
{
  const gchar *data_dir = g_getenv ("SPP_TEST_DATA");
  Suite *s;
  int ret;

  server_path = g_getenv ("SPP_RTSP_SERVER");
  if (!server_path || !g_file_test (server_path, G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr ("SPP_RTSP_SERVER does not name the rtsp-test-server "
        "program\n");
    return 1;
  }
  tiny_model = g_build_filename (data_dir ? data_dir : "tests/data",
      "tiny.sppm", NULL);
  gst_check_init (&argc, &argv);
  s = rtsp_suite ();
  ret = gst_check_run_suite (s, "rtsp", __FILE__);
  g_free (tiny_model);
  return ret;
}
