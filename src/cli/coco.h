/* COCO-style annotation files for `spp train` and `spp eval`: reading
 * them (json-glib) and decoding their images (GStreamer), including
 * frames of a video named `VIDEO#frame=N`. */
#pragma once

#include <glib.h>
#include "spp/box.h"
#include "spp/image.h"

typedef struct {
  gint64 id;
  char *name;
} SppCocoCategory;

typedef struct {
  gint64 id;
  char *file_name;
  int width, height;   /* 0 when the file does not say */
  char *split;         /* the optional "split" field, or NULL */
  char *video;         /* file_name before "#frame=", or NULL */
  gint64 frame;        /* the frame number when video != NULL */
  GArray *boxes;       /* SppBox, frame pixels */
  GArray *category;    /* guint, index into SppCoco.categories */
} SppCocoImage;

typedef struct {
  char *path;
  GPtrArray *images;     /* SppCocoImage *, in file order */
  GPtrArray *categories; /* SppCocoCategory *, in file order */
} SppCoco;

/* Reads @path. Fails (SPP_ERROR_IO / SPP_ERROR_FORMAT) naming the file
 * and the field on anything malformed: an annotation of an unknown image
 * or category, a bbox that is not 4 finite numbers with w, h > 0,
 * duplicate ids. Images without annotations are kept (all background). */
SppCoco *spp_coco_load (const char *path, GError **error);
void spp_coco_free (SppCoco *coco);
/* Index of the category named @name, or -1. */
int spp_coco_find_category (const SppCoco *coco, const char *name);

/* Called once per decoded image, with its index in coco->images; the
 * frame is valid only during the call. Returning FALSE (with @error set)
 * stops the iteration. */
typedef gboolean (*SppCocoImageFunc) (guint index, const SppImage *frame,
                                      gpointer user_data, GError **error);

/* Decodes the images @indices (indices into coco->images) and calls
 * @func on each. Relative file names are taken under @images_root
 * (default: the annotation file's folder). Frames of one video are
 * decoded in one sequential pass (no seeking), so images are visited
 * grouped by file and in frame order, not in @indices' order; the order
 * is the same on every run. A decoded size that differs from the file's
 * width/height fails. Without GStreamer this fails. */
gboolean spp_coco_foreach_image (const SppCoco *coco, const char *images_root,
                                 const guint *indices, guint n_indices,
                                 SppCocoImageFunc func, gpointer user_data,
                                 GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SppCoco, spp_coco_free)

/* Progress on stderr at most every 2 s: "what: done/total, s/image, ETA". */
typedef struct {
  const char *what;
  guint total, done;
  gint64 start, last;
} SppCliProgress;
void spp_cli_progress_start (SppCliProgress *p, const char *what,
                             guint total);
void spp_cli_progress_step (SppCliProgress *p);
