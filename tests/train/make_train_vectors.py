#!/usr/bin/python3
"""NumPy references for the training tests (tests/train/test-*.c):

  make_train_vectors.py [OUT]    (default: vectors.ini beside this file)

Writes a GLib key file of number lists, computed here independently of
the C code, each by a different method than the one under test:

[svm]       a non-separable problem; the optimum of liblinear's
            L2-regularised hinge loss (positive weight 2, bias feature
            10) by accelerated projected gradient on the dual, checked by
            its duality gap (C uses coordinate descent).
[ridge]     the box regressors' ridge regression (centred, scaled to mean
            norm 20) by numpy.linalg.solve on the normal equations (C uses
            conjugate gradients without forming them).
[finetune]  two SGD steps of the fc head plus softmax (Caffe's momentum
            update, weight decay on the head's weights), by hand-written
            NumPy matrix products (C uses spp_sgemm).

Inputs are drawn from a fixed seed and rounded to float32, as the C
tests read them. Rerun after changing a case; the file is committed."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BIAS_MULT = 10.0
POS_WEIGHT = 2.0


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def svm_case(rng):
    """Two overlapping clouds in 3-D, some points margin violators, at
    the scale the recipe gives features (mean norm 20, next to the bias
    feature 10)."""
    d, n_pos, n_neg, c = 3, 7, 9, 0.02
    pos = f32(rng.normal(6.0, 10.0, (n_pos, d)))
    neg = f32(rng.normal(-6.0, 10.0, (n_neg, d)))
    x = np.vstack([pos, neg])
    x = np.hstack([x, np.full((len(x), 1), BIAS_MULT)])   # bias feature
    y = np.array([1.0] * n_pos + [-1.0] * n_neg)
    cap = np.array([c * POS_WEIGHT] * n_pos + [c] * n_neg)
    q = (y[:, None] * x) @ (y[:, None] * x).T

    # Dual: min 1/2 a'Qa - sum a, 0 <= a <= cap (FISTA with projection).
    step = 1.0 / np.linalg.eigvalsh(q).max()
    a = np.zeros(len(y))
    z, t = a.copy(), 1.0
    for _ in range(200000):
        a_new = np.clip(z - step * (q @ z - 1.0), 0.0, cap)
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        z = a_new + (t - 1) / t_new * (a_new - a)
        a, t = a_new, t_new
    w = (a * y) @ x
    primal = 0.5 * w @ w + np.sum(cap * np.maximum(0, 1 - y * (x @ w)))
    dual = np.sum(a) - 0.5 * a @ q @ a
    assert primal - dual < 1e-9 * max(1.0, primal), (primal, dual)
    # As spp_svm_train writes it: the weights, then the bias feature's
    # weight times the bias feature.
    w_out = np.concatenate([w[:d], [w[d] * BIAS_MULT]])
    return dict(dim=[d], c=[c], pos=pos.ravel(), neg=neg.ravel(),
                w=w_out, objective=[primal])


def ridge_case(rng):
    n, d, lam, norm = 12, 5, 10.0, 20.0
    x = f32(rng.normal(0.5, 2.0, (n, d)))
    t = f32(rng.normal(0.0, 0.3, (n, 4)))
    xc = x - x.mean(0)
    sc = norm / np.mean(np.linalg.norm(xc, axis=1))
    xs = sc * xc
    # (Xs'Xs + lambda I) v = Xs'(t - mean t); weights for raw rows sc v.
    v = np.linalg.solve(xs.T @ xs + lam * np.eye(d), xs.T @ (t - t.mean(0)))
    w = (sc * v).T                       # 4 x d
    b = t.mean(0) - x.mean(0) @ (sc * v)
    return dict(n=[n], dim=[d], **{"lambda": [lam]}, target_norm=[norm],
                x=x.ravel(), t=t.ravel(), w=w.ravel(), b=b)


def finetune_case(rng):
    """Head 6 -> 5 -> 4 (ReLU), softmax over 2 classes + background,
    batch 4, no dropout; two steps on the same batch, so the second
    carries momentum."""
    dims, n_classes, batch = [6, 5, 4], 2, 4
    lr, momentum, decay = 0.1, 0.9, 5e-4
    ws = [f32(rng.normal(0, 0.5, (dims[i + 1], dims[i]))) for i in range(2)]
    bs = [f32(rng.normal(0, 0.1, dims[i + 1])) for i in range(2)]
    w8 = f32(rng.normal(0, 0.5, (n_classes + 1, dims[2])))
    b8 = np.zeros(n_classes + 1)
    x = f32(rng.normal(0.3, 1.0, (batch, dims[0])))
    y = np.array([0, 1, 2, 1])
    out = dict(dims=dims, n_classes=[n_classes], lr=[lr],
               momentum=[momentum], decay=[decay], x=x.ravel(), y=y,
               w0=ws[0].ravel(), b0=bs[0], w1=ws[1].ravel(), b1=bs[1],
               w8=w8.ravel())
    params = ws + bs + [w8, b8]           # w0, w1, b0, b1, w8, b8
    vel = [np.zeros_like(p) for p in params]
    for step in (1, 2):
        w0, w1, b0, b1, w8, b8 = params
        h1 = np.maximum(x @ w0.T + b0, 0)
        h2 = np.maximum(h1 @ w1.T + b1, 0)
        z = h2 @ w8.T + b8
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        loss = -np.sum(np.log(p[np.arange(batch), y]))
        dz = (p - np.eye(n_classes + 1)[y]) / batch
        g_w8, g_b8 = dz.T @ h2, dz.sum(0)
        d2 = (dz @ w8) * (h2 > 0)
        g_w1, g_b1 = d2.T @ h1, d2.sum(0)
        d1 = (d2 @ w1) * (h1 > 0)
        g_w0, g_b0 = d1.T @ x, d1.sum(0)
        grads = [g_w0 + decay * w0, g_w1 + decay * w1, g_b0, g_b1, g_w8,
                 g_b8]
        for i in range(len(params)):
            vel[i] = momentum * vel[i] + lr * grads[i]
            params[i] = params[i] - vel[i]
        names = ["w0", "w1", "b0", "b1", "w8", "b8"]
        out.update({"%s_step%d" % (n, step): params[i].ravel()
                    for i, n in enumerate(names)})
        out["loss_step%d" % step] = [loss]
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE,
                                                              "vectors.ini")
    rng = np.random.RandomState(20240611)
    cases = [("svm", svm_case(rng)), ("ridge", ridge_case(rng)),
             ("finetune", finetune_case(rng))]
    lines = ["# Written by tests/train/make_train_vectors.py; do not edit."]
    for group, values in cases:
        lines.append("")
        lines.append("[%s]" % group)
        for key, v in values.items():
            lines.append("%s=%s" % (key, ";".join(
                repr(float(e)) for e in np.ravel(v))))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
