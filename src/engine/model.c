/* The .sppm loader. Every read goes through SppFormatReader (shared with
 * the writer), which checks the remaining length first; every count is
 * checked against a limit and against the bytes left before anything is
 * allocated. */
#include "model-private.h"
#include "spp-engine/model-format.h"
#include "layers-private.h"

#include "spp/pyramid.h"
#include "spp-engine/pyramid.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#define HEADER_SIZE SPP_FORMAT_HEADER_SIZE
#define MAX_KV SPP_FORMAT_MAX_KV
#define MAX_TENSORS SPP_FORMAT_MAX_TENSORS
#define MAX_LAYERS SPP_FORMAT_MAX_LAYERS
#define MAX_STRING SPP_FORMAT_MAX_STRING
#define MAX_NAME SPP_FORMAT_MAX_NAME
#define MAX_ARRAY SPP_FORMAT_MAX_ARRAY
#define MAX_LEVEL 64

enum {
  T_U32 = SPP_FORMAT_U32,
  T_I32 = SPP_FORMAT_I32,
  T_F32 = SPP_FORMAT_F32,
  T_STR = SPP_FORMAT_STRING,
  T_ARR = SPP_FORMAT_ARRAY,
};

/* Returns a newly allocated, NUL-terminated, valid UTF-8 string. */
static char *
read_string (SppFormatReader *r, guint max, const char *what)
{
  const char *str;
  guint32 n;
  if (!spp_format_read_string (r, max, &str, &n, what))
    return NULL;
  return g_strndup (str, n);
}

typedef struct {
  char *key;
  guint32 type, elem_type, count;
  gsize value_pos; /* where the value (or array elements) start */
} KvEntry;

static void
kv_entry_clear (gpointer p)
{
  g_free (((KvEntry *) p)->key);
}

static gboolean
skip_scalar (SppFormatReader *r, guint32 t, const char *what)
{
  if (t == T_STR) {
    g_autofree char *s = read_string (r, MAX_STRING, what);
    return s != NULL;
  }
  return spp_format_need (r, 4, what) && (r->pos += 4, TRUE);
}

static gboolean
read_kvs (SppFormatReader *r, guint n, GArray *kvs)
{
  for (guint i = 0; i < n; i++) {
    KvEntry e = { 0 };
    e.key = read_string (r, MAX_NAME, "metadata key");
    if (e.key == NULL)
      return FALSE;
    g_array_append_val (kvs, e);
    KvEntry *ep = &g_array_index (kvs, KvEntry, kvs->len - 1);
    if (!spp_format_read_u32 (r, &ep->type, ep->key))
      return FALSE;
    if (ep->type > T_ARR)
      return spp_format_fail (r, "metadata '%s': type %u, expected 0..4", ep->key,
                   ep->type);
    if (ep->type == T_ARR) {
      if (!spp_format_read_u32 (r, &ep->elem_type, ep->key)
          || !spp_format_read_u32 (r, &ep->count, ep->key))
        return FALSE;
      if (ep->elem_type > T_STR)
        return spp_format_fail (r, "metadata '%s': array element type %u, expected 0..3",
                     ep->key, ep->elem_type);
      if (ep->count > MAX_ARRAY)
        return spp_format_fail (r, "metadata '%s': %u elements, at most %u", ep->key,
                     ep->count, MAX_ARRAY);
      ep->value_pos = r->pos;
      for (guint j = 0; j < ep->count; j++)
        if (!skip_scalar (r, ep->elem_type, ep->key))
          return FALSE;
    } else {
      ep->value_pos = r->pos;
      if (!skip_scalar (r, ep->type, ep->key))
        return FALSE;
    }
  }
  return TRUE;
}

static const KvEntry *
kv_find (GArray *kvs, const char *key)
{
  for (guint i = 0; i < kvs->len; i++)
    if (!strcmp (g_array_index (kvs, KvEntry, i).key, key))
      return &g_array_index (kvs, KvEntry, i);
  return NULL;
}

/* Typed getters: absent + optional -> default; wrong type -> error. */
static gboolean
kv_u32 (SppFormatReader *r, GArray *kvs, const char *key, gboolean required,
        guint32 def, guint32 *out)
{
  const KvEntry *e = kv_find (kvs, key);
  if (e == NULL) {
    if (required)
      return spp_format_fail (r, "metadata '%s' is missing", key);
    *out = def;
    return TRUE;
  }
  if (e->type != T_U32)
    return spp_format_fail (r, "metadata '%s' has type %u, expected u32 (0)", key,
                 e->type);
  SppFormatReader sub = *r;
  sub.pos = e->value_pos;
  return spp_format_read_u32 (&sub, out, key);
}

static gboolean
kv_f32 (SppFormatReader *r, GArray *kvs, const char *key, float def, float *out)
{
  const KvEntry *e = kv_find (kvs, key);
  if (e == NULL) {
    *out = def;
    return TRUE;
  }
  if (e->type != T_F32)
    return spp_format_fail (r, "metadata '%s' has type %u, expected f32 (2)", key,
                 e->type);
  SppFormatReader sub = *r;
  sub.pos = e->value_pos;
  if (!spp_format_read_f32 (&sub, out, key))
    return FALSE;
  if (!isfinite (*out))
    return spp_format_fail (r, "metadata '%s' is not a finite number", key);
  return TRUE;
}

static char *
kv_str (SppFormatReader *r, GArray *kvs, const char *key, gboolean required)
{
  const KvEntry *e = kv_find (kvs, key);
  if (e == NULL) {
    if (required)
      spp_format_fail (r, "metadata '%s' is missing", key);
    return NULL;
  }
  if (e->type != T_STR) {
    spp_format_fail (r, "metadata '%s' has type %u, expected string (3)", key, e->type);
    return NULL;
  }
  SppFormatReader sub = *r;
  sub.pos = e->value_pos;
  return read_string (&sub, MAX_STRING, key);
}

/* Arrays of u32 or f32: *out is newly allocated with *n elements. */
static gboolean
kv_array (SppFormatReader *r, GArray *kvs, const char *key, guint32 elem_type,
          gboolean required, void **out, guint *n)
{
  const KvEntry *e = kv_find (kvs, key);
  *out = NULL;
  *n = 0;
  if (e == NULL)
    return required ? spp_format_fail (r, "metadata '%s' is missing", key) : TRUE;
  if (e->type != T_ARR || e->elem_type != elem_type)
    return spp_format_fail (r, "metadata '%s' must be an array of %s", key,
                 elem_type == T_U32 ? "u32" : elem_type == T_F32 ? "f32"
                                                                 : "strings");
  SppFormatReader sub = *r;
  sub.pos = e->value_pos;
  if (elem_type == T_STR) {
    char **v = g_new0 (char *, e->count + 1);
    for (guint i = 0; i < e->count; i++) {
      v[i] = read_string (&sub, MAX_NAME, key);
      if (v[i] == NULL) {
        g_strfreev (v);
        return FALSE;
      }
    }
    *out = v;
  } else {
    guint32 *v = g_new0 (guint32, MAX (e->count, 1));
    for (guint i = 0; i < e->count; i++)
      if (!spp_format_read_u32 (&sub, &v[i], key)) {
        g_free (v);
        return FALSE;
      }
    if (elem_type == T_F32)
      for (guint i = 0; i < e->count; i++) {
        float f;
        memcpy (&f, &v[i], 4);
        if (!isfinite (f)) {
          g_free (v);
          return spp_format_fail (r, "metadata '%s'[%u] is not a finite number", key, i);
        }
      }
    *out = v;
  }
  *n = e->count;
  return TRUE;
}

const float *
spp_model_get_layer_weights (SppModel *m, guint layer)
{
  if (layer >= m->n_trunk)
    return NULL;
  const SppLayer *l = &m->layers[layer];
  const SppLayerType *type = spp_layer_type_get (l->op);
  if (type->make_weights == NULL)
    return NULL;
  g_mutex_lock (&m->lock);
  if (m->layer_w == NULL)
    m->layer_w = g_new0 (float *, m->n_layers);
  if (m->layer_w[layer] == NULL)
    m->layer_w[layer] = type->make_weights (l);
  const float *w = m->layer_w[layer];
  g_mutex_unlock (&m->lock);
  return w;
}

/* spp-engine/model.h: the metadata, for the other parts' sections. */
struct _SppModelMeta {
  SppFormatReader *r;
  GArray *kvs;
};

gboolean
spp_model_meta_u32 (SppModelMeta *meta, const char *key, gboolean required,
                    guint32 def, guint32 *out)
{
  return kv_u32 (meta->r, meta->kvs, key, required, def, out);
}

gboolean
spp_model_meta_f32 (SppModelMeta *meta, const char *key, float def,
                    float *out)
{
  return kv_f32 (meta->r, meta->kvs, key, def, out);
}

gboolean
spp_model_meta_strings (SppModelMeta *meta, const char *key,
                        gboolean required, char ***out, guint *n)
{
  return kv_array (meta->r, meta->kvs, key, T_STR, required, (void **) out,
                   n);
}

gboolean
spp_model_meta_u32s (SppModelMeta *meta, const char *key, gboolean required,
                     guint **out, guint *n)
{
  return kv_array (meta->r, meta->kvs, key, T_U32, required, (void **) out,
                   n);
}

gboolean
spp_model_meta_f32s (SppModelMeta *meta, const char *key, gboolean required,
                     float **out, guint *n)
{
  return kv_array (meta->r, meta->kvs, key, T_F32, required, (void **) out,
                   n);
}

gboolean
spp_model_meta_fail (SppModelMeta *meta, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return spp_format_fail (meta->r, "%s", msg);
}

gpointer
spp_model_get_section (const SppModel *m, guint index)
{
  g_return_val_if_fail (index < spp_model_n_section_types, NULL);
  return m->sections[index];
}

void
spp_model_get_input_size (const SppModel *m, guint *min_size,
                          guint *multiple)
{
  *min_size = m->min_size;
  *multiple = m->multiple;
}

guint
spp_model_get_head_width (const SppModel *m)
{
  return m->head_size;
}

const SppTensor *
spp_model_get_head_weight (const SppModel *m)
{
  return m->n_trunk < m->n_layers ? m->layers[m->n_trunk].weight : NULL;
}

static void
model_free (SppModel *m)
{
  for (guint i = 0; m->sections && i < spp_model_n_section_types; i++)
    if (m->sections[i])
      spp_model_section_types[i]->free (m->sections[i]);
  g_free (m->sections);
  for (guint i = 0; m->layer_w && i < m->n_layers; i++)
    g_free (m->layer_w[i]);
  g_free (m->layer_w);
  g_mutex_clear (&m->lock);
  for (guint i = 0; i < m->n_layers; i++) {
    g_free (m->layers[i].name);
    g_free (m->layers[i].inputs);
  }
  g_free (m->layers);
  for (guint i = 0; i < m->n_tensors; i++)
    g_free (m->tensor_names ? m->tensor_names[i] : NULL);
  g_free (m->tensor_names);
  g_free (m->tensors);
  g_free (m->name);
  g_free (m->description);
  g_free (m->levels);
  g_free (m->path);
  if (m->mapped)
    g_mapped_file_unref (m->mapped);
  if (m->bytes)
    g_bytes_unref (m->bytes);
  spp_aligned_free (m->copy);
  g_free (m);
}

const SppTensor *
spp_model_find_tensor (const SppModel *m, const char *name)
{
  for (guint i = 0; i < m->n_tensors; i++)
    if (!strcmp (m->tensor_names[i], name))
      return &m->tensors[i];
  return NULL;
}

static gboolean
read_tensors (SppFormatReader *r, SppModel *m, guint64 data_offset)
{
  m->tensor_names = g_new0 (char *, MAX (m->n_tensors, 1));
  m->tensors = g_new0 (SppTensor, MAX (m->n_tensors, 1));
  for (guint i = 0; i < m->n_tensors; i++) {
    char *name = read_string (r, MAX_NAME, "tensor name");
    guint32 n_dims, dims[4] = { 1, 1, 1, 1 }, dtype;
    guint64 off, elems = 1;
    if (name == NULL)
      return FALSE;
    m->tensor_names[i] = name;
    if (!spp_format_read_u32 (r, &n_dims, name))
      return FALSE;
    if (n_dims < 1 || n_dims > 4)
      return spp_format_fail (r, "tensor '%s' has %u dims, expected 1..4", name, n_dims);
    for (guint d = 0; d < n_dims; d++) {
      if (!spp_format_read_u32 (r, &dims[d], name))
        return FALSE;
      if (dims[d] < 1 || dims[d] > (1u << 30))
        return spp_format_fail (r, "tensor '%s' dim %u is %u, expected 1..2^30", name, d,
                     dims[d]);
      elems *= dims[d];
      if (elems > SPP_TENSOR_MAX_ELEMS)
        return spp_format_fail (r, "tensor '%s' has over 2^30 elements", name);
    }
    if (!spp_format_read_u32 (r, &dtype, name) || !spp_format_read_u64 (r, &off, name))
      return FALSE;
    if (dtype != 0)
      return spp_format_fail (r, "tensor '%s' has dtype %u, expected 0 (float32)", name,
                   dtype);
    if (off % 64 != 0)
      return spp_format_fail (r, "tensor '%s' offset %" G_GUINT64_FORMAT
                   " is not a multiple of 64", name, off);
    if (off > r->len - data_offset || elems * 4 > r->len - data_offset - off)
      return spp_format_fail (r, "tensor '%s' (%" G_GUINT64_FORMAT " bytes at data+%"
                   G_GUINT64_FORMAT ") runs past the end of the file", name,
                   elems * 4, off);
    /* Dims fill n, c, h, w from the left: an [out, in] weight reads
     * n = out, c = in. */
    spp_tensor_init_view (&m->tensors[i],
                          (float *) (void *) (r->data + data_offset + off),
                          dims[0], dims[1], dims[2], dims[3]);
    const float *p = m->tensors[i].data;
    for (guint64 j = 0; j < elems; j++)
      if (!isfinite (p[j]))
        return spp_format_fail (r, "tensor '%s' element %" G_GUINT64_FORMAT
                     " is not finite (NaN or infinity)", name, j);
  }
  return TRUE;
}

/* Reads one layer and infers its output width from the nodes before it.
 * node_c[i] is the channel count of node i. */
static gboolean
read_layer (SppFormatReader *r, SppModel *m, guint index, int *node_c, guint n_nodes,
            int *head_width)
{
  SppLayer *l = &m->layers[index];
  guint32 op, section, n_in, n_ip, n_fp, n_t;
  guint32 ip[SPP_LAYER_MAX_PARAMS];
  float fp[SPP_LAYER_MAX_PARAMS];
  const SppTensor *ts[SPP_LAYER_MAX_TENSORS];

  if (!spp_format_read_u32 (r, &op, "layer op"))
    return FALSE;
  l->name = read_string (r, MAX_NAME, "layer name");
  if (l->name == NULL)
    return FALSE;
  if (spp_layer_type_get (op) == NULL)
    return spp_format_fail (r, "layer '%s': op %u, expected 1..%d", l->name, op,
                 SPP_OP_LAST);
  l->op = op;
  if (!spp_format_read_u32 (r, &section, l->name))
    return FALSE;
  if (section > 1)
    return spp_format_fail (r, "layer '%s': section %u, expected 0 or 1", l->name,
                 section);
  l->section = section;
  if (section == 0 && index != m->n_trunk)
    return spp_format_fail (r, "layer '%s': trunk layer after a head layer", l->name);
  if (!spp_format_read_u32 (r, &n_in, l->name))
    return FALSE;
  if (n_in > SPP_LAYER_MAX_INPUTS)
    return spp_format_fail (r, "layer '%s': %u inputs, at most %d", l->name, n_in,
                 SPP_LAYER_MAX_INPUTS);
  l->n_inputs = n_in;
  l->inputs = g_new0 (guint, MAX (n_in, 1));
  for (guint i = 0; i < n_in; i++) {
    guint32 v;
    if (!spp_format_read_u32 (r, &v, l->name))
      return FALSE;
    if (v >= n_nodes)
      return spp_format_fail (r, "layer '%s': input %u is node %u, expected < %u "
                   "(an earlier node)", l->name, i, v, n_nodes);
    l->inputs[i] = v;
  }
  if (!spp_format_read_u32 (r, &n_ip, l->name))
    return FALSE;
  if (n_ip > SPP_LAYER_MAX_PARAMS)
    return spp_format_fail (r, "layer '%s': %u int params, at most %d", l->name, n_ip,
                 SPP_LAYER_MAX_PARAMS);
  for (guint i = 0; i < n_ip; i++)
    if (!spp_format_read_u32 (r, &ip[i], l->name))
      return FALSE;
  if (!spp_format_read_u32 (r, &n_fp, l->name))
    return FALSE;
  if (n_fp > SPP_LAYER_MAX_PARAMS)
    return spp_format_fail (r, "layer '%s': %u float params, at most %d", l->name, n_fp,
                 SPP_LAYER_MAX_PARAMS);
  for (guint i = 0; i < n_fp; i++) {
    if (!spp_format_read_f32 (r, &fp[i], l->name))
      return FALSE;
    if (!isfinite (fp[i]))
      return spp_format_fail (r, "layer '%s': float param %u is not finite", l->name, i);
  }
  if (!spp_format_read_u32 (r, &n_t, l->name))
    return FALSE;
  if (n_t > SPP_LAYER_MAX_TENSORS)
    return spp_format_fail (r, "layer '%s': %u tensors, at most %d", l->name, n_t,
                 SPP_LAYER_MAX_TENSORS);
  for (guint i = 0; i < n_t; i++) {
    guint32 v;
    if (!spp_format_read_u32 (r, &v, l->name))
      return FALSE;
    if (v >= m->n_tensors)
      return spp_format_fail (r, "layer '%s': tensor id %u, expected < %u", l->name, v,
                   m->n_tensors);
    ts[i] = &m->tensors[v];
  }

  const SppLayerType *type = spp_layer_type_get (op);
  if (l->section == 1 && !(type->sections & SPP_LAYER_HEAD))
    return spp_format_fail (r, "layer '%s': op %s cannot be in the head", l->name,
                 type->name);
  if (l->section == 0 && !(type->sections & SPP_LAYER_TRUNK))
    return spp_format_fail (r, "layer '%s': op %s belongs in the head (section 1)",
                 l->name, type->name);
  const guint want_inputs = l->section == 1 ? 0
                            : type->trunk_inputs < 0 ? MAX (n_in, 1)
                                                     : (guint) type->trunk_inputs;
  if (n_in != want_inputs)
    return spp_format_fail (r, "layer '%s': %u inputs, expected %u", l->name, n_in,
                 want_inputs);
  if (n_t < type->min_tensors || n_t > type->max_tensors)
    return spp_format_fail (r, "layer '%s': op %s takes %u..%u tensors, got %u", l->name,
                 type->name, type->min_tensors, type->max_tensors, n_t);

  /* Parameters by name (docs/model-format.md): those the file leaves off
   * its end take their fallback's value or their default. */
  int iv[SPP_LAYER_MAX_PARAMS];
  float fv[SPP_LAYER_MAX_PARAMS];
  for (guint i = 0; i < type->n_int; i++) {
    const SppIntParam *p = &type->int_params[i];
    if (i < n_ip)
      iv[i] = (int) ip[i];
    else if (p->required)
      return spp_format_fail (r, "layer '%s': %s needs %s (iparam %u)", l->name,
                   type->name, p->name, i);
    else
      iv[i] = p->fallback >= 0 ? iv[p->fallback] : p->def;
    if (iv[i] < p->min || iv[i] > p->max)
      return spp_format_fail (r, "layer '%s': %s %d, expected %d..%d", l->name, p->name,
                   iv[i], p->min, p->max);
  }
  for (guint i = 0; i < type->n_float; i++)
    fv[i] = i < n_fp ? fp[i] : type->float_params[i].def;

  int in_c[SPP_LAYER_MAX_INPUTS];
  for (guint i = 0; i < n_in; i++)
    in_c[i] = node_c[l->inputs[i]];
  l->in_c = l->out_c = l->section == 0 ? in_c[0] : *head_width;
  const SppLayerArgs args = { r->file, r->error, iv, fv, n_ip, ts, n_t, in_c };
  if (type->parse && !type->parse (l, &args))
    return FALSE;
  if (l->section == 1)
    *head_width = l->out_c;
  return TRUE;
}

static SppModel *
parse (const guint8 *data, gsize len, const char *file, SppModel *m,
       GError **error)
{
  SppFormatReader rd = { data, len, 0, file, error }, *r = &rd;
  guint32 version = 0, n_kv = 0, n_tensors = 0, n_layers = 0, alignment = 0;
  guint64 file_size = 0, data_offset = 0;
  g_autofree char *order = NULL;
  g_autofree float *mean = NULL, *std = NULL;
  g_autofree int *node_c = NULL;
  guint n_mean = 0, n_std = 0;
  g_autoptr (GArray) kvs = g_array_new (FALSE, TRUE, sizeof (KvEntry));
  g_array_set_clear_func (kvs, kv_entry_clear);

  if (!spp_format_need (r, HEADER_SIZE, "header"))
    goto error;
  if (memcmp (data, "SPPM", 4) != 0) {
    spp_format_fail (r, "bad magic: not an .sppm model file (expected 'SPPM')");
    goto error;
  }
  r->pos = 4;
  spp_format_read_u32 (r, &version, "version");
  spp_format_read_u64 (r, &file_size, "file_size");
  spp_format_read_u32 (r, &n_kv, "n_kv");
  spp_format_read_u32 (r, &n_tensors, "n_tensors");
  spp_format_read_u32 (r, &n_layers, "n_layers");
  spp_format_read_u32 (r, &alignment, "alignment");
  spp_format_read_u64 (r, &data_offset, "data_offset");
  if (version != 1) {
    spp_format_fail (r, "version %u, this library reads version 1", version);
    goto error;
  }
  if (file_size != len) {
    spp_format_fail (r, "file_size says %" G_GUINT64_FORMAT " bytes but the file has "
          "%zu (truncated or padded)", file_size, len);
    goto error;
  }
  if (n_kv > MAX_KV || n_tensors > MAX_TENSORS || n_layers < 1
      || n_layers > MAX_LAYERS) {
    spp_format_fail (r, "counts out of range: n_kv %u (max %d), n_tensors %u (max %d), "
          "n_layers %u (1..%d)", n_kv, MAX_KV, n_tensors, MAX_TENSORS,
          n_layers, MAX_LAYERS);
    goto error;
  }
  if (alignment != 64) {
    spp_format_fail (r, "alignment %u, expected 64", alignment);
    goto error;
  }
  if (data_offset % 64 || data_offset > len) {
    spp_format_fail (r, "data_offset %" G_GUINT64_FORMAT " must be a multiple of 64 "
          "inside the file", data_offset);
    goto error;
  }

  if (!read_kvs (r, n_kv, kvs))
    goto error;
  m->n_tensors = n_tensors;
  if (!read_tensors (r, m, data_offset))
    goto error;

  /* Metadata. */
  m->name = kv_str (r, kvs, "general.name", TRUE);
  if (m->name == NULL)
    goto error;
  m->description = kv_str (r, kvs, "general.description", FALSE);
  if (m->description == NULL && kv_find (kvs, "general.description"))
    goto error;
  order = kv_str (r, kvs, "input.order", TRUE);
  if (order == NULL)
    goto error;
  if (!strcmp (order, "RGB"))
    m->order = SPP_CHANNEL_RGB;
  else if (!strcmp (order, "BGR"))
    m->order = SPP_CHANNEL_BGR;
  else {
    spp_format_fail (r, "metadata 'input.order' is '%s', expected 'RGB' or 'BGR'", order);
    goto error;
  }
  if (!kv_array (r, kvs, "input.mean", T_F32, TRUE, (void **) &mean, &n_mean)
      || !kv_array (r, kvs, "input.std", T_F32, TRUE, (void **) &std, &n_std))
    goto error;
  if (n_mean != 3 || n_std != 3) {
    spp_format_fail (r, "metadata 'input.mean' and 'input.std' need 3 values each "
          "(have %u and %u)", n_mean, n_std);
    goto error;
  }
  for (int i = 0; i < 3; i++) {
    m->mean[i] = mean[i];
    m->std[i] = std[i];
    if (!(std[i] > 0)) {
      spp_format_fail (r, "metadata 'input.std'[%d] is %g, expected > 0", i, std[i]);
      goto error;
    }
  }
  if (!kv_u32 (r, kvs, "input.min_size", FALSE, 1, &m->min_size)
      || !kv_u32 (r, kvs, "input.multiple", FALSE, 1, &m->multiple)
      || !kv_u32 (r, kvs, "spp.stride", TRUE, 0, &m->stride)
      || !kv_f32 (r, kvs, "spp.offset", 0.0f, &m->offset))
    goto error;
  if (m->min_size < 1 || m->min_size > 4096 || m->multiple < 1
      || m->multiple > 1024) {
    spp_format_fail (r, "metadata 'input.min_size' (1..4096) or 'input.multiple' "
          "(1..1024) out of range");
    goto error;
  }
  if (m->stride < 1 || m->stride > 1024) {
    spp_format_fail (r, "metadata 'spp.stride' is %u, expected 1..1024", m->stride);
    goto error;
  }
  if (!kv_array (r, kvs, "spp.levels", T_U32, TRUE, (void **) &m->levels,
                 &m->n_levels))
    goto error;
  if (m->n_levels < 1 || m->n_levels > 16) {
    spp_format_fail (r, "metadata 'spp.levels' has %u levels, expected 1..16",
          m->n_levels);
    goto error;
  }
  for (guint i = 0; i < m->n_levels; i++)
    if (m->levels[i] < 1 || m->levels[i] > MAX_LEVEL) {
      spp_format_fail (r, "metadata 'spp.levels'[%u] is %u, expected 1..%d", i,
            m->levels[i], MAX_LEVEL);
      goto error;
    }
  /* The graph. */
  m->n_layers = n_layers;
  m->layers = g_new0 (SppLayer, n_layers);
  node_c = g_new0 (int, n_layers + 1);
  node_c[0] = 3;
  int head_width = -1;
  for (guint i = 0; i < n_layers; i++) {
    if (!read_layer (r, m, i, node_c, m->n_trunk + 1, &head_width))
      goto error;
    if (m->layers[i].section == 0) {
      m->n_trunk++;
      node_c[m->n_trunk] = m->layers[i].out_c;
    } else if (i == m->n_trunk && m->layers[i].op != SPP_OP_FC) {
      spp_format_fail (r, "layer '%s': the head must start with an fc layer",
            m->layers[i].name);
      goto error;
    }
  }
  if (m->n_trunk == 0) {
    spp_format_fail (r, "no trunk layers (section 0)");
    goto error;
  }
  if (r->pos > data_offset) {
    spp_format_fail (r, "tables end at byte %zu, after data_offset %" G_GUINT64_FORMAT,
          r->pos, data_offset);
    goto error;
  }
  m->map_channels = node_c[m->n_trunk];
  guint64 pooled = (guint64) m->map_channels
                   * spp_pyramid_get_n_bins (m->levels, m->n_levels);
  if (pooled > (1u << 24)) {
    spp_format_fail (r, "SPP vector of %" G_GUINT64_FORMAT " floats is too long",
          pooled);
    goto error;
  }
  m->pooled_size = pooled;
  m->head_size = m->pooled_size;
  if (m->n_trunk < m->n_layers) {
    const SppLayer *first = &m->layers[m->n_trunk];
    if ((guint) first->in_c != m->pooled_size) {
      spp_format_fail (r, "layer '%s': fc input size %d does not match the SPP output "
            "%d channels x %u bins = %u", first->name, first->in_c,
            m->map_channels, spp_pyramid_get_n_bins (m->levels, m->n_levels),
            m->pooled_size);
      goto error;
    }
    m->head_size = m->layers[m->n_layers - 1].out_c;
  }

  /* The other parts' sections (spp-engine/model.h). */
  {
    SppModelMeta meta = { r, kvs };
    m->sections = g_new0 (gpointer, MAX (spp_model_n_section_types, 1));
    for (guint i = 0; i < spp_model_n_section_types; i++) {
      m->sections[i] = spp_model_section_types[i]->read (m, &meta);
      if (m->sections[i] == NULL) {
        spp_format_fail (r, "section '%s' could not be read",
              spp_model_section_types[i]->name);
        goto error;
      }
    }
  }
  return m;

error:
  spp_model_unref (m);
  return NULL;
}

SppModel *
spp_model_load_from_bytes (GBytes *bytes, const char *name, GError **error)
{
  gsize len;
  const guint8 *data;
  SppModel *m;

  g_return_val_if_fail (bytes != NULL, NULL);
  m = g_new0 (SppModel, 1);
  m->ref_count = 1;
  g_mutex_init (&m->lock);
  m->path = g_strdup (name ? name : "(memory)");
  data = g_bytes_get_data (bytes, &len);
  /* Tensors are used in place, so the base must be 64-byte aligned. */
  if (((guintptr) data) % 64 != 0) {
    m->copy = spp_aligned_alloc (MAX (len, 1));
    if (m->copy == NULL) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_NOMEM,
                   "%s: cannot allocate %zu bytes", m->path, len);
      spp_model_unref (m);
      return NULL;
    }
    if (len)
      memcpy (m->copy, data, len);
    data = m->copy;
  } else {
    m->bytes = g_bytes_ref (bytes);
  }
  return parse (data, len, m->path, m, error);
}

SppModel *
spp_model_load (const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  SppModel *m;

  g_return_val_if_fail (path != NULL, NULL);
  if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO,
                 "%s: is a directory, not a model file", path);
    return NULL;
  }
  GMappedFile *mf = g_mapped_file_new (path, FALSE, &local);
  if (mf == NULL) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_IO, "cannot open model: %s",
                 local->message);
    return NULL;
  }
  m = g_new0 (SppModel, 1);
  m->ref_count = 1;
  g_mutex_init (&m->lock);
  m->path = g_strdup (path);
  m->mapped = mf;
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (mf);
  gsize len = g_mapped_file_get_length (mf);
  /* An empty file maps to NULL; parse() reports it as truncated. The
   * mapping is page-aligned, so tensors are 64-byte aligned in place. */
  static const guint8 empty[1];
  if (data == NULL)
    data = empty;
  return parse (data, len, m->path, m, error);
}

SppModel *
spp_model_ref (SppModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_atomic_int_inc (&model->ref_count);
  return model;
}

void
spp_model_unref (SppModel *model)
{
  if (model && g_atomic_int_dec_and_test (&model->ref_count))
    model_free (model);
}

const char *
spp_model_get_name (const SppModel *m)
{
  return m->name;
}

const char *
spp_model_get_path (const SppModel *m)
{
  return m->path;
}







SppChannelOrder
spp_model_get_channel_order (const SppModel *m)
{
  return m->order;
}

void
spp_model_get_normalization (const SppModel *m, float mean[3], float std[3])
{
  memcpy (mean, m->mean, sizeof m->mean);
  memcpy (std, m->std, sizeof m->std);
}

guint
spp_model_get_stride (const SppModel *m)
{
  return m->stride;
}

float
spp_model_get_offset (const SppModel *m)
{
  return m->offset;
}

const guint *
spp_model_get_levels (const SppModel *m, guint *n)
{
  *n = m->n_levels;
  return m->levels;
}


guint
spp_model_get_feature_channels (const SppModel *m)
{
  return m->map_channels;
}

guint
spp_model_get_pooled_size (const SppModel *m)
{
  return m->pooled_size;
}

void
spp_model_get_n_layers (const SppModel *m, guint *n_trunk, guint *n_head)
{
  if (n_trunk)
    *n_trunk = m->n_trunk;
  if (n_head)
    *n_head = m->n_layers - m->n_trunk;
}



char *
spp_model_describe (const SppModel *m)
{
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "name: %s\n", m->name);
  if (m->description)
    g_string_append_printf (s, "description: %s\n", m->description);
  g_string_append_printf (s, "input: %s, mean %g %g %g, std %g %g %g\n",
                          m->order == SPP_CHANNEL_BGR ? "BGR" : "RGB",
                          m->mean[0], m->mean[1], m->mean[2], m->std[0],
                          m->std[1], m->std[2]);
  g_string_append_printf (s, "trunk: %u layers, %d channels, stride %u, "
                          "offset %g\n", m->n_trunk, m->map_channels,
                          m->stride, m->offset);
  g_string_append (s, "spp levels:");
  for (guint i = 0; i < m->n_levels; i++)
    g_string_append_printf (s, " %u", m->levels[i]);
  g_string_append_printf (s, " (%u floats per window)\n", m->pooled_size);
  g_string_append_printf (s, "head: %u layers, output %u\n",
                          m->n_layers - m->n_trunk, m->head_size);
  for (guint i = 0; i < spp_model_n_section_types; i++)
    if (spp_model_section_types[i]->describe)
      spp_model_section_types[i]->describe (m->sections[i], s);
  return g_string_free (s, FALSE);
}

char *
spp_model_get_default_path (void)
{
  const char *env = g_getenv ("SPP_MODEL_PATH");
  if (env && *env)
    return g_strdup (env);
  char *installed = g_build_filename (SPP_MODEL_INSTALL_DIR, "default.sppm",
                                      NULL);
  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    return installed;
  g_free (installed);
  return g_build_filename (SPP_MODEL_SOURCE_DIR, "default.sppm", NULL);
}
