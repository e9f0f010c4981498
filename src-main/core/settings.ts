/**
 * User settings in HOME/settings.json (shared by the CLI and the app). Today: the preferred backend.
 * Precedence for the backend: the --backend flag, then FINETUNE_BACKEND, then settings.json, then 'auto'.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { readJsonFile } from './util/json';
import { join } from 'node:path';
import { parseBackendChoice, type BackendChoice } from './tf/backend';

export const Settings = z.object({ backend: z.string().optional() });
export type Settings = z.infer<typeof Settings>;

export function readSettings(home: string): Settings {
  const path = join(home, 'settings.json');
  if (!existsSync(path)) return {};
  return readJsonFile(path, Settings, 'Fix it or delete it (the defaults are used without it).');
}

export function resolveBackendChoice(flag: string | undefined, home: string): BackendChoice {
  return parseBackendChoice(flag ?? process.env.FINETUNE_BACKEND ?? readSettings(home).backend);
}
