/**
 * The backbone download cache, `home/cache/backbones/<id>/`: model.json, its shards and a manifest of their sha256
 * sums. Without a registry checksum the first download records the sums (trust on first use); every later load
 * verifies them, and the registry's when it lists them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { z } from 'zod';
import { homePaths } from '../paths';
import type { BackboneDescriptor } from './backbones';
import { MODEL_JSON, ModelJson } from './modelJson';
import { parseJson } from '../util/json';

export const CACHE_MANIFEST = '.finetune-cache.json';

const CacheManifest = z.object({
  id: z.string(),
  url: z.string(),
  downloadedAt: z.string(),
  /** `registry`: checked against the registry's sha256; `first-use`: recorded by the first download. */
  trust: z.enum(['registry', 'first-use']),
  files: z
    .record(z.string(), z.object({ sha256: z.string(), bytes: z.number() }))
    .refine((files) => Object.hasOwn(files, MODEL_JSON), `${MODEL_JSON} is not listed`),
});
export type CacheManifest = z.infer<typeof CacheManifest>;

export interface CachedBackbone {
  id: string;
  dir: string;
  fromCache: boolean;
  manifest: CacheManifest;
  /** The verified bytes of every file, by name (model.json included). */
  contents: Map<string, Buffer>;
  /** model.json, parsed and validated. */
  modelJson: ModelJson;
}

export function backboneCacheDir(home: string, id: string): string {
  return join(homePaths(home).cache, id);
}

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Shard paths come from a downloaded file: keep them inside the cache folder. */
export function checkShardPath(p: string, url: string, isModelJson = false): string {
  const n = normalize(p).replace(/\\/g, '/');
  const reserved = (n === MODEL_JSON && !isModelJson) || n === CACHE_MANIFEST;
  if (!p || isAbsolute(p) || n.split('/').includes('..') || reserved) {
    throw new Error(`${url} lists an unsafe weight file path "${p}": refusing to download it.`);
  }
  return n;
}

/** The shard files model.json lists, as safe paths relative to its folder. */
export function shardPaths(json: ModelJson, url: string): string[] {
  return json.weightsManifest.flatMap((g) => g.paths.map((p) => checkShardPath(p, url)));
}

/**
 * Verify a cache entry against its manifest (and the registry's checksums when present). A damaged entry is
 * removed and reported; a missing or incomplete one returns null.
 */
export function verifyCachedBackbone(home: string, desc: BackboneDescriptor): CachedBackbone | null {
  const dir = backboneCacheDir(home, desc.id);
  if (!existsSync(dir)) return null;
  const fail = (file: string, why: string): never => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `The cached backbone "${desc.id}" is damaged: ${file} ${why}. The cache entry ${dir} was removed; ` +
        'load the backbone again to download a fresh copy.',
    );
  };
  let manifestText: string;
  try {
    manifestText = readFileSync(join(dir, CACHE_MANIFEST), 'utf8');
  } catch {
    // Not made by a completed download (renames are atomic): start over.
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  const parsedManifest = parseJson(manifestText, CacheManifest);
  if (!parsedManifest.ok) {
    const what = parsedManifest.syntax ? 'JSON' : 'a valid cache manifest';
    return fail(CACHE_MANIFEST, `is not ${what} (${parsedManifest.issue})`);
  }
  const manifest = parsedManifest.value;
  const contents = new Map<string, Buffer>();
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
  const parsedJson = parseJson(contents.get(MODEL_JSON)!.toString('utf8'), ModelJson);
  if (!parsedJson.ok) {
    const what = parsedJson.syntax ? 'JSON' : 'a valid TensorFlow.js model.json';
    return fail(MODEL_JSON, `is not ${what} (${parsedJson.issue})`);
  }
  const modelJson = parsedJson.value;
  // Every shard model.json names must have been recorded.
  for (const p of shardPaths(modelJson, join(dir, MODEL_JSON))) {
    if (!contents.has(p)) fail(p, 'is not in the cache manifest');
  }
  return { id: desc.id, dir, fromCache: true, manifest, contents, modelJson };
}
