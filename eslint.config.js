import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: globals.node,
      // Type information for the rules below, from the project's own tsconfig.json.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A promise nobody awaits or handles hides its rejection; `void` marks the deliberate ones.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it/test register tests and report their own failures.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
        },
      ],
      // A promise where a plain value or a void callback is expected (an async listener, say).
      '@typescript-eslint/no-misused-promises': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['test/**', 'bench/**', 'examples/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Plain JavaScript (the meteor-job examples, the mongosh scripts, this file) has no types to check.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Scripts for mongosh, which provides db, rs and print.
    files: ['mongo-init/**'],
    languageOptions: { globals: { db: 'readonly', rs: 'readonly', print: 'readonly', sleep: 'readonly' } },
  },
);
