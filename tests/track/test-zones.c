/* Counting lines and zones on hand-made paths: which way a line is
 * crossed, a path that passes beside the segment, a point that stops on
 * the line, entering and leaving a zone, bad definitions, forgetting. */
#include "spp/zones.h"
#include "spp/error.h"

#include <string.h>

/* A track whose point (bottom centre of the box) is at (px, py). */
static SppTrack
at (guint64 id, double px, double py)
{
  return (SppTrack) { id, { px - 5, py - 20, 10, 20 }, 0, 0.9f, 3, 0, 0 };
}

static guint
step (SppZones *z, guint64 id, double px, double py, GArray *ev)
{
  g_array_set_size (ev, 0);
  const SppTrack t = at (id, px, py);
  spp_zones_update (z, &t, 1, ev);
  return ev->len;
}

static guint64
count (SppZones *z, const char *name, SppZoneEventType type)
{
  guint64 n = 0;
  g_assert_true (spp_zones_get_count (z, name, type, &n));
  return n;
}

static void
test_line (void)
{
  g_autoptr (SppZones) z = spp_zones_new ();
  g_autoptr (GError) error = NULL;
  /* Drawn left to right: walking up the image is "in". */
  g_assert_true (spp_zones_add_line (z, "door", 0, 100, 100, 100, &error));
  g_autoptr (GArray) ev = g_array_new (FALSE, FALSE, sizeof (SppZoneEvent));
  g_assert_cmpuint (step (z, 7, 50, 150, ev), ==, 0); /* first sighting */
  g_assert_cmpuint (step (z, 7, 50, 120, ev), ==, 0);
  g_assert_cmpuint (step (z, 7, 50, 80, ev), ==, 1);
  const SppZoneEvent *e = &g_array_index (ev, SppZoneEvent, 0);
  g_assert_cmpint (e->type, ==, SPP_ZONE_EVENT_LINE_IN);
  g_assert_cmpstr (e->name, ==, "door");
  g_assert_cmpuint (e->id, ==, 7);
  g_assert_cmpuint (step (z, 7, 60, 130, ev), ==, 1);
  g_assert_cmpint (g_array_index (ev, SppZoneEvent, 0).type, ==,
                   SPP_ZONE_EVENT_LINE_OUT);
  /* Beside the segment (x 150 > 100): the carrier is crossed, the line
   * is not. */
  g_assert_cmpuint (step (z, 7, 150, 130, ev), ==, 0);
  g_assert_cmpuint (step (z, 7, 150, 60, ev), ==, 0);
  /* Stopping on the line, then going on: one crossing, not two. */
  g_assert_cmpuint (step (z, 8, 20, 140, ev), ==, 0);
  g_assert_cmpuint (step (z, 8, 20, 100, ev), ==, 1);
  g_assert_cmpuint (step (z, 8, 20, 100, ev), ==, 0);
  g_assert_cmpuint (step (z, 8, 20, 60, ev), ==, 0);
  g_assert_cmpuint (count (z, "door", SPP_ZONE_EVENT_LINE_IN), ==, 2);
  g_assert_cmpuint (count (z, "door", SPP_ZONE_EVENT_LINE_OUT), ==, 1);
  /* A tentative track (id 0) counts for nothing. */
  g_assert_cmpuint (step (z, 0, 50, 150, ev), ==, 0);
  g_assert_cmpuint (step (z, 0, 50, 50, ev), ==, 0);
  guint64 n;
  g_assert_false (spp_zones_get_count (z, "window", SPP_ZONE_EVENT_LINE_IN,
                                       &n));
}

static void
test_zone (void)
{
  g_autoptr (SppZones) z = spp_zones_new ();
  g_autoptr (GError) error = NULL;
  const double square[] = { 0, 0, 100, 0, 100, 100, 0, 100 };
  g_assert_true (spp_zones_add_zone (z, "desk", square, 4, &error));
  g_autoptr (GArray) ev = g_array_new (FALSE, FALSE, sizeof (SppZoneEvent));
  g_assert_cmpuint (step (z, 1, 150, 50, ev), ==, 0);
  g_assert_cmpuint (step (z, 1, 50, 50, ev), ==, 1);
  g_assert_cmpint (g_array_index (ev, SppZoneEvent, 0).type, ==,
                   SPP_ZONE_EVENT_ZONE_ENTER);
  g_assert_cmpuint (step (z, 1, 60, 40, ev), ==, 0);
  g_assert_cmpuint (step (z, 1, 60, 140, ev), ==, 1);
  g_assert_cmpint (g_array_index (ev, SppZoneEvent, 0).type, ==,
                   SPP_ZONE_EVENT_ZONE_LEAVE);
  /* Seen first inside: present, but it did not enter. */
  g_assert_cmpuint (step (z, 2, 50, 50, ev), ==, 0);
  g_assert_cmpuint (step (z, 2, 55, 50, ev), ==, 0);
  g_assert_cmpuint (count (z, "desk", SPP_ZONE_EVENT_ZONE_ENTER), ==, 1);
  /* Shapes come before the first update (a point's inside flags are
   * set when it is first seen). */
  g_assert_false (spp_zones_add_line (z, "late", 0, 0, 10, 0, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_cmpuint (count (z, "desk", SPP_ZONE_EVENT_ZONE_LEAVE), ==, 1);
  gboolean is_line = TRUE;
  g_assert_cmpuint (spp_zones_get_n_shapes (z), ==, 1);
  g_assert_cmpstr (spp_zones_get_shape (z, 0, &is_line), ==, "desk");
  g_assert_false (is_line);
  g_assert_null (spp_zones_get_shape (z, 1, NULL));
}

static void
test_bad_definitions (void)
{
  g_autoptr (SppZones) z = spp_zones_new ();
  g_autoptr (GError) error = NULL;
  g_assert_false (spp_zones_add_line (z, "gate", 5, 5, 5, 5, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "gate"));
  g_clear_error (&error);
  const double two[] = { 0, 0, 10, 10 };
  g_assert_false (spp_zones_add_zone (z, "lawn", two, 2, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "lawn"));
  g_clear_error (&error);
  g_assert_true (spp_zones_add_line (z, "gate", 0, 0, 10, 0, &error));
  g_assert_false (spp_zones_add_line (z, "gate", 0, 5, 10, 5, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "gate"));
  g_clear_error (&error);
  g_assert_false (spp_zones_add_line (z, "", 0, 5, 10, 5, &error));
  g_assert_error (error, SPP_ERROR, SPP_ERROR_INVAL);
}

/* A track gone for over 1000 updates is forgotten: its next sighting is
 * a first one, even across the line from where it was. */
static void
test_forget (void)
{
  g_autoptr (SppZones) z = spp_zones_new ();
  g_assert_true (spp_zones_add_line (z, "door", 0, 100, 100, 100, NULL));
  g_autoptr (GArray) ev = g_array_new (FALSE, FALSE, sizeof (SppZoneEvent));
  step (z, 3, 50, 150, ev);
  for (int i = 0; i < 1001; i++)
    spp_zones_update (z, NULL, 0, ev);
  g_assert_cmpuint (step (z, 3, 50, 50, ev), ==, 0);
  /* Within the limit it is remembered. */
  step (z, 4, 50, 150, ev);
  for (int i = 0; i < 999; i++)
    spp_zones_update (z, NULL, 0, ev);
  g_assert_cmpuint (step (z, 4, 50, 50, ev), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/zones/line", test_line);
  g_test_add_func ("/zones/zone", test_zone);
  g_test_add_func ("/zones/bad-definitions", test_bad_definitions);
  g_test_add_func ("/zones/forget", test_forget);
  return g_test_run ();
}
