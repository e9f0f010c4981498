import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { writeFashionTrainSplit } from './fashion-mnist';
for (const n of [6000, 60000]) {
  const dir = join(tmpdir(), 'finetune-bench-scale', `fashion-${n}`);
  if (existsSync(join(dir, '.complete'))) continue;
  mkdirSync(dir, { recursive: true });
  await writeFashionTrainSplit(dir, n, 84);
  writeFileSync(join(dir, '.complete'), '');
  console.log('wrote', n, new Date().toISOString());
}
