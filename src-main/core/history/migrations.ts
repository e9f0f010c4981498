/** The run history's schema: migration N takes `PRAGMA user_version` from N to N + 1. Forward only, never edited. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     created_at TEXT NOT NULL,
     finished_at TEXT,
     dir TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     backend TEXT NOT NULL,
     config TEXT NOT NULL,
     dataset TEXT NOT NULL,
     classes TEXT NOT NULL,
     model_dir TEXT,
     error TEXT
   );
   CREATE TABLE epochs (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     step TEXT NOT NULL,
     epoch INTEGER NOT NULL,
     train_loss REAL NOT NULL,
     valid_loss REAL NOT NULL,
     valid_accuracy REAL NOT NULL,
     lr REAL NOT NULL,
     seconds REAL NOT NULL,
     PRIMARY KEY (run_id, step, epoch)
   );
   CREATE TABLE lr_finds (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
     stage TEXT NOT NULL,
     created_at TEXT NOT NULL,
     result TEXT NOT NULL
   );`,
  // 2: who owns a running run, so that start-up marks only runs of dead processes as interrupted.
  `ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
   ALTER TABLE runs ADD COLUMN owner_host TEXT;`,
  // 3: the run-time estimate and the real time, per step (JSON RunTiming).
  `ALTER TABLE runs ADD COLUMN timing TEXT;
   ALTER TABLE runs ADD COLUMN backend_note TEXT;`,
  // 4: each finished recipe step's result (JSON RecipeStepResult), before only in run.json and the checkpoint.
  `CREATE TABLE step_results (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     step INTEGER NOT NULL,
     name TEXT NOT NULL,
     finished_at TEXT NOT NULL,
     result TEXT NOT NULL,
     PRIMARY KEY (run_id, step)
   );`,
  // 5: the loss and applied LR of every training iteration; \`step\` as in epochs ('head', 'step8-all', ...), the
  // iteration counted within that step. Loss NULL where it was NaN or infinite (divergence).
  `CREATE TABLE iterations (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     step TEXT NOT NULL,
     iteration INTEGER NOT NULL,
     epoch INTEGER NOT NULL,
     loss REAL,
     lr REAL NOT NULL,
     PRIMARY KEY (run_id, step, iteration)
   ) WITHOUT ROWID;`,
  // 6: the run whose config a run repeats ("Run again", `finetune runs rerun`); no foreign key: the original may be
  // deleted and the re-run stays.
  `ALTER TABLE runs ADD COLUMN rerun_of INTEGER;`,
  // 7: the folder browser's recent dataset folders (RunStore.recentDirs) read from this index, not every run's row.
  `CREATE INDEX runs_dir_id ON runs(dir, id);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
