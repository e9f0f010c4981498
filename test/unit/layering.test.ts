/**
 * The layers hold (docs/architecture.md): src-main/core imports nothing from the app, CLI, server, worker or Electron
 * entry points, and no module imports itself back through a chain (no cycles) in src-main, src-shared and the renderer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const SOURCES = ['src-main', 'src-shared', 'src-renderer/src'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : files(path);
    return /\.(ts|svelte)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports of a module (static `import`/`export … from` and dynamic `import()`), resolved to files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.flatMap((spec) => {
    const base = resolve(dirname(file), spec);
    const found = [base, `${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p) && statSync(p).isFile());
    return found ? [found] : [];
  });
}

const all = SOURCES.flatMap((d) => files(join(ROOT, d)));
const graph = new Map(all.map((f) => [f, importsOf(f)]));
const rel = (f: string) => relative(ROOT, f);

test('src-main/core imports nothing from app/, cli/, server/, worker/, ipc/ or the Electron entry points', () => {
  const upper = /^src-main\/(app|cli|server|worker|ipc)\/|^src-main\/[^/]+\.ts$|^src-renderer\//;
  const bad = [...graph]
    .filter(([f]) => rel(f).startsWith('src-main/core/'))
    .flatMap(([f, deps]) => deps.filter((d) => upper.test(rel(d))).map((d) => `${rel(f)} -> ${rel(d)}`));
  assert.deepEqual(bad, []);
  assert.ok(graph.size > 100, `only ${graph.size} modules found: the walk is broken`);
});

test('no import cycles', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map(rel).join(' -> '));
      return;
    }
    state.set(f, 'open');
    for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});
