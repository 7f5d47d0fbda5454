import { defineConfig } from 'vitest/config';

// Unit tests only: the root config's globalSetup starts the whole local stack, which these do not need.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    pool: 'forks',
    // Same guard as the root config: no unit test may reach a host other than loopback.
    setupFiles: ['test/support/loopback-guard.ts'],
    testTimeout: 60_000,
  },
});
