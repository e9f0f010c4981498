/**
 * The export's web demo against `finetune predict`: index.html opened from disk (file://) in Debian's Chromium, a PNG
 * set on its file input, the label and probabilities read from the page's data- attributes and compared with
 * Predictor's to 1e-4. The PNGs need resizing and a centre crop, and one is semi-transparent, so that the shared
 * preprocessing (squareInput.ts) is what is compared, not a no-op.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { Predictor } from '../../src-main/core/export/predictor';
import { launchChromium } from './browser';
import { ROOT } from './cli';

interface PageResult {
  state: string;
  label: string;
  probabilities: Record<string, number>;
  /** The list items' labels and probabilities, in page order. */
  listed: Array<[string, number]>;
  status: string;
}

/** Two PNGs made from `source`: opaque 57×43, and 40×61 at 70 % opacity (flattened on white by both sides). */
async function testImages(source: string, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const opaque = join(dir, 'wide.png');
  const translucent = join(dir, 'tall-translucent.png');
  await sharp(source).resize(57, 43, { fit: 'fill' }).removeAlpha().png().toFile(opaque);
  await sharp(source).resize(40, 61, { fit: 'fill' }).removeAlpha().ensureAlpha(0.7).png().toFile(translucent);
  return [opaque, translucent];
}

export async function demoMatchesPredict(dirs: string[], source: string, work: string): Promise<void> {
  const images = await testImages(source, work);
  const browser = await launchChromium();
  try {
    for (const dir of dirs) {
      const predictor = await Predictor.load(dir);
      const expected = await predictor.predict(images);
      predictor.dispose();
      const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
      });
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('blob:')) errors.push(`network: ${r.url()}`);
      });
      await page.goto(pathToFileURL(join(dir, 'index.html')).href);
      await page.waitForSelector('#result:is([data-state="ready"], [data-state="error"])', { timeout: 60_000 });
      for (const [i, image] of images.entries()) {
        await page.setInputFiles('#image', image);
        await page.waitForSelector('#result:is([data-state="done"], [data-state="error"])', { timeout: 60_000 });
        const got = await page.evaluate((): PageResult => {
          const r = document.getElementById('result')!;
          return {
            state: r.dataset.state ?? '',
            label: r.dataset.label ?? '',
            probabilities: JSON.parse(r.dataset.probabilities ?? '{}') as Record<string, number>,
            listed: [...document.querySelectorAll<HTMLElement>('#probabilities li')].map((li) => [
              li.dataset.label ?? '',
              Number(li.dataset.probability),
            ]),
            status: document.getElementById('status')!.textContent ?? '',
          };
        });
        const want = expected[i]!;
        const where = `${dir}, ${image}`;
        assert.equal(got.state, 'done', `${where}: ${got.status}`);
        assert.equal(got.label, want.label, where);
        assert.deepEqual(Object.keys(got.probabilities), Object.keys(want.probabilities), where);
        for (const [label, p] of Object.entries(want.probabilities)) {
          const diff = Math.abs(got.probabilities[label]! - p);
          assert.ok(diff < 1e-4, `${where}: ${label} ${got.probabilities[label]} in the page, ${p} from predict`);
        }
        const listed = got.listed.map(([, p]) => p);
        assert.deepEqual(
          listed,
          [...listed].sort((a, b) => b - a),
          'most likely first',
        );
        assert.equal(got.listed[0]![0], got.label);
        // Reset, so that the next wait sees the next image's result and not this one.
        await page.evaluate(() => (document.getElementById('result')!.dataset.state = 'ready'));
      }
      const artifacts = join(ROOT, 'test', 'artifacts');
      mkdirSync(artifacts, { recursive: true });
      if (dir === dirs.at(-1)) await page.screenshot({ path: join(artifacts, 'export-demo.png'), fullPage: true });
      assert.deepEqual(errors, [], `${dir}: page errors`);
      await page.close();
    }
  } finally {
    await browser.close();
  }
}
