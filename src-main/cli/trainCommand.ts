/**
 * `finetune train DIR --steps head`: the new head on precomputed activations, one line per epoch (or one JSON summary
 * with --json), recorded in the run history like a run started in the app.
 */
import { resolve } from 'node:path';
import { HeadTrainConfig } from '../../src-shared/contract';
import { DEFAULT_HEAD_CONFIG } from '../core/defaults';
import { scanDataset } from '../core/data/dataset';
import { recordEvent, recordFailure, recordResult } from '../core/history/recorder';
import { trainHeadJob, type TrainEvent } from '../core/train/headJob';
import { getBackbone } from '../core/model/backbones';
import { SCHEDULE_DEFAULTS, type TrainingSchedule } from '../core/schedules/training';
import { machineFit } from '../core/machineDefaults';
import type { BackendInfo } from '../core/tf/backend';
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
import { cancellable, createRun, openStore, runStatusLine, startBackend } from './session';
import { epochLine, ProgressLine } from './progress';

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
    epochs: num(values.epochs, 'epochs', s.epochs, d.epochs),
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
  await trainHead(config, backend, values, io);
}

/**
 * Trains and records a head run of `config` (`finetune train --steps head`, and `finetune runs rerun` of a head run,
 * which passes the run it repeats as `rerunOf`).
 */
export async function trainHead(
  config: HeadTrainConfig,
  backend: BackendInfo,
  values: { home?: string; json: boolean },
  io: Io,
  rerunOf: number | null = null,
): Promise<void> {
  if (config.backbone) {
    try {
      getBackbone(config.backbone);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const { paths, store } = openStore(values.home);
  try {
    // Scan first so that a bad folder fails before a run is recorded.
    const scanned = await scanDataset(config.dir, {
      seed: config.seed,
      validPct: config.validPct,
      cacheDir: paths.scanCache,
    });
    const runId = createRun(store, 'head', backend, config, rerunOf);
    if (!values.json)
      io.err(
        `run ${runId}${rerunOf === null ? '' : ` (again: run ${rerunOf})`}: backend ${backend.name} (${backend.note})`,
      );
    const epochs: Array<Extract<TrainEvent, { type: 'epoch' }>> = [];
    let classes: string[] = [];
    const progress = new ProgressLine();
    try {
      const result = await cancellable((shouldCancel) =>
        trainHeadJob(config, {
          runDir: paths.runDir(runId),
          featureCache: paths.featureCache,
          home: paths.home,
          dataset: scanned,
          shouldCancel,
          emit: (e) => {
            recordEvent(store, runId, e);
            if (e.type === 'dataset') classes = e.dataset.classes.map((c) => c.name);
            if (e.type === 'epoch') {
              epochs.push(e);
              if (!values.json) progress.log(epochLine(e));
            }
            if (e.type === 'progress' && !values.json) progress.update(e);
          },
        }),
      );
      progress.clear();
      recordResult(store, runId, result);
      const summary = {
        runId,
        ...(rerunOf === null ? {} : { rerunOf, seed: config.seed }),
        status: result.status,
        error: result.error,
        backend: backend.name,
        classes,
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
      io.out(values.json ? JSON.stringify(summary) : runStatusLine(runId, result));
      if (result.status !== 'completed') process.exitCode = 1;
    } catch (err) {
      recordFailure(store, runId, err);
      throw err;
    }
  } finally {
    store.close();
  }
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
