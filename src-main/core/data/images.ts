/**
 * Image decoding for training and prediction. One function, used by both, so the preprocessing
 * the backbone expects is applied identically everywhere:
 *   decode → orient by EXIF → sRGB, 3 channels (alpha flattened on white) → resize (shorter side to `size`,
 *   centre crop to size×size, bilinear) → float32 in [0, 1] (x / 255), NHWC.
 */
import sharp from 'sharp';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff'] as const;

/** Refuse decompression bombs: 100 megapixels is larger than any camera photo people train on. */
export const MAX_INPUT_PIXELS = 100_000_000;

export const PREPROCESSING_NOTE =
  'RGB, EXIF-oriented, shorter side resized to the input size with bilinear filtering, centre-cropped square, pixels scaled to [0, 1] (x / 255).';

export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

function pipeline(file: string | Buffer, size: number): ReturnType<typeof sharp> {
  return sharp(file, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', animated: false })
    .rotate()
    .flatten({ background: { r: 255, g: 255, b: 255 } })
    .toColourspace('srgb')
    .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'linear' })
    .removeAlpha();
}

/** RGB bytes, size×size×3, in row-major HWC order. Throws with a readable reason on corrupt input. */
export async function decodeRgb(file: string | Buffer, size: number): Promise<Uint8Array> {
  const { data, info } = await pipeline(file, size).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`unexpected decoded shape ${info.width}x${info.height}x${info.channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Scale bytes to [0,1] floats: the input the backbone was trained with. */
export function toUnitFloat(rgb: Uint8Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i]! / 255;
  return out;
}

/** A small JPEG data URL for the dataset summary. */
export async function thumbnailDataUrl(file: string, size = 96): Promise<string> {
  const buf = await pipeline(file, size).jpeg({ quality: 80 }).toBuffer();
  return `data:image/jpeg;base64,${buf.toString('base64')}`;
}

/** Turn sharp/libvips errors into a short reason a person understands. */
export function describeImageError(err: unknown): string {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
  if (/pixel limit/i.test(msg)) return `image too large (over ${MAX_INPUT_PIXELS / 1e6} megapixels); downscale it`;
  if (/unsupported image format/i.test(msg)) return 'not a readable image (unknown or corrupt format)';
  return `corrupt or truncated image (${msg || 'decoder error'})`;
}
