/**
 * Hostile dataset folders, built on the fly from real image bytes (sharp) so that every case decodes, or fails to,
 * exactly as a user's file would.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { scanDataset, type LabeledDataset, type ScanOptions } from '../../src-main/core/data/dataset';

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export const RED: Rgb = { r: 220, g: 30, b: 30 };
export const BLUE: Rgb = { r: 20, g: 40, b: 210 };

export const tmp = () => mkdtempSync(join(tmpdir(), 'ft-hostile-'));

export function solid(width: number, height: number, colour: Rgb = RED) {
  return sharp({ create: { width, height, channels: 3, background: colour } });
}

export const png = (width = 24, height = 24, colour: Rgb = RED) => solid(width, height, colour).png().toBuffer();

/** A valid two-class folder (`cats`, `dogs`, `perClass` PNGs each) that each case adds one hostile thing to. */
export async function baseDataset(perClass = 3, classes: readonly string[] = ['cats', 'dogs']): Promise<string> {
  const dir = tmp();
  const bytes = await png();
  for (const cls of classes) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < perClass; i++) writeFileSync(join(dir, cls, `ok${i}.png`), bytes);
  }
  return dir;
}

/** Write `bytes` as cats/`name` in a base folder, scan it, and return the scan with that file's skip reason. */
export async function scanWithFile(
  name: string,
  bytes: Buffer | string,
  options: ScanOptions = {},
): Promise<{ dir: string; ds: LabeledDataset; reason: string | undefined }> {
  const dir = await baseDataset();
  writeFileSync(join(dir, 'cats', name), bytes);
  const ds = await scanDataset(dir, options);
  return { dir, ds, reason: ds.skipped.find((s) => s.file === join('cats', name))?.reason };
}

export const imageCount = (ds: LabeledDataset) => ds.train.length + ds.valid.length;

/** Pixel (x, y) of HWC RGB bytes `size` wide. */
export function pixel(rgb: Uint8Array, size: number, x: number, y: number): [number, number, number] {
  const i = (y * size + x) * 3;
  return [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
}

export function near(actual: readonly number[], expected: Rgb, tol: number, what: string) {
  const want = [expected.r, expected.g, expected.b];
  if (actual.some((v, i) => Math.abs(v - want[i]!) > tol)) {
    throw new Error(`${what}: got rgb(${actual.join(',')}), want rgb(${want.join(',')}) ± ${tol}`);
  }
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/**
 * A valid 1-bit grayscale PNG of `side`×`side` black pixels: tens of kilobytes on disk, side² pixels once decoded
 * (20000² = 400 megapixels, over a gigabyte as RGB).
 */
export function bombPng(side: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grayscale
  const rowBytes = 1 + Math.ceil(side / 8); // filter byte + packed bits, all zero
  const idat = deflateSync(Buffer.alloc(rowBytes * side), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
