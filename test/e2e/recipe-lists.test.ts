/**
 * The recipe's lists (SelectField) in the real renderer (Chromium) against the real headless server, before any run:
 * mixup/cutmix with its α (kept across a switch of kind), SWA and progressive resizing on step 8, and the range
 * test's curve on step 2 (shared with step 7); each choice is still there after leaving the page and coming back.
 * Under each option the options evaluation measured, the hint says what it measured (the numbers the CLI's help
 * shows, src-shared/recipe/measuredEffects.ts), in English and in Arabic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { openWizard, withoutIsolates } from '../helpers/browser';
import {
  MEASURED_EFFECTS,
  measuredEffect,
  signedPoints,
  type MeasuredOption,
} from '../../src-shared/recipe/measuredEffects';

/** The measured-effect line under a field: its option and verdict, and the delta it shows, or null when none. */
async function measuredUnder(field: Locator): Promise<{ option: string; verdict: string; text: string } | null> {
  const line = field.locator('xpath=ancestor::*[contains(@class, "field")][1]').getByTestId('measured-effect');
  if ((await line.count()) === 0) return null;
  return {
    option: (await line.getAttribute('data-option')) ?? '',
    verdict: (await line.getAttribute('data-verdict')) ?? '',
    text: await line.innerText(),
  };
}

async function assertMeasured(field: Locator, option: MeasuredOption): Promise<void> {
  const e = measuredEffect(option)!;
  const shown = await measuredUnder(field);
  assert.ok(shown, `no measured effect under the field for ${option}`);
  assert.equal(shown.option, option);
  assert.equal(shown.verdict, e.verdict);
  // 'same' says so in words; the others show the points.
  if (e.verdict !== 'same') assert.ok(shown.text.includes(e.delta), `${option}: "${shown.text}" lacks ${e.delta}`);
  else assert.match(shown.text, /the same accuracy as the defaults at each of \d seeds/);
  // Then the larger set's one-seed check, where it was run; nothing where it was not.
  const larger = MEASURED_EFFECTS.larger;
  const big = larger?.options[option];
  if (larger && big !== undefined)
    assert.ok(
      /\. On \d+ images/.test(withoutIsolates(shown.text)) &&
        withoutIsolates(shown.text).includes(
          `On ${10 * larger.perClass} images, one seed: ${signedPoints(big)} points.`,
        ),
      `${option}: "${shown.text}" lacks the larger set's ${signedPoints(big)}`,
    );
  else assert.doesNotMatch(shown.text, /one seed/);
}

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
  assert.equal(await measuredUnder(mix), null, 'nothing measured to say of the defaults');
  await mix.selectOption('mixup');
  await assertMeasured(mix, 'mixup');
  assert.equal(await alpha.inputValue(), '0.4', "fastai's mixup α");
  await alpha.fill('0.7');
  await mix.selectOption('cutmix');
  assert.equal(await alpha.inputValue(), '0.7', 'the typed α survives a switch of kind');
  await assertMeasured(mix, 'cutmix');
  assert.match((await measuredUnder(mix))!.text, /lower at each of 3 seeds\. It cost accuracy there\./);
  // The augmentation preset: the default says nothing; no augmentation and dihedral flips cost accuracy here.
  const preset = page.locator('#r-preset');
  const presetLine = page.locator('.field-static').filter({ has: preset }).getByTestId('measured-effect');
  assert.equal(await presetLine.count(), 0);
  await preset.selectOption('top-down');
  assert.equal(await presetLine.getAttribute('data-option'), 'dihedral');
  assert.ok((await presetLine.innerText()).includes(measuredEffect('dihedral')!.delta));
  await preset.selectOption('side-on');
  assert.equal(await presetLine.count(), 0);
  await reopen(page, 'step-4');
  assert.equal(await mix.inputValue(), 'cutmix');
  await mix.selectOption('none');
  assert.equal(await alpha.count(), 0);

  await page.getByTestId('step-8').click();
  const swa = page.getByTestId('recipe-swa-select');
  const swaValues = await optionValues(swa);
  assert.equal(swaValues[0], 'null', 'off first');
  assert.equal(await measuredUnder(swa), null);
  await swa.selectOption(swaValues[1]!);
  await assertMeasured(swa, 'swa');
  const progressive = page.getByTestId('recipe-progressive-select');
  const sizes = await optionValues(progressive);
  assert.equal(sizes[0], '', 'off first');
  assert.ok(sizes.length > 1, `sizes offered: ${sizes.join(' | ')}`);
  await progressive.selectOption(sizes[1]!);
  await assertMeasured(progressive, 'progressive');
  await reopen(page, 'step-8');
  assert.equal(await swa.inputValue(), swaValues[1]);
  assert.equal(await progressive.inputValue(), sizes[1]);

  await page.getByTestId('step-2').click();
  const curve = page.getByTestId('recipe-lrfind-on-select');
  assert.deepEqual(await optionValues(curve), ['train', 'valid']);
  assert.equal(await curve.inputValue(), 'train');
  await curve.selectOption('valid');
  await assertMeasured(curve, 'lrfind-valid');
  await page.getByTestId('step-7').click();
  assert.equal(await curve.inputValue(), 'valid', 'one setting for both range tests');

  // In Arabic: the same numbers, in Arabic words.
  await page.getByTestId('step-4').click();
  await mix.selectOption('cutmix');
  await page.getByTestId('language-select').selectOption('ar');
  const arabic = (await measuredUnder(mix))!;
  assert.equal(arabic.option, 'cutmix');
  assert.ok(arabic.text.includes(measuredEffect('cutmix')!.delta) && arabic.text.includes('خفّض الدقة'), arabic.text);
  const bigCutmix = MEASURED_EFFECTS.larger?.options.cutmix;
  if (bigCutmix !== undefined)
    assert.ok(
      withoutIsolates(arabic.text).includes(`ببذرة واحدة: ${signedPoints(bigCutmix)}`),
      `no larger-set line: ${arabic.text}`,
    );
  await page.getByTestId('language-select').selectOption('en');

  assert.deepEqual(pageErrors, []);
});
