// Builds better-sqlite3 for Electron's ABI into .electron-native/, leaving node_modules built for Node
// (the CLI and the tests). The app passes this binary to better-sqlite3 as `nativeBinding`.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib.mjs';

const target = join(root, '.electron-native', 'better_sqlite3.node');
const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version;
const stamp = join(root, '.electron-native', 'electron-version');
if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === electronVersion) process.exit(0);

const work = join(root, '.electron-native', 'work');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'node_modules'), { recursive: true });
cpSync(join(root, 'node_modules/better-sqlite3'), join(work, 'node_modules/better-sqlite3'), { recursive: true });
const version = JSON.parse(readFileSync(join(work, 'node_modules/better-sqlite3/package.json'), 'utf8')).version;
writeFileSync(
  join(work, 'package.json'),
  JSON.stringify({ name: 'native', dependencies: { 'better-sqlite3': version } }),
);
console.log(`Building better-sqlite3 ${version} for Electron ${electronVersion}...`);
const { rebuild } = await import('@electron/rebuild');
await rebuild({ buildPath: work, electronVersion, onlyModules: ['better-sqlite3'], force: true });
copyFileSync(join(work, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), target);
writeFileSync(stamp, electronVersion);
rmSync(work, { recursive: true, force: true });
console.log(`Wrote ${target}`);
