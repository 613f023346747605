// Lint rules that catch what review keeps missing. The workflow rule matters most:
// workflow code runs in Temporal's deterministic sandbox and must replay, so it may not
// reach Node I/O, activities' implementations or clients (types are fine).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_IO = ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'dgram', 'dns', 'os', 'worker_threads', 'crypto', 'path'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.day2/', 'test/histories/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...NODE_IO.flatMap((m) => [m, `node:${m}`]).map((name) => ({
              name,
              message: 'Workflows run in a deterministic sandbox: do I/O in an activity.',
            })),
            ...['pg', 'execa', 'pino', '@temporalio/activity', '@temporalio/client', '@temporalio/worker'].map((name) => ({
              name,
              message: 'Workflows must not load I/O libraries or SDK parts other than @temporalio/workflow.',
              allowTypeImports: true,
            })),
          ],
          patterns: [
            {
              group: ['../activities', '../activities/*', '../client/*', '../approver/*', '../config'],
              allowTypeImports: true,
              message: 'Workflows import activities, clients and config only as types.',
            },
          ],
        },
      ],
    },
  },
);
