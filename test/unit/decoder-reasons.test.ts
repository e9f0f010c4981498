/**
 * The decoder's (libvips's) English errors become codes the app says in the user's language; its own words stay only
 * in the English reason (logs, the CLI), never in a text the renderer shows. Real damaged files, decoded by sharp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { englishText } from '../../src-shared/messages';
import { decodeRgba, englishReason, imageErrorMessage } from '../../src-main/core/data/images';

const square = sharp({ create: { width: 64, height: 64, channels: 3, background: '#c33' } });

async function reasonOf(bytes: Buffer) {
  const err = await decodeRgba(bytes).then(
    () => assert.fail('the damaged file decoded'),
    (e: unknown) => e,
  );
  return imageErrorMessage(err);
}

test('a cut-off PNG or GIF: truncated; a damaged header: corruptHeader; the detail only in the English reason', async () => {
  const png = await square.clone().png().toBuffer();
  const gif = await square.clone().gif().toBuffer();
  const cases: Array<[string, Buffer, string]> = [
    ['PNG cut in half', png.subarray(0, png.length >> 1), 'skip.truncated'],
    ['GIF cut in half', gif.subarray(0, gif.length >> 1), 'skip.truncated'],
    ['PNG cut inside its header', png.subarray(0, 20), 'skip.corruptHeader'],
  ];
  for (const [what, bytes, code] of cases) {
    const message = await reasonOf(bytes);
    assert.equal(message.code, code, what);
    const detail = message.params.detail;
    assert.equal(typeof detail, 'string', `${what}: libvips's words kept as the detail`);
    assert.ok(!englishText(message).includes(String(detail)), `${what}: the app's text leaves them out`);
    assert.ok(englishReason(message).endsWith(`[${String(detail)}]`), `${what}: the English reason keeps them`);
  }
});

test('an unknown decoder error: a plain corrupt-image code, with no placeholder for it', () => {
  const message = imageErrorMessage(new Error('VipsFoo: something odd happened'));
  assert.deepEqual(message, { code: 'skip.corrupt', params: { detail: 'VipsFoo: something odd happened' } });
  assert.doesNotMatch(englishText(message), /VipsFoo|\{\{/);
});
