/**
 * Electron main process: one window, the StudioService behind typed IPC, the Electron security checklist on
 * (context isolation, sandbox, no node integration, CSP, no remote content, no navigation, no new windows).
 */
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC_EVENT_CHANNEL, requests } from '../src-shared/contract';
import { StudioService } from './app/service';
import { APP_NAME, resolveHome } from './core/paths';
import { resolveBackendChoice } from './core/settings';

const here = fileURLToPath(new URL('.', import.meta.url));
const argValue = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

app.setName(APP_NAME);
const home = resolveHome(argValue('home'));
app.setPath('userData', home);

/** better-sqlite3 compiled for Electron's ABI by scripts/electron-native.mjs (Node's build stays for the CLI). */
function sqliteBinding(): string | undefined {
  const path = join(here, '..', '..', '.electron-native', 'better_sqlite3.node');
  return existsSync(path) ? path : undefined;
}

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

async function createWindow(service: StudioService) {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    title: APP_NAME,
    icon: join(here, '..', '..', 'resources', 'icon.png'),
    webPreferences: {
      preload: join(here, '..', 'preload', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  const unsubscribe = service.onEvent((event, payload) => {
    if (!win.isDestroyed()) win.webContents.send(IPC_EVENT_CHANNEL, { event, payload });
  });
  win.on('closed', unsubscribe);
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadFile(join(here, '..', 'renderer', 'index.html'));
}

app.whenReady().then(async () => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  // No remote content: refuse every request that is not the app's own files (or the dev server).
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    const ok =
      details.url.startsWith('file://') ||
      details.url.startsWith('devtools://') ||
      details.url.startsWith('data:') ||
      (process.env.ELECTRON_RENDERER_URL !== undefined && details.url.startsWith(process.env.ELECTRON_RENDERER_URL));
    callback({ cancel: !ok });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, callback) => callback(false));

  const service = new StudioService({
    home,
    backend: resolveBackendChoice(argValue('backend'), home),
    mode: 'electron',
    sqliteBinding: sqliteBinding(),
    pickFolder: async () => {
      const r = await dialog.showOpenDialog({
        title: 'Choose a folder of labeled images',
        properties: ['openDirectory'],
      });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  });
  for (const method of Object.keys(requests)) {
    ipcMain.handle(`finetune:${method}`, async (event, params: unknown) => {
      // Only our own page may call in.
      if (!event.senderFrame?.url.startsWith('file://') && !process.env.ELECTRON_RENDERER_URL) {
        return { ok: false, error: 'Refused: unknown sender' };
      }
      try {
        return { ok: true, result: await service.handle(method, params) };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    });
  }
  await createWindow(service);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow(service);
  });
  app.on('before-quit', () => void service.close());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
