/**
 * The scan's check of every image (decode it, or say why it cannot be used), remembered per folder by path, size and
 * modification time in HOME/cache/scan: a rescan of an unchanged folder stats its files and reads none of them.
 * A file whose size or time changed is checked again; a cache that cannot be read is ignored (the scan redoes it).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { decodeRgb, imageErrorMessage } from './images';
import { MessageSchema, type Message } from '../../../src-shared/messages';
import { CancelledError, IO_CONCURRENCY, mapPool } from '../util/pool';
import { EtaClock } from '../util/eta';

/** Bump when what the check accepts changes (a new refused format), so that older verdicts are not reused. */
const CHECK_VERSION = 2;

const CacheFile = z.object({
  version: z.literal(CHECK_VERSION),
  dir: z.string(),
  /** [path relative to dir, bytes, mtimeMs, reason it cannot be used (a `skip.*` message) or null]. */
  entries: z.array(z.tuple([z.string(), z.number(), z.number(), MessageSchema.nullable()])),
});

interface Verdict {
  size: number;
  mtimeMs: number;
  reason: Message | null;
}

export interface CheckOptions {
  /** HOME/cache/scan; without it every image is decoded. */
  cacheDir?: string;
  onProgress?: (done: number, total: number, etaSeconds: number | null) => void;
  shouldCancel?: () => boolean;
}

function cacheFile(cacheDir: string, dir: string) {
  return join(cacheDir, `${createHash('sha256').update(dir).digest('hex').slice(0, 32)}.json`);
}

async function load(cacheDir: string, dir: string): Promise<Map<string, Verdict>> {
  try {
    const parsed = CacheFile.parse(JSON.parse(await readFile(cacheFile(cacheDir, dir), 'utf8')));
    if (parsed.dir !== dir) return new Map();
    return new Map(
      parsed.entries.map(([rel, size, mtimeMs, reason]) => [
        join(dir, rel),
        { size, mtimeMs, reason: reason as Message | null },
      ]),
    );
  } catch {
    return new Map();
  }
}

async function save(cacheDir: string, dir: string, verdicts: Map<string, Verdict>): Promise<void> {
  const path = cacheFile(cacheDir, dir);
  const entries = [...verdicts].map(([file, v]) => [relative(dir, file), v.size, v.mtimeMs, v.reason]);
  try {
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: CHECK_VERSION, dir, entries }));
    await rename(tmp, path);
  } catch {
    // A cache that cannot be written only costs the next scan its speed.
  }
}

/**
 * For each file, why it cannot be used, or null when it decodes. Files whose size and modification time match the
 * folder's cache are not read. A cancel stops within one image per pool slot; what was checked is kept for next time.
 */
export async function checkImages(dir: string, files: readonly string[], opts: CheckOptions = {}) {
  const cached = opts.cacheDir ? await load(opts.cacheDir, dir) : new Map<string, Verdict>();
  const verdicts = new Map<string, Verdict>();
  const clock = new EtaClock();
  let done = 0;
  let lastReport = -Infinity;
  const report = () => {
    done++;
    // A few reports a second: tens of thousands of events would cost more than the stats.
    const now = performance.now();
    if (done < files.length && now - lastReport < 100) return;
    lastReport = now;
    opts.onProgress?.(done, files.length, clock.eta(done, files.length));
  };
  clock.eta(0, files.length);
  const check = async (file: string): Promise<Message | null> => {
    let size = -1;
    let mtimeMs = -1;
    try {
      const st = await stat(file);
      size = st.size;
      // Whole milliseconds: what every file system and copy tool keeps of a modification time.
      mtimeMs = Math.floor(st.mtimeMs);
      const hit = cached.get(file);
      if (hit && hit.size === size && hit.mtimeMs === mtimeMs) {
        verdicts.set(file, hit);
        return hit.reason;
      }
      await decodeRgb(file, 16);
      verdicts.set(file, { size, mtimeMs, reason: null });
      return null;
    } catch (err) {
      const reason = imageErrorMessage(err);
      // A file gone or unreadable now (permissions: chmod leaves the time alone) may be fine later: only verdicts on
      // the file's bytes are remembered.
      const errno = (err as NodeJS.ErrnoException | null)?.code !== undefined;
      if (size >= 0 && !errno) verdicts.set(file, { size, mtimeMs, reason });
      return reason;
    } finally {
      report();
    }
  };
  try {
    return await mapPool(files, IO_CONCURRENCY, check, { shouldCancel: opts.shouldCancel });
  } catch (err) {
    if (!(err instanceof CancelledError)) throw err;
    // Keep the unchanged verdicts of files this scan did not reach, with the new ones.
    for (const [file, v] of cached) if (!verdicts.has(file)) verdicts.set(file, v);
    throw err;
  } finally {
    if (opts.cacheDir && (verdicts.size > 0 || cached.size > 0)) await save(opts.cacheDir, dir, verdicts);
  }
}
