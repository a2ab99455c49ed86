"""VOC-style average precision (PASCAL VOC 2010+ "all-point" AP).

Per class: detections of all images sorted by confidence (descending,
stable, so ties keep input order); each is compared with the
ground-truth box of the same class and image that it overlaps most,
matched or not (the PASCAL VOC devkit's rule): a true positive when that
IoU >= 0.5 and the box is still free (it is then taken), else a false
positive (a duplicate of a matched box counts as one even when another
free box overlaps it enough). AP is the area under the precision/recall curve after making
precision monotone (max precision at any recall >= r), summed over the
recall steps. IoU is plain continuous [x, y, w, h] (no +1), as the
detector's NMS.
"""
import numpy as np


def iou(a, b):
    """IoU of one [x, y, w, h] box with an (N, 4) array of them."""
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix = np.minimum(a[0] + a[2], b[:, 0] + b[:, 2]) - np.maximum(a[0], b[:, 0])
    iy = np.minimum(a[1] + a[3], b[:, 1] + b[:, 3]) - np.maximum(a[1], b[:, 1])
    inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    union = a[2] * a[3] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def average_precision(recall, precision):
    """All-point interpolated AP from cumulative recall/precision arrays."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    idx = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


def class_ap(dets, gts, iou_thresh=0.5):
    """dets: list of (image_id, score, [x, y, w, h]); gts: dict image_id ->
    list of [x, y, w, h]. Returns (ap, n_gt, n_tp)."""
    n_gt = sum(len(v) for v in gts.values())
    if n_gt == 0:
        return float("nan"), 0, 0
    gt = {k: np.asarray(v, dtype=np.float64).reshape(-1, 4)
          for k, v in gts.items()}
    used = {k: np.zeros(len(v), bool) for k, v in gt.items()}
    order = sorted(range(len(dets)), key=lambda i: -dets[i][1])
    tp = np.zeros(len(order))
    for rank, i in enumerate(order):
        img, _, box = dets[i]
        g = gt.get(img)
        if g is None or len(g) == 0:
            continue
        ov = iou(np.asarray(box, dtype=np.float64), g)
        j = int(np.argmax(ov))        # matched or not
        if ov[j] >= iou_thresh and not used[img][j]:
            used[img][j] = True
            tp[rank] = 1
    ctp = np.cumsum(tp)
    recall = ctp / n_gt
    precision = ctp / np.arange(1, len(order) + 1)
    return average_precision(recall, precision), n_gt, int(tp.sum())


def evaluate(detections, coco, iou_thresh=0.5):
    """detections: list of dicts {image_id, category_id, score, bbox};
    coco: a COCO dict (images, annotations, categories). Returns
    (mAP, {name: ap})."""
    aps = {}
    for cat in coco["categories"]:
        gts = {}
        for a in coco["annotations"]:
            if a["category_id"] == cat["id"]:
                gts.setdefault(a["image_id"], []).append(a["bbox"])
        dets = [(d["image_id"], d["score"], d["bbox"]) for d in detections
                if d["category_id"] == cat["id"]]
        aps[cat["name"]] = class_ap(dets, gts, iou_thresh)[0]
    vals = [v for v in aps.values() if v == v]
    return (float(np.mean(vals)) if vals else 0.0), aps
