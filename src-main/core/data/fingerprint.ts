/**
 * A dataset's fingerprint: sha256 over its image files' relative paths and sizes, sorted, one `path<TAB>bytes` line
 * each. Two folders with the same fingerprint hold the same file names with the same sizes (a cheap identity, not a
 * content hash: no image is read). Files the run skipped as unreadable are left out.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { scanDataset } from './dataset';

export interface DatasetFingerprint {
  sha256: string;
  files: number;
  bytes: number;
}

/** Fingerprint the images of `dir` as a scan sees them (no decoding), minus `skipped` (paths relative to dir). */
export async function datasetFingerprint(
  dir: string,
  options: { seed?: number; validPct?: number; skipped?: readonly string[] } = {},
): Promise<DatasetFingerprint> {
  const ds = await scanDataset(dir, { seed: options.seed, validPct: options.validPct, decode: false });
  const skipped = new Set((options.skipped ?? []).map((f) => f.split(sep).join('/')));
  const rel = [...ds.train, ...ds.valid]
    .map((i) => relative(dir, i.file).split(sep).join('/'))
    .filter((f) => !skipped.has(f))
    .sort();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const f of rel) {
    const size = (await stat(`${dir}/${f}`)).size;
    bytes += size;
    hash.update(`${f}\t${size}\n`);
  }
  return { sha256: hash.digest('hex'), files: rel.length, bytes };
}
