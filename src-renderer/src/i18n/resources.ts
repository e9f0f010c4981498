// Every message of the wizard, by language and namespace. One namespace per area of the wizard, one JSON file per
// namespace and language, so that areas can be translated independently. English is the reference: its keys type
// `t()` (see i18next.d.ts), and test/unit/i18n-catalogs.test.ts checks that Arabic has every key with the same
// placeholders and all six Arabic plural forms.
import arCommon from './ar/common.json';
import enCommon from './en/common.json';
import arDataset from './ar/dataset.json';
import enDataset from './en/dataset.json';
import arLrfind from './ar/lrfind.json';
import enLrfind from './en/lrfind.json';
import arTrain from './ar/train.json';
import enTrain from './en/train.json';
import arRecipe from './ar/recipe.json';
import enRecipe from './en/recipe.json';
import arExport from './ar/export.json';
import enExport from './en/export.json';
import arRuns from './ar/runs.json';
import enRuns from './en/runs.json';
import arResults from './ar/results.json';
import enResults from './en/results.json';
import arProgress from './ar/progress.json';
import enProgress from './en/progress.json';
import arTeachHead from './ar/teachHead.json';
import enTeachHead from './en/teachHead.json';
import arTeachRecipe from './ar/teachRecipe.json';
import enTeachRecipe from './en/teachRecipe.json';
// Messages the core raises and emits as codes (src-shared/messages): English is the CLI's catalog too.
import arMessages from '../../../src-shared/messages/ar.json';
import { ENGLISH_MESSAGES as enMessages } from '../../../src-shared/messages';
import arUse from './ar/use.json';
import enUse from './en/use.json';

// Who owns which: common (shell, shared words), dataset (step 1), lrfind (steps 2 and 7's curves), train (step 3 and
// schedules), recipe (steps 4-8), export, runs (history, compare), results (results page, cleaner), progress (bars,
// jobs), teachHead / teachRecipe (the learn-more panels of steps 1-3 / 4-8), use (the "Use the model" page).
export const en = {
  common: enCommon,
  dataset: enDataset,
  lrfind: enLrfind,
  train: enTrain,
  recipe: enRecipe,
  export: enExport,
  runs: enRuns,
  results: enResults,
  progress: enProgress,
  teachHead: enTeachHead,
  teachRecipe: enTeachRecipe,
  messages: enMessages,
  use: enUse,
} as const;

export const ar: Record<keyof typeof en, Record<string, unknown>> = {
  common: arCommon,
  dataset: arDataset,
  lrfind: arLrfind,
  train: arTrain,
  recipe: arRecipe,
  export: arExport,
  runs: arRuns,
  results: arResults,
  progress: arProgress,
  teachHead: arTeachHead,
  teachRecipe: arTeachRecipe,
  messages: arMessages,
  use: arUse,
};

export const resources = { en, ar };
export const NAMESPACES = Object.keys(en) as (keyof typeof en)[];
