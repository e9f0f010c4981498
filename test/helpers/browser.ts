import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHeadless, type HeadlessServer } from '../../src-main/server/headless';
import { makeShapeDataset } from './images';
import { BACKEND_NAMES } from './backend';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian Chromium, headless, with the flags it needs as root on a machine without network. Playwright gives every
 * launch a fresh temporary profile (its own --user-data-dir).
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

export interface WizardSession {
  work: string;
  data: string;
  home: string;
  server: HeadlessServer;
  page: Page;
  /** Errors the page logged or threw; a test ends by asserting there were none. */
  pageErrors: string[];
}

/** A wizard on a fresh home: the real headless server and Debian Chromium, nothing chosen yet. */
export interface FreshWizard {
  work: string;
  home: string;
  server: HeadlessServer;
  page: Page;
  pageErrors: string[];
}

/**
 * The real headless server on a new home under a new temporary folder, and Debian Chromium on the wizard (light
 * theme, English) once the page knows its backend. Everything is closed when the test ends.
 */
export async function openFreshWizard(t: TestContext, opts: { height?: number } = {}): Promise<FreshWizard> {
  const work = mkdtempSync(join(tmpdir(), 'ft-e2e-'));
  const home = join(work, 'home');
  const server = await startHeadless({ home, backend: 'auto' });
  t.after(() => server.close());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: opts.height ?? 800 }, colorScheme: 'light' });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(server.url);
  // The header names the backend the page's own app.info got (asked for 'auto': the best one that loads here).
  // Asking the service from here as well would race the page's first call while the backend is still loading.
  await page.waitForFunction((names) => {
    const shown = document.querySelector('[data-testid="header-backend"]')?.textContent ?? '';
    return names.some((n) => shown.includes(n));
  }, BACKEND_NAMES);
  return { work, home, server, page, pageErrors };
}

/**
 * The common start of the browser tests: generated shape images, the real headless server, Debian Chromium on the
 * wizard, and step 1 done (the folder scanned). Everything is closed when the test ends.
 */
export async function openWizard(
  t: TestContext,
  opts: { perClass: number; seed: number; height?: number; withBadFiles?: boolean },
): Promise<WizardSession> {
  const fresh = await openFreshWizard(t, { height: opts.height });
  const data = join(fresh.work, 'shapes');
  await makeShapeDataset(data, { perClass: opts.perClass, seed: opts.seed, withBadFiles: opts.withBadFiles });
  const { page } = fresh;
  await page.getByTestId('folder-input').fill(data);
  await page.getByTestId('scan-button').click();
  await page.getByTestId('dataset-summary').waitFor();
  return { ...fresh, data };
}
