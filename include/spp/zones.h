/* sppdetect: lines and zones that tracked objects cross (docs/design.md). */
#pragma once

#include <glib.h>
#include "spp/export.h"
#include "spp/object-tracker.h"

G_BEGIN_DECLS

/**
 * SppZones:
 *
 * A set of named counting lines and polygon zones in frame pixels. Each
 * tracked object is represented by one point, the bottom centre of its
 * box (where a person stands). A line is crossed when that point's path
 * between two updates crosses the segment; "in" is from the segment's
 * right to its left, looking from its first point to its second (so a
 * line drawn left to right across a door counts people walking up the
 * image as "in"). A zone is entered when the point goes from outside the
 * polygon to inside.
 */
typedef struct _SppZones SppZones;

typedef enum {
  SPP_ZONE_EVENT_LINE_IN,
  SPP_ZONE_EVENT_LINE_OUT,
  SPP_ZONE_EVENT_ZONE_ENTER,
  SPP_ZONE_EVENT_ZONE_LEAVE,
} SppZoneEventType;

/**
 * SppZoneEvent:
 * @name: the line's or zone's name (borrowed from the set).
 * @id: the track's id.
 */
typedef struct {
  SppZoneEventType type;
  const char *name;
  guint64 id;
  int label_id;
} SppZoneEvent;

SPP_API SppZones *spp_zones_new (void);
SPP_API void spp_zones_free (SppZones *zones);

/**
 * spp_zones_add_line:
 * Returns: %FALSE (with %SPP_ERROR_INVAL naming it) for an empty or
 *   repeated name or a line of zero length.
 */
SPP_API gboolean spp_zones_add_line (SppZones *zones, const char *name,
                                     double x0, double y0, double x1,
                                     double y1, GError **error);
/**
 * spp_zones_add_zone:
 * @xy: (array length=n_points): x0, y0, x1, y1, ... in order around it.
 * Returns: %FALSE (with %SPP_ERROR_INVAL naming it) for an empty or
 *   repeated name or fewer than 3 points.
 */
SPP_API gboolean spp_zones_add_zone (SppZones *zones, const char *name,
                                     const double *xy, guint n_points,
                                     GError **error);

/**
 * spp_zones_update:
 * @tracks: the confirmed tracks of this frame (id > 0; others ignored).
 * @events: (element-type SppZoneEvent): appended to.
 *
 * Moves every track's point and reports the crossings, entries and exits
 * since the track's last update. An id not seen for 1000 updates is
 * forgotten, so memory stays bounded.
 */
SPP_API void spp_zones_update (SppZones *zones, const SppTrack *tracks,
                               guint n_tracks, GArray *events);

/**
 * spp_zones_get_count:
 * Returns: how many events of @type @name has had; %FALSE if there is no
 *   line or zone of that name.
 */
SPP_API gboolean spp_zones_get_count (const SppZones *zones,
                                      const char *name,
                                      SppZoneEventType type, guint64 *count);

/** spp_zones_get_n_shapes: lines and zones, in the order added. */
SPP_API guint spp_zones_get_n_shapes (const SppZones *zones);
/**
 * spp_zones_get_shape:
 * @is_line: (out) (optional): %TRUE for a line, %FALSE for a zone.
 * Returns: (transfer none): shape @index's name, or %NULL past the end.
 */
SPP_API const char *spp_zones_get_shape (const SppZones *zones, guint index,
                                         gboolean *is_line);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppZones, spp_zones_free)

G_END_DECLS
