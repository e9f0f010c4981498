/**
 * The sample dataset shipped for a first run (resources/sample/fashion-4: four Fashion-MNIST classes, train/ and
 * valid/ folders, MIT licence). A run never reads the shipped copy: the data cleaner moves files inside a run's
 * dataset folder, and an installed app's resources may be read-only. It is copied once into HOME/samples/ and that
 * copy is the folder the user trains on; an existing copy is kept as the user left it.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SAMPLE_NAME = 'fashion-4';

/**
 * The shipped sample: the first `resources/sample/fashion-4` found walking up from this module. It sits four levels
 * below the project root here (src-main/core/data) and two in the Electron build (out/main), hence the walk.
 */
export function shippedSampleDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from, i = 0; i < 6; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'resources', 'sample', SAMPLE_NAME);
    if (existsSync(join(candidate, 'train'))) return candidate;
  }
  throw new Error(`The sample dataset is missing (resources/sample/${SAMPLE_NAME} next to the app): reinstall it.`);
}

/** HOME/samples/fashion-4, copied from the shipped sample the first time (whole or not at all). */
export function sampleDataset(home: string, shipped: string = shippedSampleDir()): string {
  const target = join(home, 'samples', SAMPLE_NAME);
  if (existsSync(target)) return target;
  mkdirSync(dirname(target), { recursive: true });
  // Copied under a private name, then renamed: an interrupted copy never looks like the sample.
  const partial = `${target}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(shipped, partial, { recursive: true });
  renameSync(partial, target);
  return target;
}
