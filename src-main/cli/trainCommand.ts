/**
 * `finetune train DIR --steps head`: the recipe stopped after step 3 (a head on precomputed activations, the LR range
 * test of step 2 run too; `--lr` fixes the head's LR instead of its pick). One line per epoch, or one JSON summary
 * with --json; the run pauses after step 3 and `finetune recipe continue RUN_ID` takes it on to step 8.
 */
import { resolve } from 'node:path';
import { HeadTrainConfig, RecipeConfig } from '../../src-shared/contract';
import { DEFAULT_HEAD_CONFIG } from '../../src-shared/defaults';
import { getBackbone } from '../core/model/backbones';
import { recipeFromHeadConfig } from '../core/history/rerun';
import { SCHEDULE_DEFAULTS, type TrainingSchedule } from '../../src-shared/schedules/training';
import { machineFit } from '../core/machineDefaults';
import {
  checkConfig,
  COMMON_OPTIONS,
  num,
  oneOf,
  parseOptions,
  SGDR_SCHEDULE,
  stringOptions,
  TRAINING_SCHEDULE_KINDS,
  UsageError,
  type Io,
} from './args';
import { runStatusLine, startBackend } from './session';
import { trainRecipe } from './recipeCommand';
import type { EpochMetrics } from '../../src-shared/contract';
import type { RunEvent } from '../../src-shared/contract';

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...stringOptions('epochs', 'lr', 'size', 'batch-size', 'seed', 'dropout', 'valid-pct', 'backbone', 'balance'),
  ...stringOptions('cycle-len', 'cycle-mult', 'cycles'),
  steps: { type: 'string', default: 'head' },
  schedule: { type: 'string', default: 'constant' },
} as const;

export async function trainCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(argv, OPTIONS);
  const dir = positionals[0];
  if (!dir) throw new UsageError('train needs a folder: finetune train DIR --steps head');
  if (values.steps !== 'head') {
    throw new UsageError(`--steps ${values.steps} is not available yet; use --steps head`);
  }
  const d = DEFAULT_HEAD_CONFIG;
  const s = HeadTrainConfig.shape;
  const backend = await startBackend(values);
  const fit = machineFit(backend);
  const config = checkConfig(HeadTrainConfig, {
    dir: resolve(dir),
    // Step 3's epochs: the recipe's limit (at most 100).
    epochs: num(values.epochs, 'epochs', RecipeConfig.shape.headEpochs.unwrap(), d.epochs),
    lr: num(values.lr, 'lr', s.lr, d.lr),
    size: num(values.size, 'size', s.size, fit.size),
    batchSize: num(values['batch-size'], 'batch-size', s.batchSize, d.batchSize),
    seed: num(values.seed, 'seed', s.seed, d.seed),
    dropout: num(values.dropout, 'dropout', s.dropout, d.dropout),
    validPct: num(values['valid-pct'], 'valid-pct', s.validPct, d.validPct),
    schedule: headSchedule(values),
    ...(values.backbone ? { backbone: values.backbone } : {}),
    ...(values.balance ? { balance: oneOf(values.balance, 'balance', s.balance.unwrap().options) } : {}),
  });
  if (config.backbone) {
    try {
      getBackbone(config.backbone);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const epochs: EpochMetrics[] = [];
  // The recipe's own limits apply (step 3 trains at most 100 epochs).
  const recipe = checkConfig(RecipeConfig, recipeFromHeadConfig(config));
  const summary = await trainRecipe(recipe, backend, values, io, {
    untilStep: 3,
    measure: false,
    report: 'none',
    onEvent: (e: RunEvent) => {
      if (e.type === 'epoch' && e.step === 'step3-head') epochs.push(e);
    },
  });
  const out = {
    runId: summary.runId,
    status: summary.status,
    error: summary.error,
    backend: backend.name,
    classes: summary.classes,
    lr: summary.steps.find((st) => st.step === 3)?.lr ?? config.lr,
    trainLoss: epochs.map((e) => e.trainLoss),
    validLoss: epochs.map((e) => e.validLoss),
    validAccuracy: epochs.map((e) => e.validAccuracy),
    epochs: epochs.map(({ epoch, trainLoss, validLoss, validAccuracy, lr, seconds }) => ({
      epoch,
      trainLoss,
      validLoss,
      validAccuracy,
      lr,
      seconds,
    })),
  };
  io.out(values.json ? JSON.stringify(out) : runStatusLine(summary.runId, summary));
}

/** --schedule constant|sgdr|onecycle|cyclic (SGDR: --cycle-len, --cycle-mult, --cycles; its cycles set the epochs). */
function headSchedule(values: {
  schedule?: string;
  'cycle-len'?: string;
  'cycle-mult'?: string;
  cycles?: string;
}): TrainingSchedule {
  const kind = oneOf(values.schedule, 'schedule', TRAINING_SCHEDULE_KINDS, 'constant');
  if (kind === 'constant') return { kind };
  if (kind !== 'sgdr') return SCHEDULE_DEFAULTS[kind];
  const d = SCHEDULE_DEFAULTS.sgdr;
  const s = SGDR_SCHEDULE.shape;
  return {
    ...d,
    cycleLen: num(values['cycle-len'], 'cycle-len', s.cycleLen, d.cycleLen),
    cycleMult: num(values['cycle-mult'], 'cycle-mult', s.cycleMult, d.cycleMult),
    cycles: num(values.cycles, 'cycles', s.cycles, d.cycles),
  };
}
