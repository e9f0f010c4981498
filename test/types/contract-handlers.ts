/**
 * Compile-time test (run by `npm run typecheck`): handlers are typed from the contract's schemas, so a handler whose
 * parameter or result disagrees with its schema is a type error. Each `@ts-expect-error` fails the typecheck if the
 * line below it ever compiles.
 */
import type { Handlers } from '../../src-shared/contract';

type Scan = Pick<Handlers, 'dataset.scan'>;
type Cancel = Pick<Handlers, 'run.cancel'>;

export const rightScan: Scan = {
  'dataset.scan': async (p: { dir: string; seed?: number; validPct?: number }) => {
    throw new Error(`not called: ${p.dir}`);
  },
};

export const wrongParam: Scan = {
  // @ts-expect-error the schema says `seed` is an optional integer, not a string
  'dataset.scan': async (p: { dir: string; seed?: string }) => {
    throw new Error(`not called: ${p.dir}`);
  },
};

export const wrongResult: Cancel = {
  // @ts-expect-error the schema's result is `{ cancelled: boolean }`
  'run.cancel': async () => ({ cancelled: 'yes' }),
};

export const missingField: Cancel = {
  // @ts-expect-error the params carry `runId`, not `jobId`
  'run.cancel': async (p: { jobId: number }) => ({ cancelled: p.jobId > 0 }),
};
