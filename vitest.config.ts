import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/loopback-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
