/**
 * The activation cache on disk, in packs: each pack is `NAME.f32` (rows of `width` float32, back to back) and
 * `NAME.keys` (one content key per row, in the same order), written by one process at once (rows first, each file
 * to a temporary name and renamed, the keys last: a pack without its keys is not there). Training reads its rows a
 * batch at a time from the packs, so the activations of a 60,000-image folder are never all in memory; the OS's
 * page cache keeps the hot ones.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Rows per pack: 5 MB of 1280-d activations, a few dozen files for a large folder. */
export const PACK_ROWS = 1024;

/** Fixed-width rows of features, read a batch at a time. */
export interface FeatureRows {
  readonly length: number;
  readonly width: number;
  /** The rows `ids`, back to back, in the order given. */
  read(ids: readonly number[]): Float32Array;
}

/** Rows already in memory (tests, small tools). */
export function rowsInMemory(rows: readonly Float32Array[]): FeatureRows {
  const width = rows[0]?.length ?? 0;
  return {
    length: rows.length,
    width,
    read(ids) {
      const out = new Float32Array(ids.length * width);
      ids.forEach((id, i) => out.set(rows[id]!, i * width));
      return out;
    },
  };
}

/** Rows `start` to `end` (exclusive) of `rows`, as rows of their own: the training and validation parts of one pass. */
export function sliceRows(rows: FeatureRows, start: number, end: number): FeatureRows {
  return { length: end - start, width: rows.width, read: (ids) => rows.read(ids.map((i) => start + i)) };
}

/** Every row, in order (tests and tools; a large folder's rows are better read a batch at a time). */
export function allRows(rows: FeatureRows): Float32Array[] {
  const flat = rows.read(Array.from({ length: rows.length }, (_, i) => i));
  return Array.from({ length: rows.length }, (_, i) => flat.subarray(i * rows.width, (i + 1) * rows.width));
}

interface Location {
  pack: string;
  row: number;
}

const KEY_CHARS = 64;

export class FeatureCache {
  private pending: Array<{ key: string; row: Float32Array }> = [];

  private constructor(
    readonly dir: string,
    readonly width: number,
    private readonly index: Map<string, Location>,
  ) {}

  /** The packs in `dir` (none yet: an empty cache). A pack whose files do not agree is ignored. */
  static async open(dir: string, width: number): Promise<FeatureCache> {
    await mkdir(dir, { recursive: true });
    const index = new Map<string, Location>();
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.keys')).sort()) {
      const pack = join(dir, name.slice(0, -'.keys'.length));
      const keys = (await readFile(`${pack}.keys`, 'utf8')).split('\n').filter((k) => k.length === KEY_CHARS);
      for (const [row, key] of keys.entries()) if (!index.has(key)) index.set(key, { pack, row });
    }
    return new FeatureCache(dir, width, index);
  }

  has(key: string): boolean {
    return this.index.has(key) || this.pending.some((p) => p.key === key);
  }

  /** Queue a row; a full pack is written at once. */
  async add(key: string, row: Float32Array): Promise<void> {
    if (row.length !== this.width) throw new Error(`feature row of ${row.length}, expected ${this.width}`);
    this.pending.push({ key, row });
    if (this.pending.length >= PACK_ROWS) await this.flush();
  }

  /** Write the queued rows as one pack. */
  async flush(): Promise<void> {
    const rows = this.pending;
    if (rows.length === 0) return;
    this.pending = [];
    const pack = join(this.dir, `p-${Date.now().toString(36)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    const data = Buffer.alloc(rows.length * this.width * 4);
    const floats = new Float32Array(data.buffer, data.byteOffset, rows.length * this.width);
    rows.forEach((r, i) => floats.set(r.row, i * this.width));
    await writeFile(`${pack}.f32.tmp`, data);
    await rename(`${pack}.f32.tmp`, `${pack}.f32`);
    await writeFile(`${pack}.keys.tmp`, rows.map((r) => `${r.key}\n`).join(''));
    await rename(`${pack}.keys.tmp`, `${pack}.keys`);
    rows.forEach((r, row) => {
      if (!this.index.has(r.key)) this.index.set(r.key, { pack, row });
    });
  }

  /** The rows of `keys` (all written: call flush first), read from the packs as they are asked for. */
  rows(keys: readonly string[]): FeatureRows {
    const where = keys.map((k) => {
      const at = this.index.get(k);
      if (!at) throw new Error(`activation ${k} is not in the cache ${this.dir}`);
      return at;
    });
    const width = this.width;
    const rowBytes = width * 4;
    return {
      length: keys.length,
      width,
      read(ids) {
        const out = new Float32Array(ids.length * width);
        const bytes = new Uint8Array(out.buffer);
        // Sorted by pack, then row: each pack is opened once per batch and read front to back.
        const order = ids
          .map((id, i) => ({ at: where[id]!, i }))
          .sort((a, b) => (a.at.pack === b.at.pack ? a.at.row - b.at.row : a.at.pack < b.at.pack ? -1 : 1));
        let fd = -1;
        let open = '';
        try {
          for (const { at, i } of order) {
            if (at.pack !== open) {
              if (fd >= 0) closeSync(fd);
              fd = -1;
              fd = openSync(`${at.pack}.f32`, 'r');
              open = at.pack;
            }
            // Page-cache reads of a few KB: synchronous is faster than a thread-pool round trip per row.
            const n = readSync(fd, bytes, i * rowBytes, rowBytes, at.row * rowBytes);
            if (n !== rowBytes) throw new Error(`${at.pack}.f32 is shorter than its keys: delete ${at.pack}.*`);
          }
        } finally {
          if (fd >= 0) closeSync(fd);
        }
        return out;
      },
    };
  }
}
