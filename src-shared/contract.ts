/**
 * The one IPC contract between the renderer and the main process.
 *
 * Both transports (Electron preload via contextBridge, and the headless WebSocket bridge) carry exactly these
 * requests and events, validated with these schemas at the boundary. This file must stay free of Node and
 * Electron imports: the renderer imports it too.
 */
import { z } from 'zod';

import {
  AppInfo,
  DatasetSummary,
  EpochMetrics,
  HeadTrainConfig,
  Interpretation,
  LrFindConfig,
  LrFindResult,
  Prediction,
  RecipeConfig,
  RecipeEstimate,
  RecipeStepResult,
} from './schemas';
import {
  CleanEntry,
  CleanState,
  ConfigDiffRow,
  RerunConfig,
  RunComparison,
  RunDetail,
  RunStatus,
  RunSummary,
} from './runSchemas';

export * from './schemas';
export * from './runSchemas';

// ---------- requests ----------

const Empty = z.object({}).strict();
const RerunOf = z.number().int().optional();

export const requests = {
  'app.info': { params: Empty, result: AppInfo },
  'dataset.pickFolder': { params: Empty, result: z.object({ dir: z.string().nullable() }) },
  'dataset.scan': {
    params: z.object({
      dir: z.string().min(1),
      seed: z.number().int().optional(),
      validPct: z.number().min(0.05).max(0.5).optional(),
    }),
    result: DatasetSummary,
  },
  /** `rerunOf`: the run whose settings the wizard loaded ("Run again"); recorded with the new run, not in its config. */
  'train.start': {
    params: HeadTrainConfig.extend({ rerunOf: RerunOf }),
    result: z.object({ runId: z.number().int() }),
  },
  'train.cancel': { params: z.object({ runId: z.number().int() }), result: z.object({ cancelled: z.boolean() }) },
  'lrfind.start': { params: LrFindConfig, result: z.object({ jobId: z.number().int() }) },
  'lrfind.cancel': { params: z.object({ jobId: z.number().int() }), result: z.object({ cancelled: z.boolean() }) },
  /** Run the recipe from step 1 up to `untilStep` (default 8); `recipe.continue` goes on from the checkpoint. */
  'recipe.start': {
    params: z.object({
      config: RecipeConfig,
      untilStep: z.number().int().min(1).max(8).optional(),
      rerunOf: RerunOf,
    }),
    result: z.object({ runId: z.number().int() }),
  },
  'recipe.continue': {
    params: z.object({
      runId: z.number().int(),
      untilStep: z.number().int().min(1).max(8).optional(),
      /** Settings of the steps not yet run (e.g. the LR picked in step 7's plot). */
      overrides: RecipeConfig.omit({ dir: true }).partial().optional(),
    }),
    result: z.object({ runId: z.number().int() }),
  },
  /** Measure a few batches on this machine and estimate each step's seconds; `recipe.start` stores it with the run. */
  'recipe.estimate': { params: RecipeConfig, result: RecipeEstimate },
  'recipe.state': {
    params: z.object({ runId: z.number().int() }),
    result: z.object({
      runId: z.number().int(),
      config: RecipeConfig,
      nextStep: z.number().int().min(1).max(9),
      steps: z.array(RecipeStepResult),
      /** Step 8's snapshot ensemble (averaged predictions of the last K snapshots), once the run is complete. */
      ensemble: z.object({ k: z.number().int(), validAccuracy: z.number() }).nullable(),
      /** The checkpoint step 8 restored (lowest validation loss). */
      best: z.object({ step: z.number().int(), cycle: z.number().int(), validLoss: z.number() }).nullable(),
    }),
  },
  'dataset.augmentPreview': {
    params: z.object({
      dir: z.string().min(1),
      preset: z.enum(['none', 'side-on', 'top-down']),
      size: z.number().int().min(32).max(512),
      seed: z.number().int(),
      count: z.number().int().min(1).max(32),
    }),
    result: z.object({ images: z.array(z.string()), description: z.string() }),
  },
  'model.interpret': {
    params: z.object({ runId: z.number().int(), tta: z.boolean().optional() }),
    result: Interpretation,
  },
  'runs.list': { params: Empty, result: z.array(RunSummary) },
  'runs.get': { params: z.object({ runId: z.number().int() }), result: RunDetail },
  /** Runs side by side: metrics, downsampled iterations, step results, and the config keys that differ. */
  'runs.compare': {
    params: z.object({ runIds: z.array(z.number().int()).min(1).max(10) }),
    result: z.object({ runs: z.array(RunComparison), configDiff: z.array(ConfigDiffRow) }),
  },
  /** A run's kind and the config it was started with, for the wizard to start it again (`rerunOf`). */
  'runs.rerunConfig': { params: z.object({ runId: z.number().int() }), result: RerunConfig },
  /** Deletes a run's history rows and its folder under the app home; a running run is refused. */
  'runs.delete': {
    params: z.object({ runId: z.number().int() }),
    result: z.object({ runId: z.number().int(), folderRemoved: z.boolean() }),
  },
  /**
   * The data cleaner on a run's dataset folder (core/data/cleaner.ts): the undo list, relabel (move to another class
   * folder), exclude (move to `_excluded/`) and undo of the newest move. Refused while a run trains on the folder.
   */
  'clean.list': { params: z.object({ runId: z.number().int() }), result: CleanState },
  'clean.relabel': {
    params: z.object({ runId: z.number().int(), file: z.string().min(1), toClass: z.string().min(1) }),
    result: CleanState,
  },
  'clean.exclude': { params: z.object({ runId: z.number().int(), file: z.string().min(1) }), result: CleanState },
  'clean.undo': {
    params: z.object({ runId: z.number().int() }),
    result: CleanState.extend({ undone: CleanEntry.nullable() }),
  },
  'model.export': {
    params: z.object({
      runId: z.number().int(),
      outDir: z.string().min(1).optional(),
      /** Recipe runs: export the snapshot ensemble (one model folder per snapshot + ensemble.json). */
      ensemble: z.boolean().optional(),
      /** Replace a non-empty existing folder; without it such a folder is refused (the export never merges). */
      force: z.boolean().optional(),
      /** TF.js, ONNX (model.onnx) or both; absent = both, TF.js only (with a warning) where ONNX cannot be written. */
      formats: z
        .array(z.enum(['tfjs', 'onnx']))
        .min(1)
        .optional(),
    }),
    result: z.object({ dir: z.string(), files: z.array(z.string()), warnings: z.array(z.string()).default([]) }),
  },
  /**
   * The "Use the model" page: every image under `dirs` classified with an exported model folder (ONNX when it holds
   * model.onnx, unless `format`), unreadable files reported; thumbnails for the first `thumbnails` predictions; the
   * CSV (file, label, probability, top-k, error) returned, and written to `csvPath` when given.
   */
  'model.predictFolder': {
    params: z.object({
      modelDir: z.string().min(1),
      dirs: z.array(z.string().min(1)).min(1).max(16),
      format: z.enum(['onnx', 'tfjs']).optional(),
      thumbnails: z.number().int().min(0).max(500).default(120),
      csvPath: z.string().min(1).optional(),
    }),
    result: z.object({
      format: z.enum(['onnx', 'tfjs']),
      labels: z.array(z.string()),
      predictions: z.array(
        z.object({ file: z.string(), label: z.string(), probability: z.number(), thumbnail: z.string().nullable() }),
      ),
      problems: z.array(z.object({ file: z.string(), error: z.string() })),
      csv: z.string(),
      csvPath: z.string().nullable(),
    }),
  },
  'model.evaluate': {
    params: z.object({ runId: z.number().int() }),
    result: z.object({
      accuracy: z.number(),
      predictions: z.array(Prediction.extend({ actual: z.string() })),
    }),
  },
} as const;

export type Method = keyof typeof requests;
export type Params<M extends Method> = z.input<(typeof requests)[M]['params']>;
export type Result<M extends Method> = z.infer<(typeof requests)[M]['result']>;
/** What a handler receives: the params after validation (defaults filled in). */
export type ParsedParams<M extends Method> = z.output<(typeof requests)[M]['params']>;
/** Every method's handler, typed from its schemas: a handler that disagrees with them does not compile. */
export type Handlers = { [M in Method]: (params: ParsedParams<M>) => Promise<Result<M>> };

// ---------- pushed events ----------

export const events = {
  'train.progress': z.object({
    runId: z.number().int(),
    phase: z.enum(['loading', 'precompute', 'train', 'validate']),
    label: z.string(),
    done: z.number(),
    total: z.number(),
    etaSeconds: z.number().nullable(),
  }),
  /** One per mini-batch. `epoch` is 0-based; `iteration` counts from 0 across the whole step. */
  'train.batch': z.object({
    runId: z.number().int(),
    epoch: z.number().int(),
    iteration: z.number().int(),
    loss: z.number(),
    /** The LR actually applied to this batch (the head's, when groups differ). */
    lr: z.number(),
  }),
  /** `epoch` is 0-based. */
  'train.epoch': EpochMetrics.extend({ runId: z.number().int() }),
  'train.done': z.object({
    runId: z.number().int(),
    status: RunStatus,
    error: z.string().nullable(),
  }),
  /** The recipe's steps: started and done (with the step's result). */
  'recipe.step': z.object({
    runId: z.number().int(),
    step: z.number().int().min(1).max(8),
    name: z.string(),
    status: z.enum(['started', 'done']),
    result: RecipeStepResult.nullable(),
  }),
  /** An LR range test inside the recipe (steps 2 and 7). */
  'recipe.lrfind': z.object({
    runId: z.number().int(),
    step: z.number().int(),
    result: z.lazy(() => LrFindResult.omit({ lrFindId: true })),
  }),
  'lrfind.progress': z.object({
    jobId: z.number().int(),
    phase: z.enum(['loading', 'precompute', 'lr-find']),
    label: z.string(),
    done: z.number(),
    total: z.number(),
    etaSeconds: z.number().nullable().optional(),
  }),
  /** Something the user should know, e.g. the batch was lowered to fit wasm's memory. */
  'lrfind.warning': z.object({ jobId: z.number().int(), message: z.string() }),
  'lrfind.step': z.object({
    jobId: z.number().int(),
    iteration: z.number().int(),
    lr: z.number(),
    loss: z.number().nullable(),
    smoothedLoss: z.number().nullable(),
  }),
  'lrfind.done': z.object({
    jobId: z.number().int(),
    status: z.enum(['completed', 'cancelled', 'failed']),
    result: LrFindResult.nullable(),
    error: z.string().nullable(),
  }),
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;

/** What the renderer sees, whichever transport carries it. */
export interface StudioApi {
  invoke<M extends Method>(method: M, params: Params<M>): Promise<Result<M>>;
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void;
  /** The path of a file or folder dropped on the window: Electron only (a browser page never learns paths). */
  pathForFile?(file: File): string;
}

// ---------- wire framing (WebSocket bridge; Electron uses ipcRenderer.invoke with the same method names) ----------

export const RequestFrame = z.object({ id: z.number().int(), method: z.string(), params: z.unknown() });
export type RequestFrame = z.infer<typeof RequestFrame>;

export const ResponseFrame = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.string() }),
]);
export type ResponseFrame = z.infer<typeof ResponseFrame>;

export const EventFrame = z.object({ event: z.string(), payload: z.unknown() });
export type EventFrame = z.infer<typeof EventFrame>;

export function isMethod(name: string): name is Method {
  return Object.prototype.hasOwnProperty.call(requests, name);
}

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}

/** Validate request params; throws an Error whose message names the method and the bad fields. */
export function parseParams<M extends Method>(method: M, params: unknown): z.infer<(typeof requests)[M]['params']> {
  const parsed = requests[method].params.safeParse(params ?? {});
  if (!parsed.success) throw new Error(`Invalid parameters for ${method}: ${formatIssues(parsed.error)}`);
  return parsed.data as z.infer<(typeof requests)[M]['params']>;
}

export function parseResult<M extends Method>(method: M, result: unknown): Result<M> {
  const parsed = requests[method].result.safeParse(result);
  if (!parsed.success) throw new Error(`Invalid result for ${method}: ${formatIssues(parsed.error)}`);
  return parsed.data as Result<M>;
}

export function parseEvent<E extends EventName>(event: E, payload: unknown): EventPayload<E> {
  const parsed = events[event].safeParse(payload);
  if (!parsed.success) throw new Error(`Invalid payload for event ${event}: ${formatIssues(parsed.error)}`);
  return parsed.data as EventPayload<E>;
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** The Electron preload exposes the API under this name. */
export const BRIDGE_GLOBAL = 'finetuneStudio';
export const IPC_EVENT_CHANNEL = 'finetune:event';
