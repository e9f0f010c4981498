import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBackendChoice } from '../../src-main/core/settings';

test('backend: --backend flag, then FINETUNE_BACKEND, then HOME/settings.json, then auto', () => {
  const home = mkdtempSync(join(tmpdir(), 'ft-settings-'));
  const saved = process.env.FINETUNE_BACKEND;
  delete process.env.FINETUNE_BACKEND;
  try {
    assert.equal(resolveBackendChoice(undefined, home), 'auto');
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ backend: 'cpu' }));
    assert.equal(resolveBackendChoice(undefined, home), 'cpu');
    process.env.FINETUNE_BACKEND = 'wasm';
    assert.equal(resolveBackendChoice(undefined, home), 'wasm');
    assert.equal(resolveBackendChoice('tensorflow', home), 'tensorflow');
    assert.throws(() => resolveBackendChoice('quantum', home), /Unknown backend "quantum"/);
    delete process.env.FINETUNE_BACKEND;
    writeFileSync(join(home, 'settings.json'), '{ not json');
    assert.throws(() => resolveBackendChoice(undefined, home), /settings\.json is not valid JSON.*Fix it or delete it/);
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ backend: 3 }));
    assert.throws(
      () => resolveBackendChoice(undefined, home),
      /settings\.json does not have the expected content \(backend: .*\)\. Fix it or delete it/,
    );
  } finally {
    if (saved === undefined) delete process.env.FINETUNE_BACKEND;
    else process.env.FINETUNE_BACKEND = saved;
  }
});
