/**
 * The export's offline web demo: index.html with web/tf.min.js (TensorFlow.js's browser bundle, from node_modules),
 * web/model-<i>.js (each model as a script: a page opened from file:// cannot fetch model.json) and web/demo.js (the
 * page logic, demoPage.ts, with predict's preprocessing, squareInput.ts, both as their own source text). Opened from
 * disk or any static server, it classifies an image with the numbers `finetune predict` gives.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import { readModelArtifacts } from '../model/modelFiles';
import { squareInput } from '../data/squareInput';
import { demoMain, type DemoConfig, type DemoModel } from './demoPage';

const require = createRequire(import.meta.url);

export interface DemoWriter {
  text(rel: string, content: string): Promise<void>;
  copy(from: string, rel: string): Promise<void>;
}

export interface DemoInput {
  /** The export folder being written, and its model folders relative to it ('.' or members/<i>), in order. */
  dir: string;
  models: string[];
  labels: string[];
  inputSize: number;
  title: string;
}

/** The files the demo adds, relative to the export folder. */
export function demoFiles(modelCount: number): string[] {
  const models = Array.from({ length: modelCount }, (_, i) => `web/model-${i}.js`);
  return ['index.html', 'web/tf-prelude.js', 'web/tf.min.js', ...models, 'web/demo.js'];
}

const GLOBAL = 'finetuneStudioModels';

/**
 * tf.min.js's regenerator runtime assigns this global and, where that throws (strict mode, undeclared), falls back to
 * Function(), which the page's CSP forbids, and the whole bundle fails. Declared first, the assignment just works.
 */
const TF_PRELUDE = `// Declared for tf.min.js (see Finetune Studio's webDemo.ts): without it, it needs eval.
var regeneratorRuntime;
`;

export function modelScript(dir: string): string {
  const a = readModelArtifacts(dir);
  const model: DemoModel = {
    modelTopology: a.modelTopology as object,
    weightSpecs: a.weightSpecs ?? [],
    weights: Buffer.from(a.weightData as ArrayBuffer).toString('base64'),
  };
  return `(globalThis.${GLOBAL} = globalThis.${GLOBAL} || []).push(${JSON.stringify(model)});\n`;
}

export function demoScript(config: DemoConfig): string {
  return `// Finetune Studio's web demo: the page logic and the preprocessing of \`finetune predict\`, generated.
(function () {
  'use strict';
  // A bundler that keeps function names (esbuild's keepNames) wraps them in this helper.
  function __name(f) {
    return f;
  }
  const squareInput = ${squareInput.toString()};
  (${demoMain.toString()})(globalThis.tf, ${JSON.stringify(config)}, globalThis.${GLOBAL} || [], squareInput);
})();
`;
}

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fafafa; }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
.drop { display: block; border: 2px dashed #888; border-radius: 8px; padding: 2rem 1rem; text-align: center; }
.drop.over, .drop:focus-within { border-color: #0b5fff; background: #eef3ff; }
#preview { display: block; max-width: 100%; max-height: 16rem; margin: 1rem 0; }
#preview:not([src]) { display: none; }
ol { padding-left: 1.5rem; }
li progress { display: block; width: 100%; }
`;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function indexHtml(d: Pick<DemoInput, 'labels' | 'title'>, modelScripts: string[]): string {
  const styleHash = createHash('sha256').update(STYLE).digest('base64');
  // Scripts only from this folder, the one stylesheet by its hash, preview images from blob: URLs; nothing else.
  const csp = `default-src 'none'; script-src 'self'; style-src 'sha256-${styleHash}'; img-src blob:; base-uri 'none'; form-action 'none'`;
  const scripts = ['web/tf-prelude.js', 'web/tf.min.js', ...modelScripts, 'web/demo.js'].map(
    (s) => `<script src="${s}"></script>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(d.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(d.title)}</h1>
<p>Sorts an image into one of ${d.labels.length} classes: ${d.labels.map(escapeHtml).join(', ')}. It runs in this
browser only; the image is not sent anywhere.</p>
<label id="drop" class="drop" for="image">Drop an image here, or choose one:
<input id="image" type="file" accept="image/*"></label>
<p id="status" role="status" aria-live="polite">Loading the model…</p>
<section id="result" data-state="loading" aria-labelledby="result-heading">
<h2 id="result-heading">Classes, most likely first</h2>
<img id="preview" alt="">
<ol id="probabilities"></ol>
</section>
</main>
${scripts.join('\n')}
</body>
</html>
`;
}

/** Write the demo's files into the export folder being built. */
export async function writeWebDemo(w: DemoWriter, d: DemoInput): Promise<void> {
  const files = demoFiles(d.models.length);
  const modelScripts = files.filter((f) => /^web\/model-\d+\.js$/.test(f));
  await w.text('index.html', indexHtml(d, modelScripts));
  await w.text('web/tf-prelude.js', TF_PRELUDE);
  await w.copy(require.resolve('@tensorflow/tfjs/dist/tf.min.js'), 'web/tf.min.js');
  for (const [i, m] of d.models.entries()) await w.text(modelScripts[i]!, modelScript(join(d.dir, m)));
  await w.text('web/demo.js', demoScript({ labels: d.labels, inputSize: d.inputSize }));
}
