import { defineConfig } from 'vitest/config';

/**
 * The fault-injection and hostile-input suite (`npm run test:faults`): only `*.faults.test.ts` files.
 * Forked processes (tests kill workers, patch `fs.promises` and measure RSS), generous timeouts, one file
 * at a time per core, and fast-check with a fixed global seed (setup.ts). The files skip themselves in
 * the normal unit suite (they look for CLIP_FIELDS_FAULTS=1, set here).
 */
export default defineConfig({
  test: {
    include: ['**/*.faults.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 2,
    execArgv: ['--expose-gc'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
    teardownTimeout: 30_000,
    setupFiles: ['main/core/testing/faults/setup.ts'],
    env: { CLIP_FIELDS_FAULTS: '1' },
    reporters: ['default'],
  },
});
