/**
 * Image decoding for training and prediction. One function, `decodeSquare`, used by training, evaluation and
 * `predict` (and, as source text, the export's web demo), so the preprocessing the backbone expects is applied
 * identically everywhere:
 *   decode → orient by EXIF → sRGB, alpha flattened on white → resize (shorter side to `size`, centre crop to
 *   size×size, bilinear: squareInput.ts) → float32 in [0, 1] (x / 255), NHWC.
 */
import { open } from 'node:fs/promises';
import sharp from 'sharp';
import { squareInput } from './squareInput';
import { Slots } from '../util/pool';
import { englishText, type Message } from '../../../src-shared/messages';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff'] as const;

/** Refuse decompression bombs: 100 megapixels is larger than any camera photo people train on. */
export const MAX_INPUT_PIXELS = 100_000_000;

/** Files are read whole before decoding; no photo in a training set is near this. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Formats decoded, checked on the content (not the name). SVG is refused: librsvg can load files a drawing refers
 * to, and a training photo is never a vector drawing. HEIF and the rest are not in the list of extensions either.
 */
const DECODED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff']);

/** A file that cannot be used, with a reason a person can act on (as a code: `skip.*`); the message names the file. */
export class ImageFileError extends Error {
  readonly reason: string;
  constructor(
    readonly file: string,
    readonly reasonMessage: Message,
  ) {
    const reason = englishText(reasonMessage);
    super(`${file}: ${reason}`);
    this.reason = reason;
  }
}

export const PREPROCESSING_NOTE =
  'RGB, EXIF-oriented, shorter side resized to the input size with bilinear filtering, centre-cropped square, pixels scaled to [0, 1] (x / 255).';

export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Why a file that is not an image by its extension is skipped, naming the fix for formats people do have. */
export function notAnImageReason(name: string): Message {
  const lower = name.toLowerCase();
  if (lower.endsWith('.svg')) return { code: 'skip.svg', params: {} };
  if (lower.endsWith('.bmp')) return { code: 'skip.bmp', params: {} };
  if (/\.(heic|heif|avif)$/.test(lower)) return { code: 'skip.heic', params: {} };
  return { code: 'skip.notAnImage', params: {} };
}

function pipeline(file: Buffer, size: number): ReturnType<typeof sharp> {
  return sharp(file, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', animated: false })
    .rotate()
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .toColourspace('srgb')
    .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'linear' })
    .removeAlpha();
}

/**
 * Image files open at once in this process, whatever reads them (scan, precompute, batches, thumbnails, predict):
 * far below macOS's default limit of 256 descriptors, which the process also needs for its own modules and sockets.
 */
export const IMAGE_FILE_SLOTS = new Slots(16);

/** The file's bytes; refuses empty and huge files before reading them. */
export function readImageFile(file: string): Promise<Buffer> {
  return IMAGE_FILE_SLOTS.run(async () => {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size === 0) throw new ImageFileError(file, { code: 'skip.empty', params: {} });
      if (size > MAX_FILE_BYTES) {
        throw new ImageFileError(file, { code: 'skip.fileTooLarge', params: { mib: MAX_FILE_BYTES / 2 ** 20 } });
      }
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  });
}

/** The format and pixel count from the header alone, so that a bomb is refused before anything is decoded. */
async function checkHeader(input: Buffer): Promise<void> {
  const meta = await sharp(input, { limitInputPixels: false }).metadata();
  if (meta.format === 'svg') {
    throw new Error('SVG drawings are not accepted (they can load other files); export it as PNG');
  }
  if (!DECODED_FORMATS.has(meta.format)) throw new Error(`unsupported image format (${meta.format})`);
  if (meta.width * meta.height > MAX_INPUT_PIXELS) {
    throw new Error(`pixel limit: ${meta.width}x${meta.height}`);
  }
}

async function readChecked(file: string | Buffer): Promise<Buffer> {
  const input = typeof file === 'string' ? await readImageFile(file) : file;
  await checkHeader(input);
  return input;
}

/** Read, check the header, then decode; a failure is an ImageFileError naming the file (for a path) with the reason. */
async function decodeWith<T>(file: string | Buffer, decode: (input: Buffer) => Promise<T>): Promise<T> {
  try {
    return await decode(await readChecked(file));
  } catch (err) {
    if (typeof file !== 'string' || err instanceof ImageFileError) throw err;
    throw new ImageFileError(file, imageErrorMessage(err));
  }
}

/**
 * RGB bytes, size×size×3, in row-major HWC order. Throws with a readable reason on corrupt input (an
 * ImageFileError naming the file when given a path).
 */
export async function decodeRgb(file: string | Buffer, size: number): Promise<Uint8Array> {
  const { data, info } = await decodeWith(file, (input) =>
    pipeline(input, size).raw().toBuffer({ resolveWithObject: true }),
  );
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`unexpected decoded shape ${info.width}x${info.height}x${info.channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A decoded image at full size: RGBA bytes, row-major, EXIF-oriented, sRGB (predict's input to squareInput.ts). */
export interface RgbaImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** The whole image as RGBA bytes, with the checks and messages of decodeRgb. */
export async function decodeRgba(file: string | Buffer): Promise<RgbaImage> {
  const { data, info } = await decodeWith(file, (input) =>
    sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', animated: false })
      .rotate()
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  if (info.channels !== 4 || data.byteLength !== info.width * info.height * 4) {
    throw new Error(`unexpected decoded shape ${info.width}x${info.height}x${info.channels}`);
  }
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/**
 * The model's input for one image, [size, size, 3] in [0, 1]: sharp decodes it at full size and squareInput.ts
 * resizes and crops it, for training (precompute, batches, augmentation) and for `predict` alike, and the web demo
 * runs the same squareInput. Throws like decodeRgb.
 */
export async function decodeSquare(file: string | Buffer, size: number): Promise<Float32Array> {
  const img = await decodeRgba(file);
  return squareInput(img.data, img.width, img.height, size);
}

/** Scale bytes to [0,1] floats: the input the backbone was trained with. */
export function toUnitFloat(rgb: Uint8Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i]! / 255;
  return out;
}

/** A small JPEG data URL for the dataset summary. */
export async function thumbnailDataUrl(file: string, size = 96): Promise<string> {
  const buf = await decodeWith(file, (input) => pipeline(input, size).jpeg({ quality: 80 }).toBuffer());
  return `data:image/jpeg;base64,${buf.toString('base64')}`;
}

/** A file listed by the scan that is no longer there. */
export const NOT_FOUND_REASON = englishText({ code: 'skip.notFound', params: {} });

/** Turn sharp/libvips errors into a short reason a person understands, as a code (`skip.*`). */
export function imageErrorMessage(err: unknown): Message {
  if (err instanceof ImageFileError) return err.reasonMessage;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const m = (c: Message['code'], params: Message['params'] = {}): Message => ({ code: c, params });
  if (code === 'ENOENT') return m('skip.notFound');
  if (code === 'EACCES' || code === 'EPERM') return m('skip.permission');
  if (code === 'EISDIR') return m('skip.isFolder');
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
  if (/^SVG /.test(msg)) return m('skip.svg');
  if (/pixel limit/i.test(msg)) return m('skip.tooManyPixels', { megapixels: MAX_INPUT_PIXELS / 1e6 });
  if (/unsupported image format/i.test(msg)) return m('skip.unknownFormat');
  return m(decoderReason(msg), msg && msg !== UNKNOWN_ERROR ? { detail: msg } : {});
}

/** What libvips says for a JPEG cut short: no words worth keeping. */
const UNKNOWN_ERROR = 'Unknown error';

/**
 * What libvips's own words mean, as a code: the app says the code in the user's language; the words stay in `detail`
 * for logs and the CLI (`englishReason`). libvips says "Unknown error" for a JPEG cut short.
 */
function decoderReason(msg: string): Message['code'] {
  if (!msg || msg === UNKNOWN_ERROR) return 'skip.truncated';
  if (
    /premature end|unexpected end|end of (stream|file|data)|truncat|read error|short read|not enough data/i.test(msg)
  ) {
    return 'skip.truncated';
  }
  if (/too small|bad extract area|invalid (width|height)|bad (image )?dimensions/i.test(msg)) return 'skip.tooSmall';
  if (/unsupported|not supported/i.test(msg)) return 'skip.unsupportedVariant';
  if (/corrupt header|unable to parse|bad (magic|signature)|not a \w+ file/i.test(msg)) return 'skip.corruptHeader';
  return 'skip.corrupt';
}

/** A reason in English with the decoder's (or the system's) own words where the code left them out: logs, the CLI. */
export function englishReason(message: Message): string {
  const text = englishText(message);
  const { detail } = message.params;
  return typeof detail === 'string' && detail && !text.includes(detail) ? `${text} [${detail}]` : text;
}

/** The English reason (logs, the CLI). */
export function describeImageError(err: unknown): string {
  return englishReason(imageErrorMessage(err));
}
