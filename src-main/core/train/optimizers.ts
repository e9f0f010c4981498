/**
 * Small optimizers with per-step hyper-parameters and per-group learning rates.
 *
 * Why not tfjs's own: they take one learning rate, cannot cycle momentum, key their state by variable order,
 * and their state cannot be snapshotted and restored exactly (the LR range test must leave no trace).
 * State here is keyed by variable name.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedActive } from '../tf/gradients';
import { K } from '../tf/hostKernels';

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
    const fused = fusedActive();
    for (const v of vars) {
      const g = grads[v.name];
      if (!g) continue;
      const slots = this.slotsFor(v);
      tf.tidy(() => {
        const next = fused ? this.fusedUpdate(v, g, slots, hyper) : this.opsUpdate(v, g, slots, hyper);
        v.assign(next[0]!);
        next.slice(1).forEach((value, i) => slots[i]!.assign(value));
      });
    }
  }

  /** The attributes of one update: decay, bias corrections and the variable's LR. */
  private hyperFor(name: string, hyper: StepHyper) {
    const { beta2, eps, weightDecay } = this.config;
    const beta1 = hyper.momentum;
    const t = this.step;
    return { lr: hyper.lrOf(name), beta1, beta2, eps, weightDecay, bc1: 1 - beta1 ** t, bc2: 1 - beta2 ** t };
  }

  /** One kernel per variable (tf/hostKernels.ts): [w, slots…]. */
  private fusedUpdate(v: tf.Variable, g: tf.Tensor, slots: tf.Variable[], hyper: StepHyper): tf.Tensor[] {
    const a = this.hyperFor(v.name, hyper);
    if (this.config.kind === 'sgd') {
      const attrs = { lr: a.lr, momentum: a.beta1, weightDecay: a.weightDecay };
      return tf.engine().runKernel(K.sgdStep, { w: v, g, buf: slots[0]! }, attrs) as tf.Tensor[];
    }
    return tf.engine().runKernel(K.adamwStep, { w: v, g, m: slots[0]!, s: slots[1]! }, a) as tf.Tensor[];
  }

  /** The same update in tfjs ops, on backends without our kernels: [w, slots…]. */
  private opsUpdate(v: tf.Variable, g: tf.Tensor, slots: tf.Variable[], hyper: StepHyper): tf.Tensor[] {
    const { lr, beta1, beta2, eps, weightDecay, bc1, bc2 } = this.hyperFor(v.name, hyper);
    const decayed = weightDecay > 0 ? v.mul(1 - lr * weightDecay) : v;
    if (this.config.kind === 'sgd') {
      const buf = slots[0]!.mul(beta1).add(g);
      return [decayed.sub(buf.mul(lr)), buf];
    }
    const m = slots[0]!.mul(beta1).add(g.mul(1 - beta1));
    const s = slots[1]!.mul(beta2).add(g.square().mul(1 - beta2));
    return [decayed.sub(m.div(bc1).div(s.div(bc2).sqrt().add(eps)).mul(lr)), m, s];
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
