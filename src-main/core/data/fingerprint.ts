/**
 * A dataset's fingerprint: sha256 over its image files' relative paths and sizes, sorted, one `path<TAB>bytes` line
 * each. Two folders with the same fingerprint hold the same file names with the same sizes (a cheap identity, not a
 * content hash: no image is read). Files the run skipped as unreadable are left out.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { DatasetFingerprint } from '../../../src-shared/contract';
import { scanDataset, type LabeledDataset } from './dataset';

export type { DatasetFingerprint };

/**
 * The fingerprint of the images a loaded dataset uses (training and validation; the skipped ones are not in it):
 * taken when a run reads its folder and kept with the run, so that its export describes the data it trained on.
 */
export function fingerprintOfDataset(ds: LabeledDataset): DatasetFingerprint {
  return fingerprintFiles(
    ds.dir,
    [...ds.train, ...ds.valid].map((i) => relative(ds.dir, i.file)),
  );
}

/** sha256 over the sorted `path<TAB>bytes` lines of `files` (relative to dir). */
function fingerprintFiles(dir: string, files: readonly string[]): DatasetFingerprint {
  const rel = files.map((f) => f.split(sep).join('/')).sort();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const f of rel) {
    const size = statSync(`${dir}/${f}`).size;
    bytes += size;
    hash.update(`${f}\t${size}\n`);
  }
  return { sha256: hash.digest('hex'), files: rel.length, bytes };
}

/**
 * Fingerprint the images of `dir` as a scan sees them now (no decoding), minus `skipped` (paths relative to dir):
 * the export's check of the folder against the fingerprint taken at training, and the fingerprint of older runs.
 */
export async function datasetFingerprint(
  dir: string,
  options: { seed?: number; validPct?: number; skipped?: readonly string[] } = {},
): Promise<DatasetFingerprint> {
  const ds = await scanDataset(dir, { seed: options.seed, validPct: options.validPct, decode: false });
  const skipped = new Set((options.skipped ?? []).map((f) => f.split(sep).join('/')));
  const rel = [...ds.train, ...ds.valid]
    .map((i) => relative(dir, i.file).split(sep).join('/'))
    .filter((f) => !skipped.has(f));
  return fingerprintFiles(dir, rel);
}
