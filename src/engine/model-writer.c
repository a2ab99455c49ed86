/* Rewriting .sppm files (docs/model-format.md). The input's sections are
 * parsed with the checks of the format's limits; metadata entries and
 * layers are kept as their bytes, tensors as pointers into the input, so
 * what is not edited is copied unchanged. */
#include "spp-engine/model-writer.h"

#include "spp/error.h"
#include "spp/model.h"

#include <string.h>

typedef struct {
  char *key;
  guint32 type;
  GBytes *bytes; /* the whole entry */
  gboolean removed;
} Entry;

struct _SppModelFile {
  GBytes *bytes;
  char *name;
  GArray *kvs;     /* Entry */
  GArray *tensors; /* SppModelFileTensor */
  GArray *layers;  /* SppModelFileLayer */
};

static void
entry_clear (gpointer p)
{
  Entry *e = p;
  g_free (e->key);
  g_bytes_unref (e->bytes);
}

static void
tensor_clear (gpointer p)
{
  g_free (((SppModelFileTensor *) p)->name);
}

static void
layer_clear (gpointer p)
{
  g_bytes_unref (((SppModelFileLayer *) p)->prefix);
}

static gboolean
parse_kvs (SppFormatReader *r, SppModelFile *f, guint32 n_kv)
{
  for (guint32 i = 0; i < n_kv; i++) {
    const gsize start = r->pos;
    const char *key, *s;
    guint32 klen, type, count = 1, n;
    if (!spp_format_read_string (r, SPP_FORMAT_MAX_NAME, &key, &klen,
                                 "metadata key")
        || !spp_format_read_u32 (r, &type, "metadata type"))
      return FALSE;
    guint32 et = type;
    if (type > SPP_FORMAT_ARRAY)
      return spp_format_fail (r, "metadata entry %u: type %u, expected 0..4",
                              i, type);
    if (type == SPP_FORMAT_ARRAY
        && (!spp_format_read_u32 (r, &et, "metadata array")
            || !spp_format_read_u32 (r, &count, "metadata array")))
      return FALSE;
    if (et > SPP_FORMAT_STRING || count > SPP_FORMAT_MAX_ARRAY)
      return spp_format_fail (r, "metadata entry %u: array of %u elements "
                              "of type %u, expected at most %u of 0..3", i,
                              count, et, SPP_FORMAT_MAX_ARRAY);
    for (guint32 j = 0; j < count; j++) {
      if (et == SPP_FORMAT_STRING) {
        if (!spp_format_read_string (r, SPP_FORMAT_MAX_STRING, &s, &n,
                                     "metadata string"))
          return FALSE;
      } else if (!spp_format_need (r, 4, "metadata value")) {
        return FALSE;
      } else {
        r->pos += 4;
      }
    }
    Entry e = { g_strndup (key, klen), type,
                g_bytes_new_from_bytes (f->bytes, start, r->pos - start),
                FALSE };
    g_array_append_val (f->kvs, e);
  }
  return TRUE;
}

static gboolean
parse_tensors (SppFormatReader *r, SppModelFile *f, guint32 n_tensors,
               guint64 data_offset)
{
  const gsize data_len = r->len - data_offset;
  for (guint32 i = 0; i < n_tensors; i++) {
    const char *name;
    guint32 nlen, dtype;
    guint64 off;
    SppModelFileTensor t = { 0 };
    if (!spp_format_read_string (r, SPP_FORMAT_MAX_NAME, &name, &nlen,
                                 "tensor name")
        || !spp_format_read_u32 (r, &t.n_dims, "tensor dims"))
      return FALSE;
    if (t.n_dims < 1 || t.n_dims > SPP_FORMAT_MAX_DIMS)
      return spp_format_fail (r, "tensor %u has %u dims, expected 1..%d", i,
                              t.n_dims, SPP_FORMAT_MAX_DIMS);
    t.n_floats = 1;
    for (guint32 d = 0; d < t.n_dims; d++) {
      if (!spp_format_read_u32 (r, &t.dims[d], "tensor dims"))
        return FALSE;
      if (t.dims[d] < 1 || t.n_floats > data_len / 4 / t.dims[d])
        return spp_format_fail (r, "tensor %u: dim %u is %u, expected 1 to "
                                "what the file holds", i, d, t.dims[d]);
      t.n_floats *= t.dims[d];
    }
    if (!spp_format_read_u32 (r, &dtype, "tensor dtype")
        || !spp_format_read_u64 (r, &off, "tensor offset"))
      return FALSE;
    if (dtype != SPP_FORMAT_DTYPE_F32 || off > data_len
        || t.n_floats * 4 > data_len - off)
      return spp_format_fail (r, "tensor %u: dtype %u at offset %"
                              G_GUINT64_FORMAT ", expected float32 (0) "
                              "inside the file", i, dtype, off);
    t.name = g_strndup (name, nlen);
    t.data = r->data + data_offset + off;
    g_array_append_val (f->tensors, t);
  }
  return TRUE;
}

static gboolean
parse_layers (SppFormatReader *r, SppModelFile *f, guint32 n_layers)
{
  static const struct {
    const char *what;
    guint32 max;
  } parts[] = {
    { "layer inputs", SPP_FORMAT_MAX_INPUTS },
    { "layer iparams", SPP_FORMAT_MAX_PARAMS },
    { "layer fparams", SPP_FORMAT_MAX_PARAMS },
  };
  for (guint32 i = 0; i < n_layers; i++) {
    const gsize start = r->pos;
    SppModelFileLayer l = { 0 };
    const char *name;
    guint32 n;
    if (!spp_format_read_u32 (r, &l.op, "layer op")
        || !spp_format_read_string (r, SPP_FORMAT_MAX_NAME, &name, &n,
                                    "layer name")
        || !spp_format_read_u32 (r, &l.section, "layer section"))
      return FALSE;
    for (guint p = 0; p < G_N_ELEMENTS (parts); p++) {
      if (!spp_format_read_u32 (r, &n, parts[p].what))
        return FALSE;
      if (n > parts[p].max)
        return spp_format_fail (r, "layer %u: %u %s, at most %u", i, n,
                                parts[p].what, parts[p].max);
      if (!spp_format_need (r, (gsize) n * 4, parts[p].what))
        return FALSE;
      if (p == 1) {
        l.n_iparams = n;
        for (guint32 j = 0; j < n; j++) {
          guint32 v;
          spp_format_read_u32 (r, &v, parts[p].what);
          l.iparams[j] = (gint32) v;
        }
      } else {
        r->pos += (gsize) n * 4;
      }
    }
    l.prefix = g_bytes_new_from_bytes (f->bytes, start, r->pos - start);
    g_array_append_val (f->layers, l);
    SppModelFileLayer *lp = &g_array_index (f->layers, SppModelFileLayer,
                                            f->layers->len - 1);
    if (!spp_format_read_u32 (r, &lp->n_tensors, "layer tensors"))
      return FALSE;
    if (lp->n_tensors > SPP_FORMAT_MAX_LAYER_TENSORS)
      return spp_format_fail (r, "layer %u: %u tensors, at most %d", i,
                              lp->n_tensors, SPP_FORMAT_MAX_LAYER_TENSORS);
    for (guint32 j = 0; j < lp->n_tensors; j++) {
      if (!spp_format_read_u32 (r, &lp->tensors[j], "layer tensors"))
        return FALSE;
      if (lp->tensors[j] >= f->tensors->len)
        return spp_format_fail (r, "layer %u uses tensor %u of %u", i,
                                lp->tensors[j], f->tensors->len);
    }
  }
  return TRUE;
}

SppModelFile *
spp_model_file_new (GBytes *bytes, const char *name, GError **error)
{
  g_autoptr (SppModelFile) f = g_new0 (SppModelFile, 1);
  f->bytes = g_bytes_ref (bytes);
  f->name = g_strdup (name);
  f->kvs = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_array_set_clear_func (f->kvs, entry_clear);
  f->tensors = g_array_new (FALSE, FALSE, sizeof (SppModelFileTensor));
  g_array_set_clear_func (f->tensors, tensor_clear);
  f->layers = g_array_new (FALSE, FALSE, sizeof (SppModelFileLayer));
  g_array_set_clear_func (f->layers, layer_clear);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  SppFormatReader r = { data, len, 0, name, error };
  guint32 version, n_kv, n_tensors, n_layers, align;
  guint64 file_size, data_offset;
  if (!spp_format_need (&r, SPP_FORMAT_HEADER_SIZE, "header"))
    return NULL;
  if (memcmp (data, SPP_FORMAT_MAGIC, 4) != 0) {
    spp_format_fail (&r, "magic is not %s: not an .sppm file",
                     SPP_FORMAT_MAGIC);
    return NULL;
  }
  r.pos = 4;
  spp_format_read_u32 (&r, &version, "version");
  spp_format_read_u64 (&r, &file_size, "file_size");
  spp_format_read_u32 (&r, &n_kv, "n_kv");
  spp_format_read_u32 (&r, &n_tensors, "n_tensors");
  spp_format_read_u32 (&r, &n_layers, "n_layers");
  spp_format_read_u32 (&r, &align, "alignment");
  spp_format_read_u64 (&r, &data_offset, "data_offset");
  if (version != SPP_FORMAT_VERSION || file_size != len
      || data_offset > len || n_kv > SPP_FORMAT_MAX_KV
      || n_tensors > SPP_FORMAT_MAX_TENSORS
      || n_layers > SPP_FORMAT_MAX_LAYERS) {
    spp_format_fail (&r, "version %u, size %" G_GUINT64_FORMAT " of %"
                     G_GSIZE_FORMAT ", %u entries, %u tensors, %u layers: "
                     "expected a version-%d file within the limits of "
                     "docs/model-format.md", version, file_size, len, n_kv,
                     n_tensors, n_layers, SPP_FORMAT_VERSION);
    return NULL;
  }
  if (!parse_kvs (&r, f, n_kv) || !parse_tensors (&r, f, n_tensors,
                                                   data_offset)
      || !parse_layers (&r, f, n_layers))
    return NULL;
  return g_steal_pointer (&f);
}

void
spp_model_file_free (SppModelFile *f)
{
  if (f == NULL)
    return;
  g_clear_pointer (&f->kvs, g_array_unref);
  g_clear_pointer (&f->tensors, g_array_unref);
  g_clear_pointer (&f->layers, g_array_unref);
  g_bytes_unref (f->bytes);
  g_free (f->name);
  g_free (f);
}

gboolean
spp_model_file_get_f32 (const SppModelFile *f, const char *key, float *value)
{
  for (guint i = f->kvs->len; i-- > 0;) {
    const Entry *e = &g_array_index (f->kvs, Entry, i);
    if (!e->removed && e->type == SPP_FORMAT_F32 && !strcmp (e->key, key)) {
      gsize len;
      const guint8 *b = g_bytes_get_data (e->bytes, &len);
      guint32 v;
      memcpy (&v, b + len - 4, 4);
      v = GUINT32_FROM_LE (v);
      memcpy (value, &v, 4);
      return TRUE;
    }
  }
  return FALSE;
}

guint
spp_model_file_get_n_tensors (const SppModelFile *f)
{
  return f->tensors->len;
}

const SppModelFileTensor *
spp_model_file_get_tensor (const SppModelFile *f, guint id)
{
  g_return_val_if_fail (id < f->tensors->len, NULL);
  return &g_array_index (f->tensors, SppModelFileTensor, id);
}

guint
spp_model_file_get_n_layers (const SppModelFile *f)
{
  return f->layers->len;
}

const SppModelFileLayer *
spp_model_file_get_layer (const SppModelFile *f, guint i)
{
  g_return_val_if_fail (i < f->layers->len, NULL);
  return &g_array_index (f->layers, SppModelFileLayer, i);
}

void
spp_model_file_remove_key (SppModelFile *f, const char *key)
{
  for (guint i = 0; i < f->kvs->len; i++) {
    Entry *e = &g_array_index (f->kvs, Entry, i);
    if (!strcmp (e->key, key))
      e->removed = TRUE;
  }
}

/* A new entry: the key and type, then whatever @b gets next. */
static GByteArray *
entry_start (const char *key, guint32 type)
{
  GByteArray *b = g_byte_array_new ();
  spp_format_put_string (b, key);
  spp_format_put_u32 (b, type);
  return b;
}

static GByteArray *
array_start (const char *key, guint32 elem_type, guint n)
{
  GByteArray *b = entry_start (key, SPP_FORMAT_ARRAY);
  spp_format_put_u32 (b, elem_type);
  spp_format_put_u32 (b, n);
  return b;
}

static void
entry_add (SppModelFile *f, const char *key, guint32 type, GByteArray *b)
{
  Entry e = { g_strdup (key), type, g_byte_array_free_to_bytes (b), FALSE };
  g_array_append_val (f->kvs, e);
}

/* A u32 or f32 entry: @bits in the host's order. */
static void
add_word (SppModelFile *f, const char *key, guint32 type, guint32 bits)
{
  GByteArray *b = entry_start (key, type);
  spp_format_put_u32 (b, bits);
  entry_add (f, key, type, b);
}

void
spp_model_file_add_u32 (SppModelFile *f, const char *key, guint32 value)
{
  add_word (f, key, SPP_FORMAT_U32, value);
}

void
spp_model_file_add_f32 (SppModelFile *f, const char *key, float value)
{
  guint32 bits;
  memcpy (&bits, &value, 4);
  add_word (f, key, SPP_FORMAT_F32, bits);
}

void
spp_model_file_add_string (SppModelFile *f, const char *key,
                           const char *value)
{
  GByteArray *b = entry_start (key, SPP_FORMAT_STRING);
  spp_format_put_string (b, value);
  entry_add (f, key, SPP_FORMAT_STRING, b);
}

/* An array of 32-bit elements, @values in the host's order. */
static void
add_array32 (SppModelFile *f, const char *key, guint32 elem_type,
             const void *values, guint n)
{
  GByteArray *b = array_start (key, elem_type, n);
  for (guint i = 0; i < n; i++) {
    guint32 v;
    memcpy (&v, (const guint8 *) values + 4 * (gsize) i, 4);
    spp_format_put_u32 (b, v);
  }
  entry_add (f, key, SPP_FORMAT_ARRAY, b);
}

void
spp_model_file_add_u32_array (SppModelFile *f, const char *key,
                              const guint32 *values, guint n)
{
  add_array32 (f, key, SPP_FORMAT_U32, values, n);
}

void
spp_model_file_add_f32_array (SppModelFile *f, const char *key,
                              const float *values, guint n)
{
  add_array32 (f, key, SPP_FORMAT_F32, values, n);
}

void
spp_model_file_add_string_array (SppModelFile *f, const char *key,
                                 const char *const *values, guint n)
{
  GByteArray *b = array_start (key, SPP_FORMAT_STRING, n);
  for (guint i = 0; i < n; i++)
    spp_format_put_string (b, values[i]);
  entry_add (f, key, SPP_FORMAT_ARRAY, b);
}

void
spp_model_file_remove_tensor (SppModelFile *f, guint id)
{
  g_return_if_fail (id < f->tensors->len);
  g_array_index (f->tensors, SppModelFileTensor, id).removed = TRUE;
}

void
spp_model_file_remove_layer (SppModelFile *f, guint i)
{
  g_return_if_fail (i < f->layers->len);
  g_array_index (f->layers, SppModelFileLayer, i).removed = TRUE;
}

guint
spp_model_file_add_tensor (SppModelFile *f, const char *name,
                           const float *data, guint32 d0, guint32 d1)
{
  SppModelFileTensor t = { g_strdup (name), d1 ? 2 : 1, { d0, d1 },
                           (gsize) d0 * (d1 ? d1 : 1), data, FALSE };
  g_array_append_val (f->tensors, t);
  return f->tensors->len - 1;
}

void
spp_model_file_add_head_layer (SppModelFile *f, guint32 op, const char *name,
                               const gint32 *iparams, guint n_iparams,
                               const guint *tensors, guint n_tensors)
{
  g_return_if_fail (n_iparams <= SPP_FORMAT_MAX_PARAMS
                    && n_tensors <= SPP_FORMAT_MAX_LAYER_TENSORS);
  SppModelFileLayer l = { .op = op, .section = SPP_FORMAT_HEAD,
                          .n_iparams = n_iparams, .n_tensors = n_tensors };
  GByteArray *b = g_byte_array_new ();
  spp_format_put_u32 (b, op);
  spp_format_put_string (b, name);
  spp_format_put_u32 (b, SPP_FORMAT_HEAD);
  spp_format_put_u32 (b, 0); /* inputs: a head layer reads the previous */
  spp_format_put_u32 (b, n_iparams);
  for (guint i = 0; i < n_iparams; i++) {
    l.iparams[i] = iparams[i];
    spp_format_put_u32 (b, (guint32) iparams[i]);
  }
  spp_format_put_u32 (b, 0); /* fparams */
  for (guint i = 0; i < n_tensors; i++)
    l.tensors[i] = tensors[i];
  l.prefix = g_byte_array_free_to_bytes (b);
  g_array_append_val (f->layers, l);
}

static gsize
aligned (gsize n)
{
  return (n + SPP_FORMAT_ALIGNMENT - 1) / SPP_FORMAT_ALIGNMENT
         * SPP_FORMAT_ALIGNMENT;
}

GBytes *
spp_model_file_write (SppModelFile *f, const char *name, GError **error)
{
  g_autoptr (GByteArray) kv = g_byte_array_new ();
  guint32 n_kv = 0;
  for (guint i = 0; i < f->kvs->len; i++) {
    const Entry *e = &g_array_index (f->kvs, Entry, i);
    if (e->removed)
      continue;
    gsize len;
    const guint8 *b = g_bytes_get_data (e->bytes, &len);
    g_byte_array_append (kv, b, len);
    n_kv++;
  }

  /* Kept tensors get new ids in order. */
  const guint n_all = f->tensors->len;
  g_autofree guint32 *remap = g_new (guint32, MAX (n_all, 1));
  g_autoptr (GByteArray) tinfo = g_byte_array_new ();
  guint32 n_tensors = 0;
  guint64 off = 0;
  for (guint i = 0; i < n_all; i++) {
    const SppModelFileTensor *t = &g_array_index (f->tensors,
                                                  SppModelFileTensor, i);
    remap[i] = t->removed ? G_MAXUINT32 : n_tensors;
    if (t->removed)
      continue;
    n_tensors++;
    spp_format_put_string (tinfo, t->name);
    spp_format_put_u32 (tinfo, t->n_dims);
    for (guint32 d = 0; d < t->n_dims; d++)
      spp_format_put_u32 (tinfo, t->dims[d]);
    spp_format_put_u32 (tinfo, SPP_FORMAT_DTYPE_F32);
    spp_format_put_u64 (tinfo, off);
    off += aligned (t->n_floats * 4);
  }

  g_autoptr (GByteArray) layers = g_byte_array_new ();
  guint32 n_layers = 0;
  for (guint i = 0; i < f->layers->len; i++) {
    const SppModelFileLayer *l = &g_array_index (f->layers,
                                                 SppModelFileLayer, i);
    if (l->removed)
      continue;
    gsize len;
    const guint8 *b = g_bytes_get_data (l->prefix, &len);
    g_byte_array_append (layers, b, len);
    spp_format_put_u32 (layers, l->n_tensors);
    for (guint32 j = 0; j < l->n_tensors; j++) {
      if (remap[l->tensors[j]] == G_MAXUINT32) {
        g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                     "%s: layer %u uses tensor %s, which is removed",
                     f->name, i, g_array_index (f->tensors,
                                                SppModelFileTensor,
                                                l->tensors[j]).name);
        return NULL;
      }
      spp_format_put_u32 (layers, remap[l->tensors[j]]);
    }
    n_layers++;
  }
  if (n_layers == 0) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT, "%s: no layers",
                 f->name);
    return NULL;
  }

  const guint64 data_offset = aligned (SPP_FORMAT_HEADER_SIZE + kv->len
                                       + tinfo->len + layers->len);
  GByteArray *out = g_byte_array_sized_new (data_offset + off);
  g_byte_array_append (out, (const guint8 *) SPP_FORMAT_MAGIC, 4);
  spp_format_put_u32 (out, SPP_FORMAT_VERSION);
  spp_format_put_u64 (out, data_offset + off);
  spp_format_put_u32 (out, n_kv);
  spp_format_put_u32 (out, n_tensors);
  spp_format_put_u32 (out, n_layers);
  spp_format_put_u32 (out, SPP_FORMAT_ALIGNMENT);
  spp_format_put_u64 (out, data_offset);
  g_byte_array_append (out, kv->data, kv->len);
  g_byte_array_append (out, tinfo->data, tinfo->len);
  g_byte_array_append (out, layers->data, layers->len);
  static const guint8 zeros[SPP_FORMAT_ALIGNMENT] = { 0 };
  g_byte_array_append (out, zeros, data_offset - out->len);
  for (guint i = 0; i < n_all; i++) {
    const SppModelFileTensor *t = &g_array_index (f->tensors,
                                                  SppModelFileTensor, i);
    if (t->removed)
      continue;
    /* As is: the loader uses tensors in place, so floats are in the
     * host's order, little-endian. */
    const gsize size = t->n_floats * 4;
    g_byte_array_append (out, t->data, size);
    g_byte_array_append (out, zeros, aligned (size) - size);
  }
  g_assert (out->len == data_offset + off);

  g_autoptr (GBytes) bytes = g_byte_array_free_to_bytes (out);
  g_autoptr (GError) err = NULL;
  g_autoptr (SppModel) check = spp_model_load_from_bytes (bytes, name, &err);
  if (check == NULL) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_FORMAT,
                 "the model written is invalid: %s", err->message);
    return NULL;
  }
  return g_steal_pointer (&bytes);
}

gboolean
spp_model_file_save (SppModelFile *f, const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = spp_model_file_write (f, path, error);
  return bytes && spp_model_bytes_save (bytes, path, error);
}

gboolean
spp_model_bytes_save (GBytes *bytes, const char *path, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autoptr (GError) err = NULL;
  if (!g_file_set_contents (path, data, len, &err)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "%s", err->message);
    return FALSE;
  }
  return TRUE;
}
