import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules', 'out', '.cache', '.scratch', '.electron-native', 'test/artifacts', 'resources/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    // Layering: the core never reaches up into Electron, the server or the renderer.
    files: ['src-main/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: ['electron', '**/server/**', '**/cli/**', '**/src-renderer/**', '**/worker/**', '**/app/**'],
        },
      ],
    },
  },
  {
    // The contract is the bottom layer: schemas only, shared by main, preload, the bridge and the renderer.
    files: ['src-shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['electron', 'node:*', '**/src-main/**', '**/src-renderer/**'] }],
    },
  },
  {
    // The renderer runs in the browser and talks to the core only through the contract: src-shared is its floor.
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['electron', 'node:*', '**/src-main/**'] }],
    },
  },
);
