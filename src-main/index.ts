/**
 * Electron main process: one window, the StudioService behind typed IPC, the Electron security checklist on
 * (context isolation, sandbox, no node integration, CSP, no remote content, no navigation, no new windows).
 */
import { app, BrowserWindow, dialog, ipcMain, Notification, session, shell } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorReply, IPC_EVENT_CHANNEL, requests } from '../src-shared/contract';
import { StudioService } from './app/service';
import { APP_NAME, resolveHome } from './core/paths';
import { resolveBackendChoice } from './core/settings';
import { acquireHomeLock, HomeLockedError } from './core/homeLock';
import { taskbarUpdate } from './taskbar';
import {
  CSP,
  navigationAllowed,
  permissionCheck,
  refusePermission,
  requestAllowed,
  trustedSender,
  windowOpenPolicy,
  windowOptions,
} from './electronPolicy';

const here = fileURLToPath(new URL('.', import.meta.url));
const argValue = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

app.setName(APP_NAME);
const home = resolveHome(argValue('home'));
app.setPath('userData', home);
// One app per home (Electron's lock lives in userData): a second start focuses the first window and quits.
const primary = app.requestSingleInstanceLock();
if (!primary) app.quit();
// SIGTERM / SIGINT (a logout, Ctrl-C in the starting terminal): quit as closing the window would, so the history is
// closed and the instance lock removed; without a listener the signal would end the process on the spot.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => app.quit());
app.on('second-instance', () => {
  const win = BrowserWindow.getAllWindows()[0];
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.focus();
});

/** better-sqlite3 compiled for Electron's ABI by scripts/electron-native.mjs (Node's build stays for the CLI). */
function sqliteBinding(): string | undefined {
  const path = join(here, '..', '..', '.electron-native', 'better_sqlite3.node');
  return existsSync(path) ? path : undefined;
}

async function createWindow(service: StudioService) {
  const win = new BrowserWindow(windowOptions(here, APP_NAME));
  win.webContents.setWindowOpenHandler(({ url }) => {
    const policy = windowOpenPolicy(url);
    if (policy.openExternally) void shell.openExternal(url);
    return { action: policy.action };
  });
  win.webContents.on('will-navigate', (e, url) => {
    if (!navigationAllowed(url)) e.preventDefault();
  });
  win.webContents.on('will-redirect', (e, url) => {
    if (!navigationAllowed(url)) e.preventDefault();
  });
  const unsubscribe = service.onEvent((event, payload) => {
    if (win.isDestroyed()) return;
    win.webContents.send(IPC_EVENT_CHANNEL, { event, payload });
    // Outside the window: taskbar / dock progress, and a notification when a job ends while the window is behind.
    const update = taskbarUpdate(event, payload, service.uiLanguage);
    if (update?.progress !== undefined) win.setProgressBar(update.progress);
    if (update?.notify && !win.isFocused()) {
      if (Notification.isSupported()) new Notification(update.notify).show();
      win.flashFrame(true);
    }
  });
  win.on('focus', () => win.flashFrame(false));
  win.on('closed', unsubscribe);
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadFile(join(here, '..', 'renderer', 'index.html'));
}

app.whenReady().then(async () => {
  if (!primary) return;
  // A serve (or another app build) on this home: say so and stop, before touching the history.
  try {
    acquireHomeLock(home, 'the app');
  } catch (err) {
    if (!(err instanceof HomeLockedError)) throw err;
    dialog.showErrorBox(APP_NAME, err.message);
    app.quit();
    return;
  }
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  // No remote content: refuse every request that is not the app's own files (or the dev server).
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !requestAllowed(details.url, process.env.ELECTRON_RENDERER_URL) });
  });
  session.defaultSession.setPermissionRequestHandler(refusePermission);
  session.defaultSession.setPermissionCheckHandler(permissionCheck);

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
      if (!trustedSender(event.senderFrame?.url, process.env.ELECTRON_RENDERER_URL)) {
        return { ok: false, error: 'Refused: unknown sender' };
      }
      try {
        return { ok: true, result: await service.handle(method, params) };
      } catch (err) {
        return errorReply(err);
      }
    });
  }
  await createWindow(service);
  // The history was damaged and moved aside: the user must know where it went.
  if (service.store.notice)
    void dialog.showMessageBox({ type: 'warning', title: APP_NAME, message: service.store.notice });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow(service);
  });
  app.on('before-quit', () => void service.close());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
