// Relaxed SIMD (WebAssembly's fused multiply-add, among others) is on by default from V8 11.4: Node 22, Electron 25.
// Node 20's V8 has it behind a flag, which can be set before the module is compiled.
import v8 from 'node:v8';

/** FINETUNE_WASM_RELAXED=0 keeps the plain SIMD build (to compare the two). */
const wanted = () => process.env.FINETUNE_WASM_RELAXED?.trim() !== '0';

/** `relaxedBuild` where this engine runs it (turning Node 20's flag on if needed), else null. */
export function relaxedSimd(relaxedBuild: Buffer<ArrayBuffer>): Buffer<ArrayBuffer> | null {
  if (!wanted()) return null;
  if (WebAssembly.validate(relaxedBuild)) return relaxedBuild;
  if (Number(process.versions.node?.split('.')[0]) === 20) {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (WebAssembly.validate(relaxedBuild)) return relaxedBuild;
  }
  return null;
}
