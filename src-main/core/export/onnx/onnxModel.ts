/**
 * model.onnx of an export: the whole classifier — or a snapshot ensemble, its members side by side and `Mean` of
 * their probabilities — as one ONNX graph (opset 13). Input `image`: float32 [batch, size, size, 3], NHWC, RGB in
 * [0, 1], the same tensor the TF.js model takes (preprocessing.json); a Transpose makes it NCHW for the convolutions.
 * Output `probabilities`: float32 [batch, classes] in labels.json's order. The labels and the preprocessing are in the
 * model's metadata_props too, so model.onnx alone is enough to use it.
 */
import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../preprocessing';
import { addClassifier } from './classifierGraph';
import { ONNX_OPSET, OnnxGraphBuilder } from './onnxGraph';

export const ONNX_FILE = 'model.onnx';
export const ONNX_INPUT = 'image';
export const ONNX_OUTPUT = 'probabilities';

/** What the export's metadata.json and README say about model.onnx. */
export interface OnnxDescription {
  file: string;
  opset: number;
  input: { name: string; dims: Array<string | number>; layout: 'NHWC'; dtype: 'float32' };
  output: { name: string; dims: Array<string | number>; dtype: 'float32' };
  combine: 'single model' | 'mean of the members’ probabilities';
  ops: string[];
}

export function onnxModel(
  members: tf.LayersModel[],
  m: { labels: string[]; preprocessing: Preprocessing; appVersion: string; runId: number },
): { bytes: Uint8Array; description: OnnxDescription } {
  const size = m.preprocessing.inputSize;
  const g = new OnnxGraphBuilder();
  const image = g.unique(ONNX_INPUT);
  const output = g.unique(ONNX_OUTPUT);
  const nchw = g.node('Transpose', [image], 'image_nchw', { perm: { ints: [0, 3, 1, 2] } });
  const probs = members.map((model, i) => addClassifier(g, model, nchw, members.length > 1 ? `member${i}/` : ''));
  // Mean also ends the single model: it names the output `probabilities` whatever the last layer was called.
  g.nodeTo('Mean', probs, output);
  const input = { name: image, dims: ['batch', size, size, 3] };
  const out = { name: output, dims: ['batch', m.labels.length] };
  const combine = members.length > 1 ? ('mean of the members’ probabilities' as const) : ('single model' as const);
  const bytes = g.encode({
    graphName: `finetune_run_${m.runId}`,
    input,
    output: out,
    producerVersion: m.appVersion,
    docString:
      `Image classifier exported by Finetune Studio ${m.appVersion} (run ${m.runId}). ` +
      `${m.preprocessing.description} Input ${ONNX_INPUT}: float32 [batch, ${size}, ${size}, 3] NHWC RGB in [0, 1]; ` +
      `output ${ONNX_OUTPUT}: [batch, ${m.labels.length}], the classes of metadata "labels" in order.`,
    metadata: {
      labels: JSON.stringify(m.labels),
      preprocessing: JSON.stringify(m.preprocessing),
      combine,
      runId: String(m.runId),
    },
  });
  const description: OnnxDescription = {
    file: ONNX_FILE,
    opset: ONNX_OPSET,
    input: { ...input, layout: 'NHWC', dtype: 'float32' },
    output: { ...out, dtype: 'float32' },
    combine,
    ops: g.opTypes(),
  };
  return { bytes, description };
}
