/** Where Finetune Studio keeps its history, runs and caches: --home, FINETUNE_HOME, or the user data folder. */
import { homedir, platform } from 'node:os';
import { join, resolve } from 'node:path';

export const APP_NAME = 'Finetune Studio';

/** The same folder Electron's app.getPath('userData') uses, so the CLI and the app share one history. */
export function defaultHome(): string {
  const home = homedir();
  switch (platform()) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', APP_NAME);
    case 'win32':
      return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_NAME);
    default:
      return join(process.env.XDG_CONFIG_HOME ?? join(home, '.config'), APP_NAME);
  }
}

export function resolveHome(explicit?: string): string {
  return resolve(explicit ?? process.env.FINETUNE_HOME ?? defaultHome());
}

export function homePaths(home: string) {
  return {
    home,
    history: join(home, 'history.sqlite'),
    runs: join(home, 'runs'),
    runDir: (runId: number) => join(home, 'runs', String(runId)),
    featureCache: join(home, 'cache', 'features'),
    /** Each scanned folder's image verdicts by path, size and time (data/scanCache.ts). */
    scanCache: join(home, 'cache', 'scan'),
    cache: join(home, 'cache', 'backbones'),
    exports: join(home, 'exports'),
  };
}
