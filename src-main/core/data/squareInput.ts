/**
 * The model's input from decoded RGBA pixels, exactly specified so that two programs can compute the same numbers:
 * `finetune predict` (after sharp decodes the file at full size, predictor.ts) and the export's web demo (after the
 * browser decodes it, webDemo.ts), which gets this function's own source text.
 *
 *   1. alpha flattened on white, in 8 bits as a canvas composites: round(c·a/255) + 255 − a;
 *   2. as sharp's fit 'cover': each axis resized to round(length · size / min(width, height)) (the shorter one to
 *      size), then cropped to size from round((resized − size) / 2) (half up, as sharp);
 *   3. the resize a separable triangle (bilinear) filter of radius max(1, length/resized) source pixels
 *      (antialiased when shrinking, as PIL's BILINEAR), pixel centres at i + 0.5, taps outside the image dropped and
 *      the weights renormalised; one pass along x, then along y, in doubles;
 *   4. rounded to bytes and scaled to [0, 1] (x / 255), HWC RGB.
 *
 * Training computes its input with it too (images.ts decodeSquare), so a model sees the same pixels in training,
 * in `predict` and in the demo.
 *
 * Self-contained on purpose: no imports, no nested functions (tsx's keepNames would wrap them in a helper the page
 * lacks). test/unit/square-input.test.ts runs the source text on its own.
 */
export function squareInput(rgba: ArrayLike<number>, width: number, height: number, size: number): Float32Array {
  const side = Math.min(width, height);
  // Taps per output pixel, at most: the radius on either side (an axis's scale can exceed side/size by rounding).
  const span = 2 * Math.ceil(Math.max(1, side / size)) + 5;
  // Per axis (x, then y): each output index's first source index, its number of taps and their normalised weights.
  const firsts: Int32Array[] = [];
  const counts: Int32Array[] = [];
  const weights: Float64Array[] = [];
  for (const length of [width, height]) {
    // As sharp's fit 'cover': the shorter side to `size`, the other in proportion, then a centred crop.
    const resized = Math.max(size, Math.round((length * size) / side));
    const crop = Math.round((resized - size) / 2);
    const scale = length / resized;
    const radius = Math.max(1, scale);
    const first = new Int32Array(size);
    const count = new Int32Array(size);
    const w = new Float64Array(size * span);
    for (let i = 0; i < size; i++) {
      const centre = (i + crop + 0.5) * scale;
      const lo = Math.max(0, Math.floor(centre - radius));
      const hi = Math.min(length - 1, Math.ceil(centre + radius), lo + span - 1);
      first[i] = lo;
      count[i] = hi - lo + 1;
      let sum = 0;
      for (let j = lo; j <= hi; j++) {
        const v = Math.max(0, 1 - Math.abs(j + 0.5 - centre) / radius);
        w[i * span + j - lo] = v;
        sum += v;
      }
      for (let k = 0; k < span; k++) w[i * span + k] = w[i * span + k]! / sum;
    }
    firsts.push(first);
    counts.push(count);
    weights.push(w);
  }
  const [fx, fy] = firsts as [Int32Array, Int32Array];
  const [nx, ny] = counts as [Int32Array, Int32Array];
  const [wx, wy] = weights as [Float64Array, Float64Array];
  // Along x: the rows the y pass reads (the crop's, with their taps), size columns, 3 channels. Only the taps within
  // the image are visited; a zero weight adds nothing, so the sums are those of the full kernel.
  const rows = new Float64Array(height * size * 3);
  const yEnd = fy[size - 1]! + ny[size - 1]!;
  for (let y = fy[0]!; y < yEnd; y++) {
    for (let i = 0; i < size; i++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const n = nx[i]!;
      for (let k = 0; k < n; k++) {
        const wk = wx[i * span + k]!;
        const p = (y * width + fx[i]! + k) * 4;
        const a = rgba[p + 3]!;
        if (a === 255) {
          r += wk * rgba[p]!;
          g += wk * rgba[p + 1]!;
          b += wk * rgba[p + 2]!;
        } else {
          const white = 255 - a;
          r += wk * (Math.round((rgba[p]! * a) / 255) + white);
          g += wk * (Math.round((rgba[p + 1]! * a) / 255) + white);
          b += wk * (Math.round((rgba[p + 2]! * a) / 255) + white);
        }
      }
      const q = (y * size + i) * 3;
      rows[q] = r;
      rows[q + 1] = g;
      rows[q + 2] = b;
    }
  }
  // Along y, then to bytes and [0, 1].
  const out = new Float32Array(size * size * 3);
  for (let j = 0; j < size; j++) {
    const n = ny[j]!;
    for (let i = 0; i < size; i++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < n; k++) v += wy[j * span + k]! * rows[((fy[j]! + k) * size + i) * 3 + c]!;
        out[(j * size + i) * 3 + c] = Math.min(255, Math.max(0, Math.round(v))) / 255;
      }
    }
  }
  return out;
}
