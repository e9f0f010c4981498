/**
 * model.onnx run by onnxruntime-node on the CPU: the export's input `image` ([n, size, size, 3], NHWC in [0, 1]) in,
 * `probabilities` out. Imported when first needed: the native runtime loads only for ONNX predictions.
 */
import { ONNX_INPUT, ONNX_OUTPUT } from './onnx/onnxModel';

/** Runs a model on a batch: [n, size, size, 3] in [0, 1], flat → [n, classes] probabilities, flat. */
export interface Scorer {
  score(x: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

export async function loadOnnxScorer(path: string, size: number, classes: number): Promise<Scorer> {
  const ort = await import('onnxruntime-node');
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all' });
  } catch (err) {
    throw new Error(`Cannot load ${path} with ONNX Runtime: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return {
    async score(x, n) {
      const input = new ort.Tensor('float32', x, [n, size, size, 3]);
      const out = await session.run({ [ONNX_INPUT]: input });
      const probs = out[ONNX_OUTPUT];
      if (!probs || probs.data.length !== n * classes)
        throw new Error(`${path} gave no ${ONNX_OUTPUT} of ${classes} classes`);
      const data = new Float32Array(probs.data as Float32Array);
      input.dispose();
      probs.dispose();
      return data;
    },
    dispose: () => void session.release(),
  };
}
