/**
 * The app's version from its package.json, found by walking up from this module: the same answer from the sources
 * (tsx), from electron-vite's bundle (out/main/) and from a packaged app (app.asar/). '0.0.0' if none is found.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const PACKAGE_NAME = 'finetune-studio';
const PackageJson = z.object({ name: z.string(), version: z.string() });

let cached: string | null = null;

export function appVersion(): string {
  if (cached !== null) return cached;
  cached = '0.0.0';
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const parsed = PackageJson.safeParse(JSON.parse(readFileSync(path, 'utf8')));
      if (parsed.success && parsed.data.name === PACKAGE_NAME) return (cached = parsed.data.version);
    }
    const up = dirname(dir);
    if (up === dir) return cached;
    dir = up;
  }
}
