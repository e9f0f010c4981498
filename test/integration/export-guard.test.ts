/**
 * Destructive actions refuse what is not theirs (issue 22), on two real head runs trained by the real CLI: `finetune
 * export --force` and the app's `model.export` with force replace only an earlier export, never a dataset folder, a
 * run folder, the home or a folder holding one (reached through a link or `..` too); the app puts a relative outDir
 * under the exports folder, not its working directory; `finetune runs rm` refuses a run folder that is a link.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { makeShapeDataset } from '../helpers/images';
import { cliWorkspace, finetune, lastJson } from '../helpers/cli';
import { StudioService } from '../../src-main/app/service';

const { work, home, data, env } = cliWorkspace('ft-export-guard-');
await makeShapeDataset(data, { perClass: 4, size: 32, seed: 3 });

function train(): string {
  const r = finetune(
    ['train', data, '--steps', 'head', '--epochs', '1', '--size', '32', '--batch-size', '8', '--json'],
    env,
  );
  assert.equal(r.status, 0, r.stderr);
  return String(lastJson<{ runId: number }>(r).runId);
}
const other = train();
const runId = train();
const runDir = (id: string) => join(home, 'runs', id);

/** Every file below `dir` (links not followed) with its sha256: equal before and after means untouched. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = e.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'link';
    }
  };
  walk(dir);
  return out;
}

/** `finetune export RUN --out OUT --force` is refused (exit 2, `why` in the message) and `kept` is untouched. */
function refusedCli(out: string, why: RegExp, kept: string) {
  const before = tree(kept);
  const r = finetune(['export', runId, '--out', out, '--force'], env);
  assert.equal(r.status, 2, `exit 2 for ${out}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, why);
  assert.deepEqual(tree(kept), before, `${kept} untouched`);
}

test('--force over the dataset folder, directly, through a link or with ..: refused, every image kept', () => {
  const images = Object.keys(tree(data)).length;
  assert.equal(images, 12);
  refusedCli(data, /is a dataset folder a run was trained on/, data);
  refusedCli(join(data, 'circles', '..'), /is a dataset folder/, data);
  symlinkSync(work, join(work, 'alias'));
  refusedCli(join(work, 'alias', 'shapes'), /is a dataset folder/, data);
  assert.equal(Object.keys(tree(data)).length, images);
});

test("--force over another run's folder, the runs folder, the home or a folder holding them: refused", () => {
  refusedCli(runDir(other), /inside the run folders/, runDir(other));
  refusedCli(join(runDir(runId), '..', other), /inside the run folders/, runDir(other));
  refusedCli(join(home, 'runs'), /: it holds /, join(home, 'runs'));
  refusedCli(home, /is the app's home folder/, home);
  refusedCli(work, /holds the app's home folder/, home);
  const listed = lastJson<Array<{ id: number }>>(finetune(['runs', '--json'], env));
  assert.deepEqual(listed.map((r) => r.id).sort(), [Number(other), Number(runId)]);
});

test('--force over a folder that is not an earlier export: refused; over an earlier export: replaced', () => {
  const mine = join(work, 'mine');
  mkdirSync(mine);
  writeFileSync(join(mine, 'notes.txt'), 'keep me');
  refusedCli(mine, /is not an earlier export: it is never replaced, even with --force/, mine);
  const earlier = join(work, 'earlier');
  assert.equal(finetune(['export', other, '--out', earlier], env).status, 0);
  const r = finetune(['export', runId, '--out', earlier, '--force', '--json'], env);
  assert.equal(r.status, 0, r.stderr);
  const meta = JSON.parse(readFileSync(join(earlier, 'metadata.json'), 'utf8')) as { runId: number };
  assert.equal(meta.runId, Number(runId), 'replaced by the new export');
});

test('the app: force over the dataset is refused; a relative outDir goes under the exports folder, not the cwd', async () => {
  const service = new StudioService({ home, backend: 'cpu', mode: 'headless' });
  const cwd = process.cwd();
  const elsewhere = join(work, 'server-cwd');
  mkdirSync(elsewhere);
  try {
    const before = tree(data);
    await assert.rejects(
      service.handle('model.export', { runId: Number(runId), outDir: data, force: true }),
      /is a dataset folder a run was trained on/,
    );
    assert.deepEqual(tree(data), before);
    process.chdir(elsewhere);
    const r = (await service.handle('model.export', { runId: Number(runId), outDir: 'rel-out' })) as { dir: string };
    assert.equal(r.dir, join(home, 'exports', 'rel-out'));
    assert.ok(existsSync(join(home, 'exports', 'rel-out', 'metadata.json')));
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing written in the working directory');
  } finally {
    process.chdir(cwd);
    service.close();
  }
});

test('runs rm: a run folder that is a link is refused, the link and what it points to kept', () => {
  const moved = join(work, 'moved-run');
  renameSync(runDir(other), moved);
  symlinkSync(moved, runDir(other));
  const before = tree(moved);
  const r = finetune(['runs', 'rm', other, '--yes'], env);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /is a link \(to .*moved-run\), not the run's own folder: nothing was deleted/);
  assert.ok(lstatSync(runDir(other)).isSymbolicLink(), 'the link is still there');
  assert.deepEqual(tree(moved), before);
  const listed = lastJson<Array<{ id: number }>>(finetune(['runs', '--json'], env));
  assert.ok(
    listed.some((x) => x.id === Number(other)),
    'the run is still listed',
  );
  // A plain run folder is deleted as before.
  const ok = finetune(['runs', 'rm', runId, '--yes'], env);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(!existsSync(runDir(runId)));
});
