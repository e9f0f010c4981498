/**
 * Downloading a registry backbone (backbones.ts) into the cache (backboneCache.ts).
 *
 * A download fetches model.json, then every shard its weightsManifest lists, into a temporary folder beside the
 * cache; checksums are verified there and the folder is renamed into `home/cache/backbones/<id>/` only when
 * complete, so a cancelled or failed download never leaves a partial cache entry.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { homePaths } from '../paths';
import {
  CACHE_MANIFEST,
  backboneCacheDir,
  sha256,
  shardPaths,
  verifyCachedBackbone,
  type CacheManifest,
  type CachedBackbone,
} from './backboneCache';
import { DEFAULT_BACKBONE_ID, getBackbone, type BackboneDescriptor } from './backbones';
import { BackboneDownloadCancelled, fetchWithRetries } from './fetchWithRetry';
import { MODEL_JSON, ModelJson, expectedWeightBytes } from './modelJson';
import { parseJson } from '../util/json';

export const MIRROR_ENV = 'FINETUNE_BACKBONE_MIRROR';

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
    advice:
      `Check your connection, set ${MIRROR_ENV} to a mirror, or ` +
      `use the bundled offline backbone (${DEFAULT_BACKBONE_ID}).`,
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
    const parsed = parseJson(jsonData.toString('utf8'), ModelJson);
    if (!parsed.ok && parsed.syntax) {
      throw new Error(`${jsonUrl} is not JSON: is the backbone URL right? Use the bundled offline backbone instead.`);
    }
    if (!parsed.ok) throw new Error(`${jsonUrl} is not a TensorFlow.js model.json (${parsed.issue}).`);
    const modelJson = parsed.value;
    const shards = shardPaths(modelJson, jsonUrl);
    files.push([MODEL_JSON, jsonData]);
    total = jsonData.length + expectedWeightBytes(modelJson);
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
    return { id: desc.id, dir, fromCache: false, manifest, contents: new Map(files), modelJson };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
