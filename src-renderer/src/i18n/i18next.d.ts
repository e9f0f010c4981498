import 'i18next';
import type { en } from './resources';

// English's catalogs type every `t()` key: a missing or misspelt key fails svelte-check and tsc.
declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'common';
    resources: typeof en;
  }
}
