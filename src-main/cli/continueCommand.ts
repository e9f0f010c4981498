/**
 * `finetune recipe continue RUN_ID [overrides] [--until-step N]` and `finetune resume RUN_ID`: the same run goes on
 * from its checkpoint, with the settings the wizard offers for the steps not yet run (stored in its config).
 */
import { RecipeConfig as RecipeSchema, type RecipeOverrides } from '../../src-shared/contract';
import type { RunController } from '../core/run/runController';
import { COMMON_OPTIONS, INTEGER, num, parseOptions, runIdArg, stringOptions, UsageError, type Io } from './args';
import { openStore, startBackend } from './session';
import { continueLeg, printSummary, requireRun, runLeg, runSummary } from './runReport';

/** The overrides `train --recipe` and `recipe continue` both take (the wizard's per-page settings). */
export const OVERRIDE_OPTIONS = stringOptions(
  'lr-head',
  'lr-all',
  'epochs',
  'augment-epochs',
  'cycles',
  'cycle-mult',
  'patience',
  'lr-ratio',
  'warmup-epochs',
);

type OverrideValues = { [K in keyof typeof OVERRIDE_OPTIONS]?: string };

export function parseOverrides(values: OverrideValues): RecipeOverrides {
  const s = RecipeSchema.shape;
  const out: RecipeOverrides = {};
  const lrHead = num(values['lr-head'], 'lr-head', s.lrHead.unwrap());
  if (lrHead !== undefined) out.lrHead = lrHead;
  const lrAll = num(values['lr-all'], 'lr-all', s.lrAll.unwrap());
  if (lrAll !== undefined) out.lrAll = lrAll;
  const epochs = num(values.epochs, 'epochs', s.headEpochs.unwrap());
  if (epochs !== undefined) out.headEpochs = epochs;
  const augment = num(values['augment-epochs'], 'augment-epochs', s.augmentEpochs);
  if (augment !== undefined) out.augmentEpochs = augment;
  const cycles = num(values.cycles, 'cycles', s.cycles);
  if (cycles !== undefined) out.cycles = cycles;
  const cycleMult = num(values['cycle-mult'], 'cycle-mult', s.cycleMult);
  if (cycleMult !== undefined) out.cycleMult = cycleMult;
  const patience = num(values.patience, 'patience', s.patience);
  if (patience !== undefined) out.patience = patience;
  const lrRatio = num(values['lr-ratio'], 'lr-ratio', s.lrRatio);
  if (lrRatio !== undefined) out.lrRatio = lrRatio;
  const warmup = num(values['warmup-epochs'], 'warmup-epochs', s.warmupEpochs.unwrap());
  if (warmup !== undefined) out.warmupEpochs = warmup;
  return out;
}

/** `--until-step N` (1–8; default 8). */
export function untilStepOption(raw: string | undefined): number {
  return num(raw, 'until-step', INTEGER.min(1).max(8), 8);
}

const CONTINUE_USAGE = 'finetune recipe continue RUN_ID [--lr-head X] [--lr-all X] [--cycles N] [--until-step N] …';

/** `finetune recipe continue RUN_ID …` (`recipe` has one subcommand). */
export async function recipeSubcommand(argv: string[], io: Io): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'continue') throw new UsageError(`unknown subcommand "${sub ?? ''}": ${CONTINUE_USAGE}`);
  const { values, positionals } = parseOptions(rest, {
    ...COMMON_OPTIONS,
    ...OVERRIDE_OPTIONS,
    ...stringOptions('until-step'),
  });
  const runId = runIdArg(positionals[0], `recipe continue needs a run id: ${CONTINUE_USAGE}`);
  await continueRun(
    runId,
    { overrides: parseOverrides(values), untilStep: untilStepOption(values['until-step']) },
    values,
    io,
  );
}

/** `finetune resume RUN_ID`: `recipe continue RUN_ID` to the end, without overrides. */
export async function resumeCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(argv, COMMON_OPTIONS);
  const runId = runIdArg(positionals[0], 'resume needs a run id: finetune resume RUN_ID');
  await continueRun(runId, { overrides: {}, untilStep: 8 }, values, io);
}

async function continueRun(
  runId: number,
  leg: { overrides: RecipeOverrides; untilStep: number },
  values: { home?: string; backend?: string; json: boolean },
  io: Io,
): Promise<void> {
  const { paths, store } = openStore(values.home);
  try {
    requireRun(store, paths, runId);
    await startBackend(values);
    const launch = (runs: RunController) => continueLeg(runs, { runId, ...leg });
    const outcome = await runLeg({ store, paths, json: values.json, io, launch });
    const summary = runSummary(store, outcome);
    if (values.json) io.out(JSON.stringify(summary));
    else printSummary(summary, io);
  } finally {
    store.close();
  }
}
