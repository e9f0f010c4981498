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
 * Training decodes with sharp's own resize (images.ts: faster on large photos, and the feature cache holds its
 * results); both are antialiased linear filters and agree exactly when no resizing is needed.
 *
 * Self-contained on purpose: no imports, no nested functions (tsx's keepNames would wrap them in a helper the page
 * lacks). test/unit/square-input.test.ts runs the source text on its own.
 */
export function squareInput(rgba: ArrayLike<number>, width: number, height: number, size: number): Float32Array {
  const side = Math.min(width, height);
  // Taps per output pixel, at most: the radius on either side (an axis's scale can exceed side/size by rounding).
  const span = 2 * Math.ceil(Math.max(1, side / size)) + 5;
  // Per axis (x, then y): each output index's first source index and its normalised weights.
  const firsts: Int32Array[] = [];
  const weights: Float64Array[] = [];
  for (const length of [width, height]) {
    // As sharp's fit 'cover': the shorter side to `size`, the other in proportion, then a centred crop.
    const resized = Math.max(size, Math.round((length * size) / side));
    const crop = Math.round((resized - size) / 2);
    const scale = length / resized;
    const radius = Math.max(1, scale);
    const first = new Int32Array(size);
    const w = new Float64Array(size * span);
    for (let i = 0; i < size; i++) {
      const centre = (i + crop + 0.5) * scale;
      const lo = Math.max(0, Math.floor(centre - radius));
      const hi = Math.min(length - 1, Math.ceil(centre + radius), lo + span - 1);
      first[i] = lo;
      let sum = 0;
      for (let j = lo; j <= hi; j++) {
        const v = Math.max(0, 1 - Math.abs(j + 0.5 - centre) / radius);
        w[i * span + j - lo] = v;
        sum += v;
      }
      for (let k = 0; k < span; k++) w[i * span + k] = w[i * span + k]! / sum;
    }
    firsts.push(first);
    weights.push(w);
  }
  const [fx, fy] = firsts as [Int32Array, Int32Array];
  const [wx, wy] = weights as [Float64Array, Float64Array];
  // Along x: every row of the image, size columns, 3 channels.
  const rows = new Float64Array(height * size * 3);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < size; i++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < span; k++) {
        const wk = wx[i * span + k]!;
        const x = fx[i]! + k;
        if (wk === 0 || x >= width) continue;
        const p = (y * width + x) * 4;
        const a = rgba[p + 3]!;
        const white = 255 - a;
        r += wk * (a === 255 ? rgba[p]! : Math.round((rgba[p]! * a) / 255) + white);
        g += wk * (a === 255 ? rgba[p + 1]! : Math.round((rgba[p + 1]! * a) / 255) + white);
        b += wk * (a === 255 ? rgba[p + 2]! : Math.round((rgba[p + 2]! * a) / 255) + white);
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
    for (let i = 0; i < size; i++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < span; k++) {
          const wk = wy[j * span + k]!;
          const y = fy[j]! + k;
          if (wk !== 0 && y < height) v += wk * rows[(y * size + i) * 3 + c]!;
        }
        out[(j * size + i) * 3 + c] = Math.min(255, Math.max(0, Math.round(v))) / 255;
      }
    }
  }
  return out;
}
