/**
 * The script of the export's web demo (index.html). webDemo.ts writes this function's source text into the page's
 * web/demo.js, so it may use only its parameters and the browser's globals: nothing imported is there at run time.
 *
 * It uses TensorFlow.js's cpu backend, the kernels `finetune predict` runs under the cpu backend in Node: WebGL can
 * compute in 16-bit floats on some devices, and the page promises predict's numbers.
 */
import type * as TF from '@tensorflow/tfjs';

export interface DemoConfig {
  labels: string[];
  inputSize: number;
}

/** One model as web/model-<i>.js carries it: model.json's topology, the weight specs and weights.bin in base64. */
export interface DemoModel {
  modelTopology: object;
  weightSpecs: TF.io.WeightsManifestEntry[];
  weights: string;
}

export type SquareInput = (rgba: ArrayLike<number>, width: number, height: number, size: number) => Float32Array;

export function demoMain(tf: typeof TF, config: DemoConfig, models: DemoModel[], squareInput: SquareInput): void {
  const input = document.getElementById('image') as HTMLInputElement;
  const drop = document.getElementById('drop') as HTMLElement;
  const status = document.getElementById('status') as HTMLElement;
  const result = document.getElementById('result') as HTMLElement;
  const list = document.getElementById('probabilities') as HTMLOListElement;
  const preview = document.getElementById('preview') as HTMLImageElement;

  const loading = (async () => {
    await tf.setBackend('cpu');
    await tf.ready();
    return Promise.all(
      models.map((m) => {
        const weightData = Uint8Array.from(atob(m.weights), (c) => c.charCodeAt(0)).buffer;
        return tf.loadLayersModel(
          tf.io.fromMemory({ modelTopology: m.modelTopology, weightSpecs: m.weightSpecs, weightData }),
        );
      }),
    );
  })();
  loading.then(
    () => {
      result.dataset.state = 'ready';
      status.textContent = 'Ready: choose or drop an image.';
    },
    (err: unknown) => {
      result.dataset.state = 'error';
      status.textContent = `The model did not load: ${String(err)}`;
    },
  );

  /** RGBA bytes at the image's natural size: no browser resizing, which would not match predict's. */
  async function pixels(file: File): Promise<ImageData> {
    const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', imageOrientation: 'from-image' });
    const canvas = document.createElement('canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas');
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    return ctx.getImageData(0, 0, canvas.width, canvas.height);
  }

  function show(file: File, probs: number[]): void {
    const best = probs.indexOf(Math.max(...probs));
    const order = probs.map((_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
    list.replaceChildren(
      ...order.map((i) => {
        const li = document.createElement('li');
        li.dataset.label = config.labels[i]!;
        li.dataset.probability = String(probs[i]);
        const name = document.createElement('span');
        name.textContent = config.labels[i]!;
        const value = document.createElement('span');
        value.textContent = `${(probs[i]! * 100).toFixed(1)} %`;
        const bar = document.createElement('progress');
        bar.max = 1;
        bar.value = probs[i]!;
        bar.setAttribute('aria-hidden', 'true');
        li.append(name, ' ', value, bar);
        return li;
      }),
    );
    result.dataset.file = file.name;
    result.dataset.label = config.labels[best]!;
    result.dataset.probabilities = JSON.stringify(Object.fromEntries(config.labels.map((l, i) => [l, probs[i]])));
    result.dataset.state = 'done';
    status.textContent = `${file.name}: ${config.labels[best]} (${(probs[best]! * 100).toFixed(1)} %)`;
  }

  async function classify(file: File): Promise<void> {
    result.dataset.state = 'busy';
    status.textContent = `Classifying ${file.name}…`;
    try {
      const loaded = await loading;
      const image = await pixels(file);
      URL.revokeObjectURL(preview.src);
      preview.src = URL.createObjectURL(file);
      preview.alt = file.name;
      const n = config.inputSize;
      const x = tf.tensor4d(squareInput(image.data, image.width, image.height, n), [1, n, n, 3]);
      // As predictor.ts: the mean of the members' probabilities.
      const p = tf.tidy(() => tf.addN(loaded.map((m) => m.predict(x) as TF.Tensor)).div(loaded.length));
      const probs = Array.from(await p.data());
      tf.dispose([x, p]);
      show(file, probs);
    } catch (err) {
      result.dataset.state = 'error';
      status.textContent = `Cannot classify ${file.name}: ${String(err)}`;
    }
  }

  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) void classify(file);
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void classify(file);
  });
}
