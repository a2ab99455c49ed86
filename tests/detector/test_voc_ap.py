#!/usr/bin/python3
"""spptools.voc_ap on a case worked out by hand.
Run: PYTHONPATH=models /usr/bin/python3 tests/detector/test_voc_ap.py

Class "a", ground truth: image 0: A = [0,0,10,10], B = [20,0,10,10];
image 1: C = [0,0,10,10]. So n_gt = 3.

  det  image score box           best GT (matched or not), IoU result
  d1   0     0.9   [0,0,10,10]   A, 100/100 = 1                TP (A used)
  d2   0     0.8   [1,0,10,10]   A (used), 90/110 = 0.82       FP (duplicate)
  d3   1     0.7   [5,0,10,10]   C, 50/150 = 0.333             FP
  d4   0     0.6   [20,0,10,20]  B, 100/200 = 0.5              TP (>= 0.5)
  d5   1     0.5   [100,100,5,5] none, 0                       FP

  cumulative TP 1 1 1 2 2; precision 1, 1/2, 1/3, 1/2, 2/5;
  recall 1/3 1/3 1/3 2/3 2/3.
  Monotone precision (max to the right): 1, 1/2, 1/2, 1/2, 2/5.
  Recall steps: 0 -> 1/3 at precision 1, 1/3 -> 2/3 at precision 1/2,
  and nothing reaches recall 1 (precision 0 there).
  AP = 1/3 * 1 + 1/3 * 1/2 = 1/2.

Class "b": one GT, no detections: AP = 0. Class "c": no GT and one
detection: AP undefined (NaN), left out of the mean.
mAP = (1/2 + 0) / 2 = 1/4.
"""
import math

from spptools import voc_ap


def main():
    coco = dict(
        categories=[dict(id=1, name="a"), dict(id=2, name="b"),
                    dict(id=3, name="c")],
        annotations=[dict(image_id=0, category_id=1, bbox=[0, 0, 10, 10]),
                     dict(image_id=0, category_id=1, bbox=[20, 0, 10, 10]),
                     dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10]),
                     dict(image_id=1, category_id=2, bbox=[50, 50, 10, 10])])
    d = lambda img, s, box, c=1: dict(image_id=img, category_id=c, score=s,
                                      bbox=box)
    # Shuffled input order: evaluation must sort by score.
    dets = [d(1, 0.7, [5, 0, 10, 10]), d(0, 0.6, [20, 0, 10, 20]),
            d(0, 0.9, [0, 0, 10, 10]), d(1, 0.5, [100, 100, 5, 5]),
            d(0, 0.8, [1, 0, 10, 10]), d(0, 0.9, [0, 0, 9, 9], c=3)]
    m, aps = voc_ap.evaluate(dets, coco)
    assert abs(aps["a"] - 0.5) < 1e-12, aps
    assert aps["b"] == 0.0, aps
    assert math.isnan(aps["c"]), aps
    assert abs(m - 0.25) < 1e-12, m
    # Perfect detections give AP 1; IoU exactly 0.5 counts.
    assert abs(voc_ap.class_ap([(0, 1.0, [0, 0, 10, 20])],
                               {0: [[0, 0, 10, 10]]})[0] - 1.0) < 1e-12
    assert voc_ap.class_ap([(0, 1.0, [0, 0, 10, 21])],
                           {0: [[0, 0, 10, 10]]})[0] == 0.0
    # Crowd: GT A [0,0,10,10], B [2,0,10,10]. d1 [2,0,10,10] takes B;
    # d2 [1.5,0,10,10] overlaps B most (0.905, taken) and A by 0.739:
    # a duplicate, FP, by the VOC devkit; d3 [0,0,10,10] takes A.
    # P/R 1 1/2, 1/2 1/2, 2/3 1 -> AP 1/2 + 1/2 * 2/3 = 5/6 (matching the
    # best free box would give d2 A, d3 nothing and AP 1).
    ap = voc_ap.class_ap([(0, 0.9, [2, 0, 10, 10]), (0, 0.8, [1.5, 0, 10, 10]),
                          (0, 0.7, [0, 0, 10, 10])],
                         {0: [[0, 0, 10, 10], [2, 0, 10, 10]]})[0]
    assert abs(ap - 5.0 / 6.0) < 1e-12, ap
    print("voc_ap: ok")


if __name__ == "__main__":
    main()
