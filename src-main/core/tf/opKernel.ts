// Kernels written with tfjs ops (our gradient stand-ins, the fused conv of a folded batch norm).
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

export type OpKernel = (inputs: Record<string, tf.Tensor4D>, attrs: NamedAttrMap) => tf.Tensor;

/**
 * Adapts an op-based computation to a kernel: the ops run on the active backend inside a tidy, and the result's data
 * is handed to the engine, which wraps the returned TensorInfo in its own tensor without taking a reference.
 */
export function opKernel(compute: OpKernel): KernelFunc {
  return ({ inputs, backend, attrs = {} }) => {
    const kernelBackend = backend as KernelBackend;
    const result = tf.tidy(() => {
      const named = Object.entries(inputs).filter((entry): entry is [string, TensorInfo] => entry[1] != null);
      return compute(Object.fromEntries(named.map(([name, info]) => [name, asTensor(info, kernelBackend)])), attrs);
    });
    kernelBackend.incRef(result.dataId); // the reference the returned TensorInfo owns
    result.dispose();
    return { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  };
}

/** A tidy-owned tensor view of a kernel input; its extra reference is dropped when the tidy disposes it. */
function asTensor(info: TensorInfo, backend: KernelBackend): tf.Tensor4D {
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend) as tf.Tensor4D;
}
