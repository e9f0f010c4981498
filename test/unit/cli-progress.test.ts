import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ProgressLine, formatEta, progressBar } from '../../src-main/cli/progress';

function capture(tty: boolean) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  const line = new ProgressLine(stream as unknown as NodeJS.WriteStream, tty);
  return { line, text: () => text };
}

test('a terminal gets one redrawn bar with the time left; logs get plain lines', () => {
  assert.equal(progressBar(0.5, 10), '[#####.....]');
  assert.equal(formatEta(75), '1 min 15 s left');
  assert.equal(formatEta(null), '');

  const tty = capture(true);
  tty.line.update({ label: 'Training the head', done: 5, total: 20, etaSeconds: 12 });
  tty.line.log('epoch 1  train loss 0.5');
  const CLEAR = '\r\u001b[2K';
  assert.ok(
    tty.text().startsWith(`${CLEAR}[######..................] 25% Training the head 5/20 · 12 s left`),
    tty.text(),
  );
  assert.ok(tty.text().endsWith(`${CLEAR}epoch 1  train loss 0.5\n`), tty.text());

  const plain = capture(false);
  plain.line.update({ label: 'Precomputing activations', done: 1, total: 3 });
  plain.line.update({ label: 'Precomputing activations', done: 2, total: 3 });
  plain.line.update({ label: 'Precomputing activations', done: 3, total: 3 });
  assert.equal(plain.text(), 'Precomputing activations 1/3\nPrecomputing activations 3/3\n');
  assert.ok(!plain.text().includes('\u001b'), 'no terminal escapes in logs');
});
