// Times the wasm gradient stand-ins (src-main/core/tf/wasmGradKernels.ts) over every convolution of MobileNetV2, next
// to the forward convolutions (ours for 1x1, depthwise and first layers, XNNPACK's for the rest), and against the cpu
// backend's kernels on one layer. Not part of the tests.
// Usage: node --import tsx scripts/bench-wasm-kernels.ts [imageSize=128] [batch=16]
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels } from '../src-main/core/tf/wasmGradKernels';

type Shape4 = [number, number, number, number];
interface Layer {
  depthwise: boolean;
  xShape: Shape4;
  filterShape: Shape4;
  stride: number;
}
type Timings = Record<'forward' | 'backpropFilter' | 'backpropInput', number>;

const imageSize = Number(process.argv[2] ?? 128);
const batch = Number(process.argv[3] ?? 16);

/** MobileNetV2 (alpha 1): stem, 17 inverted-residual blocks (expand 1x1, depthwise 3x3, project 1x1), last 1x1. */
function mobileNetV2Layers(): Layer[] {
  const layers: Layer[] = [];
  let [hw, ch] = [imageSize, 3];
  const add = (depthwise: boolean, k: number, out: number, stride: number) => {
    layers.push({ depthwise, xShape: [batch, hw, hw, ch], filterShape: [k, k, ch, depthwise ? 1 : out], stride });
    [hw, ch] = [Math.ceil(hw / stride), out];
  };
  add(false, 3, 32, 2);
  const blocks = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  for (const [expansion, out, repeats, stride] of blocks) {
    for (let i = 0; i < repeats; i++) {
      if (expansion !== 1) add(false, 1, ch * expansion, 1);
      add(true, 3, ch, i === 0 ? stride : 1);
      add(false, 1, out, 1);
    }
  }
  add(false, 1, 1280, 1);
  return layers;
}

/** Median wall time of a kernel run (wasm and cpu kernels run synchronously). */
function medianMs(run: () => tf.Tensor | tf.Tensor[], reps = 3): number {
  const times = [];
  for (let i = 0; i <= reps; i++) {
    const start = performance.now();
    tf.dispose(run());
    if (i > 0) times.push(performance.now() - start); // the first run is warm-up
  }
  return times.sort((a, b) => a - b)[times.length >> 1];
}

function timeLayer(layer: Layer): Timings {
  const { depthwise, xShape, filterShape, stride } = layer;
  const attrs = { strides: stride, pad: 'same', dilations: 1, dataFormat: 'NHWC', filterShape, inputShape: xShape };
  return tf.tidy(() => {
    const x = tf.randomNormal(xShape);
    const filter = tf.randomNormal(filterShape);
    const forward = () =>
      (depthwise ? tf.depthwiseConv2d : tf.conv2d)(x as tf.Tensor4D, filter as tf.Tensor4D, stride, 'same');
    const dy = forward();
    const run = (kernel: string, inputs: tf.NamedTensorMap) => () =>
      tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor;
    return {
      forward: medianMs(forward),
      backpropFilter: medianMs(
        run(depthwise ? tf.DepthwiseConv2dNativeBackpropFilter : tf.Conv2DBackpropFilter, { x, dy }),
      ),
      backpropInput: medianMs(
        run(depthwise ? tf.DepthwiseConv2dNativeBackpropInput : tf.Conv2DBackpropInput, { dy, filter }),
      ),
    };
  });
}

const describeLayer = ({ depthwise, xShape, filterShape, stride }: Layer) =>
  `${depthwise ? 'dw' : 'conv'} ${filterShape[0]}x${filterShape[1]}/${stride} on ${xShape.join('x')}`;
const fmt = (ms: number) => ms.toFixed(1).padStart(8);

setWasmPaths(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + '/');
await tf.setBackend('wasm');
registerWasmGradKernels();

const layers = mobileNetV2Layers();
console.log(`MobileNetV2 at ${imageSize} px, batch ${batch}: ${layers.length} convolutions, times in ms (wasm)`);
console.log('kind'.padEnd(12), 'forward'.padStart(8), 'dFilter'.padStart(8), 'dInput'.padStart(8));
const totals: Record<string, Timings> = {};
for (const layer of layers) {
  const t = timeLayer(layer);
  const kind = layer.depthwise ? 'depthwise' : layer.filterShape[0] === 1 ? 'conv 1x1' : 'conv 3x3';
  totals[kind] ??= { forward: 0, backpropFilter: 0, backpropInput: 0 };
  for (const key of Object.keys(t) as (keyof Timings)[]) totals[kind][key] += t[key];
}
for (const [kind, t] of Object.entries(totals)) {
  console.log(kind.padEnd(12), fmt(t.forward), fmt(t.backpropFilter), fmt(t.backpropInput));
}
const sum = (key: keyof Timings) => Object.values(totals).reduce((acc, t) => acc + t[key], 0);
console.log('total'.padEnd(12), fmt(sum('forward')), fmt(sum('backpropFilter')), fmt(sum('backpropInput')));
console.log('(a real step skips the stem dInput; all dFilter/dInput kernels here are the stand-ins)');

// The cpu backend's kernels on one large depthwise and one 1x1 layer, for scale.
const samples = [layers.find((l) => l.depthwise && l.filterShape[2] === 96)!, layers[2]];
for (const layer of samples) {
  const wasm = timeLayer(layer);
  await tf.setBackend('cpu');
  const cpu = timeLayer(layer);
  await tf.setBackend('wasm');
  console.log(
    `${describeLayer(layer)}: dFilter wasm ${wasm.backpropFilter.toFixed(1)} / cpu ${cpu.backpropFilter.toFixed(1)} ms,` +
      ` dInput wasm ${wasm.backpropInput.toFixed(1)} / cpu ${cpu.backpropInput.toFixed(1)} ms`,
  );
}
