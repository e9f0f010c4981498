// Source-mode entry for the worker (tests, CLI, headless server under Node): load TypeScript through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./trainWorker.ts');
