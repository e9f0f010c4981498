/**
 * Class names are user text: a real head run on folders named like HTML, a Markdown link, and backticks with pipes,
 * exported by the real CLI. README.md and MODEL_CARD.md show each name as text (no HTML tag, link or image outside a
 * code span, a table row keeps its cells) and the text decodes back to the exact name; labels.json keeps it exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeShapeDataset } from '../helpers/images';
import { cliWorkspace, finetune, lastJson } from '../helpers/cli';

const NAMES = ['<img src=x onerror=alert(1)>', '[click](javascript:alert(1))', 'a`b``c|d *e* _f_'];

const { work, data, env } = cliWorkspace('ft-export-names-');
const shapes = join(work, 'shapes-plain');
await makeShapeDataset(shapes, { perClass: 4, size: 32, seed: 3 });
['circles', 'squares', 'stripes'].forEach((cls, i) =>
  cpSync(join(shapes, cls), join(data, NAMES[i]!), { recursive: true }),
);

/**
 * Markdown with fenced blocks and code spans cut (CommonMark: a backtick run no backslash escapes, closed by a run of
 * the same length).
 */
function outsideCode(md: string): string {
  return md.replace(/^```[\s\S]*?^```$/gm, '').replace(/(?<![\\`])(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '');
}

/** The text an escaped Markdown span stands for: backslash escapes and the entities mdText writes undone. */
function decode(md: string): string {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#124': '|' };
  return md.replace(/\\([!-/:-@[-`{-~])/g, '$1').replace(/&(amp|lt|gt|quot|#124);/g, (_, e: string) => entities[e]!);
}

/** A GFM table row's cells: split on pipes no backslash escapes. */
const cells = (row: string) => row.split(/(?<!\\)\|/).slice(1, -1);

test('hostile class names render as text in README.md and MODEL_CARD.md', () => {
  const train = finetune(
    ['train', data, '--steps', 'head', '--epochs', '1', '--size', '32', '--batch-size', '8', '--json'],
    env,
  );
  assert.equal(train.status, 0, train.stderr);
  const runId = String(lastJson<{ runId: number }>(train).runId);
  const out = join(work, 'export');
  const r = finetune(['export', runId, '--out', out], env);
  assert.equal(r.status, 0, r.stderr);
  const labels = JSON.parse(readFileSync(join(out, 'labels.json'), 'utf8')) as string[];
  assert.deepEqual([...labels].sort(), [...NAMES].sort(), 'labels.json exact');

  for (const file of ['README.md', 'MODEL_CARD.md']) {
    const md = readFileSync(join(out, file), 'utf8');
    // The README's one link of its own goes; any other link or image would come from a name.
    const prose = outsideCode(md).replace('[MODEL_CARD.md](MODEL_CARD.md)', '');
    assert.doesNotMatch(prose, /<img|<\/?[a-z][^>]*>/i, `${file}: no HTML tag outside code`);
    assert.doesNotMatch(prose, /(?<!\\)\]\(/, `${file}: no link or image`);
    const heading = md.split('\n')[0]!;
    const names = heading.replace(/^# (Model card: )?/, '').replace(/(: an image classifier)? \(run \d+\)$/, '');
    assert.deepEqual(names.split(' / ').map(decode), labels, `${file}: the heading shows the exact names`);
  }
  const card = readFileSync(join(out, 'MODEL_CARD.md'), 'utf8');
  const rows = card.split('\n').filter((l) => l.startsWith('| ') && cells(l).length > 0);
  const classRows = rows.filter((l) => /^\| (&lt;img|\\\[click|a\\`b)/.test(l));
  assert.equal(classRows.length, 3, `one table row per class:\n${rows.join('\n')}`);
  for (const row of classRows) {
    assert.equal(cells(row).length, 3, `class, train, valid: ${row}`);
    assert.ok(labels.includes(decode(cells(row)[0]!.trim())), `the exact name: ${row}`);
  }
});
