/** The shape of a row of the wizard's step table (steps.ts) and what each step's page gets: pages import these, not the table. */
import type { Component } from 'svelte';
import type { AppInfo } from '../../../src-shared/contract';
import type { PageId } from '../state/app.svelte';

/** What every step's page gets. */
export interface StepPageProps {
  info: AppInfo;
  def: StepDef;
}

export interface StepDef {
  /** Its number; its name, heading and summary are the catalogs' common:steps.N (stepText.ts). */
  step: number;
  /** It trains weights: its page plans an LR schedule and plots the loss. */
  trains: boolean;
  /** Where the wizard shows it. */
  id: PageId;
  page: Component<StepPageProps>;
  /** It runs inside the eight-step recipe (it needs a scanned dataset or a recipe run). */
  recipe?: boolean;
}
