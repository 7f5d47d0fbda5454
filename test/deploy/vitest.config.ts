import { defineConfig } from 'vitest/config';

/**
 * The packaging tests on their own (`npx vitest run --config test/deploy/vitest.config.ts`), without
 * the local stack the root config starts first: they need none. The iam-coverage tests do need it and
 * runs under the root config (`npm test`, or `npx vitest run test/deploy`).
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/deploy/**/*.test.ts'],
    exclude: ['test/deploy/iam-coverage*.test.ts'],
    pool: 'forks',
    setupFiles: ['test/support/loopback-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
