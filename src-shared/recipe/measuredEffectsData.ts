/**
 * Written by `npm run eval -- --effects COMMIT` from eval/options/COMMIT (test/unit/measured-effects.test.ts);
 * typed where measuredEffects.ts reads it (no import back, so no cycle).
 */
export const MEASURED_EFFECTS = {
  commit: 'e7b9ad0d73',
  perClass: 40,
  size: 128,
  options: {
    mixup: {
      flags: '--mixup 0.4',
      deltas: [-3, 1.5, 1],
      cpuMinutes: 14,
    },
    cutmix: {
      flags: '--cutmix 1',
      deltas: [-6.5, -3.5, -16.5],
      cpuMinutes: 12.4,
    },
    swa: {
      flags: '--swa 2',
      deltas: [0, 0, 0],
      cpuMinutes: 13.6,
    },
    'lrfind-valid': {
      flags: '--lr-find-on valid',
      deltas: [-1.5, 1.5, 0.5],
      cpuMinutes: 18.5,
    },
    progressive: {
      flags: '--progressive 64',
      deltas: [-3, 0, -1.5],
      cpuMinutes: 12.9,
    },
    sgd: {
      flags: '--optimizer sgd',
      deltas: [-23, -5, -4],
      cpuMinutes: 10.7,
    },
    'train-bn': {
      flags: '--train-bn',
      deltas: [-16, -11, -8.5],
      cpuMinutes: 5.6,
    },
    valley: {
      flags: '--lr-rule valley',
      deltas: [-0.5, 2, 3.5],
      cpuMinutes: 14.5,
    },
    'no-warmup': {
      flags: '--warmup-epochs 0',
      deltas: [-4.5, 2, -8.5],
      cpuMinutes: 14.4,
    },
    'no-augment': {
      flags: '--preset none',
      deltas: [-4.5, -5, -5.5],
      cpuMinutes: 6.9,
    },
    dihedral: {
      flags: '--preset top-down',
      deltas: [-15.5, -13, -12.5],
      cpuMinutes: 12.6,
    },
  },
  onKept: {
    tta: [0.5, 2, 3],
    ensemble: [-4.5, 2, -1],
  },
  overHead: [14, 10, 11],
  defaultsCpuMinutes: 14.2,
  larger: {
    perClass: 100,
    seed: 42,
    overHead: 10,
    onKept: {
      tta: 0.5,
      ensemble: -4,
    },
    options: {
      cutmix: -17.5,
      dihedral: -10,
      'lrfind-valid': -1,
      mixup: -3,
      'no-augment': -7.5,
      'no-warmup': -2,
      progressive: -2,
      sgd: -3.5,
      swa: 0,
      'train-bn': -11.5,
      valley: 0,
    },
    cpuMinutes: {
      defaults: 33.9,
      cutmix: 8.5,
      dihedral: 26.4,
      'lrfind-valid': 30.7,
      mixup: 24.8,
      'no-augment': 6.2,
      'no-warmup': 26.2,
      progressive: 25.5,
      sgd: 25.2,
      swa: 26.6,
      'train-bn': 8.2,
      valley: 23.8,
    },
  },
};
