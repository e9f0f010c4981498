/**
 * Structural checks of an exported model.onnx, as far as they can run here: the model decoded with the official
 * onnx.proto (opset, IR version, every node's op in the declared opset, every input defined before use, every
 * initializer's bytes matching its dims), loaded by onnxruntime-node with graph optimizations all and disabled,
 * and, where a Python with the `onnx` package is found (Debian: python3-onnx), onnx.checker.check_model with
 * full_check (which runs strict shape inference).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { decodeOnnx } from '../../src-main/core/export/onnx/onnxGraph';

/**
 * The first version of each ai.onnx operator the export may write (onnx/docs/Operators.md): an op is in opset N when
 * it exists at a version <= N (none of these was removed since).
 */
const SINCE: Record<string, number> = {
  Add: 1,
  Clip: 1,
  Conv: 1,
  Flatten: 1,
  Gemm: 1,
  GlobalAveragePool: 1,
  Mean: 1,
  Mul: 1,
  Pad: 2,
  Relu: 1,
  Sigmoid: 1,
  Softmax: 1,
  Transpose: 1,
};

interface Decoded {
  irVersion: number;
  opsetImport: Array<{ domain?: string; version: number }>;
  graph: {
    node: Array<{ opType: string; input: string[]; output: string[] }>;
    initializer: Array<{ name: string; dims?: number[]; dataType: number; rawData: number[] }>;
    input: Array<{ name: string }>;
    output: Array<{ name: string }>;
  };
}

const BYTES = { 1: 4, 7: 8 } as Record<number, number>;

/** A Python that imports `modules`, or null: FINETUNE_PYTHON, python3, /usr/bin/python3. */
export function pythonWith(...modules: string[]): string | null {
  for (const py of [process.env.FINETUNE_PYTHON, 'python3', '/usr/bin/python3']) {
    if (!py) continue;
    const r = spawnSync(py, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

export async function checkOnnxFile(path: string, opset: number): Promise<{ onnxChecker: boolean }> {
  const bytes = readFileSync(path);
  const m = decodeOnnx(bytes) as unknown as Decoded;
  assert.equal(m.irVersion, 7);
  assert.deepEqual(
    m.opsetImport.map((o) => [o.domain ?? '', o.version]),
    [['', opset]],
  );
  const defined = new Set([...m.graph.input.map((i) => i.name), ...m.graph.initializer.map((i) => i.name)]);
  for (const init of m.graph.initializer) {
    const count = (init.dims ?? []).reduce((n, d) => n * d, 1);
    assert.equal(init.rawData.length, count * BYTES[init.dataType]!, `${init.name}: bytes for its dims`);
  }
  for (const node of m.graph.node) {
    const since = SINCE[node.opType];
    assert.ok(since !== undefined && since <= opset, `${node.opType} is in opset ${opset}`);
    for (const i of node.input) assert.ok(defined.has(i), `${node.opType} reads ${i} before it is defined`);
    for (const o of node.output) defined.add(o);
  }
  for (const o of m.graph.output) assert.ok(defined.has(o.name), `output ${o.name} is computed`);
  for (const level of ['all', 'disabled'] as const) {
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: level });
    assert.deepEqual(session.inputNames, ['image']);
    assert.deepEqual(session.outputNames, ['probabilities']);
    await session.release();
  }
  const py = pythonWith('onnx');
  if (!py) return { onnxChecker: false };
  const check = spawnSync(
    py,
    [
      '-c',
      'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); ' +
        'onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True); print("ok")',
      path,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(check.status, 0, `onnx.checker: ${check.stderr}`);
  return { onnxChecker: true };
}
