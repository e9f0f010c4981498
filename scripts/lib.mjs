// Helpers for the set-up scripts. Plain Node, no dependencies: these run before `npm install`.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

export const root = new URL('..', import.meta.url).pathname;

export function run(cmd, args, opts = {}) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status ?? 1;
}

export function must(cmd, args, opts = {}) {
  const status = run(cmd, args, opts);
  if (status !== 0) {
    console.error(`Failed (exit ${status}): ${cmd} ${args.join(' ')}`);
    process.exit(status);
  }
}

export function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** node_modules is current when npm's own record of it is newer than the lockfile. */
export function depsInstalled() {
  const record = `${root}node_modules/.package-lock.json`;
  return existsSync(record) && statSync(record).mtimeMs >= statSync(`${root}package-lock.json`).mtimeMs;
}

export function installDeps() {
  if (depsInstalled()) return;
  // The Electron binary is fetched separately by `npm run app` (and skipped where it cannot download),
  // so that installing for tests and the CLI never depends on it. onnxruntime-node ships its CPU runtime in the
  // package; its postinstall would fetch the CUDA providers from nuget.org (Linux x64), which we never use.
  must('npm', ['ci', '--no-audit', '--no-fund'], {
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian packages the tests need: Chromium (browser end-to-end tests), Fashion-MNIST (real images), and ONNX's own
 * checker with Pillow and NumPy (the ONNX export's structural checks and its README's Python preprocessing).
 */
const APT_NEEDS = [
  { pkg: 'chromium', path: CHROMIUM, why: 'the end-to-end tests (or set CHROMIUM_PATH to a Chromium/Chrome binary)' },
  {
    pkg: 'dataset-fashion-mnist',
    path: process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist',
    why: 'the accuracy tests on real images (or set FASHION_MNIST_DIR to a folder with its four .gz files)',
  },
  { pkg: 'python3-onnx', path: '/usr/lib/python3/dist-packages/onnx', why: "the ONNX export's onnx.checker test" },
  { pkg: 'python3-pil', path: '/usr/lib/python3/dist-packages/PIL', why: "the export README's Python snippet test" },
];

export function ensureSystemPackages() {
  const missing = APT_NEEDS.filter((n) => !existsSync(n.path));
  if (missing.length === 0) return;
  if (process.getuid?.() === 0 && has('apt-get')) {
    must('apt-get', ['update', '-qq']);
    must('apt-get', ['install', '-y', '-qq', ...missing.map((n) => n.pkg)], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } else {
    for (const n of missing) {
      console.error(`${n.pkg} is needed for ${n.why}; not found at ${n.path}.`);
    }
    console.error(`Install: sudo apt-get install ${missing.map((n) => n.pkg).join(' ')}`);
    process.exit(1);
  }
}
