/**
 * The one IPC contract between the renderer and the main process.
 *
 * Both transports (Electron preload via contextBridge, and the headless WebSocket bridge) carry exactly these
 * requests and events, validated with these schemas at the boundary. This file must stay free of Node and
 * Electron imports: the renderer imports it too.
 */
import { z } from 'zod';
import { MessageSchema, messageOf } from './messages';

import { AppInfo, DatasetSummary, Interpretation, Prediction, RecipeConfig, RecipeEstimate } from './schemas';
import { CleanEntry, CleanState, ConfigDiffRow, RerunConfig, RunComparison, RunDetail, RunSummary } from './runSchemas';
import { RecipeOverrides, RunEvent, RunState, StepNumber } from './runLifecycle';

export * from './schemas';
export * from './runSchemas';
export * from './runLifecycle';

// ---------- requests ----------

const Empty = z.object({}).strict();
const RerunOf = z.number().int().optional();

/** The wizard's language, which the main process speaks in too (its desktop notifications). */
export const UiLanguage = z.enum(['en', 'ar']);
export type UiLanguage = z.infer<typeof UiLanguage>;

export const requests = {
  'app.info': { params: Empty, result: AppInfo },
  /** The wizard's language changed (or the window opened): the desktop notifications follow it. */
  'app.setLanguage': { params: z.object({ language: UiLanguage }), result: Empty },
  'dataset.pickFolder': { params: Empty, result: z.object({ dir: z.string().nullable() }) },
  /**
   * The browser UI's folder browser (it has no system dialog): the sub-folders of `dir` (default: the user's home
   * directory), with the images directly inside each; only under the home directory or a recent dataset folder,
   * never file contents. `recent`: the dataset folders of recent runs, newest first.
   */
  'dataset.browse': {
    params: z.object({ dir: z.string().min(1).optional() }),
    result: z.object({
      dir: z.string(),
      parent: z.string().nullable(),
      folders: z.array(z.object({ name: z.string(), path: z.string(), images: z.number().int() })),
      truncated: z.boolean(),
      images: z.number().int(),
      recent: z.array(z.string()),
    }),
  },
  /** The shipped sample dataset (four Fashion-MNIST classes), copied into the home: a first run needs no folder. */
  'dataset.sample': { params: Empty, result: z.object({ dir: z.string() }) },
  'dataset.scan': {
    params: z.object({
      dir: z.string().min(1),
      seed: z.number().int().optional(),
      validPct: z.number().min(0.05).max(0.5).optional(),
    }),
    result: DatasetSummary,
  },
  /**
   * One run of fast.ai's eight steps (docs/run-lifecycle.md). `run.start` records the run and runs steps 1..`untilStep`
   * (default 8): a head-only run is `untilStep: 3`. `rerunOf`: the run whose settings the wizard loaded ("Run again");
   * recorded with the new run, not in its config.
   */
  'run.start': {
    params: z.object({ config: RecipeConfig, untilStep: StepNumber.optional(), rerunOf: RerunOf }),
    result: z.object({ runId: z.number().int() }),
  },
  /**
   * Continue the SAME run from its checkpoint, up to `untilStep` (default 8), with `overrides` for the steps not yet
   * run (stored in the run's config). Refused while it runs, and once all eight steps are done.
   */
  'run.continue': {
    params: z.object({
      runId: z.number().int(),
      untilStep: StepNumber.optional(),
      overrides: RecipeOverrides.optional(),
    }),
    result: z.object({ runId: z.number().int() }),
  },
  /** Ask a running run to stop at its next batch; it keeps its checkpoint (status 'cancelled', continuable). */
  'run.cancel': { params: z.object({ runId: z.number().int() }), result: z.object({ cancelled: z.boolean() }) },
  /** Everything a page needs to redraw the run (config, status, step, progress, curves, epochs, iterations). */
  'run.state': { params: z.object({ runId: z.number().int() }), result: RunState },
  /** The run a reopened page should show: the running one, else the newest paused or cancelled one; null if none. */
  'run.active': { params: Empty, result: z.object({ run: RunState.nullable() }) },
  /** Measure a few batches on this machine and estimate each step's seconds; `run.start` stores it with the run. */
  'recipe.estimate': { params: RecipeConfig, result: RecipeEstimate },
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
      /** Absolute, or relative to the home's exports folder (never to the server's working directory). */
      outDir: z.string().min(1).optional(),
      /** Recipe runs: export the snapshot ensemble (one model folder per snapshot + ensemble.json). */
      ensemble: z.boolean().optional(),
      /**
       * Replace an existing earlier export (its metadata.json); without it a non-empty folder is refused (the export
       * never merges). Never replaces another folder, the home, a run folder, a recorded dataset or a parent of one.
       */
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
      /** `error` in English (the CSV); `message`: the same as a code, said in the user's language. */
      problems: z.array(z.object({ file: z.string(), error: z.string(), message: MessageSchema.optional() })),
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
  /** Every event of every run (progress, batch, epoch, step, lrfindPoint, lrfind, warning, done), with its runId. */
  'run.event': RunEvent,
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

/**
 * What the Electron preload exposes on `window[BRIDGE_GLOBAL]`: like StudioApi, but a request answers its Reply
 * instead of throwing, since only an Error's message would cross the context bridge (its coded message would not).
 * The renderer's Electron transport turns an error Reply into a thrown error, as the WebSocket transport does.
 */
export interface PreloadBridge {
  invoke<M extends Method>(method: M, params: Params<M>): Promise<Reply>;
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void;
  pathForFile?(file: File): string;
}

// ---------- wire framing (WebSocket bridge; Electron uses ipcRenderer.invoke with the same method names) ----------

export const RequestFrame = z.object({ id: z.number().int(), method: z.string(), params: z.unknown() });
export type RequestFrame = z.infer<typeof RequestFrame>;

/**
 * What a request answers, whichever transport carries it: a result, or an error as English text plus, when the core
 * raised it as a code (src-shared/messages), that code and its parameters for the renderer to say in its language.
 */
export const Reply = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: z.string(), message: MessageSchema.optional() }),
]);
export type Reply = z.infer<typeof Reply>;

/** The reply to a thrown error: its text, and its code when it has one. */
export function errorReply(err: unknown): Extract<Reply, { ok: false }> {
  const coded = messageOf(err);
  return { ok: false, error: err instanceof Error ? err.message : String(err), ...(coded ? { message: coded } : {}) };
}

export const ResponseFrame = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.string(), message: MessageSchema.optional() }),
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
