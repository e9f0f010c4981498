/**
 * The access token stays with the page that was given it (issue 22). Cookies are not scoped by port, and every
 * port on 127.0.0.1 is the same site, so a token in a cookie reached any page served from 127.0.0.1 (a
 * `python3 -m http.server` showing an exported demo, Jupyter, a dev server), and whoever got it could drive the API.
 * Here, in Chromium with the real renderer: the wizard connects, survives a reload and a visit without `?token=`
 * (the tab keeps it in sessionStorage); the browser holds no cookie; a second HTTP server on another loopback port,
 * visited in the same browser, receives nothing that carries the token, its page cannot open the WebSocket, and a
 * process replaying whatever that server received is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { BACKEND_NAMES } from '../helpers/backend';
import { connect } from '../helpers/bridgeClient';
import { startHeadless } from '../../src-main/server/headless';

/** The header shows a backend once the page's own app.info came back over the WebSocket. */
async function connected(page: Page): Promise<void> {
  await page.waitForFunction((names) => {
    const shown = document.querySelector('[data-testid="header-backend"]')?.textContent ?? '';
    return names.some((n) => shown.includes(n));
  }, BACKEND_NAMES);
}

/** The other port's page: it asks its own server for a few things and tries the studio's WebSocket without a token. */
const probePage = (studioPort: number) => `<!doctype html><title>another local page</title>
<script>
  window.probe = (async () => {
    await fetch('/from-page');
    await new Promise((done) => { const img = new Image(); img.onload = img.onerror = done; img.src = '/img'; });
    return await new Promise((done) => {
      const ws = new WebSocket('ws://127.0.0.1:${studioPort}/ws');
      ws.onopen = () => done('opened');
      ws.onerror = () => done('refused');
    });
  })();
</script>`;

test('the token reaches no other port on 127.0.0.1; the page keeps working after a reload', async (t) => {
  const home = join(mkdtempSync(join(tmpdir(), 'ft-e2e-token-')), 'home');
  const studio = await startHeadless({ home, backend: 'auto' });
  t.after(() => studio.close());

  const seen: IncomingHttpHeaders[] = [];
  const other = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'text/html' }).end(probePage(studio.port));
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    const closed = new Promise<void>((resolve) => other.close(() => resolve()));
    // Chromium may still hold a keep-alive connection (the browser closes later): close() alone would wait for it.
    other.closeAllConnections();
    return closed;
  });
  const otherPort = (other.address() as { port: number }).port;

  const browser = await launchChromium();
  t.after(() => browser.close());
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await page.goto(studio.url);
  await connected(page);
  await page.reload();
  await connected(page);
  // The same tab without the token in the address: it kept the token in its own origin's sessionStorage.
  await page.goto(`http://127.0.0.1:${studio.port}/`);
  await connected(page);

  const visitor = await context.newPage();
  await visitor.goto(`http://127.0.0.1:${otherPort}/`);
  assert.equal(await visitor.evaluate(() => (window as unknown as { probe: Promise<string> }).probe), 'refused');
  assert.ok(seen.length >= 3, `the other server saw the page, its fetch and its image (${seen.length} requests)`);
  for (const headers of seen) {
    assert.ok(!JSON.stringify(headers).includes(studio.token), `the other port received the token: ${headers.cookie}`);
  }
  // A process on the machine, replaying every header the other server received (without an Origin, as a script
  // would), still cannot open the studio's WebSocket.
  for (const { cookie } of seen.filter((h) => h.cookie)) {
    await assert.rejects(connect(`ws://127.0.0.1:${studio.port}/ws`, { cookie: cookie! }), /403/);
  }
  assert.deepEqual(await context.cookies(), [], 'the browser holds no cookie');
  assert.deepEqual(pageErrors, []);
});
