/**
 * The Electron window's security settings and handlers as plain data and functions (types only from electron, no
 * runtime import), so that a unit test under Node can read exactly what the Electron entry (index.ts) applies:
 * context isolation, sandbox, no Node integration, web security, a preload as the only bridge, no navigation, no new
 * windows (https links go to the system browser), every permission refused, no remote content, IPC only from our page.
 */
import { join } from 'node:path';
import type { BrowserWindowConstructorOptions } from 'electron';

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The BrowserWindow options; `here` is the built main process's folder (out/main). */
export function windowOptions(here: string, title: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 820,
    title,
    icon: join(here, '..', '..', 'resources', 'icon.png'),
    webPreferences: {
      preload: join(here, '..', 'preload', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

/** window.open and target=_blank: never a new app window; an https link opens in the system browser. */
export function windowOpenPolicy(url: string): { action: 'deny'; openExternally: boolean } {
  return { action: 'deny', openExternally: /^https:\/\//i.test(url) };
}

/** will-navigate / will-redirect: the page never leaves the app's own document. */
export function navigationAllowed(_url: string): boolean {
  return false;
}

/** Camera, microphone, notifications, geolocation, …: refused, all of them. */
export function refusePermission(
  _webContents: unknown,
  _permission: string,
  callback: (granted: boolean) => void,
): void {
  callback(false);
}

/** Synchronous permission checks: refused too. */
export function permissionCheck(): boolean {
  return false;
}

/** No remote content: only the app's files (and the dev server in development). */
export function requestAllowed(url: string, devServer: string | undefined): boolean {
  return (
    url.startsWith('file://') ||
    url.startsWith('devtools://') ||
    url.startsWith('data:') ||
    (devServer !== undefined && devServer !== '' && url.startsWith(devServer))
  );
}

/** IPC is answered only for our own page: a file:// frame (or the dev server's in development). */
export function trustedSender(frameUrl: string | undefined, devServer: string | undefined): boolean {
  if (!frameUrl) return false;
  return (
    frameUrl.startsWith('file://') || (devServer !== undefined && devServer !== '' && frameUrl.startsWith(devServer))
  );
}
