// Threaded tfjs-backend-wasm under Node. tfjs 4.22 turns threads off in Node (tfjs issue 3830) because emscripten's
// pthread pool starts its workers from `blob:` URLs, which Node's Worker refuses, and the worker then loads the main
// script from a Blob too. Here both scripts are written to real files in a private temporary folder:
//  - the worker script, with its "import the main script from urlOrBlob" line pointed at our file;
//  - the main script (the emscripten factory, from the same package, so it matches the .wasm).
// tfjs asks `URL.createObjectURL` for the worker's URL: while the backend starts, that call returns our file's path.
// Two more knobs: emscripten's logical-core count in Node is `os.cpus().length`, and tfjs halves it (assuming
// hyper-threads) and caps the XNNPACK pool by the result, so `os.cpus` reports twice the wanted count while the
// backend starts; and the running pthread workers are unref'd so that they never keep a process alive.
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The line of emscripten's worker script that imports the main script from a URL or a Blob. */
const IMPORT_MAIN =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

interface PthreadWorker {
  unref(): void;
}
interface WasmModuleWithThreads {
  PThread?: { runningWorkers: PthreadWorker[]; unusedWorkers: PthreadWorker[] };
}

let scriptDir: string | null = null;

/** Writes the two scripts once per process (a private 0700 folder, removed at exit); returns the worker's path. */
function threadScripts(): string {
  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const { wasmWorkerContents } = require(join(pkgDir, 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // tfjs stores the worker as a template literal: its "\n" escapes became real newlines; escape them back as tfjs does.
  const worker = wasmWorkerContents.replace(/\n/g, '\\n');
  if (!worker.includes(IMPORT_MAIN)) {
    throw new Error('this tfjs-backend-wasm version has a different worker script (threads need a new adapter)');
  }
  if (!scriptDir) {
    scriptDir = mkdtempSync(join(os.tmpdir(), 'finetune-wasm-'));
    const dir = scriptDir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const mainPath = join(scriptDir, 'main.js');
  const workerPath = join(scriptDir, 'worker.cjs');
  writeFileSync(mainPath, readFileSync(join(pkgDir, 'wasm-out/tfjs-backend-wasm-threaded-simd.js')));
  writeFileSync(workerPath, worker.replace(IMPORT_MAIN, `importScripts(${JSON.stringify(mainPath)});`));
  return workerPath;
}

/**
 * Runs `start` (which must call `tf.setBackend('wasm')` with the multithread flag set) with the patches that let the
 * threaded build start in Node, and removes them afterwards.
 */
export async function withThreadedWasmStart<T>(threads: number, start: () => Promise<T>): Promise<T> {
  const workerPath = threadScripts();
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = (obj: Blob) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerPath : createObjectURL(obj);
  const one = cpus()[0]!;
  os.cpus = () => Array.from({ length: 2 * threads }, () => one);
  try {
    return await start();
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
}

/** Lets the process exit while XNNPACK's pool threads wait for work (emscripten ref()s a worker when it runs). */
export function unrefPthreads(wasmModule: unknown): void {
  const pthread = (wasmModule as WasmModuleWithThreads).PThread;
  for (const w of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) w.unref();
}
