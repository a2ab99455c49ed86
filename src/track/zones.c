/* Counting lines and zones (include/spp/zones.h): each track is one
 * point, the bottom centre of its box, followed from update to update. */
#include "spp/zones.h"
#include "spp/error.h"

#include <string.h>

/* Updates a track may go unseen before its point is forgotten. */
#define FORGET_AFTER 1000

typedef struct {
  char *name;
  gboolean is_line;
  double *xy; /* 2 points for a line, n for a zone */
  guint n;
  guint64 counts[4]; /* by SppZoneEventType */
} Shape;

typedef struct {
  double x, y;
  guint64 seen;      /* the update that last moved it */
  gboolean *inside;  /* per shape (zones only) */
} Point;

struct _SppZones {
  GPtrArray *shapes; /* Shape * */
  GHashTable *points; /* guint64 id -> Point * */
  guint64 tick;
};

static void
shape_free (gpointer p)
{
  Shape *s = p;
  g_free (s->name);
  g_free (s->xy);
  g_free (s);
}

static void
point_free (gpointer p)
{
  Point *pt = p;
  g_free (pt->inside);
  g_free (pt);
}

SppZones *
spp_zones_new (void)
{
  SppZones *z = g_new0 (SppZones, 1);
  z->shapes = g_ptr_array_new_with_free_func (shape_free);
  z->points = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                     point_free);
  return z;
}

void
spp_zones_free (SppZones *z)
{
  if (z == NULL)
    return;
  g_ptr_array_unref (z->shapes);
  g_hash_table_unref (z->points);
  g_free (z);
}

static const Shape *
find (const SppZones *z, const char *name)
{
  for (guint i = 0; i < z->shapes->len; i++) {
    const Shape *s = g_ptr_array_index (z->shapes, i);
    if (!strcmp (s->name, name))
      return s;
  }
  return NULL;
}

static gboolean
add_shape (SppZones *z, const char *name, gboolean is_line, const double *xy,
           guint n, GError **error)
{
  if (name == NULL || *name == '\0') {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "a %s needs a name", is_line ? "line" : "zone");
    return FALSE;
  }
  if (find (z, name)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "'%s': the name is already taken", name);
    return FALSE;
  }
  /* Points already inside every zone would need the zone at creation:
   * zones and lines are added before the first update. */
  if (g_hash_table_size (z->points) > 0) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "'%s': lines and zones are added before the first update",
                 name);
    return FALSE;
  }
  Shape *s = g_new0 (Shape, 1);
  s->name = g_strdup (name);
  s->is_line = is_line;
  s->n = n;
  s->xy = g_memdup2 (xy, sizeof (double) * 2 * n);
  g_ptr_array_add (z->shapes, s);
  return TRUE;
}

gboolean
spp_zones_add_line (SppZones *z, const char *name, double x0, double y0,
                    double x1, double y1, GError **error)
{
  g_return_val_if_fail (z != NULL, FALSE);
  if (x0 == x1 && y0 == y1) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "line '%s': its two points are the same", name ? name : "");
    return FALSE;
  }
  const double xy[4] = { x0, y0, x1, y1 };
  return add_shape (z, name, TRUE, xy, 2, error);
}

gboolean
spp_zones_add_zone (SppZones *z, const char *name, const double *xy,
                    guint n_points, GError **error)
{
  g_return_val_if_fail (z != NULL && (xy != NULL || n_points == 0), FALSE);
  if (n_points < 3) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_INVAL,
                 "zone '%s': %u points, a polygon needs at least 3",
                 name ? name : "", n_points);
    return FALSE;
  }
  return add_shape (z, name, FALSE, xy, n_points, error);
}

/* Which side of a -> b the point p is on: > 0 right (image coordinates,
 * y down, looking from a to b), < 0 left. */
static double
side (const double *a, const double *b, double px, double py)
{
  return (b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0]);
}

/* Even-odd rule: a horizontal ray from the point crosses the edges. */
static gboolean
inside (const Shape *s, double x, double y)
{
  gboolean in = FALSE;
  for (guint i = 0, j = s->n - 1; i < s->n; j = i++) {
    const double xi = s->xy[2 * i], yi = s->xy[2 * i + 1];
    const double xj = s->xy[2 * j], yj = s->xy[2 * j + 1];
    if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
      in = !in;
  }
  return in;
}

static void
emit (GArray *events, Shape *s, SppZoneEventType type, const SppTrack *t)
{
  s->counts[type]++;
  const SppZoneEvent e = { type, s->name, t->id, t->label_id };
  g_array_append_val (events, e);
}

void
spp_zones_update (SppZones *z, const SppTrack *tracks, guint n_tracks,
                  GArray *events)
{
  g_return_if_fail (z != NULL && events != NULL);
  g_return_if_fail (tracks != NULL || n_tracks == 0);
  z->tick++;
  for (guint k = 0; k < n_tracks; k++) {
    const SppTrack *t = &tracks[k];
    if (t->id == 0)
      continue;
    const double x = t->box.x + t->box.w / 2, y = t->box.y + t->box.h;
    Point *p = g_hash_table_lookup (z->points, &t->id);
    if (p == NULL) {
      /* First sighting: no event, the point only starts its path. */
      p = g_new0 (Point, 1);
      p->inside = g_new0 (gboolean, MAX (z->shapes->len, 1));
      for (guint i = 0; i < z->shapes->len; i++) {
        const Shape *s = g_ptr_array_index (z->shapes, i);
        p->inside[i] = !s->is_line && inside (s, x, y);
      }
      p->x = x;
      p->y = y;
      p->seen = z->tick;
      g_hash_table_insert (z->points, g_memdup2 (&t->id, sizeof t->id), p);
      continue;
    }
    for (guint i = 0; i < z->shapes->len; i++) {
      Shape *s = g_ptr_array_index (z->shapes, i);
      if (s->is_line) {
        const double *a = s->xy, *b = s->xy + 2;
        const double s0 = side (a, b, p->x, p->y), s1 = side (a, b, x, y);
        /* The path crosses the line's carrier (a zero side counts as
         * left, so a point resting on the line crosses once), and the
         * line's ends are on both sides of the path. */
        const gboolean was_right = s0 > 0, is_right = s1 > 0;
        if (was_right == is_right)
          continue;
        const double from[2] = { p->x, p->y }, to[2] = { x, y };
        const double e0 = side (from, to, a[0], a[1]);
        const double e1 = side (from, to, b[0], b[1]);
        if ((e0 > 0 && e1 > 0) || (e0 < 0 && e1 < 0))
          continue;
        emit (events, s, was_right ? SPP_ZONE_EVENT_LINE_IN
                                   : SPP_ZONE_EVENT_LINE_OUT, t);
      } else {
        const gboolean in = inside (s, x, y);
        if (in != p->inside[i])
          emit (events, s, in ? SPP_ZONE_EVENT_ZONE_ENTER
                              : SPP_ZONE_EVENT_ZONE_LEAVE, t);
        p->inside[i] = in;
      }
    }
    p->x = x;
    p->y = y;
    p->seen = z->tick;
  }
  /* Forget tracks long gone: memory stays bounded on endless streams. */
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, z->points);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (z->tick - ((Point *) value)->seen > FORGET_AFTER)
      g_hash_table_iter_remove (&it);
}

gboolean
spp_zones_get_count (const SppZones *z, const char *name,
                     SppZoneEventType type, guint64 *count)
{
  g_return_val_if_fail (z != NULL && name != NULL && count != NULL, FALSE);
  const Shape *s = find (z, name);
  if (s == NULL || type > SPP_ZONE_EVENT_ZONE_LEAVE)
    return FALSE;
  *count = s->counts[type];
  return TRUE;
}

guint
spp_zones_get_n_shapes (const SppZones *z)
{
  g_return_val_if_fail (z != NULL, 0);
  return z->shapes->len;
}

const char *
spp_zones_get_shape (const SppZones *z, guint index, gboolean *is_line)
{
  g_return_val_if_fail (z != NULL, NULL);
  if (index >= z->shapes->len)
    return NULL;
  const Shape *s = g_ptr_array_index (z->shapes, index);
  if (is_line)
    *is_line = s->is_line;
  return s->name;
}
