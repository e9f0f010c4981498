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
        wall: 19,
      },
    },
    cutmix: {
      flags: '--cutmix 1',
      deltas: [-6.5, -3.5, -16.5],
      minutes: {
        cpu: 12,
        wall: 17,
      },
    },
    swa: {
      flags: '--swa 2',
      deltas: [0, 0, 0],
      minutes: {
        cpu: 14,
        wall: 14,
      },
    },
    'lrfind-valid': {
      flags: '--lr-find-on valid',
      deltas: [-1.5, 1.5, 0.5],
      minutes: {
        cpu: 19,
        wall: 17,
      },
    },
    progressive: {
      flags: '--progressive 64',
      deltas: [-3, 0, -1.5],
      minutes: {
        cpu: 13,
        wall: 12,
      },
    },
    sgd: {
      flags: '--optimizer sgd',
      deltas: [-23, -5, -4],
      minutes: {
        cpu: 11,
        wall: 17,
      },
    },
    'train-bn': {
      flags: '--train-bn',
      deltas: [-16, -11, -8.5],
      minutes: {
        cpu: 6,
        wall: 8,
      },
    },
    valley: {
      flags: '--lr-rule valley',
      deltas: [-0.5, 2, 3.5],
      minutes: {
        cpu: 14,
        wall: 23,
      },
    },
    'no-warmup': {
      flags: '--warmup-epochs 0',
      deltas: [-4.5, 2, -8.5],
      minutes: {
        cpu: 14,
        wall: 23,
      },
    },
    'no-augment': {
      flags: '--preset none',
      deltas: [-4.5, -5, -5.5],
      minutes: {
        cpu: 7,
        wall: 7,
      },
    },
    dihedral: {
      flags: '--preset top-down',
      deltas: [-15.5, -13, -12.5],
      minutes: {
        cpu: 13,
        wall: 22,
      },
    },
  },
  onKept: {
    tta: [0.5, 2, 3],
    ensemble: [-4.5, 2, -1],
  },
  overHead: [14, 10, 11],
  defaultsMinutes: {
    cpu: 14,
    wall: 19,
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
        cpu: 34,
        wall: 77,
      },
      cutmix: {
        cpu: 9,
        wall: 19,
      },
      dihedral: {
        cpu: 26,
        wall: 53,
      },
      'lrfind-valid': {
        cpu: 31,
        wall: 55,
      },
      mixup: {
        cpu: 25,
        wall: 23,
      },
      'no-augment': {
        cpu: 6,
        wall: 5,
      },
      'no-warmup': {
        cpu: 26,
        wall: 52,
      },
      progressive: {
        cpu: 26,
        wall: 49,
      },
      sgd: {
        cpu: 25,
        wall: 24,
      },
      swa: {
        cpu: 27,
        wall: 55,
      },
      'train-bn': {
        cpu: 8,
        wall: 9,
      },
      valley: {
        cpu: 24,
        wall: 24,
      },
    },
  },
};
