/* spp proposals: selective search boxes for image files. */
#include "cli.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "spp/proposals.h"

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
spp_cli_proposals (int argc, char **argv)
{
  char *mode = NULL;
  SppProposalParams defaults;
  spp_proposal_params_init (&defaults);
  int max = (int) defaults.max_boxes, threads = 0;
  int work_size = (int) defaults.work_size, seed = 0;
  int min_size = (int) defaults.min_size;
  gboolean json = FALSE;
  char **files = NULL;
  GOptionEntry entries[] = {
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode,
      "fast (default), quality or single", "MODE" },
    { "max", 'n', 0, G_OPTION_ARG_INT, &max, "keep at most N boxes (3000)",
      "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads,
      "threads (0: all cores)", "N" },
    { "work-size", 0, 0, G_OPTION_ARG_INT, &work_size,
      "longer side of the working image (500)", "PX" },
    { "min-size", 0, 0, G_OPTION_ARG_INT, &min_size,
      "drop boxes narrower or lower than this, working-image pixels (8)",
      "PX" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "ranking seed (0)", "S" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "one JSON object per image",
      NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL,
      "IMAGE..." },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new (NULL);
  g_option_context_set_summary (ctx,
      "Selective search region proposals (boxes x, y, w, h in image pixels,"
      " best first).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *err = NULL;
  int status = 0;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "spp proposals: %s\n", err->message);
    g_clear_error (&err);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);

  SppProposalParams params;
  spp_proposal_params_init (&params);
  if (!spp_proposal_mode_from_string (mode, &params.mode, &err)) {
    fprintf (stderr, "spp proposals: --mode: %s\n", err->message);
    g_clear_error (&err);
    status = 2;
  }
  if (max < 1 || threads < 0 || work_size < 1) {
    fprintf (stderr, "spp proposals: --max and --work-size must be >= 1, "
             "--threads >= 0\n");
    status = 2;
  }
  if (files == NULL || files[0] == NULL) {
    fprintf (stderr, "spp proposals: no IMAGE given (see --help)\n");
    status = 2;
  }
  if (status) {
    g_free (mode);
    g_strfreev (files);
    return status;
  }
  params.max_boxes = (guint) max;
  params.n_threads = (guint) threads;
  params.work_size = (guint) work_size;
  params.seed = (guint32) seed;
  if (min_size < 1 || min_size > 1000) {
    fprintf (stderr, "spp proposals: --min-size %d: expected 1..1000\n",
             min_size);
    return 2;
  }
  params.min_size = (guint) min_size;

#ifdef HAVE_GST
  gst_init (NULL, NULL);
  for (int i = 0; files[i]; i++) {
    GstSample *sample = spp_cli_decode_rgb (files[i], &err);
    if (sample == NULL) {
      fprintf (stderr, "spp proposals: %s\n", err->message);
      g_clear_error (&err);
      status = 1;
      continue;
    }
    GstMapInfo map;
    SppImage img;
    GstBuffer *buf = gst_sample_get_buffer (sample);
    if (!spp_cli_sample_image (sample, files[i], &img, &map, &err)) {
      fprintf (stderr, "spp proposals: %s\n", err->message);
      g_clear_error (&err);
      gst_sample_unref (sample);
      status = 1;
      continue;
    }
    guint n = 0;
    gint64 t0 = g_get_monotonic_time ();
    double c0 = cpu_seconds ();
    SppBox *boxes = spp_proposals_compute (&img, &params, &n, &err);
    double cpu = cpu_seconds () - c0;
    double secs = (g_get_monotonic_time () - t0) / 1e6;
    gst_buffer_unmap (buf, &map);
    gst_sample_unref (sample);
    if (boxes == NULL) {
      fprintf (stderr, "spp proposals: %s: %s\n", files[i], err->message);
      g_clear_error (&err);
      status = 1;
      continue;
    }
    if (json) {
      printf ("{\"image\":");
      spp_cli_print_json_string (files[i]);
      printf (",\"width\":%d,\"height\":%d,\"seconds\":%.4f,"
              "\"cpu_seconds\":%.4f,\"boxes\":[", img.width, img.height,
              secs, cpu);
      for (guint b = 0; b < n; b++)
        printf ("%s[%g,%g,%g,%g]", b ? "," : "", boxes[b].x, boxes[b].y,
                boxes[b].w, boxes[b].h);
      printf ("]}\n");
    } else {
      printf ("%s: %dx%d, %u boxes in %.3f s\n", files[i], img.width,
              img.height, n, secs);
      for (guint b = 0; b < MIN (n, 5u); b++)
        printf ("  #%u x=%.0f y=%.0f w=%.0f h=%.0f\n", b + 1, boxes[b].x,
                boxes[b].y, boxes[b].w, boxes[b].h);
    }
    fflush (stdout);
    g_free (boxes);
  }
#else
  fprintf (stderr, "spp proposals: built without GStreamer, cannot decode "
           "images\n");
  status = 1;
#endif
  g_free (mode);
  g_strfreev (files);
  return status;
}
