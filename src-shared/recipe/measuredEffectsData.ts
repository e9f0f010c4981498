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
      minutes: {
        cpu: 14,
        wall: 18.9,
      },
    },
    cutmix: {
      flags: '--cutmix 1',
      deltas: [-6.5, -3.5, -16.5],
      minutes: {
        cpu: 12.4,
        wall: 17.1,
      },
    },
    swa: {
      flags: '--swa 2',
      deltas: [0, 0, 0],
      minutes: {
        cpu: 13.6,
        wall: 14.4,
      },
    },
    'lrfind-valid': {
      flags: '--lr-find-on valid',
      deltas: [-1.5, 1.5, 0.5],
      minutes: {
        cpu: 18.5,
        wall: 17.2,
      },
    },
    progressive: {
      flags: '--progressive 64',
      deltas: [-3, 0, -1.5],
      minutes: {
        cpu: 12.9,
        wall: 12.1,
      },
    },
    sgd: {
      flags: '--optimizer sgd',
      deltas: [-23, -5, -4],
      minutes: {
        cpu: 10.7,
        wall: 17,
      },
    },
    'train-bn': {
      flags: '--train-bn',
      deltas: [-16, -11, -8.5],
      minutes: {
        cpu: 5.6,
        wall: 8.2,
      },
    },
    valley: {
      flags: '--lr-rule valley',
      deltas: [-0.5, 2, 3.5],
      minutes: {
        cpu: 14.5,
        wall: 23.3,
      },
    },
    'no-warmup': {
      flags: '--warmup-epochs 0',
      deltas: [-4.5, 2, -8.5],
      minutes: {
        cpu: 14.4,
        wall: 22.7,
      },
    },
    'no-augment': {
      flags: '--preset none',
      deltas: [-4.5, -5, -5.5],
      minutes: {
        cpu: 6.9,
        wall: 7,
      },
    },
    dihedral: {
      flags: '--preset top-down',
      deltas: [-15.5, -13, -12.5],
      minutes: {
        cpu: 12.6,
        wall: 22.1,
      },
    },
  },
  onKept: {
    tta: [0.5, 2, 3],
    ensemble: [-4.5, 2, -1],
  },
  overHead: [14, 10, 11],
  defaultsMinutes: {
    cpu: 14.2,
    wall: 19.1,
  },
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
    minutes: {
      defaults: {
        cpu: 33.9,
        wall: 76.7,
      },
      cutmix: {
        cpu: 8.5,
        wall: 19.2,
      },
      dihedral: {
        cpu: 26.4,
        wall: 52.6,
      },
      'lrfind-valid': {
        cpu: 30.7,
        wall: 55,
      },
      mixup: {
        cpu: 24.8,
        wall: 22.6,
      },
      'no-augment': {
        cpu: 6.2,
        wall: 4.8,
      },
      'no-warmup': {
        cpu: 26.2,
        wall: 52,
      },
      progressive: {
        cpu: 25.5,
        wall: 48.8,
      },
      sgd: {
        cpu: 25.2,
        wall: 24.3,
      },
      swa: {
        cpu: 26.6,
        wall: 55.1,
      },
      'train-bn': {
        cpu: 8.2,
        wall: 8.7,
      },
      valley: {
        cpu: 23.8,
        wall: 23.7,
      },
    },
  },
};
