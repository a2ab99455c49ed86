/* The proposal cache (src/train/proposal-cache.c, docs/training.md "The
 * proposal cache"): a round trip, then files that must fail with the
 * error that names the file, the field and the value expected. */
#include "proposal-cache-private.h"

#include "spp/error.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

typedef struct {
  char *dir, *path;
  SppProposalParams params;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("spp-cache-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, "7.props", NULL);
  spp_proposal_params_init (&f->params);
  f->params.max_boxes = 4;
  f->params.seed = 9;
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static const SppBox boxes[] = { { 1, 2, 3, 4 }, { 0.5f, 0, 100, 50.25f } };

static void
write_two (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (spp_proposal_cache_write (f->path, &f->params, 160, 120,
                                           boxes, 2, &error));
  g_assert_no_error (error);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  write_two (f);
  g_autoptr (GError) error = NULL;
  guint n = 99;
  g_autofree SppBox *got = spp_proposal_cache_read (f->path, &f->params,
                                                    160, 120, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpmem (got, sizeof boxes, boxes, sizeof boxes);
  /* The bytes of docs/training.md: 7 u32 then 4 f32 per box. */
  g_autofree char *data_ = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (f->path, &data_, &len, NULL));
  g_assert_cmpuint (len, ==, 28 + 2 * 16);
  const guint32 header[] = { 0x50505053u, 1, 4, 9, 160, 120, 2 };
  g_assert_cmpmem (data_, 28, header, sizeof header);
  g_assert_cmpmem (data_, 4, "SPPP", 4);
  /* No boxes is a valid cache too. */
  g_assert_true (spp_proposal_cache_write (f->path, &f->params, 160, 120,
                                           NULL, 0, &error));
  g_autofree SppBox *none = spp_proposal_cache_read (f->path, &f->params,
                                                     160, 120, &n, &error);
  g_assert_no_error (error);
  g_assert_nonnull (none);
  g_assert_cmpuint (n, ==, 0);
}

/* Reads @f's file expecting @code with every @needle in the message
 * (and the file's path). */
static void
expect_error (Fixture *f, int width, int code, const char *const *needles)
{
  g_autoptr (GError) error = NULL;
  guint n = 99;
  g_autofree SppBox *got = spp_proposal_cache_read (f->path, &f->params,
                                                    width, 120, &n, &error);
  g_assert_null (got);
  g_assert_error (error, SPP_ERROR, code);
  g_assert_cmpuint (n, ==, 99);
  g_assert_nonnull (strstr (error->message, f->path));
  for (guint i = 0; needles[i]; i++)
    if (strstr (error->message, needles[i]) == NULL)
      g_error ("'%s' not in '%s'", needles[i], error->message);
}

/* Overwrites the u32 at @index of the file written by write_two(). */
static void
patch_u32 (Fixture *f, guint index, guint32 v)
{
  g_autofree char *d = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (f->path, &d, &len, NULL));
  g_assert_cmpuint (4 * index + 4, <=, len);
  v = GUINT32_TO_LE (v);
  memcpy (d + 4 * index, &v, 4);
  g_assert_true (g_file_set_contents (f->path, d, len, NULL));
}

static void
truncate_to (Fixture *f, gsize len)
{
  g_autofree char *d = NULL;
  gsize old;
  g_assert_true (g_file_get_contents (f->path, &d, &old, NULL));
  g_assert_cmpuint (len, <=, old);
  g_assert_true (g_file_set_contents (f->path, d, len, NULL));
}

#define NEEDLES(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void
test_missing (Fixture *f, gconstpointer data)
{
  expect_error (f, 160, SPP_ERROR_IO, NEEDLES ("7.props"));
}

static void
test_header_fields (Fixture *f, gconstpointer data)
{
  const struct {
    guint index;
    guint32 value;
    const char *field, *expected;
  } cases[] = {
    { 0, 0x4d505053u, "magic is 0x4d505053", "expected 0x50505053" },
    { 1, 2, "version is 2", "expected 1" },
    { 2, 3000, "max_boxes is 3000", "expected 4" },
    { 3, 1, "seed is 1", "expected 9" },
    { 5, 121, "height is 121", "expected 120" },
    { 6, 5, "n is 5", "expected at most max_boxes 4" },
    { 6, 3, "expected 76 for n = 3", "60 bytes" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    write_two (f);
    patch_u32 (f, cases[i].index, cases[i].value);
    expect_error (f, 160, SPP_ERROR_FORMAT,
                  NEEDLES (cases[i].field, cases[i].expected));
  }
  /* Another frame size: the width is checked against the caller's. */
  write_two (f);
  expect_error (f, 320, SPP_ERROR_FORMAT,
                NEEDLES ("width is 160", "expected 320"));
}

static void
test_truncated (Fixture *f, gconstpointer data)
{
  write_two (f);
  truncate_to (f, 27);
  expect_error (f, 160, SPP_ERROR_FORMAT,
                NEEDLES ("27 bytes", "expected a header of 28"));
  write_two (f);
  truncate_to (f, 28 + 16 + 7);
  expect_error (f, 160, SPP_ERROR_FORMAT,
                NEEDLES ("51 bytes", "expected 60 for n = 2"));
  /* Bytes after the last box are not a cache of n boxes either. */
  write_two (f);
  {
    g_autofree char *d = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (f->path, &d, &len, NULL));
    g_autofree char *longer = g_malloc0 (len + 1);
    memcpy (longer, d, len);
    g_assert_true (g_file_set_contents (f->path, longer, len + 1, NULL));
  }
  expect_error (f, 160, SPP_ERROR_FORMAT,
                NEEDLES ("61 bytes", "expected 60 for n = 2"));
  write_two (f);
  truncate_to (f, 0);
  expect_error (f, 160, SPP_ERROR_FORMAT,
                NEEDLES ("0 bytes", "expected a header of 28"));
}

static void
test_not_finite (Fixture *f, gconstpointer data)
{
  const float bad[] = { NAN, INFINITY };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    write_two (f);
    guint32 bits;
    memcpy (&bits, &bad[i], 4);
    patch_u32 (f, 7 + 4 + 2, bits); /* box 1's w */
    expect_error (f, 160, SPP_ERROR_FORMAT,
                  NEEDLES ("box 1 is not finite", "expected finite"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/proposal-cache/round-trip", Fixture, NULL, setup,
              test_round_trip, teardown);
  g_test_add ("/proposal-cache/missing", Fixture, NULL, setup, test_missing,
              teardown);
  g_test_add ("/proposal-cache/header-fields", Fixture, NULL, setup,
              test_header_fields, teardown);
  g_test_add ("/proposal-cache/truncated", Fixture, NULL, setup,
              test_truncated, teardown);
  g_test_add ("/proposal-cache/not-finite", Fixture, NULL, setup,
              test_not_finite, teardown);
  return g_test_run ();
}
