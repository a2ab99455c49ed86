/* Proposal reuse across frames: shift, cut, interval, motion-only,
 * partial key frames, the cap on boxes. */
#include "spp/error.h"
#include "spp/video-proposals.h"
#include <math.h>
#include <string.h>

#define CW 480
#define CH 360
#define FW 320
#define FH 240

/* A canvas of random coloured rectangles over a smooth pattern: enough
 * structure for both selective search and block matching. */
static guint8 *
make_canvas (guint32 seed)
{
  guint8 *c = g_new (guint8, CW * CH * 3);
  GRand *r = g_rand_new_with_seed (seed);
  double fx = g_rand_double_range (r, 0.02, 0.06);
  double fy = g_rand_double_range (r, 0.02, 0.06);
  int base = g_rand_int_range (r, 60, 160);
  for (int y = 0; y < CH; y++)
    for (int x = 0; x < CW; x++) {
      double v = base + 40 * sin (x * fx) * cos (y * fy);
      for (int k = 0; k < 3; k++)
        c[(y * CW + x) * 3 + k] = (guint8)CLAMP (v + 15 * k, 0, 255);
    }
  for (int i = 0; i < 30; i++) {
    int w = g_rand_int_range (r, 15, 80), h = g_rand_int_range (r, 15, 80);
    int x0 = g_rand_int_range (r, 0, CW - w),
        y0 = g_rand_int_range (r, 0, CH - h);
    guint8 col[3]
        = { g_rand_int_range (r, 0, 256), g_rand_int_range (r, 0, 256),
            g_rand_int_range (r, 0, 256) };
    for (int y = y0; y < y0 + h; y++)
      for (int x = x0; x < x0 + w; x++)
        memcpy (c + (y * CW + x) * 3, col, 3);
  }
  g_rand_free (r);
  return c;
}

/* The FW x FH window of @canvas whose top-left is (@ox, @oy). */
static SppImage
crop (const guint8 *canvas, int ox, int oy)
{
  SppImage img
      = { SPP_PIXEL_RGB, FW, FH, { canvas + (oy * CW + ox) * 3 }, { CW * 3 } };
  return img;
}

static void
params (SppProposalParams *p)
{
  spp_proposal_params_init (p);
  p->mode = SPP_PROPOSAL_SINGLE;
  p->n_threads = 1;
}

static void
test_shift (void)
{
  guint8 *c = make_canvas (1);
  SppProposalParams p;
  params (&p);
  g_autoptr (SppVideoProposals) t = spp_video_proposals_new (&p, 10);
  SppVideoProposalsAction act;
  guint n0 = 0, n1 = 0;
  GError *err = NULL;

  SppImage f0 = crop (c, 80, 60);
  const SppBox *b = spp_video_proposals_update (t, &f0, TRUE, &n0, &act, &err);
  g_assert_no_error (err);
  g_assert_nonnull (b);
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_RECOMPUTED);
  g_assert_cmpuint (n0, >, 10);
  SppBox *key = g_memdup2 (b, n0 * sizeof (SppBox));
  float dx, dy;
  g_assert_false (spp_video_proposals_get_motion (t, &dx, &dy));
  g_assert_cmpfloat (dx, ==, 0);

  /* The camera pans so that content moves by (+7, -4). */
  SppImage f1 = crop (c, 80 - 7, 60 + 4);
  b = spp_video_proposals_update (t, &f1, TRUE, &n1, &act, &err);
  g_assert_no_error (err);
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_SHIFTED);
  g_assert_false (spp_video_proposals_get_motion (t, &dx, &dy));
  g_assert_cmpfloat_with_epsilon (dx, 7.0f, 1.0f);
  g_assert_cmpfloat_with_epsilon (dy, -4.0f, 1.0f);
  /* Every box away from the borders is a key box moved by (7, -4), to
   * within a pixel, in the same order. */
  guint j = 0, checked = 0;
  for (guint i = 0; i < n1; i++) {
    if (b[i].x <= 0 || b[i].y <= 0 || b[i].x + b[i].w >= FW
        || b[i].y + b[i].h >= FH)
      continue;
    gboolean found = FALSE;
    for (; j < n0 && !found; j++)
      found = fabsf (key[j].x + 7 - b[i].x) <= 1
              && fabsf (key[j].y - 4 - b[i].y) <= 1
              && fabsf (key[j].w - b[i].w) < 1e-3
              && fabsf (key[j].h - b[i].h) < 1e-3;
    g_assert_true (found);
    checked++;
  }
  g_assert_cmpuint (checked, >, n1 / 2);

  /* No motion: the same boxes again. */
  guint n2 = 0;
  SppBox *prev = g_memdup2 (b, n1 * sizeof (SppBox));
  b = spp_video_proposals_update (t, &f1, TRUE, &n2, &act, &err);
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_REUSED);
  g_assert_cmpuint (n2, ==, n1);
  g_assert_cmpmem (b, n2 * sizeof (SppBox), prev, n1 * sizeof (SppBox));
  g_free (prev);
  g_free (key);
  g_free (c);
}

static void
test_cut (void)
{
  guint8 *a = make_canvas (1), *z = make_canvas (2);
  SppProposalParams p;
  params (&p);
  SppVideoProposals *t = spp_video_proposals_new (&p, 100);
  SppVideoProposalsAction act;
  guint n = 0;
  SppImage fa = crop (a, 80, 60), fz = crop (z, 80, 60);
  g_assert_nonnull (spp_video_proposals_update (t, &fa, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_RECOMPUTED);
  g_assert_nonnull (spp_video_proposals_update (t, &fa, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_REUSED);
  g_assert_false (spp_video_proposals_get_motion (t, NULL, NULL));
  g_assert_nonnull (spp_video_proposals_update (t, &fz, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_RECOMPUTED);
  float dx = 1, dy = 1;
  g_assert_true (spp_video_proposals_get_motion (t, &dx, &dy));
  g_assert_cmpfloat (dx, ==, 0);
  g_assert_cmpfloat (dy, ==, 0);

  /* A frame-size change is a cut as well. */
  SppImage small = fz;
  small.width = 200;
  g_assert_nonnull (
      spp_video_proposals_update (t, &small, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_RECOMPUTED);

  /* After reset the next frame recomputes. */
  spp_video_proposals_reset (t);
  g_assert_nonnull (
      spp_video_proposals_update (t, &small, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_RECOMPUTED);
  spp_video_proposals_free (t);
  g_free (a);
  g_free (z);
}

static void
test_interval (void)
{
  guint8 *a = make_canvas (3);
  SppProposalParams p;
  params (&p);
  SppVideoProposals *t = spp_video_proposals_new (&p, 3);
  /* Full runs on key frames, even when nothing changed. */
  spp_video_proposals_set_partial (t, FALSE);
  SppImage f = crop (a, 80, 60);
  const SppVideoProposalsAction expect[7] = {
    SPP_VIDEO_PROPOSALS_RECOMPUTED, SPP_VIDEO_PROPOSALS_REUSED,
    SPP_VIDEO_PROPOSALS_REUSED,     SPP_VIDEO_PROPOSALS_RECOMPUTED,
    SPP_VIDEO_PROPOSALS_REUSED,     SPP_VIDEO_PROPOSALS_REUSED,
    SPP_VIDEO_PROPOSALS_RECOMPUTED,
  };
  for (int i = 0; i < 7; i++) {
    SppVideoProposalsAction act;
    guint n = 0;
    g_assert_nonnull (spp_video_proposals_update (t, &f, TRUE, &n, &act, NULL));
    g_assert_cmpint (act, ==, expect[i]);
  }
  /* interval 1: every frame. */
  spp_video_proposals_set_interval (t, 1);
  SppVideoProposalsAction act;
  guint n0 = 0, n1 = 0;
  spp_video_proposals_update (t, &f, TRUE, NULL, &act, NULL);
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_RECOMPUTED);
  const SppBox *b = spp_video_proposals_update (t, &f, TRUE, &n0, &act, NULL);
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_RECOMPUTED);
  SppBox *before = g_memdup2 (b, n0 * sizeof (SppBox));

  /* With partial key frames (the default) a key frame where nothing
   * changed runs nothing and keeps the boxes. */
  spp_video_proposals_set_partial (t, TRUE);
  for (int i = 0; i < 3; i++) {
    b = spp_video_proposals_update (t, &f, TRUE, &n1, &act, NULL);
    g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_REUSED);
    g_assert_cmpmem (b, n1 * sizeof (SppBox), before, n0 * sizeof (SppBox));
  }
  g_free (before);
  spp_video_proposals_free (t);
  g_free (a);
}

/* @f with its bottom-right FW/2 x FH/2 quadrant replaced by that of
 * @other (bottom-right, so that the crop searched again starts inside
 * the frame). */
static guint8 *
paste_quadrant (const SppImage *f, const SppImage *other)
{
  guint8 *out = g_new (guint8, FW * FH * 3);
  for (int y = 0; y < FH; y++) {
    const SppImage *src = y >= FH / 2 ? other : f;
    memcpy (out + y * FW * 3, f->planes[0] + y * f->strides[0], FW / 2 * 3);
    memcpy (out + (y * FW + FW / 2) * 3,
            src->planes[0] + y * src->strides[0] + FW / 2 * 3, FW / 2 * 3);
  }
  return out;
}

static gboolean
inside (const SppBox *b, float x0, float y0, float x1, float y1)
{
  return b->x >= x0 && b->y >= y0 && b->x + b->w <= x1 && b->y + b->h <= y1;
}

static gboolean
has_box (const SppBox *set, guint n, const SppBox *b)
{
  for (guint i = 0; i < n; i++)
    if (!memcmp (&set[i], b, sizeof (SppBox)))
      return TRUE;
  return FALSE;
}

static void
test_partial_quadrant (void)
{
  guint8 *a = make_canvas (5), *z = make_canvas (6);
  SppProposalParams p;
  params (&p);
  /* Room for every candidate: the hand-out is then the whole pool and
   * each box can be traced to its run. */
  p.max_boxes = 100000;
  SppVideoProposals *t = spp_video_proposals_new (&p, 1);
  SppImage fa = crop (a, 80, 60), fz = crop (z, 80, 60);
  SppVideoProposalsAction act;
  guint n0 = 0, n1 = 0;
  GError *err = NULL;
  const SppBox *b = spp_video_proposals_update (t, &fa, TRUE, &n0, &act, &err);
  g_assert_no_error (err);
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_RECOMPUTED);
  SppBox *first = g_memdup2 (b, n0 * sizeof (SppBox));

  /* Only the bottom-right quadrant changes (content of another canvas),
   * so the histogram and the motion search see no cut and no motion. */
  g_autofree guint8 *q = paste_quadrant (&fa, &fz);
  SppImage fq = { SPP_PIXEL_RGB, FW, FH, { q }, { FW * 3 } };
  b = spp_video_proposals_update (t, &fq, TRUE, &n1, &act, &err);
  g_assert_no_error (err);
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_PARTIAL);
  float dx = 1, dy = 1;
  g_assert_false (spp_video_proposals_get_motion (t, &dx, &dy));
  g_assert_cmpfloat (dx, ==, 0);
  g_assert_cmpfloat (dy, ==, 0);

  /* Every box of the first run is still there (old boxes stay in the
   * pool), and the new ones all lie in the changed quadrant plus its
   * margin of CHANGE_DILATE blocks and 4:2:0 alignment (2 blocks of 4
   * thumbnail pixels, at 320/192 frame pixels each: about 27 px; 40
   * leaves room for the block rounding). */
  guint n_new = 0;
  for (guint i = 0; i < n0; i++)
    g_assert_true (has_box (b, n1, &first[i]));
  for (guint i = 0; i < n1; i++) {
    if (has_box (first, n0, &b[i]))
      continue;
    n_new++;
    g_assert_true (inside (&b[i], FW / 2 - 40, FH / 2 - 40, FW, FH));
  }
  g_assert_cmpuint (n_new, >, 10);
  g_assert_cmpuint (n1, >=, n0 + n_new);

  /* The same frame again: nothing changed since, nothing runs. */
  SppBox *second = g_memdup2 (b, n1 * sizeof (SppBox));
  guint n2 = 0;
  b = spp_video_proposals_update (t, &fq, TRUE, &n2, &act, &err);
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_REUSED);
  g_assert_cmpmem (b, n2 * sizeof (SppBox), second, n1 * sizeof (SppBox));

  /* A change over the whole frame that is not a cut (a tenth of another
   * scene blended in: histograms and luma stay close) runs in full and
   * keeps none of the old boxes: the hand-out is exactly a fresh run's. */
  g_autofree guint8 *mix = g_new (guint8, FW * FH * 3);
  SppImage fw = crop (a, 0, 0);
  for (int y = 0; y < FH; y++)
    for (int x = 0; x < FW * 3; x++)
      mix[y * FW * 3 + x] = (guint8)((9 * q[y * FW * 3 + x]
                                      + fw.planes[0][y * fw.strides[0] + x] + 5)
                                     / 10);
  SppImage fm = { SPP_PIXEL_RGB, FW, FH, { mix }, { FW * 3 } };
  b = spp_video_proposals_update (t, &fm, TRUE, &n2, &act, &err);
  g_assert_no_error (err);
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_RECOMPUTED);
  g_assert_false (spp_video_proposals_get_motion (t, NULL, NULL));
  guint n3 = 0;
  g_autofree SppBox *fresh = spp_proposals_compute (&fm, &p, &n3, &err);
  g_assert_no_error (err);
  g_assert_cmpmem (b, n2 * sizeof (SppBox), fresh, n3 * sizeof (SppBox));
  g_free (first);
  g_free (second);
  spp_video_proposals_free (t);
  g_free (a);
  g_free (z);
}

/* @rgb (FW x FH, packed) in @format, into @buf: any bytes do, as long as
 * they are the same picture the tracker then sees as RGB. */
static SppImage
to_format (const guint8 *rgb, SppPixelFormat format, guint8 *buf)
{
  SppImage img = { format, FW, FH, { buf }, { FW } };
  guint8 *u = buf + FW * FH, *v = u + (FW / 2) * (FH / 2);
  for (int y = 0; y < FH; y++)
    for (int x = 0; x < FW; x++) {
      const guint8 *c = rgb + (y * FW + x) * 3;
      int half = (y / 2) * (FW / 2) + x / 2;
      switch (format) {
      case SPP_PIXEL_BGRA:
        buf[(y * FW + x) * 4] = c[2];
        buf[(y * FW + x) * 4 + 1] = c[1];
        buf[(y * FW + x) * 4 + 2] = c[0];
        buf[(y * FW + x) * 4 + 3] = 255;
        break;
      case SPP_PIXEL_YUY2:
        /* Y0 U Y1 V: U from the even pixel, V from the odd one. */
        buf[y * FW * 2 + x * 2] = c[1];
        buf[y * FW * 2 + x * 2 + 1] = x % 2 ? c[2] : c[0];
        break;
      case SPP_PIXEL_NV12:
        buf[y * FW + x] = c[1];
        u[(y / 2) * FW + (x / 2) * 2] = c[0];
        u[(y / 2) * FW + (x / 2) * 2 + 1] = c[2];
        break;
      case SPP_PIXEL_I420:
        buf[y * FW + x] = c[1];
        u[half] = c[0];
        v[half] = c[2];
        break;
      default:
        g_assert_not_reached ();
      }
    }
  if (format == SPP_PIXEL_BGRA)
    img.strides[0] = FW * 4;
  else if (format == SPP_PIXEL_YUY2)
    img.strides[0] = FW * 2;
  else if (format == SPP_PIXEL_NV12) {
    img.planes[1] = u;
    img.strides[1] = FW;
  } else {
    img.planes[1] = u;
    img.planes[2] = v;
    img.strides[1] = img.strides[2] = FW / 2;
  }
  return img;
}

/* A partial run searches a view into the frame: for every pixel layout
 * it must see the very pixels a full conversion to RGB gives there (4:2:0
 * and 4:2:2 chroma included), so the boxes match the RGB run's exactly. */
static void
test_partial_formats (void)
{
  guint8 *a = make_canvas (5), *z = make_canvas (6);
  SppImage fa = crop (a, 80, 60), fz = crop (z, 80, 60);
  g_autofree guint8 *pa = g_new (guint8, FW * FH * 3);
  for (int y = 0; y < FH; y++)
    memcpy (pa + y * FW * 3, fa.planes[0] + y * fa.strides[0], FW * 3);
  g_autofree guint8 *q = paste_quadrant (&fa, &fz);
  const guint8 *seq[2] = { pa, q };
  const SppPixelFormat formats[]
      = { SPP_PIXEL_I420, SPP_PIXEL_NV12, SPP_PIXEL_YUY2, SPP_PIXEL_BGRA };
  SppProposalParams p;
  params (&p);
  for (guint f = 0; f < G_N_ELEMENTS (formats); f++) {
    SppVideoProposals *tf = spp_video_proposals_new (&p, 1),
                      *tr = spp_video_proposals_new (&p, 1);
    for (int i = 0; i < 2; i++) {
      g_autofree guint8 *buf = g_new (guint8, FW * FH * 4);
      g_autofree guint8 *rgb = g_new (guint8, FW * FH * 3);
      SppImage img = to_format (seq[i], formats[f], buf);
      g_assert_true (spp_image_resize_rgb (&img, rgb, FW, FH, FW * 3, NULL));
      SppImage as_rgb = { SPP_PIXEL_RGB, FW, FH, { rgb }, { FW * 3 } };
      SppVideoProposalsAction act_f, act_r;
      guint nf = 0, nr = 0;
      const SppBox *bf
          = spp_video_proposals_update (tf, &img, TRUE, &nf, &act_f, NULL);
      const SppBox *br
          = spp_video_proposals_update (tr, &as_rgb, TRUE, &nr, &act_r, NULL);
      g_assert_nonnull (bf);
      g_assert_cmpint (act_f, ==,
                       i ? SPP_VIDEO_PROPOSALS_PARTIAL
                         : SPP_VIDEO_PROPOSALS_RECOMPUTED);
      g_assert_cmpint (act_r, ==, act_f);
      g_assert_cmpmem (bf, nf * sizeof (SppBox), br, nr * sizeof (SppBox));
    }
    spp_video_proposals_free (tf);
    spp_video_proposals_free (tr);
  }
  g_free (a);
  g_free (z);
}

static void
test_max_boxes (void)
{
  guint8 *a = make_canvas (7), *z = make_canvas (8);
  SppProposalParams p;
  params (&p);
  p.mode = SPP_PROPOSAL_FAST;
  p.max_boxes = 40;
  SppVideoProposals *t = spp_video_proposals_new (&p, 1);
  SppImage fa = crop (a, 80, 60), fz = crop (z, 80, 60);
  g_autofree guint8 *q = paste_quadrant (&fa, &fz);
  SppImage fq = { SPP_PIXEL_RGB, FW, FH, { q }, { FW * 3 } };
  /* Alternate the two so that every frame is a partial key frame and
   * the pool grows past the hand-out. */
  int partial = 0;
  for (int i = 0; i < 12; i++) {
    SppVideoProposalsAction act;
    guint n = 0;
    const SppBox *b = spp_video_proposals_update (t, i % 2 ? &fq : &fa, TRUE,
                                                  &n, &act, NULL);
    g_assert_nonnull (b);
    g_assert_cmpuint (n, ==, 40);
    partial += act == SPP_VIDEO_PROPOSALS_PARTIAL;
    /* Distinct boxes first: no two of the hand-out are the same. */
    for (guint j = 0; j < n; j++)
      for (guint k = j + 1; k < n; k++)
        g_assert_true (memcmp (&b[j], &b[k], sizeof (SppBox)) != 0);
  }
  g_assert_cmpint (partial, >=, 6);
  spp_video_proposals_free (t);

  /* No room at all is a bad parameter, as for selective search itself. */
  p.max_boxes = 0;
  t = spp_video_proposals_new (&p, 1);
  GError *err = NULL;
  g_assert_null (spp_video_proposals_update (t, &fa, TRUE, NULL, NULL, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);
  spp_video_proposals_free (t);
  g_free (a);
  g_free (z);
}

static void
test_motion_only_and_leaving (void)
{
  guint8 *a = make_canvas (4);
  SppProposalParams p;
  params (&p);
  SppVideoProposals *t = spp_video_proposals_new (&p, 1000);
  SppVideoProposalsAction act;
  guint n = 0;
  GError *err = NULL;
  SppImage f = crop (a, 150, 100);
  g_assert_nonnull (spp_video_proposals_update (t, &f, TRUE, &n, &act, NULL));
  /* Motion only: no boxes, no error, but the motion is measured. */
  f = crop (a, 140, 100);
  g_assert_null (spp_video_proposals_update (t, &f, FALSE, &n, &act, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (n, ==, 0);
  float dx, dy;
  spp_video_proposals_get_motion (t, &dx, &dy);
  g_assert_cmpfloat_with_epsilon (dx, 10.0f, 1.0f);
  g_assert_cmpfloat_with_epsilon (dy, 0.0f, 1.0f);

  /* Keep panning 10 px a frame: boxes drift out of the frame until more
   * than 30% are gone, which forces a recompute long before the
   * interval. */
  int shifted = 0, recomputed_at = -1;
  for (int i = 2; i <= 15 && recomputed_at < 0; i++) {
    f = crop (a, 150 - 10 * i, 100);
    g_assert_nonnull (spp_video_proposals_update (t, &f, TRUE, &n, &act, NULL));
    if (act == SPP_VIDEO_PROPOSALS_SHIFTED)
      shifted++;
    else if (act == SPP_VIDEO_PROPOSALS_RECOMPUTED)
      recomputed_at = i;
  }
  g_assert_cmpint (shifted, >=, 1);
  g_assert_cmpint (recomputed_at, >, 2);

  /* A bad frame fails cleanly and leaves the tracker usable. */
  SppImage bad = f;
  bad.planes[0] = NULL;
  g_assert_null (spp_video_proposals_update (t, &bad, TRUE, &n, &act, &err));
  g_assert_error (err, SPP_ERROR, SPP_ERROR_INVAL);
  g_clear_error (&err);
  g_assert_nonnull (spp_video_proposals_update (t, &f, TRUE, &n, &act, NULL));
  g_assert_cmpint (act, ==, SPP_VIDEO_PROPOSALS_REUSED);
  spp_video_proposals_free (t);
  g_free (a);
}

static void
test_tiny_frames (void)
{
  guint8 px[3 * 8] = { 0 };
  SppProposalParams p;
  params (&p);
  SppVideoProposals *t = spp_video_proposals_new (&p, 2);
  SppImage one = { SPP_PIXEL_RGB, 1, 1, { px }, { 3 } };
  SppImage row = { SPP_PIXEL_RGB, 8, 1, { px }, { 24 } };
  guint n = 5;
  SppVideoProposalsAction act;
  for (int i = 0; i < 3; i++) {
    g_assert_nonnull (
        spp_video_proposals_update (t, &one, TRUE, &n, &act, NULL));
    g_assert_cmpuint (n, ==, 0);
  }
  g_assert_nonnull (spp_video_proposals_update (t, &row, TRUE, &n, &act, NULL));
  spp_video_proposals_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tracker/shift", test_shift);
  g_test_add_func ("/tracker/cut", test_cut);
  g_test_add_func ("/tracker/interval", test_interval);
  g_test_add_func ("/tracker/motion-only-and-leaving",
                   test_motion_only_and_leaving);
  g_test_add_func ("/tracker/tiny-frames", test_tiny_frames);
  g_test_add_func ("/tracker/partial-quadrant", test_partial_quadrant);
  g_test_add_func ("/tracker/partial-formats", test_partial_formats);
  g_test_add_func ("/tracker/max-boxes", test_max_boxes);
  return g_test_run ();
}
