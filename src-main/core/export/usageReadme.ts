/**
 * README.md of an export: what the folder is and how to use it from Node and from a web page, with the preprocessing
 * of preprocessing.json spelled out. The Node snippet is run as written by test/integration/export.test.ts.
 *
 * Plain `@tensorflow/tfjs` 4.22 in Node has no `file://` loader (that handler comes with `@tensorflow/tfjs-node`), and
 * `fetch` cannot read `file://` URLs, so the snippet reads the files with `fs` and hands them to `tf.io.fromMemory`,
 * as src-main/core/model/modelFiles.ts does.
 */
import { PREPROCESSING_NOTE } from '../data/images';
import { mdText } from './markdown';
import type { ExportFormat } from './formats';
import { ONNX_NODE_SNIPPET, ONNX_PYTHON_SNIPPET } from './onnxSnippets';

export interface ReadmeInput {
  runId: number;
  kind: 'model' | 'ensemble';
  classes: string[];
  size: number;
  appVersion: string;
  formats: ExportFormat[];
}

/** Node: `node predict.mjs EXPORT_DIR IMAGE` prints the label and its probability. */
export function nodeSnippet(kind: ReadmeInput['kind']): string {
  const members = kind === 'ensemble' ? "json('ensemble.json').members" : "['.']";
  return `import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, image] = process.argv.slice(2); // this folder, an image file
const json = (file) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const load = (m) => { const { modelTopology, weightsManifest } = json(join(m, 'model.json'));
  const weightData = new Uint8Array(readFileSync(join(dir, m, weightsManifest[0].paths[0]))).buffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs: weightsManifest[0].weights, weightData })); };
const models = await Promise.all(${members}.map(load));
const [labels, { inputSize: n }] = [json('labels.json'), json('preprocessing.json')];
const pixels = await sharp(image).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb')
  .resize(n, n, { fit: 'cover', position: 'centre', kernel: 'linear' }).removeAlpha().raw().toBuffer();
const x = tf.tensor4d(Float32Array.from(pixels, (v) => v / 255), [1, n, n, 3]);
const p = await tf.tidy(() => tf.addN(models.map((m) => m.predict(x))).div(models.length)).data();
const best = p.indexOf(Math.max(...p));
console.log(JSON.stringify({ label: labels[best], probability: p[best] }));
`;
}

function webSnippet(kind: ReadmeInput['kind']): string {
  const load =
    kind === 'ensemble'
      ? `const { members } = await (await fetch('ensemble.json')).json();
  const models = await Promise.all(members.map((m) => tf.loadLayersModel(\`\${m}/model.json\`)));`
      : `const models = [await tf.loadLayersModel('model.json')];`;
  return `<img id="photo" src="photo.jpg" />
<script src="https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@4.22.0/dist/tf.min.js"></script>
<script type="module">
  ${load}
  const labels = await (await fetch('labels.json')).json();
  const { inputSize: n } = await (await fetch('preprocessing.json')).json();
  const img = document.getElementById('photo');
  await img.decode();
  // Centre square crop, resized to n x n (bilinear), transparent pixels on white; then x / 255.
  const s = Math.min(img.naturalWidth, img.naturalHeight);
  const canvas = new OffscreenCanvas(n, n);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, n, n);
  ctx.drawImage(img, (img.naturalWidth - s) / 2, (img.naturalHeight - s) / 2, s, s, 0, 0, n, n);
  const x = tf.browser.fromPixels(ctx.getImageData(0, 0, n, n)).toFloat().div(255).expandDims();
  const p = await tf.tidy(() => tf.addN(models.map((m) => m.predict(x))).div(models.length)).data();
  console.log(labels[p.indexOf(Math.max(...p))]);
</script>`;
}

function onnxSection(r: ReadmeInput): string[] {
  return [
    '## ONNX',
    '',
    '`model.onnx` is the whole classifier' +
      (r.kind === 'ensemble'
        ? ' (the snapshot ensemble: its members side by side, the mean of their probabilities)'
        : '') +
      ' as one ONNX graph, opset 13: ONNX Runtime 1.8 or later reads it, in Python, C#, Java, C++, JavaScript and ' +
      'on phones (ONNX Runtime Mobile). BatchNorm is folded into the convolutions. Input `image`: float32 ' +
      `[batch, ${r.size}, ${r.size}, 3] — NHWC, as the TF.js model, with the preprocessing above. Output ` +
      `\`probabilities\`: [batch, ${r.classes.length}], in the order of \`labels.json\`. The labels and the ` +
      "preprocessing are also in the model's metadata (`labels`, `preprocessing`).",
    '',
    "Both snippets resize with their library's bilinear filter (sharp's, Pillow's): where an image is resized, a " +
      "few pixels can come out one 8-bit level from `finetune predict`'s and a probability differ in the third " +
      'decimal; at the input size they agree exactly.',
    '',
    '### From Node',
    '',
    '`npm install onnxruntime-node sharp`, save this as `predict-onnx.mjs` and run ' +
      '`node predict-onnx.mjs FOLDER IMAGE`.',
    '',
    '```js',
    ONNX_NODE_SNIPPET.trimEnd(),
    '```',
    '',
    '### From Python',
    '',
    '`pip install onnxruntime pillow numpy`, save this as `predict_onnx.py` and run ' +
      '`python3 predict_onnx.py FOLDER IMAGE`: the same steps as the Node one.',
    '',
    '```python',
    ONNX_PYTHON_SNIPPET.trimEnd(),
    '```',
    '',
  ];
}

function tfjsSection(r: ReadmeInput): string[] {
  return [
    '## TensorFlow.js from Node',
    '',
    '`npm install @tensorflow/tfjs@4 sharp`, save this as `predict.mjs` and run `node predict.mjs FOLDER IMAGE`. ' +
      'Plain `@tensorflow/tfjs` in Node cannot load `file://` URLs, so the files are read with `fs` (with ' +
      "`@tensorflow/tfjs-node` installed, `tf.loadLayersModel('file://FOLDER/model.json')` works too).",
    '',
    '```js',
    nodeSnippet(r.kind).trimEnd(),
    '```',
    '',
    '## TensorFlow.js in a web page',
    '',
    'To build your own page: serve this folder over HTTP (browsers do not fetch from `file://`), e.g. ' +
      '`npx http-server FOLDER`, and put the page next to it. Its canvas resize is close to, not the same as, ' +
      "`finetune predict`'s; `web/demo.js` has the exact one (`squareInput`).",
    '',
    '```html',
    webSnippet(r.kind),
    '```',
    '',
  ];
}

export function renderUsageReadme(r: ReadmeInput): string {
  const ens = r.kind === 'ensemble';
  const tfjs = r.formats.includes('tfjs');
  const onnx = r.formats.includes('onnx');
  const tfjsFiles = ens
    ? [
        '- `members/<i>/model.json` + `weights.bin`: the snapshot models (TensorFlow.js; image in, class probabilities out)',
        '- `ensemble.json`: the member folders and how to combine them (the mean of their probabilities)',
      ]
    : ['- `model.json` + `weights.bin`: the whole classifier (TensorFlow.js; image in, class probabilities out)'];
  const what = [tfjs ? 'A TensorFlow.js layers model' : null, onnx ? (tfjs ? 'an ONNX model' : 'An ONNX model') : null]
    .filter(Boolean)
    .join(' and ');
  return [
    `# ${r.classes.map(mdText).join(' / ')}: an image classifier (run ${r.runId})`,
    '',
    `${what} exported by Finetune Studio ${r.appVersion}${ens ? ' as a snapshot ensemble' : ''}: ` +
      `${r.classes.length} classes, ${r.size} × ${r.size} RGB input. What it learnt from, how it was trained and its ` +
      'limits: [MODEL_CARD.md](MODEL_CARD.md). `finetune predict FOLDER IMAGES_DIR --csv out.csv` classifies a ' +
      'whole folder with it.',
    '',
    '## Files',
    '',
    ...(tfjs ? tfjsFiles : []),
    ...(onnx ? ['- `model.onnx`: the same classifier as one ONNX graph (see ONNX below)'] : []),
    '- `labels.json`: the class names, in the order of the model output',
    '- `preprocessing.json`: the input the model expects',
    '- `metadata.json`: run id, training config, app version, the formats, and size + sha256 of every other file',
    '- `MODEL_CARD.md`: data, training, metrics, intended use and limits',
    ...(tfjs
      ? ['- `index.html` + `web/`: an offline demo page (TensorFlow.js, the model as scripts, the page logic)']
      : []),
    '',
    ...(tfjs
      ? [
          '## Try it',
          '',
          'Open `index.html` in a browser, straight from the disk or from any static server, and choose or drop an ' +
            'image: it lists the classes, most likely first, with the probabilities `finetune predict` gives for the ' +
            "same file (same resize and crop, TensorFlow.js's cpu backend). Nothing is downloaded and the image never " +
            'leaves the browser.',
          '',
        ]
      : []),
    '## Preprocessing',
    '',
    `Both formats take a float32 tensor of shape [batch, ${r.size}, ${r.size}, 3] (NHWC, RGB): ${PREPROCESSING_NOTE} ` +
      'Step by step: decode the image with its EXIF orientation applied; put transparent pixels on white; resize ' +
      `so that the shorter side is ${r.size} (bilinear, antialiased when shrinking) and crop the centre ` +
      `${r.size} × ${r.size}; divide the 8-bit values by 255. Other preprocessing gives worse answers without any ` +
      'error.',
    '',
    ...(onnx ? onnxSection(r) : []),
    ...(tfjs ? tfjsSection(r) : []),
  ].join('\n');
}
