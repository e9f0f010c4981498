// `npm run app`: install what is missing, build, and start Finetune Studio. Electron where it can start;
// otherwise (no Electron binary, no display) the headless server, whose URL is printed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installDeps, must, root, run } from './lib.mjs';

installDeps();
must('npx', ['electron-vite', 'build']);

function electronBinary() {
  try {
    const pathFile = join(root, 'node_modules/electron/path.txt');
    if (!existsSync(pathFile)) return null;
    const bin = join(root, 'node_modules/electron/dist', readFileSync(pathFile, 'utf8').trim());
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

/** Runs Electron's own download; null when it worked, else its error in one line (not its stack trace). */
function downloadElectron() {
  console.log('Downloading the Electron binary...');
  const r = spawnSync('node', ['node_modules/electron/install.js'], { cwd: root, encoding: 'utf8' });
  if (r.status === 0) return null;
  const first = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').find((line) => line.trim() !== '');
  return first?.trim().replace(/^\w*Error: /, '') ?? `exit ${r.status}`;
}

let reason = null;
let bin = electronBinary();
let downloadError = null;
if (!bin && !process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  downloadError = downloadElectron();
  bin = electronBinary();
}
if (!bin)
  reason = downloadError
    ? `the Electron binary could not be downloaded: ${downloadError}`
    : 'the Electron binary is not installed';
else if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
  reason = 'there is no display';
else if (run('node', ['scripts/electron-native.mjs']) !== 0) reason = 'better-sqlite3 could not be built for Electron';

const extra = process.argv.slice(2);
if (!reason) {
  const r = spawnSync(bin, ['.', ...extra], { stdio: 'inherit', cwd: root });
  if (r.status === 0) process.exit(0);
  reason = `Electron exited with code ${r.status}`;
}
console.log(`\nElectron cannot start here (${reason}): starting the headless server instead.`);
must('node', ['bin/finetune.mjs', 'serve', ...extra]);
