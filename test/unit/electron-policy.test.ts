/**
 * The Electron window's security settings, read under Node (Electron itself cannot start here): the options the entry
 * passes to BrowserWindow and the handlers it installs are plain exports of src-main/electronPolicy.ts, and the entry
 * is checked to use them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';
import * as policy from '../../src-main/electronPolicy';

const here = join(ROOT, 'out', 'main');
const prefs = policy.windowOptions(here, 'Finetune Studio').webPreferences!;

test('webPreferences: isolated, sandboxed, no Node, web security on, the preload as the only bridge', () => {
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInWorker, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.allowRunningInsecureContent, false);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.experimentalFeatures, false);
  assert.equal(prefs.preload, join(ROOT, 'out', 'preload', 'preload.cjs'), 'what electron-vite builds');
  // No remote module, no other switches: a new key must be added here on purpose.
  assert.ok(!('enableRemoteModule' in prefs));
  assert.deepEqual(Object.keys(prefs).sort(), [
    'allowRunningInsecureContent',
    'contextIsolation',
    'experimentalFeatures',
    'navigateOnDragDrop',
    'nodeIntegration',
    'nodeIntegrationInSubFrames',
    'nodeIntegrationInWorker',
    'preload',
    'sandbox',
    'spellcheck',
    'webSecurity',
    'webviewTag',
  ]);
});

test('window.open never opens an app window; https links go to the system browser, nothing else does', () => {
  for (const url of ['https://docs.fast.ai/', 'http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', ''])
    assert.deepEqual(policy.windowOpenPolicy(url), { action: 'deny', openExternally: url.startsWith('https://') }, url);
});

test('navigation is refused, whatever the target', () => {
  for (const url of ['https://evil.example/', 'file:///tmp/x.html', 'data:text/html,<p>x</p>'])
    assert.equal(policy.navigationAllowed(url), false, url);
});

test('permission requests and checks are refused', () => {
  for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
    let granted: boolean | undefined;
    policy.refusePermission(null, permission, (g) => (granted = g));
    assert.equal(granted, false, permission);
  }
  assert.equal(policy.permissionCheck(), false);
});

test('no remote content; IPC only from our own page', () => {
  assert.ok(policy.requestAllowed('file:///app/out/renderer/index.html', undefined));
  assert.ok(!policy.requestAllowed('https://cdn.example/lib.js', undefined));
  assert.ok(!policy.requestAllowed('http://localhost:5173/src/main.ts', undefined), 'no dev server in a build');
  assert.ok(policy.requestAllowed('http://localhost:5173/src/main.ts', 'http://localhost:5173'));
  assert.ok(!policy.requestAllowed('https://cdn.example/lib.js', ''));
  assert.ok(policy.trustedSender('file:///app/out/renderer/index.html', undefined));
  assert.ok(!policy.trustedSender('https://evil.example/', undefined));
  assert.ok(!policy.trustedSender(undefined, 'http://localhost:5173'));
  assert.ok(!policy.trustedSender('https://evil.example/', 'http://localhost:5173'));
  assert.match(policy.CSP, /default-src 'self'; script-src 'self';/);
  assert.doesNotMatch(policy.CSP, /unsafe-eval|https?:/);
});

test('the Electron entry uses these, and takes the single-instance and home locks', () => {
  const entry = readFileSync(join(ROOT, 'src-main', 'index.ts'), 'utf8');
  for (const use of [
    'new BrowserWindow(windowOptions(here, APP_NAME))',
    'windowOpenPolicy(url)',
    "on('will-navigate'",
    'setPermissionRequestHandler(refusePermission)',
    'setPermissionCheckHandler(permissionCheck)',
    'requestAllowed(details.url',
    'trustedSender(event.senderFrame?.url',
    'app.requestSingleInstanceLock()',
    "app.on('second-instance'",
    "acquireHomeLock(home, 'the app')",
  ])
    assert.ok(entry.includes(use), `src-main/index.ts: ${use}`);
  assert.doesNotMatch(entry, /webPreferences|nodeIntegration/, 'the options are only in electronPolicy.ts');
  assert.doesNotMatch(
    readFileSync(join(ROOT, 'src-main', 'electronPolicy.ts'), 'utf8'),
    /^import (?!type)[^;]*'electron'/m,
  );
});
