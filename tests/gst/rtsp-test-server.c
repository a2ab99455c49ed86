/* RTSP server for tests/gst/test-rtsp.c, in its own process so that the
 * test can kill it for real (SIGKILL) in the middle of a stream.
 *
 *   rtsp-test-server [lifetime-seconds]
 *
 * Serves a live test pattern at rtsp://127.0.0.1:PORT/test, raw I420
 * 160x120 at 30 fps over RTP (rtpvrawpay: no encoder, nothing to
 * configure). Listens on 127.0.0.1 only, on a free port chosen by the
 * kernel, and prints that port on stdout, alone on a line, once it
 * listens. Exits when its stdin closes (the test that started it died)
 * or after lifetime-seconds (default 120), so that it never outlives a
 * test that crashed or timed out.
 *
 * The source is live on purpose: examples/rtsp_server.py serves a file
 * through avenc_mpeg4, and rtsp-media seeks non-live media back to 0 on
 * PLAY, after which libav refuses every frame ("Invalid pts (0) <= last")
 * and no packet is ever sent, over UDP or TCP alike. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#define DEFAULT_LIFETIME_S 120

static gboolean
stdin_cb (gint fd, GIOCondition cond, gpointer user_data)
{
  GMainLoop *loop = user_data;
  gchar buf[64];

  if ((cond & G_IO_IN) && read (fd, buf, sizeof buf) > 0)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
lifetime_cb (gpointer user_data)
{
  g_printerr ("rtsp-test-server: lifetime over, exiting\n");
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  GstRTSPServer *server;
  GstRTSPMountPoints *mounts;
  GstRTSPMediaFactory *factory;
  GMainLoop *loop;
  guint lifetime = DEFAULT_LIFETIME_S;
  guint attach_id;
  gint port;

  gst_init (&argc, &argv);
  if (argc > 1) {
    guint64 v;
    if (!g_ascii_string_to_unsigned (argv[1], 10, 1, 3600, &v, NULL)) {
      g_printerr ("usage: %s [lifetime-seconds (1..3600)]\n", argv[0]);
      return 2;
    }
    lifetime = (guint) v;
  }

  loop = g_main_loop_new (NULL, FALSE);
  server = gst_rtsp_server_new ();
  gst_rtsp_server_set_address (server, "127.0.0.1");
  gst_rtsp_server_set_service (server, "0");

  factory = gst_rtsp_media_factory_new ();
  gst_rtsp_media_factory_set_launch (factory,
      "( videotestsrc is-live=true pattern=ball "
      "! video/x-raw,format=I420,width=160,height=120,framerate=30/1 "
      "! rtpvrawpay name=pay0 pt=96 )");
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  mounts = gst_rtsp_server_get_mount_points (server);
  gst_rtsp_mount_points_add_factory (mounts, "/test", factory);
  g_object_unref (mounts);

  attach_id = gst_rtsp_server_attach (server, NULL);
  port = gst_rtsp_server_get_bound_port (server);
  if (attach_id == 0 || port <= 0) {
    g_printerr ("rtsp-test-server: cannot listen on 127.0.0.1\n");
    g_object_unref (server);
    g_main_loop_unref (loop);
    return 1;
  }
  printf ("%d\n", port);
  fflush (stdout);

  g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_cb, loop);
  g_timeout_add_seconds (lifetime, lifetime_cb, loop);
  g_main_loop_run (loop);

  g_source_remove (attach_id);
  g_object_unref (server);
  g_main_loop_unref (loop);
  return 0;
}
