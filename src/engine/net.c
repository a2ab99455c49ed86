/* Runs a model's trunk and head. The forward pass is the model's flat
 * list of layers; intermediate results live in an arena of slots that are
 * reused as soon as a node's last consumer has run, and grow only when a
 * larger input arrives. */
#include "spp/net.h"

#include "spp-engine/blas.h"
#include "layers-private.h"
#include "spp-engine/net.h"

#include <string.h>

typedef struct {
  int c, h, w;
  int slot;     /* arena slot; -1 the input, -2 a slice view, -3 none */
  float *data;  /* resolved during forward */
  int last_use; /* index of the last layer reading this node */
  /* Concat placement: the node is written straight into channels of
   * the concat node `owner` (itself when it has its own storage), at
   * `offset` floats, so the concat copies nothing. */
  guint owner;
  gsize offset;
} Node;

/* What the arena planner decided beyond the nodes. */
enum {
  FUSE_NONE = 0,
  FUSE_LRN_POOL = 1, /* this LRN and the max pool after it run as one */
};

struct _SppNet {
  SppModel *model;
  GPtrArray *slots;   /* SppTensor * */
  SppTensor *scratch; /* im2col and LRN */
  SppTensor *head[2]; /* ping-pong buffers for the head */
  Node *nodes;
  int *slot_busy;
  guint8 *fuse;       /* FUSE_* per trunk layer */
  const float **weights; /* per trunk layer: prepared weights, or NULL */
  int planned_h, planned_w;
};

SppNet *
spp_net_new (SppModel *model, GError **error)
{
  g_return_val_if_fail (model != NULL, NULL);
  if (!spp_blas_init (error))
    return NULL;
  SppNet *net = g_new0 (SppNet, 1);
  net->model = spp_model_ref (model);
  net->slots = g_ptr_array_new_with_free_func ((GDestroyNotify)
                                               spp_tensor_free);
  net->scratch = spp_tensor_new (0, 0, 0, 0);
  net->head[0] = spp_tensor_new (0, 0, 0, 0);
  net->head[1] = spp_tensor_new (0, 0, 0, 0);
  net->nodes = g_new0 (Node, model->n_trunk + 1);
  net->slot_busy = g_new0 (int, model->n_trunk + 1);
  net->fuse = g_new0 (guint8, model->n_trunk + 1);
  net->weights = g_new0 (const float *, model->n_trunk + 1);
  net->planned_h = net->planned_w = -1;
  return net;
}

void
spp_net_free (SppNet *net)
{
  if (net == NULL)
    return;
  g_ptr_array_unref (net->slots);
  spp_tensor_free (net->scratch);
  spp_tensor_free (net->head[0]);
  spp_tensor_free (net->head[1]);
  g_free (net->nodes);
  g_free (net->slot_busy);
  g_free (net->fuse);
  g_free (net->weights);
  spp_model_unref (net->model);
  g_free (net);
}

/* Shapes of every node for an in_h x in_w input. */
static gboolean
infer_shapes (const SppModel *m, int in_h, int in_w, Node *nodes,
              GError **error)
{
  nodes[0] = (Node) { 3, in_h, in_w, -1, NULL, -1, 0, 0 };
  for (guint i = 0; i < m->n_trunk; i++) {
    const SppLayer *l = &m->layers[i];
    const Node *in = &nodes[l->inputs[0]];
    Node *o = &nodes[i + 1];
    *o = (Node) { l->out_c, in->h, in->w, -1, NULL, -1, i + 1, 0 };
    const SppLayerType *type = spp_layer_type_get (l->op);
    if (type->shape)
      type->shape (l, in->h, in->w, &o->h, &o->w);
    /* Layers that join maps need them all the same size. */
    for (guint k = 1; k < l->n_inputs; k++) {
      const Node *b = &nodes[l->inputs[k]];
      if (b->h != in->h || b->w != in->w) {
        g_set_error (error, SPP_ERROR, SPP_ERROR_SHAPE,
                     "%s: layer '%s' joins a %dx%d and a %dx%d map "
                     "(input %dx%d)", m->path, l->name, in->h, in->w, b->h,
                     b->w, in_h, in_w);
        return FALSE;
      }
    }
    if (o->h < 1 || o->w < 1) {
      g_set_error (error, SPP_ERROR, SPP_ERROR_SHAPE,
                   "%s: a %dx%d input is too small for layer '%s' (its "
                   "output would be %dx%d)", m->path, in_w, in_h, l->name,
                   o->w, o->h);
      return FALSE;
    }
    for (guint k = 0; k < l->n_inputs; k++)
      nodes[l->inputs[k]].last_use = i;
  }
  return TRUE;
}

gboolean
spp_net_get_output_shape (const SppModel *model, int in_h, int in_w, int *c,
                          int *h, int *w, GError **error)
{
  g_return_val_if_fail (model != NULL, FALSE);
  if (in_h < 1 || in_w < 1 || in_h > 16384 || in_w > 16384) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_SHAPE,
                 "input size %dx%d outside 1..16384", in_w, in_h);
    return FALSE;
  }
  g_autofree Node *nodes = g_new0 (Node, model->n_trunk + 1);
  if (!infer_shapes (model, in_h, in_w, nodes, error))
    return FALSE;
  const Node *o = &nodes[model->n_trunk];
  if (c) *c = o->c;
  if (h) *h = o->h;
  if (w) *w = o->w;
  return TRUE;
}

/* Follows slice views to the node that owns the memory, then concat
 * placements to the outermost concat; *offset (if given) gets the
 * node's position there in floats. */
static guint
storage_root (const SppModel *m, const Node *nodes, guint id, gsize *offset)
{
  gsize off = 0;
  for (;;) {
    if (id > 0 && nodes[id].slot == -2) {
      const SppLayer *l = &m->layers[id - 1];
      off += (gsize) l->slice_start * nodes[id].h * nodes[id].w;
      id = l->inputs[0];
    } else if (nodes[id].owner != id) {
      off += nodes[id].offset;
      id = nodes[id].owner;
    } else {
      break;
    }
  }
  if (offset)
    *offset = off;
  return id;
}

/* Layers whose output may live inside a concat's buffer: they write
 * their whole output, contiguously, and nothing else. */
static gboolean
can_place (const SppModel *m, const Node *nodes, const guint8 *fuse, guint id)
{
  if (id == 0 || nodes[id].owner != id || nodes[id].slot == -2)
    return FALSE;
  /* A fused LRN writes nothing: its pool does. */
  return spp_layer_type_get (m->layers[id - 1].op)->placeable && !fuse[id - 1];
}

/* Fusions and concat placements for these shapes. */
static void
plan_fusions (const SppModel *m, Node *nodes, guint8 *fuse)
{
  memset (fuse, 0, m->n_trunk + 1);
  for (guint i = 0; i + 1 < m->n_trunk; i++) {
    const SppLayer *l = &m->layers[i], *next = &m->layers[i + 1];
    /* The LRN's map must have no other reader. */
    if (l->op == SPP_OP_LRN && l->lrn_within && next->op == SPP_OP_MAXPOOL
        && next->inputs[0] == i + 1 && nodes[i + 1].last_use == (int) i + 1)
      fuse[i] = FUSE_LRN_POOL;
  }
  for (guint i = 0; i < m->n_trunk; i++) {
    const SppLayer *l = &m->layers[i];
    if (l->op != SPP_OP_CONCAT)
      continue;
    gsize off = 0;
    const gsize plane = (gsize) nodes[i + 1].h * nodes[i + 1].w;
    for (guint k = 0; k < l->n_inputs; k++) {
      guint id = l->inputs[k];
      gboolean twice = FALSE;
      for (guint q = 0; q < l->n_inputs; q++)
        twice |= q != k && l->inputs[q] == id;
      if (!twice && can_place (m, nodes, fuse, id)) {
        nodes[id].owner = i + 1;
        nodes[id].offset = off;
      }
      off += (gsize) nodes[id].c * plane;
    }
  }
}

/* Assigns arena slots (slices are views of their input, concat inputs
 * parts of the concat's slot) and sizes them. */
static gboolean
plan (SppNet *net, int in_h, int in_w, GError **error)
{
  const SppModel *m = net->model;
  Node *nodes = net->nodes;
  gsize scratch = 0;

  if (!infer_shapes (m, in_h, in_w, nodes, error))
    return FALSE;
  for (guint i = 0; i < m->n_trunk; i++)
    nodes[i + 1].slot = spp_layer_type_get (m->layers[i].op)->view ? -2 : -1;
  plan_fusions (m, nodes, net->fuse);
  int n_slots = 0;
  memset (net->slot_busy, 0, sizeof (int) * (m->n_trunk + 1));
  for (guint i = 0; i < m->n_trunk; i++) {
    const SppLayer *l = &m->layers[i];
    const SppLayerType *type = spp_layer_type_get (l->op);
    Node *o = &nodes[i + 1];
    if (type->view) {
      /* a view into its input */
    } else if (net->fuse[i] == FUSE_LRN_POOL) {
      o->slot = -3; /* never written */
    } else {
      const guint root = storage_root (m, nodes, i + 1, NULL);
      if (nodes[root].slot >= 0) {
        /* The concat's buffer exists: an earlier input made it. */
        o->slot = nodes[root].slot;
      } else {
        int s = 0;
        while (s < n_slots && net->slot_busy[s])
          s++;
        if (s == n_slots)
          n_slots++;
        o->slot = s;
        nodes[root].slot = s;
        net->slot_busy[s] = 1;
        while ((int) net->slots->len < n_slots)
          g_ptr_array_add (net->slots, spp_tensor_new (0, 0, 0, 0));
        SppTensor *t = g_ptr_array_index (net->slots, s);
        const Node *r = &nodes[root];
        gsize need = (gsize) r->c * r->h * r->w;
        if (need > t->capacity
            && !spp_tensor_reshape (t, 1, 1, 1, (int) need, error))
          return FALSE;
      }
    }
    const Node *in = &nodes[l->inputs[0]];
    if (type->scratch_size)
      scratch = MAX (scratch, type->scratch_size (l, in->h, in->w));
    /* Fetched here, not per forward: the model's lock is shared by every
     * stream. */
    if (!net->weights[i] && type->uses_weights
        && type->uses_weights (l, in->h, in->w))
      net->weights[i] = spp_model_get_layer_weights (net->model, i);
    /* A fused LRN's input is read when its pool runs: release it then. */
    if (net->fuse[i] == FUSE_LRN_POOL)
      continue;
    const SppLayer *readers[2] = { l, NULL };
    if (i > 0 && net->fuse[i - 1] == FUSE_LRN_POOL)
      readers[1] = &m->layers[i - 1];
    /* Release the storage whose last reader this was: no later layer
     * reads it, a view of it or a node placed in it (a placed node not
     * yet written is read later by its concat, so it counts). */
    for (int r = 0; r < 2 && readers[r]; r++)
      for (guint k = 0; k < readers[r]->n_inputs; k++) {
        guint id = storage_root (m, nodes, readers[r]->inputs[k], NULL);
        if (id == 0 || nodes[id].slot < 0)
          continue;
        gboolean live = FALSE;
        for (guint v = 1; v <= m->n_trunk && !live; v++)
          if (nodes[v].last_use > (int) i
              && storage_root (m, nodes, v, NULL) == id)
            live = TRUE;
        if (!live)
          net->slot_busy[nodes[id].slot] = 0;
      }
  }
  if (scratch > net->scratch->capacity
      && !spp_tensor_reshape (net->scratch, 1, 1, 1, (int) scratch, error))
    return FALSE;
  net->planned_h = in_h;
  net->planned_w = in_w;
  return TRUE;
}

/* The node's memory in this forward (after its layer ran, for views). */
static float *
node_data (SppNet *net, guint id)
{
  gsize off;
  guint root = storage_root (net->model, net->nodes, id, &off);
  if (root == 0)
    return net->nodes[0].data + off;
  const SppTensor *t = g_ptr_array_index (net->slots,
                                          net->nodes[root].slot);
  return t->data + off;
}

gboolean
spp_net_forward (SppNet *net, const SppTensor *input, SppTensor *out,
                 GError **error)
{
  g_return_val_if_fail (net != NULL && input != NULL && out != NULL, FALSE);
  const SppModel *m = net->model;
  Node *nodes = net->nodes;

  if (input->n != 1 || input->c != 3) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_SHAPE,
                 "%s: input must be 1 x 3 x H x W, got %dx%dx%dx%d", m->path,
                 input->n, input->c, input->h, input->w);
    return FALSE;
  }
  if (input->h < (int) m->min_size || input->w < (int) m->min_size) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_SHAPE,
                 "%s: input %dx%d is smaller than the model's minimum side "
                 "%u", m->path, input->w, input->h, m->min_size);
    return FALSE;
  }
  if ((input->h != net->planned_h || input->w != net->planned_w)
      && !plan (net, input->h, input->w, error)) {
    net->planned_h = net->planned_w = -1;
    return FALSE;
  }
  nodes[0].data = input->data;
  float *scratch = net->scratch->data;
  for (guint i = 0; i < m->n_trunk; i++) {
    const SppLayer *l = &m->layers[i];
    Node *o = &nodes[i + 1];
    const Node *in = &nodes[l->inputs[0]];
    if (o->slot != -3)
      o->data = node_data (net, i + 1);
    if (net->fuse[i] == FUSE_LRN_POOL) {
      /* Runs the next layer (the pool) too. */
      Node *p = &nodes[i + 2];
      p->data = node_data (net, i + 2);
      spp_lrn_pool_forward (l, &m->layers[i + 1], in->data, in->c, in->h,
                            in->w, p->data, p->h, p->w);
      i++;
      continue;
    }
    const SppLayerType *type = spp_layer_type_get (l->op);
    if (type->view)
      continue;
    SppLayerMap ins[SPP_LAYER_MAX_INPUTS];
    for (guint k = 0; k < l->n_inputs; k++) {
      const Node *src = &nodes[l->inputs[k]];
      ins[k] = (SppLayerMap) { src->c, src->h, src->w, src->data };
    }
    const SppLayerRun run = { l, ins, { o->c, o->h, o->w, o->data }, scratch,
                              net->weights[i] };
    type->forward (&run);
  }
  const Node *last = &nodes[m->n_trunk];
  if (!spp_tensor_reshape (out, 1, last->c, last->h, last->w, error))
    return FALSE;
  memcpy (out->data, last->data,
          (gsize) last->c * last->h * last->w * sizeof (float));
  return TRUE;
}

gboolean
spp_net_forward_head (SppNet *net, const SppTensor *pooled, SppTensor *out,
                      GError **error)
{
  return spp_net_forward_head_with (net, pooled, NULL, out, error);
}

gboolean
spp_net_forward_head_with (SppNet *net, const SppTensor *pooled,
                           const float *first_weight, SppTensor *out,
                           GError **error)
{
  g_return_val_if_fail (net != NULL && pooled != NULL && out != NULL, FALSE);
  const SppModel *m = net->model;
  const int n = pooled->n;

  if ((gsize) pooled->c * pooled->h * pooled->w != m->pooled_size) {
    g_set_error (error, SPP_ERROR, SPP_ERROR_SHAPE,
                 "%s: pooled vectors have %d floats, the model expects %u",
                 m->path, pooled->c * pooled->h * pooled->w, m->pooled_size);
    return FALSE;
  }
  const float *src = pooled->data;
  int width = m->pooled_size;
  guint n_head = m->n_layers - m->n_trunk;
  for (guint i = 0; i < n_head; i++) {
    const SppLayer *l = &m->layers[m->n_trunk + i];
    SppTensor *dst = (i == n_head - 1) ? out : net->head[i % 2];
    const int w = l->out_c;
    if (!spp_tensor_reshape (dst, n, w, 1, 1, error))
      return FALSE;
    spp_layer_type_get (l->op)->forward_head (l, i == 0 ? first_weight : NULL,
                                              src, n, dst->data);
    src = dst->data;
    width = w;
  }
  if (n_head == 0) {
    if (!spp_tensor_reshape (out, n, width, 1, 1, error))
      return FALSE;
    memcpy (out->data, src, (gsize) n * width * sizeof (float));
  }
  return TRUE;
}
