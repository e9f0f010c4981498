/**
 * Run history in SQLite (better-sqlite3, WAL): every run with its config, backend, dataset summary and
 * per-epoch metrics. `PRAGMA user_version` is the schema version; migrations run in order on open.
 */
import Database from 'better-sqlite3';
import { hostname } from 'node:os';

import type { EpochMetrics, IterationMetrics, RecipeStepResult, RunStatus } from '../../../src-shared/contract';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations';
import { openHistoryDb, openHistorySnapshot } from './openHistory';
import { processAlive } from '../util/processAlive';

export type { RunStatus };
/** One epoch's metrics as the history stores them: the contract's `EpochMetrics`. */
export type EpochRow = EpochMetrics;
/** One training iteration as the history stores it: the contract's `IterationMetrics`. */
export type IterationRow = IterationMetrics;

/** Iterations are written in one transaction per this many rows (and at every epoch end, finish and read). */
const ITERATION_BATCH = 500;

/** Seconds of one step of a run: estimated before it started and measured when it finished (null: unknown). */
export interface StepTiming {
  step: number;
  name: string;
  estimate: number | null;
  actual: number | null;
}

/** A run's estimated and real time, per step and in total (recipe runs). */
export interface RunTiming {
  steps: StepTiming[];
  total: { estimate: number | null; actual: number | null };
}

export interface RunRow<Config = unknown, Dataset = unknown> {
  id: number;
  createdAt: string;
  finishedAt: string | null;
  dir: string;
  kind: string;
  status: RunStatus;
  backend: string;
  /** What ran, in words: e.g. "… 2 threads", or why it fell back to one (null: runs from before schema 3). */
  backendNote: string | null;
  config: Config;
  dataset: Dataset;
  classes: string[];
  modelDir: string | null;
  error: string | null;
  /** Null for runs without an estimate (head runs, runs from before schema 3). */
  timing: RunTiming | null;
  /** The run this one repeats (started with its config), or null. */
  rerunOf: number | null;
}

export { MIGRATIONS, SCHEMA_VERSION };

interface RawRun {
  id: number;
  created_at: string;
  finished_at: string | null;
  dir: string;
  kind: string;
  status: RunStatus;
  backend: string;
  backend_note: string | null;
  config: string;
  dataset: string;
  classes: string;
  model_dir: string | null;
  error: string | null;
  timing: string | null;
  rerun_of: number | null;
}

export interface OpenOptions {
  /** Path to a better_sqlite3.node built for this runtime (Electron's ABI differs from Node's). */
  nativeBinding?: string;
  /** Read a copy in memory, never the file (openHistorySnapshot): for listing a history that cannot be written. */
  readOnlySnapshot?: boolean;
}

export class RunStore {
  private readonly db: Database.Database;
  /** Iterations not yet written: one INSERT per batch of a training step would cost a disk sync each. */
  private pendingIterations: Array<{ runId: number; row: IterationRow }> = [];

  /** Set when the history was damaged, moved aside and started anew (openHistory.ts): tell the user. */
  readonly notice: string | null;

  constructor(
    readonly path: string,
    options: OpenOptions = {},
  ) {
    if (options.readOnlySnapshot) {
      this.db = openHistorySnapshot(path, options);
      this.notice = null;
      return;
    }
    const opened = openHistoryDb(path, options);
    this.db = opened.db;
    this.notice = opened.notice;
    this.migrate();
  }

  private migrate() {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `The run history ${this.path} was written by a newer Finetune Studio (schema ${version} > ${SCHEMA_VERSION}). Update the app, or use --home to point at another folder.`,
      );
    }
    // Each step reads the version inside an IMMEDIATE transaction (the write lock, waited for up to the busy
    // timeout): two processes opening a new history at once would otherwise both see version 0 and both create the
    // tables ("table runs already exists", as two CLI runs started together did).
    const step = this.db.transaction(() => {
      const v = this.db.pragma('user_version', { simple: true }) as number;
      if (v >= SCHEMA_VERSION) return false;
      this.db.exec(MIGRATIONS[v]!);
      this.db.pragma(`user_version = ${v + 1}`);
      return true;
    });
    if (version < SCHEMA_VERSION) while (step.immediate()) continue;
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  createRun(r: {
    dir: string;
    kind: string;
    backend: string;
    backendNote?: string;
    config: unknown;
    dataset: unknown;
    classes: string[];
    rerunOf?: number | null;
  }) {
    const info = this.db
      .prepare(
        `INSERT INTO runs (created_at, dir, kind, status, backend, backend_note, config, dataset, classes, owner_pid, owner_host, rerun_of)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        new Date().toISOString(),
        r.dir,
        r.kind,
        r.backend,
        r.backendNote ?? null,
        JSON.stringify(r.config),
        JSON.stringify(r.dataset),
        JSON.stringify(r.classes),
        process.pid,
        hostname(),
        r.rerunOf ?? null,
      );
    return Number(info.lastInsertRowid);
  }

  addEpoch(runId: number, e: EpochRow) {
    this.flushIterations();
    this.db
      .prepare(
        `INSERT OR REPLACE INTO epochs (run_id, step, epoch, train_loss, valid_loss, valid_accuracy, lr, seconds)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(runId, e.step, e.epoch, e.trainLoss, e.validLoss, e.validAccuracy, e.lr, e.seconds);
  }

  finishRun(runId: number, status: RunStatus, fields: { modelDir?: string | null; error?: string | null } = {}) {
    this.flushIterations();
    this.db
      .prepare(
        `UPDATE runs SET status = ?, finished_at = ?, model_dir = COALESCE(?, model_dir), error = ? WHERE id = ?`,
      )
      .run(status, new Date().toISOString(), fields.modelDir ?? null, fields.error ?? null, runId);
  }

  setDataset(runId: number, dataset: unknown, classes: string[]) {
    this.db
      .prepare(`UPDATE runs SET dataset = ?, classes = ? WHERE id = ?`)
      .run(JSON.stringify(dataset), JSON.stringify(classes), runId);
  }

  setStatus(runId: number, status: RunStatus) {
    this.db
      .prepare(`UPDATE runs SET status = ?, owner_pid = ?, owner_host = ? WHERE id = ?`)
      .run(status, process.pid, hostname(), runId);
  }

  /** A continuation's overrides: the stored config is what the run trains with. */
  setConfig(runId: number, config: unknown) {
    this.db.prepare(`UPDATE runs SET config = ? WHERE id = ?`).run(JSON.stringify(config), runId);
  }

  setTiming(runId: number, timing: RunTiming) {
    this.db.prepare(`UPDATE runs SET timing = ? WHERE id = ?`).run(JSON.stringify(timing), runId);
  }

  setModelDir(runId: number, modelDir: string) {
    this.db.prepare(`UPDATE runs SET model_dir = ? WHERE id = ?`).run(modelDir, runId);
  }

  /**
   * Runs left 'running' by a process that no longer exists (crash, kill) become 'interrupted'; called at start-up.
   * Runs owned by a live process on this machine (another CLI or app instance) are left alone.
   */
  markInterrupted(): number {
    const rows = this.db.prepare(`SELECT id, owner_pid, owner_host FROM runs WHERE status = 'running'`).all() as Array<{
      id: number;
      owner_pid: number | null;
      owner_host: string | null;
    }>;
    const dead = rows.filter((r) => r.owner_pid === null || r.owner_host !== hostname() || !processAlive(r.owner_pid));
    const mark = this.db.prepare(
      `UPDATE runs SET status = 'interrupted', error = 'the process ended during training' WHERE id = ?`,
    );
    this.db.transaction(() => dead.forEach((r) => mark.run(r.id)))();
    return dead.length;
  }

  addLrFind(runId: number | null, stage: string, result: unknown): number {
    const info = this.db
      .prepare(`INSERT INTO lr_finds (run_id, stage, created_at, result) VALUES (?, ?, ?, ?)`)
      .run(runId, stage, new Date().toISOString(), JSON.stringify(result));
    return Number(info.lastInsertRowid);
  }

  lrFinds(runId: number): Array<{ id: number; stage: string; createdAt: string; result: unknown }> {
    const rows = this.db
      .prepare(`SELECT id, stage, created_at, result FROM lr_finds WHERE run_id = ? ORDER BY id`)
      .all(runId) as Array<{ id: number; stage: string; created_at: string; result: string }>;
    return rows.map((r) => ({ id: r.id, stage: r.stage, createdAt: r.created_at, result: JSON.parse(r.result) }));
  }

  /** Every stored LR range test, newest first, including those not tied to a run (runId null). */
  listLrFinds(): Array<{ id: number; runId: number | null; stage: string; createdAt: string; result: unknown }> {
    const rows = this.db
      .prepare(`SELECT id, run_id, stage, created_at, result FROM lr_finds ORDER BY id DESC`)
      .all() as Array<{ id: number; run_id: number | null; stage: string; created_at: string; result: string }>;
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      stage: r.stage,
      createdAt: r.created_at,
      result: JSON.parse(r.result),
    }));
  }

  getRun<C = unknown, D = unknown>(runId: number): RunRow<C, D> | null {
    const raw = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(runId) as RawRun | undefined;
    return raw ? toRun<C, D>(raw) : null;
  }

  listRuns<C = unknown, D = unknown>(): RunRow<C, D>[] {
    return (this.db.prepare(`SELECT * FROM runs ORDER BY id DESC`).all() as RawRun[]).map((r) => toRun<C, D>(r));
  }

  /** The dataset folders of the most recent runs, newest first, each once: at most `limit` (the folder browser's). */
  recentDirs(limit: number): string[] {
    const rows = this.db
      .prepare(`SELECT dir FROM runs GROUP BY dir ORDER BY MAX(id) DESC LIMIT ?`)
      .all(limit) as Array<{ dir: string }>;
    return rows.map((r) => r.dir);
  }

  epochs(runId: number): EpochRow[] {
    return this.db
      .prepare(
        `SELECT step, epoch, train_loss AS trainLoss, valid_loss AS validLoss, valid_accuracy AS validAccuracy,
                lr, seconds FROM epochs WHERE run_id = ? ORDER BY rowid`,
      )
      .all(runId) as EpochRow[];
  }

  /** Buffered: written with the next ITERATION_BATCH rows, epoch, finish, read or close. A resumed step rewrites. */
  addIteration(runId: number, row: IterationRow) {
    this.pendingIterations.push({ runId, row });
    if (this.pendingIterations.length >= ITERATION_BATCH) this.flushIterations();
  }

  flushIterations() {
    if (this.pendingIterations.length === 0) return;
    const rows = this.pendingIterations;
    this.pendingIterations = [];
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO iterations (run_id, step, iteration, epoch, loss, lr) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const { runId, row: r } of rows)
        insert.run(
          runId,
          r.step,
          r.iteration,
          r.epoch,
          r.loss !== null && Number.isFinite(r.loss) ? r.loss : null,
          r.lr,
        );
    })();
  }

  /** A run's iterations in training order: steps by name ('step3-head' < 'step4-augment' …), then iteration. */
  iterations(runId: number): IterationRow[] {
    this.flushIterations();
    return this.db
      .prepare(`SELECT step, epoch, iteration, loss, lr FROM iterations WHERE run_id = ? ORDER BY step, iteration`)
      .all(runId) as IterationRow[];
  }

  /** A finished recipe step; a resumed run that redoes a step replaces it. */
  addStepResult(runId: number, result: RecipeStepResult) {
    this.db
      .prepare(`INSERT OR REPLACE INTO step_results (run_id, step, name, finished_at, result) VALUES (?, ?, ?, ?, ?)`)
      .run(runId, result.step, result.name, new Date().toISOString(), JSON.stringify(result));
  }

  stepResults(runId: number): RecipeStepResult[] {
    const rows = this.db.prepare(`SELECT result FROM step_results WHERE run_id = ? ORDER BY step`).all(runId) as Array<{
      result: string;
    }>;
    return rows.map((r) => JSON.parse(r.result) as RecipeStepResult);
  }

  /**
   * Removes a run and its rows in every table (explicitly, not only by ON DELETE CASCADE, which depends on the
   * connection's foreign_keys setting). Returns whether the run existed. Its folder is the caller's business.
   */
  deleteRun(runId: number): boolean {
    this.flushIterations();
    return this.db.transaction(() => {
      for (const table of ['iterations', 'step_results', 'epochs', 'lr_finds'])
        this.db.prepare(`DELETE FROM ${table} WHERE run_id = ?`).run(runId);
      return this.db.prepare(`DELETE FROM runs WHERE id = ?`).run(runId).changes > 0;
    })();
  }

  close() {
    this.flushIterations();
    this.db.close();
  }
}

function toRun<C, D>(r: RawRun): RunRow<C, D> {
  return {
    id: r.id,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    dir: r.dir,
    kind: r.kind,
    status: r.status,
    backend: r.backend,
    backendNote: r.backend_note,
    config: JSON.parse(r.config) as C,
    dataset: JSON.parse(r.dataset) as D,
    classes: JSON.parse(r.classes) as string[],
    modelDir: r.model_dir,
    error: r.error,
    timing: r.timing === null ? null : (JSON.parse(r.timing) as RunTiming),
    rerunOf: r.rerun_of ?? null,
  };
}
