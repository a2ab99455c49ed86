/* Reading and writing the primitives of docs/model-format.md. */
#include "spp-engine/model-format.h"

#include "spp/error.h"

#include <stdarg.h>
#include <string.h>

gboolean
spp_format_fail (SppFormatReader *r, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (r->error && *r->error == NULL)
    g_set_error (r->error, SPP_ERROR, SPP_ERROR_FORMAT, "%s: %s", r->file,
                 msg);
  return FALSE;
}

gboolean
spp_format_need (SppFormatReader *r, gsize n, const char *what)
{
  if (n > r->len - r->pos)
    return spp_format_fail (r, "truncated at byte %zu reading %s (%zu bytes "
                            "needed, %zu left)", r->pos, what, n,
                            r->len - r->pos);
  return TRUE;
}

/* @n bytes into @v, in the file's (little-endian) order. */
static gboolean
take (SppFormatReader *r, void *v, gsize n, const char *what)
{
  if (!spp_format_need (r, n, what))
    return FALSE;
  memcpy (v, r->data + r->pos, n);
  r->pos += n;
  return TRUE;
}

gboolean
spp_format_read_u32 (SppFormatReader *r, guint32 *v, const char *what)
{
  if (!take (r, v, 4, what))
    return FALSE;
  *v = GUINT32_FROM_LE (*v);
  return TRUE;
}

gboolean
spp_format_read_u64 (SppFormatReader *r, guint64 *v, const char *what)
{
  if (!take (r, v, 8, what))
    return FALSE;
  *v = GUINT64_FROM_LE (*v);
  return TRUE;
}

gboolean
spp_format_read_f32 (SppFormatReader *r, float *v, const char *what)
{
  guint32 u;
  if (!spp_format_read_u32 (r, &u, what))
    return FALSE;
  memcpy (v, &u, 4);
  return TRUE;
}

gboolean
spp_format_read_string (SppFormatReader *r, guint max, const char **s,
                        guint32 *n, const char *what)
{
  if (!spp_format_read_u32 (r, n, what))
    return FALSE;
  if (*n > max)
    return spp_format_fail (r, "%s: string length %u over the limit of %u",
                            what, *n, max);
  if (!spp_format_need (r, *n, what))
    return FALSE;
  *s = (const char *) r->data + r->pos;
  if (memchr (*s, 0, *n) != NULL || !g_utf8_validate_len (*s, *n, NULL))
    return spp_format_fail (r, "%s: string is not valid UTF-8 text", what);
  r->pos += *n;
  return TRUE;
}

void
spp_format_put_u32 (GByteArray *b, guint32 v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &v, 4);
}

void
spp_format_put_u64 (GByteArray *b, guint64 v)
{
  v = GUINT64_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &v, 8);
}

void
spp_format_put_f32 (GByteArray *b, float f)
{
  guint32 v;
  memcpy (&v, &f, 4);
  spp_format_put_u32 (b, v);
}

void
spp_format_put_string (GByteArray *b, const char *s)
{
  spp_format_put_u32 (b, (guint32) strlen (s));
  g_byte_array_append (b, (const guint8 *) s, strlen (s));
}
