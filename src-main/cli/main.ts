/**
 * `finetune`: the command-line face of the same core the app uses. Human output by default, --json for machines.
 * Errors are one line naming the problem; usage errors exit 2, failures exit 1. This is the one place that turns an
 * error into that line and exit code: the commands throw (UsageError for the command line, see args.ts).
 */
import { DatasetError } from '../core/data/dataset';
import { firstLine, UsageError, type Io } from './args';
import { backbonesCommand, exportCommand, sampleCommand, scanCommand, serveCommand } from './commands';
import { predictCommand } from './predictCommand';
import { runsCommand } from './runsCommand';
import { resolveHome } from '../core/paths';
import { diskFullMessage, isDiskFull } from '../core/util/storageErrors';
import { measuredEffectsHelp } from '../../src-shared/recipe/measuredEffects';

const HELP = `finetune — fine-tune an image classifier on a folder of labeled images (fast.ai's method)

Usage:
  finetune sample [--json]                        the sample dataset (4 Fashion-MNIST classes) copied into
                                                  the home; try: finetune train "$(finetune sample)" --recipe fastai8
  finetune scan DIR [--seed S] [--valid-pct P] [--json]
  finetune train DIR --steps head [--epochs N] [--lr X] [--size PX] [--batch-size B] [--seed S]
                 [--dropout D] [--valid-pct P] [--schedule constant|sgdr|onecycle|cyclic]
                 [--cycle-len E] [--cycle-mult M] [--cycles N] [--backbone ID]
                 [--balance none|weights|sampler] [--json]
  finetune train DIR --recipe fastai8 [--until-step N] [--size PX] [--seed S] [--batch-size B] [--cycles N]
                 [--lr-head X] [--lr-all X] [--epochs N] [--augment-epochs N] [--cycle-mult M]
                 [--patience N] [--lr-ratio R] [--warmup-epochs E]
                 [--preset side-on|top-down|none] [--optimizer sgd|adamw] [--lr-find-iters N]
                 [--lr-find-all-iters N] [--mixup ALPHA | --cutmix ALPHA] [--swa K]
                 [--lr-find-on train|valid] [--progressive PX,PX] [--lr-rule minDiv10|valley|steep]
                 [--train-bn] [--json]
                 [--estimate]                     fast.ai's eight steps, checkpointed after every epoch;
                                                  prints the estimated time first (--estimate: only that);
                                                  --mixup/--cutmix: blend training images in steps 4 and 8
                                                  (a regulariser for few images; fastai: mixup 0.4, cutmix 1);
                                                  --swa K: also average the weights of step 8's last K cycles
                                                  (2-10), exported only if its validation loss is lower;
                                                  --lr-find-on valid: steps 2 and 7 suggest LRs from the
                                                  validation loss (slower: a validation pass per step);
                                                  --progressive 64,96: step 8's first cycles at these
                                                  smaller sizes, one cycle each, the rest at --size
                                                  --lr-rule: step 2's suggestion for the head (default
                                                  minDiv10); --train-bn: BatchNorm learns in steps 7-8
                                                  --until-step N: stop after step N (paused; 3: a head-only
                                                  model, exportable); --epochs: step 3's epochs
  finetune recipe continue RUN_ID [--until-step N] [--lr-head X] [--lr-all X] [--epochs N] [--cycles N] [...]
                 [--json]                         the same run on from its checkpoint; the settings apply to
                                                  the steps not yet run and are stored in its config
  finetune resume RUN_ID [--json]                 continue a paused, cancelled or interrupted run to step 8
  finetune export RUN_ID [--out DIR] [--ensemble] [--format tfjs,onnx] [--force] [--json]
                                                  model + labels, preprocessing, README.md, MODEL_CARD.md,
                                                  written atomically; --force replaces an earlier export;
                                                  --format: TF.js, ONNX (model.onnx) or both (default)
  finetune predict MODEL_DIR DIR_OR_FILE... [--csv FILE] [--sort-into OUT] [--format onnx|tfjs]
                 [--top-k K] [--batch-size B] [--json]
                                                  every image under the folders, with a progress bar;
                                                  --csv: file, label, probability, top-k, error per image;
                                                  --sort-into: copy (never move) each image to OUT/<label>/;
                                                  unreadable files are reported, never fatal
  finetune runs [--json]                          the run history, newest first
  finetune runs show RUN_ID [--json]              one run: config, epochs, step results, iteration count
  finetune runs compare RUN_ID RUN_ID... [--json] runs side by side: metrics, LR/loss per iteration
                                                  (at most 2000 points each), the config keys that differ
  finetune runs rm RUN_ID --yes [--json]          delete a run's history and its folder (refused while
                                                  it runs; without --yes nothing is deleted)
  finetune runs rerun RUN_ID [--json]             train a new run with the run's dataset, settings and seed
  finetune clean relabel DIR FILE CLASS [--json]  move an image of dataset DIR to class folder CLASS
  finetune clean exclude DIR FILE [--json]        move it to DIR/_excluded/ (the scan skips it)
  finetune clean undo DIR [--json]                undo the newest move (clean list DIR: the undo list)
  finetune backbones [--json]                     the bundled backbone and the downloadable ones
  finetune schedule --kind KIND [...] --json      (finetune schedule --help)
  finetune lr-find DIR [--stage head|full] [--start 1e-7] [--end 10] [--iters 100] [--mode exp|linear]
                 [--size PX] [--batch-size B] [--seed S] [--valid-loss] [--run RUN_ID] [--json]
  finetune serve [--port N]                       headless server for the wizard in a browser

${measuredEffectsHelp()}

Common options:
  --home DIR       where history, runs and caches live (default: FINETUNE_HOME or the user data folder)
  --backend NAME   auto | tensorflow-gpu | tensorflow | wasm | cpu (default: FINETUNE_BACKEND or auto)
  --json           machine-readable output on stdout
`;

type Command = (argv: string[], io: Io) => Promise<void>;

const train: Command = async (argv, io) =>
  argv.some((a) => a === '--recipe' || a.startsWith('--recipe='))
    ? (await import('./recipeCommand')).recipeCommand(argv, io)
    : (await import('./trainCommand')).trainCommand(argv, io);

const COMMANDS: Record<string, Command> = {
  scan: scanCommand,
  sample: sampleCommand,
  train,
  export: exportCommand,
  predict: predictCommand,
  runs: runsCommand,
  backbones: backbonesCommand,
  serve: serveCommand,
  'lr-find': async (argv, io) => (await import('./lrFindCommand')).lrFindCommand(argv, io),
  resume: async (argv, io) => (await import('./continueCommand')).resumeCommand(argv, io),
  recipe: async (argv, io) => (await import('./continueCommand')).recipeSubcommand(argv, io),
  schedule: async (argv, io) => (await import('./scheduleCommand')).scheduleCommand(argv, io),
  clean: async (argv, io) => (await import('./cleanCommand')).cleanCommand(argv, io),
};

/** Commands with their own usage text print it themselves. */
const OWN_HELP = new Set(['lr-find', 'schedule']);

/**
 * `finetune runs | head`: once the reader has gone, a write to stdout fails with EPIPE, which nothing would handle
 * (a stack trace, exit 1). There is no one left to tell: end quietly, as Unix tools do.
 */
let brokenPipeHandled = false;
function exitQuietlyOnBrokenPipe(): void {
  if (brokenPipeHandled) return;
  brokenPipeHandled = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`finetune: cannot write the output: ${err.message}\n`);
    process.exit(1);
  });
}

/** The --home a command line names (`--home DIR` or `--home=DIR`), if any. */
function homeArg(args: string[]): string | undefined {
  const i = args.indexOf('--home');
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith('--home='))?.slice('--home='.length);
}

/** Runs `finetune ARGV`; returns the exit code: 0 ok, 1 failed, 2 bad arguments or an unusable folder. */
export async function main(argv: string[], io: Io = { out: console.log, err: console.error }): Promise<number> {
  exitQuietlyOnBrokenPipe();
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out(HELP);
    return command ? 0 : 2;
  }
  try {
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command "${command}"; run "finetune --help"`);
    if ((rest.includes('--help') || rest.includes('-h')) && !OWN_HELP.has(command)) {
      io.out(HELP);
      return 0;
    }
    await run(rest, io);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // SQLite's "database or disk is full" or Node's ENOSPC say neither where nor what to do.
    const message = isDiskFull(err, false) ? diskFullMessage(resolveHome(homeArg(rest)), err) : firstLine(err);
    io.err(`finetune ${command}: ${message}`);
    return err instanceof UsageError || err instanceof DatasetError ? 2 : 1;
  }
}
