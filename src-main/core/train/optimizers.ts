/**
 * Small optimizers with per-step hyper-parameters and per-group learning rates.
 *
 * Why not tfjs's own: they take one learning rate, cannot cycle momentum, key their state by variable order,
 * and their state cannot be snapshotted and restored exactly (the LR range test must leave no trace).
 * State here is keyed by variable name.
 */
import * as tf from '@tensorflow/tfjs';

export type OptimizerKind = 'sgd' | 'adamw';

export interface OptimizerConfig {
  kind: OptimizerKind;
  /** SGD momentum, or Adam's beta1 (both can be cycled per step). */
  momentum: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (AdamW / SGDW): w ← w − lr·wd·w. */
  weightDecay: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = {
  kind: 'adamw',
  momentum: 0.9,
  beta2: 0.99,
  eps: 1e-5,
  weightDecay: 0.01,
};

export interface StepHyper {
  /** Learning rate for this variable (already multiplied by its group's multiplier). */
  lrOf: (variableName: string) => number;
  momentum: number;
}

export interface OptimizerState {
  step: number;
  slots: Record<string, { shape: number[]; values: Float32Array[] }>;
}

export class Optimizer {
  private step = 0;
  private readonly slots = new Map<string, tf.Variable[]>();

  constructor(readonly config: OptimizerConfig) {}

  private slotsFor(v: tf.Variable): tf.Variable[] {
    let s = this.slots.get(v.name);
    if (!s) {
      const n = this.config.kind === 'adamw' ? 2 : 1;
      s = Array.from({ length: n }, () => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
      this.slots.set(v.name, s);
    }
    return s;
  }

  /** Apply one update. `grads` maps variable names to gradients (the caller disposes them). */
  apply(vars: readonly tf.Variable[], grads: tf.NamedTensorMap, hyper: StepHyper): void {
    this.step++;
    const { kind, beta2, eps, weightDecay } = this.config;
    const beta1 = hyper.momentum;
    const t = this.step;
    for (const v of vars) {
      const g = grads[v.name];
      if (!g) continue;
      const lr = hyper.lrOf(v.name);
      const slots = this.slotsFor(v);
      tf.tidy(() => {
        const decayed = weightDecay > 0 ? v.mul(1 - lr * weightDecay) : v;
        if (kind === 'sgd') {
          const buf = slots[0]!;
          const next = buf.mul(beta1).add(g);
          buf.assign(next);
          v.assign(decayed.sub(next.mul(lr)));
        } else {
          const [m, s] = slots as [tf.Variable, tf.Variable];
          const m1 = m.mul(beta1).add(g.mul(1 - beta1));
          const s1 = s.mul(beta2).add(g.square().mul(1 - beta2));
          m.assign(m1);
          s.assign(s1);
          const mHat = m1.div(1 - Math.pow(beta1, t));
          const sHat = s1.div(1 - Math.pow(beta2, t));
          v.assign(decayed.sub(mHat.div(sHat.sqrt().add(eps)).mul(lr)));
        }
      });
    }
  }

  /** A deep copy of the state (for checkpoints and for undoing the LR range test). */
  getState(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [name, vars] of this.slots) {
      slots[name] = {
        shape: vars[0]!.shape,
        values: vars.map((x) => x.dataSync() as Float32Array).map((a) => a.slice()),
      };
    }
    return { step: this.step, slots };
  }

  setState(state: OptimizerState): void {
    this.dispose();
    this.step = state.step;
    for (const [name, slot] of Object.entries(state.slots)) {
      this.slots.set(
        name,
        slot.values.map((vals) => tf.tidy(() => tf.variable(tf.tensor(vals, slot.shape), false))),
      );
    }
  }

  dispose(): void {
    for (const vars of this.slots.values()) vars.forEach((x) => x.dispose());
    this.slots.clear();
  }
}
