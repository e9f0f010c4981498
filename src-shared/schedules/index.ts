/** Learning-rate (and momentum) schedules as pure functions: safe to import from the main process and the renderer. */
export * from './types';
export * from './basic';
export * from './warmup';
export * from './cyclic';
export * from './sgdr';
export * from './onecycle';
export * from './groups';
export * from './build';
