/**
 * Downloading, caching and loading the registry's backbones (backbones.ts).
 *
 * A download fetches model.json, then every shard its weightsManifest lists, into a temporary folder beside the
 * cache; checksums are verified there and the folder is renamed into `home/cache/backbones/<id>/` only when
 * complete, so a cancelled or failed download never leaves a partial cache entry. Without a registry checksum the
 * first download records the sha256 of every file (trust on first use) and every later load verifies them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { homePaths } from '../paths';
import { BACKBONE_ID, FEATURES_LAYER, buildClassifier, disposeClassifier, type ClassifierBackbone } from './backbone';
import { DEFAULT_BACKBONE_ID, assertCanFineTune, getBackbone, type BackboneDescriptor } from './backbones';

export const MIRROR_ENV = 'FINETUNE_BACKBONE_MIRROR';
export const CACHE_MANIFEST = '.finetune-cache.json';
const MODEL_JSON = 'model.json';
const RESCALE_LAYER = 'backbone_rescale';

export interface DownloadProgress {
  id: string;
  /** `download`: bytes are arriving; `cached`: verified cache hit, no network; `done`: downloaded and verified. */
  phase: 'download' | 'cached' | 'done';
  file: string;
  fileBytes: number;
  /** From Content-Length; null when the server sent none (or compressed the body). */
  fileTotal: number | null;
  bytes: number;
  /** Known once model.json has arrived (from its weight specs); null before. */
  total: number | null;
  /** bytes / total in [0, 1], never decreasing; null while the total is unknown. */
  fraction: number | null;
}

export interface DownloadOptions {
  home: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Folder URL holding model.json, instead of the registry's (and of FINETUNE_BACKBONE_MIRROR). */
  baseUrl?: string;
  /** Further attempts after a network error, timeout or 5xx (default 2). */
  retries?: number;
  /** Give up on a request that sends nothing for this long (default 30 s). */
  timeoutMs?: number;
  /** Wait before the first retry, doubled after each (default 500 ms). */
  retryDelayMs?: number;
}

interface CacheManifest {
  id: string;
  url: string;
  downloadedAt: string;
  /** `registry`: checked against the registry's sha256; `first-use`: recorded by the first download. */
  trust: 'registry' | 'first-use';
  files: Record<string, { sha256: string; bytes: number }>;
}

export interface CachedBackbone {
  id: string;
  dir: string;
  fromCache: boolean;
  manifest: CacheManifest;
  /** The verified bytes of every file, by name (model.json included). */
  contents: Map<string, Buffer>;
}

interface ModelJson {
  format?: string;
  modelTopology?: object;
  weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  [key: string]: unknown;
}

/** Thrown when the caller's AbortSignal fires; `name` is 'AbortError' like fetch's. */
export class BackboneDownloadCancelled extends Error {
  override name = 'AbortError';
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    statusText: string,
  ) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
  }
}

class StallTimeout extends Error {}
class Truncated extends Error {}

export function backboneCacheDir(home: string, id: string): string {
  return join(homePaths(home).cache, id);
}

/** Folder URL and query for a backbone: the option, then the mirror (`<mirror>/<id>`), then the registry. */
export function backboneBaseUrl(desc: BackboneDescriptor, baseUrl?: string): { base: string; query: string } {
  const trim = (u: string) => u.replace(/\/+$/, '');
  if (baseUrl) return { base: trim(baseUrl), query: '' };
  const mirror = process.env[MIRROR_ENV]?.trim();
  if (mirror) return { base: `${trim(mirror)}/${encodeURIComponent(desc.id)}`, query: '' };
  if (!desc.url) throw new Error(`The backbone "${desc.id}" is bundled: there is nothing to download.`);
  return { base: trim(desc.url), query: desc.urlQuery ?? '' };
}

function fileUrl(base: string, query: string, file: string): string {
  return `${base}/${file.split('/').map(encodeURIComponent).join('/')}${query}`;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Shard paths come from a downloaded file: keep them inside the cache folder. */
function checkShardPath(p: string, url: string, isModelJson = false): string {
  const n = normalize(p).replace(/\\/g, '/');
  const reserved = (n === MODEL_JSON && !isModelJson) || n === CACHE_MANIFEST;
  if (!p || isAbsolute(p) || n.split('/').includes('..') || reserved) {
    throw new Error(`${url} lists an unsafe weight file path "${p}": refusing to download it.`);
  }
  return n;
}

function shardPaths(json: ModelJson, url: string): string[] {
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${url} is not a TensorFlow.js model.json (no modelTopology / weightsManifest).`);
  }
  return json.weightsManifest.flatMap((g) => g.paths.map((p) => checkShardPath(p, url)));
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes the shards should hold, from the weight specs (exact for unquantized numeric weights). */
function expectedWeightBytes(json: ModelJson): number {
  let total = 0;
  for (const group of json.weightsManifest ?? []) {
    for (const w of group.weights) {
      const per = DTYPE_BYTES[w.quantization?.dtype ?? w.dtype] ?? 0;
      total += w.shape.reduce((a, b) => a * b, 1) * per;
    }
  }
  return total;
}

function readManifest(dir: string): CacheManifest | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, CACHE_MANIFEST), 'utf8')) as CacheManifest;
    return m && typeof m.files === 'object' && m.files[MODEL_JSON] ? m : null;
  } catch {
    return null;
  }
}

/**
 * Verify a cache entry against its manifest (and the registry's checksums when present). A damaged entry is
 * removed and reported; a missing or incomplete one returns null.
 */
export function verifyCachedBackbone(home: string, desc: BackboneDescriptor): CachedBackbone | null {
  const dir = backboneCacheDir(home, desc.id);
  if (!existsSync(dir)) return null;
  const manifest = readManifest(dir);
  if (!manifest) {
    // Not made by a completed download (renames are atomic): start over.
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  const contents = new Map<string, Buffer>();
  const fail = (file: string, why: string): never => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `The cached backbone "${desc.id}" is damaged: ${file} ${why}. The cache entry ${dir} was removed; ` +
        'load the backbone again to download a fresh copy.',
    );
  };
  for (const [file, rec] of Object.entries(manifest.files)) {
    const path = join(dir, checkShardPath(file, dir, file === MODEL_JSON));
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch {
      return fail(file, 'is missing');
    }
    const hash = sha256(data);
    if (hash !== rec.sha256) return fail(file, `has sha256 ${hash}, expected ${rec.sha256}`);
    const registered = desc.sha256?.[file];
    if (desc.sha256 && registered !== hash) {
      return fail(file, `does not match the registry checksum ${registered ?? '(none listed)'}`);
    }
    contents.set(file, data);
  }
  // Every shard model.json names must have been recorded.
  const json = JSON.parse(contents.get(MODEL_JSON)!.toString('utf8')) as ModelJson;
  for (const p of shardPaths(json, join(dir, MODEL_JSON))) {
    if (!contents.has(p)) fail(p, 'is not in the cache manifest');
  }
  return { id: desc.id, dir, fromCache: true, manifest, contents };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Why a fetch failed, for people: an errno code when there is one. */
function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof HttpStatusError) return err.message;
  if (err instanceof StallTimeout) return `no data for ${Math.round(timeoutMs / 1000)} s: timed out`;
  if (err instanceof Truncated) return err.message;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

function retryable(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 408 || err.status === 429;
  return true;
}

interface FetchResult {
  data: Buffer;
}

/** One GET streamed into memory with a stall timeout; `onBytes` sees the running count. */
async function fetchOnce(
  url: string,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  onBytes: (done: number, total: number | null) => void,
): Promise<FetchResult> {
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(new StallTimeout()), timeoutMs);
  };
  try {
    arm();
    let res: Response;
    try {
      res = await fetch(url, { signal: ctrl.signal, redirect: 'follow' });
    } catch (err) {
      throw ctrl.signal.reason instanceof StallTimeout ? ctrl.signal.reason : err;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new HttpStatusError(res.status, res.statusText);
    }
    // A compressed body's Content-Length counts compressed bytes: no use for progress.
    const lengthHeader = res.headers.get('content-length');
    const encoded = !!res.headers.get('content-encoding') && res.headers.get('content-encoding') !== 'identity';
    const total =
      lengthHeader !== null && !encoded && Number.isFinite(Number(lengthHeader)) ? Number(lengthHeader) : null;
    const chunks: Buffer[] = [];
    let done = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done: end, value } = await reader.read();
        if (end) break;
        arm();
        chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        done += value.byteLength;
        onBytes(done, total);
      }
    } catch (err) {
      throw ctrl.signal.reason instanceof StallTimeout ? ctrl.signal.reason : err;
    }
    if (total !== null && done !== total) throw new Truncated(`connection closed after ${done} of ${total} bytes`);
    return { data: Buffer.concat(chunks) };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** GET with retries; errors name the URL and the way out. */
async function fetchWithRetries(
  url: string,
  opts: Required<Pick<DownloadOptions, 'retries' | 'timeoutMs' | 'retryDelayMs'>> & { signal?: AbortSignal },
  onBytes: (done: number, total: number | null) => void,
): Promise<Buffer> {
  let delay = opts.retryDelayMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return (await fetchOnce(url, opts.signal, opts.timeoutMs, onBytes)).data;
    } catch (err) {
      if (opts.signal?.aborted) throw new BackboneDownloadCancelled(`Download of ${url} cancelled.`);
      if (attempt >= opts.retries || !retryable(err)) {
        const why = describeFailure(err, opts.timeoutMs);
        const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : '';
        throw new Error(
          `Could not download ${url} (${why})${tries}. Check your connection, set ${MIRROR_ENV} to a mirror, or ` +
            `use the bundled offline backbone (${DEFAULT_BACKBONE_ID}).`,
          { cause: err },
        );
      }
      await sleep(delay, opts.signal);
      delay *= 2;
    }
  }
}

/**
 * Make sure a backbone's files are in the cache, verified: a cache hit uses no network. Rejects (and leaves no cache
 * entry) on a failed download, a checksum that differs from the registry's, or cancellation.
 */
export async function downloadBackbone(
  idOrDesc: string | BackboneDescriptor,
  opts: DownloadOptions,
): Promise<CachedBackbone> {
  const desc = typeof idOrDesc === 'string' ? getBackbone(idOrDesc) : idOrDesc;
  if (desc.format === 'bundled') throw new Error(`The backbone "${desc.id}" is bundled: there is nothing to download.`);
  if (opts.signal?.aborted) throw new BackboneDownloadCancelled(`Download of backbone "${desc.id}" cancelled.`);

  const emit = (p: Omit<DownloadProgress, 'id'>) => opts.onProgress?.({ id: desc.id, ...p });
  const cached = verifyCachedBackbone(opts.home, desc);
  if (cached) {
    const bytes = [...cached.contents.values()].reduce((a, b) => a + b.length, 0);
    emit({ phase: 'cached', file: MODEL_JSON, fileBytes: bytes, fileTotal: bytes, bytes, total: bytes, fraction: 1 });
    return cached;
  }

  const { base, query } = backboneBaseUrl(desc, opts.baseUrl);
  const fetchOpts = {
    retries: opts.retries ?? 2,
    timeoutMs: opts.timeoutMs ?? 30_000,
    retryDelayMs: opts.retryDelayMs ?? 500,
    signal: opts.signal,
  };
  const root = homePaths(opts.home).cache;
  mkdirSync(root, { recursive: true });
  const tmp = join(root, `.tmp-${desc.id}-${randomBytes(6).toString('hex')}`);
  mkdirSync(tmp);
  try {
    // Progress: bytes per file never go back (a retry restarts a file from its high-water mark).
    const high = new Map<string, number>();
    let total: number | null = null;
    let reported = 0;
    const progress = (file: string, done: number, fileTotal: number | null) => {
      const fileBytes = Math.max(high.get(file) ?? 0, done);
      high.set(file, fileBytes);
      const bytes = [...high.values()].reduce((a, b) => a + b, 0);
      // An estimate can be low: hold just below 1 until the last byte has been verified.
      const fraction = total ? Math.max(reported, Math.min(bytes / total, 0.999)) : null;
      if (fraction !== null) reported = fraction;
      emit({ phase: 'download', file, fileBytes, fileTotal, bytes, total, fraction });
    };

    const files: Array<[string, Buffer]> = [];
    const jsonUrl = fileUrl(base, query, MODEL_JSON);
    const jsonData = await fetchWithRetries(jsonUrl, fetchOpts, (d, t) => progress(MODEL_JSON, d, t));
    let json: ModelJson;
    try {
      json = JSON.parse(jsonData.toString('utf8')) as ModelJson;
    } catch {
      throw new Error(`${jsonUrl} is not JSON: is the backbone URL right? Use the bundled offline backbone instead.`);
    }
    const shards = shardPaths(json, jsonUrl);
    files.push([MODEL_JSON, jsonData]);
    total = jsonData.length + expectedWeightBytes(json);
    for (const shard of shards) {
      const url = fileUrl(base, query, shard);
      files.push([shard, await fetchWithRetries(url, fetchOpts, (d, t) => progress(shard, d, t))]);
    }

    const manifest: CacheManifest = {
      id: desc.id,
      url: base,
      downloadedAt: new Date().toISOString(),
      trust: desc.sha256 ? 'registry' : 'first-use',
      files: {},
    };
    for (const [file, data] of files) {
      const hash = sha256(data);
      if (desc.sha256) {
        const expected = desc.sha256[file];
        if (expected !== hash) {
          throw new Error(
            `Checksum mismatch for ${fileUrl(base, query, file)}: expected ${expected ?? '(none listed)'}, got ` +
              `${hash}. The download of backbone "${desc.id}" was discarded: the file changed upstream or was ` +
              'corrupted on the way. Try again, or use the bundled offline backbone.',
          );
        }
      }
      manifest.files[file] = { sha256: hash, bytes: data.length };
      const path = join(tmp, file);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, data);
    }
    writeFileSync(join(tmp, CACHE_MANIFEST), JSON.stringify(manifest, null, 2));
    if (opts.signal?.aborted) throw new BackboneDownloadCancelled(`Download of backbone "${desc.id}" cancelled.`);

    const dir = backboneCacheDir(opts.home, desc.id);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    const bytes = files.reduce((a, [, d]) => a + d.length, 0);
    emit({ phase: 'done', file: MODEL_JSON, fileBytes: bytes, fileTotal: bytes, bytes, total: bytes, fraction: 1 });
    return { id: desc.id, dir, fromCache: false, manifest, contents: new Map(files) };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Remove one backbone's cache entry (or all of them, and stale temporary folders). */
export function clearBackboneCache(home: string, id?: string): void {
  const root = homePaths(home).cache;
  if (id) rmSync(backboneCacheDir(home, id), { recursive: true, force: true });
  else if (existsSync(root)) for (const e of readdirSync(root)) rmSync(join(root, e), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

interface KerasLayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}
interface FunctionalTopology {
  model_config: {
    class_name: string;
    config: { name?: string; layers: KerasLayerJson[]; input_layers: unknown; output_layers: unknown };
  };
  [key: string]: unknown;
}

/** A backbone ready to use: `predict` maps images in [0, 1] to pooled features. */
export interface LoadedBackbone extends ClassifierBackbone {
  descriptor: BackboneDescriptor;
  format: BackboneDescriptor['format'];
  size: number;
  featureDim: number;
  canFineTune: boolean;
  /** Keras backbones (downloaded or bundled): image → pooled features. */
  model?: tf.LayersModel;
  /** Graph backbones: the frozen TF graph. */
  graph?: tf.GraphModel;
  /** [n, size, size, 3] in [0, 1] → [n, featureDim]. */
  predict(images: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

export interface LoadBackboneOptions extends DownloadOptions {
  size?: number;
}

function inboundNames(layer: KerasLayerJson): string[] {
  const names: string[] = [];
  const walk = (v: unknown) => {
    if (!Array.isArray(v)) return;
    if (typeof v[0] === 'string' && typeof v[1] === 'number') names.push(v[0]);
    else v.forEach(walk);
  };
  walk(layer.inbound_nodes);
  return names;
}

/** Keras Sequential configs, as a functional graph, so they can be cut and extended the same way. */
function toFunctional(topology: object, id: string): FunctionalTopology {
  const t = topology as { model_config?: { class_name: string; config: unknown } } & Record<string, unknown>;
  const mc = (t.model_config ?? t) as { class_name: string; config: unknown };
  if (mc.class_name !== 'Sequential') {
    const { model_config: _drop, ...rest } = t;
    return { ...rest, model_config: JSON.parse(JSON.stringify(mc)) } as FunctionalTopology;
  }
  const cfg = mc.config as { name?: string; layers?: KerasLayerJson[] } | KerasLayerJson[];
  const seq = (Array.isArray(cfg) ? cfg : (cfg.layers ?? [])).map((l) => JSON.parse(JSON.stringify(l)));
  const first = seq[0] as KerasLayerJson | undefined;
  if (!first) throw new Error(`The backbone "${id}" has an empty Sequential model.`);
  const layers: KerasLayerJson[] = [];
  let prev: string;
  if (first.class_name === 'InputLayer') {
    layers.push({ ...first, name: first.config.name as string, inbound_nodes: [] });
    prev = first.config.name as string;
    seq.shift();
  } else {
    prev = `${(first.config.name as string) ?? 'sequential'}_input`;
    layers.push({
      name: prev,
      class_name: 'InputLayer',
      config: { name: prev, batch_input_shape: first.config.batch_input_shape, dtype: 'float32', sparse: false },
      inbound_nodes: [],
    });
  }
  for (const l of seq as KerasLayerJson[]) {
    const name = l.config.name as string;
    layers.push({ name, class_name: l.class_name, config: l.config, inbound_nodes: [[[prev, 0, 0, {}]]] });
    prev = name;
  }
  return {
    model_config: {
      class_name: 'Model',
      config: { name: 'backbone', layers, input_layers: [[layers[0]!.name, 0, 0]], output_layers: [[prev, 0, 0]] },
    },
  };
}

/**
 * The backbone's topology cut at its feature layer (only that layer's ancestors kept), input resized, rescaled
 * from [0, 1] to the network's range, and ending in global average pooling named `FEATURES_LAYER`.
 */
export function pooledTopology(topology: object, desc: BackboneDescriptor, size: number): FunctionalTopology {
  const topo = toFunctional(topology, desc.id);
  const all = topo.model_config.config.layers;
  const cutAt = desc.featureLayer!;
  const byName = new Map(all.map((l) => [l.name, l]));
  if (!byName.has(cutAt)) {
    throw new Error(`The backbone "${desc.id}" has no layer "${cutAt}" to cut at: its registry entry is wrong.`);
  }
  if (byName.has(FEATURES_LAYER) || byName.has(RESCALE_LAYER)) {
    throw new Error(`The backbone "${desc.id}" already has a layer named ${FEATURES_LAYER} or ${RESCALE_LAYER}.`);
  }
  const keep = new Set<string>();
  const stack = [cutAt];
  while (stack.length) {
    const name = stack.pop()!;
    if (keep.has(name)) continue;
    keep.add(name);
    stack.push(...inboundNames(byName.get(name)!));
  }
  const layers = all.filter((l) => keep.has(l.name));
  const inputs = layers.filter((l) => l.class_name === 'InputLayer');
  if (inputs.length !== 1) throw new Error(`The backbone "${desc.id}" must have one image input.`);
  const input = inputs[0]!;
  for (const l of layers) delete l.config.batch_input_shape;
  input.config.batch_input_shape = [null, size, size, 3];
  const out: KerasLayerJson[] = [input];
  if (desc.inputRange === '[-1,1]') {
    // The pipeline gives [0, 1]: x * 2 - 1 inside the model, so exports keep the same input contract.
    out.push({
      name: RESCALE_LAYER,
      class_name: 'Rescaling',
      config: { name: RESCALE_LAYER, trainable: false, dtype: 'float32', scale: 2, offset: -1 },
      inbound_nodes: [[[input.name, 0, 0, {}]]],
    });
    const rewire = (v: unknown): unknown =>
      Array.isArray(v)
        ? typeof v[0] === 'string' && typeof v[1] === 'number'
          ? v[0] === input.name
            ? [RESCALE_LAYER, ...v.slice(1)]
            : v
          : v.map(rewire)
        : v;
    for (const l of layers) if (l !== input) l.inbound_nodes = rewire(l.inbound_nodes) as unknown[];
  }
  out.push(...layers.filter((l) => l !== input));
  out.push({
    name: FEATURES_LAYER,
    class_name: 'GlobalAveragePooling2D',
    config: { name: FEATURES_LAYER, trainable: true, data_format: 'channels_last' },
    inbound_nodes: [[[cutAt, 0, 0, {}]]],
  });
  topo.model_config.config.layers = out;
  topo.model_config.config.input_layers = [[input.name, 0, 0]];
  topo.model_config.config.output_layers = [[FEATURES_LAYER, 0, 0]];
  delete topo.training_config;
  return topo;
}

function weightsOf(json: ModelJson, contents: Map<string, Buffer>) {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Buffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    specs.push(...group.weights);
    for (const p of group.paths) parts.push(contents.get(normalize(p).replace(/\\/g, '/'))!);
  }
  const all = Buffer.concat(parts);
  return { specs, weights: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer };
}

function checkSize(desc: BackboneDescriptor, size: number): void {
  const ok = desc.flexibleSize ? Number.isInteger(size) && size >= 32 : desc.inputSizes.includes(size);
  if (!ok) {
    throw new Error(
      `The backbone "${desc.id}" takes input sizes ${desc.flexibleSize ? '≥ 32 (best: ' : ''}` +
        `${desc.inputSizes.join(', ')}${desc.flexibleSize ? ')' : ''}, not ${size}.`,
    );
  }
}

/** A Keras model image → pooled features as a LoadedBackbone. */
function layersBackbone(
  desc: BackboneDescriptor,
  size: number,
  model: tf.LayersModel,
  pooled: LoadedBackbone['pooled'],
  dispose: () => void,
): LoadedBackbone {
  const shape = model.outputs[0]!.shape;
  return {
    id: desc.id,
    name: desc.name,
    descriptor: desc,
    format: desc.format,
    size,
    featureDim: shape[shape.length - 1] ?? desc.featureDim,
    canFineTune: desc.canFineTune,
    pooled,
    model,
    predict: (images) => model.predict(images) as tf.Tensor2D,
    dispose,
  };
}

/**
 * Load a backbone by id, downloading it first when needed (see `downloadBackbone`). Keras backbones come back cut
 * at their feature layer with global pooling appended, ready for `buildClassifier({ backbone })`; graph backbones
 * come back as frozen feature extractors.
 */
export async function loadBackbone(id: string, opts: LoadBackboneOptions): Promise<LoadedBackbone> {
  const desc = getBackbone(id);
  const size = opts.size ?? desc.inputSizes[0]!;
  checkSize(desc, size);

  if (desc.format === 'bundled' || desc.id === BACKBONE_ID) {
    const clf = await buildClassifier({ size, numClasses: 1, dropout: 0 });
    return layersBackbone(desc, size, clf.features, undefined, () => disposeClassifier(clf));
  }

  const cached = await downloadBackbone(desc, opts);
  const json = JSON.parse(cached.contents.get(MODEL_JSON)!.toString('utf8')) as ModelJson;
  const { specs, weights } = weightsOf(json, cached.contents);

  if (desc.format === 'layers') {
    const topology = pooledTopology(json.modelTopology!, desc, size);
    let model: tf.LayersModel;
    try {
      model = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: topology, weightSpecs: specs, weightData: weights }),
        // Weights of the layers past the cut have no layer here.
        { strict: false },
      );
    } catch (err) {
      throw new Error(`The backbone "${desc.id}" could not be built: ${(err as Error).message}`, { cause: err });
    }
    return layersBackbone(desc, size, model, { topology, specs, weights }, () => model.dispose());
  }

  const artifacts = await tf.io.getModelArtifactsForJSON(json as unknown as tf.io.ModelJSON, async () => [
    specs,
    weights,
  ]);
  let graph: tf.GraphModel;
  try {
    graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new Error(`The graph backbone "${desc.id}" could not be loaded: ${(err as Error).message}`, { cause: err });
  }
  const scale = desc.inputRange === '[-1,1]';
  const predict = (images: tf.Tensor4D): tf.Tensor2D =>
    tf.tidy(() => {
      const x = scale ? images.mul(2).sub(1) : images;
      let out = graph.predict(x) as tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
      if (!(out instanceof tf.Tensor)) out = Array.isArray(out) ? out[0]! : Object.values(out)[0]!;
      // Some feature-vector graphs stop before pooling.
      return (out.rank === 4 ? out.mean([1, 2]) : out.reshape([out.shape[0]!, -1])) as tf.Tensor2D;
    });
  const probe = tf.tidy(() => predict(tf.zeros([1, size, size, 3])));
  const featureDim = probe.shape[1];
  probe.dispose();
  return {
    id: desc.id,
    name: desc.name,
    descriptor: desc,
    format: 'graph',
    size,
    featureDim,
    canFineTune: false,
    graph,
    predict,
    dispose: () => graph.dispose(),
  };
}

/**
 * The backbone a classifier should be built on: undefined for the bundled default, else the registry entry
 * downloaded (or read from the verified cache). Its weights are copied into the classifier, so it is disposed here.
 */
export async function classifierBackbone(
  id: string | undefined,
  size: number,
  opts: { home?: string; onProgress?: (fraction: number) => void; needsFineTuning?: boolean },
): Promise<ClassifierBackbone | undefined> {
  if (!id || id === BACKBONE_ID) return undefined;
  const desc = getBackbone(id);
  if (opts.needsFineTuning) assertCanFineTune(desc);
  if (!opts.home) throw new Error(`Backbone "${id}" needs the home folder for its download cache.`);
  const loaded = await loadBackbone(id, {
    home: opts.home,
    size,
    onProgress: (p) => opts.onProgress?.(p.fraction ?? 0),
  });
  const { id: loadedId, name, pooled } = loaded;
  loaded.dispose();
  return { id: loadedId, name, pooled };
}
