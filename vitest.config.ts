import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Cluster tests start real processes; they get their own generous timeouts per test.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: running many process-spawning files at once only adds noise and flakiness.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
