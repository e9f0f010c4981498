/**
 * Downloadable test backbones served from 127.0.0.1 (this machine has no internet): a tiny Keras model saved as
 * model.json + 2 shards (/tiny) and a hand-written frozen TF graph (/graph), plus routes that fail in known ways
 * (/missing: 404; /hang: never answers; /flaky: two 503s, then /tiny; /slow: /tiny with each shard's second half 5 s
 * late, so that a cancel lands mid-file).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerBackbone, type BackboneDescriptor } from '../../src-main/core/model/backbones';

export const SHARDS = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
export const FEATURE_LAYER = 'feat_relu';
/** Download options that give up quickly. */
export const FAST_DOWNLOAD = { retries: 2, retryDelayMs: 20, timeoutMs: 2000 };

/** A few conv layers ending in a named feature layer, then a flatten + dense top that the loader must cut off. */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3], name: 'image' });
  let x = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1' })
    .apply(input);
  x = tf.layers.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'same', name: 'conv2' }).apply(x);
  x = tf.layers.reLU({ name: FEATURE_LAYER }).apply(x);
  x = tf.layers.flatten({ name: 'flatten' }).apply(x);
  const out = tf.layers.dense({ units: 5, activation: 'softmax', name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'tiny' });
}

/** Save as model.json + 2 shards (the weight data split in two), like the converter does for big models. */
async function writeLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData as ArrayBuffer | ArrayBuffer[]));
      const half = Math.floor(data.length / 2);
      writeFileSync(join(dir, SHARDS[0]!), data.subarray(0, half));
      writeFileSync(join(dir, SHARDS[1]!), data.subarray(half));
      const json = {
        format: 'layers-model',
        generatedBy: 'test/helpers/backboneServer.ts',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: SHARDS, weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** A hand-written frozen TF graph: conv 3×3 → relu → mean over H, W (4 features). */
function writeGraphModel(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const f = (type: string) => ({ type });
  const dims = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const ints = (...i: number[]) => ({ list: { i: i.map(String) } });
  const text = (s: string) => ({ s: Buffer.from(s).toString('base64') });
  const constNode = (name: string, dtype: string, shape: number[]) => ({
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype, tensorShape: dims(...shape) } }, dtype: f(dtype) },
  });
  const nodes = [
    { name: 'images', op: 'Placeholder', attr: { dtype: f('DT_FLOAT'), shape: { shape: dims(-1, 32, 32, 3) } } },
    constNode('kernel', 'DT_FLOAT', [3, 3, 3, 4]),
    {
      name: 'conv',
      op: 'Conv2D',
      input: ['images', 'kernel'],
      attr: {
        T: f('DT_FLOAT'),
        strides: ints(1, 1, 1, 1),
        dilations: ints(1, 1, 1, 1),
        padding: text('SAME'),
        data_format: text('NHWC'),
      },
    },
    { name: 'relu', op: 'Relu', input: ['conv'], attr: { T: f('DT_FLOAT') } },
    constNode('axes', 'DT_INT32', [2]),
    {
      name: 'features',
      op: 'Mean',
      input: ['relu', 'axes'],
      attr: { T: f('DT_FLOAT'), Tidx: f('DT_INT32'), keep_dims: { b: false } },
    },
  ];
  const kernel = Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => ((i % 7) - 3) / 10);
  const axes = Int32Array.from([1, 2]);
  writeFileSync(
    join(dir, 'group1-shard1of1.bin'),
    Buffer.concat([Buffer.from(kernel.buffer), Buffer.from(axes.buffer)]),
  );
  const json = {
    format: 'graph-model',
    generatedBy: 'test/helpers/backboneServer.ts',
    convertedBy: 'hand',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'kernel', shape: [3, 3, 3, 4], dtype: 'float32' },
          { name: 'axes', shape: [2], dtype: 'int32' },
        ],
      },
    ],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
}

export interface BackboneServer {
  /** http://127.0.0.1:PORT; a backbone's url is `${base}/<route>`. */
  base: string;
  /** The folder the server serves: tiny/ and graph/. */
  served: string;
  /** The Keras model behind /tiny: a downloaded copy must give its features. */
  original: tf.LayersModel;
  /** sha256 of each file of /tiny. */
  tinySums: Record<string, string>;
  /** Every URL requested so far, in order. */
  requests: string[];
  /** Requests to /flaky so far: the first two are answered 503 (set it to 0 to start again). */
  flaky: number;
  /** Registers test backbone `id`, served from /tiny unless `extra` says otherwise. */
  entry(id: string, extra?: Partial<BackboneDescriptor>): BackboneDescriptor;
  close(): void;
}

/** Writes the test backbones under `work`/served and serves them; `close` it when the tests end. */
export async function serveTestBackbones(work: string): Promise<BackboneServer> {
  const served = join(work, 'served');
  const original = tinyModel();
  await writeLayersModel(original, join(served, 'tiny'));
  writeGraphModel(join(served, 'graph'));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    backbones.requests.push(url);
    const [, route, ...rest] = url.split('?')[0]!.split('/');
    const file = rest.join('/');
    const send = (model: string) => {
      const path = join(served, model, file);
      if (!existsSync(path)) {
        res.writeHead(404, 'Not Found').end('no such file');
        return null;
      }
      return readFileSync(path);
    };
    if (route === 'missing') return void res.writeHead(404, 'Not Found').end();
    if (route === 'hang') return; // never answers: the stall timeout must fire
    if (route === 'flaky' && backbones.flaky++ < 2) return void res.writeHead(503, 'Service Unavailable').end();
    if (route === 'slow') {
      // model.json at once; shards half now, the rest much later, so a cancel lands mid-file.
      const data = send('tiny');
      if (!data) return;
      res.writeHead(200, { 'Content-Length': data.length, 'Content-Type': 'application/octet-stream' });
      if (file === 'model.json') return void res.end(data);
      res.write(data.subarray(0, data.length >> 1));
      const t = setTimeout(() => res.end(data.subarray(data.length >> 1)), 5000);
      res.on('close', () => clearTimeout(t));
      return;
    }
    const data = send(route === 'flaky' ? 'tiny' : route!);
    if (data) res.writeHead(200, { 'Content-Length': data.length }).end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const backbones: BackboneServer = {
    base,
    served,
    original,
    tinySums: Object.fromEntries(['model.json', ...SHARDS].map((f) => [f, sha(join(served, 'tiny', f))])),
    requests: [],
    flaky: 0,
    entry: (id, extra = {}) => {
      const d: BackboneDescriptor = {
        id,
        name: `Tiny test backbone ${id}`,
        format: 'layers',
        url: `${base}/tiny`,
        inputSizes: [32],
        flexibleSize: true,
        inputRange: '[-1,1]',
        featureLayer: FEATURE_LAYER,
        featureDim: 12,
        license: 'test fixture',
        note: 'written by the test',
        canFineTune: true,
        offline: false,
        source: 'test',
        ...extra,
      };
      registerBackbone(d);
      return d;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
  return backbones;
}
