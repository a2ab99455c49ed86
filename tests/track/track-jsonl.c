/* Runs SppObjectTracker over detections given as JSON lines in
 * sppjsonlog's schema (docs/elements.md): reads stdin, writes each
 * frame's objects that got an id, with it, as JSON lines on stdout; what
 * spptools.mot reads. For scoring the tracker on clips whose tracks are
 * known (spptools.synth.tracks --noise). Usage:
 *   track-jsonl [IOU_GATE MIN_HITS MAX_AGE] < DETS.jsonl > TRACKS.jsonl */
#include <spp/object-tracker.h>

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  SppObjectTrackerParams p;
  spp_object_tracker_params_init (&p);
  if (argc == 4) {
    p.iou_gate = atof (argv[1]);
    p.min_hits = atoi (argv[2]);
    p.max_age = atoi (argv[3]);
  }
  g_autoptr (SppObjectTracker) t = spp_object_tracker_new (&p);
  g_autoptr (GArray) dets = g_array_new (FALSE, FALSE, sizeof (SppDetection));
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  char line[1 << 16];
  for (gint64 n = 0; fgets (line, sizeof line, stdin); n++) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autoptr (GError) error = NULL;
    if (!json_parser_load_from_data (parser, line, -1, &error)) {
      fprintf (stderr, "track-jsonl: line %" G_GINT64_FORMAT ": %s\n", n + 1,
               error->message);
      return 1;
    }
    JsonObject *frame = json_node_get_object (json_parser_get_root (parser));
    JsonArray *objs = json_object_get_array_member (frame, "objects");
    const guint n_objs = objs ? json_array_get_length (objs) : 0;
    g_array_set_size (dets, n_objs);
    for (guint i = 0; i < n_objs; i++) {
      JsonObject *o = json_array_get_object_element (objs, i);
      SppDetection *d = &g_array_index (dets, SppDetection, i);
      *d = (SppDetection) { { json_object_get_double_member (o, "x"),
                              json_object_get_double_member (o, "y"),
                              json_object_get_double_member (o, "w"),
                              json_object_get_double_member (o, "h") },
                            0, 1.0f, NULL };
      JsonObject *det = json_object_get_object_member (o, "detection");
      if (det && json_object_has_member (det, "label_id"))
        d->label_id = json_object_get_int_member (det, "label_id");
    }
    g_array_set_size (ids, n_objs);
    spp_object_tracker_update (t, (const SppDetection *) dets->data, n_objs,
                               (guint64 *) ids->data);
    const gint64 f = json_object_has_member (frame, "frame")
                         ? json_object_get_int_member (frame, "frame") : n;
    printf ("{\"frame\":%" G_GINT64_FORMAT ",\"objects\":[", f);
    gboolean first = TRUE;
    for (guint i = 0; i < n_objs; i++) {
      const guint64 id = g_array_index (ids, guint64, i);
      const SppBox *b = &g_array_index (dets, SppDetection, i).box;
      if (id == 0)
        continue;
      printf ("%s{\"id\":%" G_GUINT64_FORMAT ",\"x\":%g,\"y\":%g,\"w\":%g,"
              "\"h\":%g}", first ? "" : ",", id, b->x, b->y, b->w, b->h);
      first = FALSE;
    }
    printf ("]}\n");
  }
  return 0;
}
