/**
 * The export README's ONNX snippets: Node with onnxruntime-node and Python with onnxruntime + Pillow + NumPy, written
 * step by step alike (decode with EXIF orientation and alpha on white; shorter side to n, bilinear, centre crop;
 * float32 NHWC RGB in [0, 1]; run; best class). test/integration/onnx-export.test.ts runs both as written.
 */

/** Node: `node predict-onnx.mjs EXPORT_DIR IMAGE` prints the label and its probability as JSON. */
export const ONNX_NODE_SNIPPET = `import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, image] = process.argv.slice(2); // this folder, an image file
const json = (file) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const [labels, { inputSize: n }] = [json('labels.json'), json('preprocessing.json')];
const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
// 1. decode, EXIF orientation applied, transparent pixels on white
// 2. shorter side to n (bilinear), centre crop to n x n
const pixels = await sharp(image).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb')
  .resize(n, n, { fit: 'cover', position: 'centre', kernel: 'linear' }).removeAlpha().raw().toBuffer();
// 3. float32 [1, n, n, 3]: NHWC, RGB, in [0, 1]
const x = new ort.Tensor('float32', Float32Array.from(pixels, (v) => v / 255), [1, n, n, 3]);
// 4. run: probabilities [1, classes], in labels.json's order
const { probabilities } = await session.run({ image: x });
const p = Array.from(probabilities.data);
const best = p.indexOf(Math.max(...p));
console.log(JSON.stringify({ label: labels[best], probability: p[best] }));
`;

/** Python: `python3 predict_onnx.py EXPORT_DIR IMAGE`, the same steps. */
export const ONNX_PYTHON_SNIPPET = `import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

folder, image = Path(sys.argv[1]), sys.argv[2]  # this folder, an image file
labels = json.loads((folder / "labels.json").read_text())
n = json.loads((folder / "preprocessing.json").read_text())["inputSize"]
session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
# 1. decode, EXIF orientation applied, transparent pixels on white
img = ImageOps.exif_transpose(Image.open(image)).convert("RGBA")
img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img).convert("RGB")
# 2. shorter side to n (bilinear), centre crop to n x n
w, h = img.size
rw, rh = max(n, int(w * n / min(w, h) + 0.5)), max(n, int(h * n / min(w, h) + 0.5))
img = img.resize((rw, rh), Image.Resampling.BILINEAR)
left, top = (rw - n + 1) // 2, (rh - n + 1) // 2
img = img.crop((left, top, left + n, top + n))
# 3. float32 [1, n, n, 3]: NHWC, RGB, in [0, 1]
x = (np.asarray(img, dtype=np.float32) / 255)[np.newaxis]
# 4. run: probabilities [1, classes], in labels.json's order
p = session.run(["probabilities"], {"image": x})[0][0]
best = int(p.argmax())
print(json.dumps({"label": labels[best], "probability": float(p[best])}))
`;
