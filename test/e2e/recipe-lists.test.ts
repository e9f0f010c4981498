/**
 * The recipe's lists (SelectField) in the real renderer (Chromium) against the real headless server, before any run:
 * mixup/cutmix with its α (kept across a switch of kind), SWA and progressive resizing on step 8, and the range
 * test's curve on step 2 (shared with step 7); each choice is still there after leaving the page and coming back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { openWizard } from '../helpers/browser';

async function optionValues(select: Locator): Promise<string[]> {
  return select.locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
}

/** Leaves the page for step 1 and opens `step` again: what the list shows then comes from the recipe's settings. */
async function reopen(page: Page, step: string): Promise<void> {
  await page.getByTestId('step-1').click();
  await page.getByTestId(step).click();
}

test('recipe lists: mix and its α, SWA, progressive sizes, the range test curve', async (t) => {
  const { page, pageErrors } = await openWizard(t, { perClass: 8, seed: 21 });

  await page.getByTestId('step-4').click();
  const mix = page.getByTestId('recipe-mix-select');
  const alpha = page.getByTestId('recipe-mix-alpha-input');
  assert.deepEqual(await optionValues(mix), ['none', 'mixup', 'cutmix']);
  assert.equal(await mix.inputValue(), 'none');
  assert.equal(await mix.getAttribute('aria-describedby'), 'r-mix-help');
  assert.equal(await alpha.count(), 0, 'no α without a kind');
  await mix.selectOption('mixup');
  assert.equal(await alpha.inputValue(), '0.4', "fastai's mixup α");
  await alpha.fill('0.7');
  await mix.selectOption('cutmix');
  assert.equal(await alpha.inputValue(), '0.7', 'the typed α survives a switch of kind');
  await reopen(page, 'step-4');
  assert.equal(await mix.inputValue(), 'cutmix');
  await mix.selectOption('none');
  assert.equal(await alpha.count(), 0);

  await page.getByTestId('step-8').click();
  const swa = page.getByTestId('recipe-swa-select');
  const swaValues = await optionValues(swa);
  assert.equal(swaValues[0], 'null', 'off first');
  await swa.selectOption(swaValues[1]!);
  const progressive = page.getByTestId('recipe-progressive-select');
  const sizes = await optionValues(progressive);
  assert.equal(sizes[0], '', 'off first');
  assert.ok(sizes.length > 1, `sizes offered: ${sizes.join(' | ')}`);
  await progressive.selectOption(sizes[1]!);
  await reopen(page, 'step-8');
  assert.equal(await swa.inputValue(), swaValues[1]);
  assert.equal(await progressive.inputValue(), sizes[1]);

  await page.getByTestId('step-2').click();
  const curve = page.getByTestId('recipe-lrfind-on-select');
  assert.deepEqual(await optionValues(curve), ['train', 'valid']);
  assert.equal(await curve.inputValue(), 'train');
  await curve.selectOption('valid');
  await page.getByTestId('step-7').click();
  assert.equal(await curve.inputValue(), 'valid', 'one setting for both range tests');

  assert.deepEqual(pageErrors, []);
});
