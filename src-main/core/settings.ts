/**
 * User settings in HOME/settings.json (shared by the CLI and the app). Today: the preferred backend.
 * Precedence for the backend: the --backend flag, then FINETUNE_BACKEND, then settings.json, then 'auto'.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBackendChoice, type BackendChoice } from './tf/backend';

export interface Settings {
  backend?: string;
}

export function readSettings(home: string): Settings {
  const path = join(home, 'settings.json');
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Settings;
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}): fix or delete it.`, { cause: err });
  }
}

export function resolveBackendChoice(flag: string | undefined, home: string): BackendChoice {
  return parseBackendChoice(flag ?? process.env.FINETUNE_BACKEND ?? readSettings(home).backend);
}
