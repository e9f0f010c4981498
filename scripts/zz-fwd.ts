import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/core/tf/backend';
import { buildClassifier } from '../src-main/core/model/backbone';
await initBackend('auto');
const clf = await buildClassifier({ size: 128, numClasses: 10, dropout: 0, seed: 1 });
const x = tf.randomUniform([16, 128, 128, 3]);
const f = () => tf.tidy(() => void (clf.features.predict(x) as tf.Tensor).dataSync());
f(); f();
const ts: number[] = [];
for (let i = 0; i < 7; i++) { const a = performance.now(); f(); ts.push(performance.now() - a); }
ts.sort((a, b) => a - b);
console.log('forward median', ts[3]!.toFixed(1), ts.map((t) => t.toFixed(0)).join(' '));
const info = await tf.profile(f);
const by = new Map<string, { ms: number; n: number }>();
for (const k of info.kernels) { const e = by.get(k.name) ?? { ms: 0, n: 0 }; e.ms += Number(k.kernelTimeMs) || 0; e.n++; by.set(k.name, e); }
for (const [n, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) console.log(n.padEnd(30), e.ms.toFixed(1), e.n);
