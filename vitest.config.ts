import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Cluster tests start real processes; they get their own generous timeouts per test.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file at a time: the machine has two cores, and timing-sensitive tests (coordinated
    // omission, transport latency, failover deadlines) must not share them with three-node clusters.
    fileParallelism: false,
    // Node processes the tests start stop by themselves when the test process that started them
    // dies without cleaning up (an interrupted run); see cmd/node.ts.
    env: { EXIT_WITH_PARENT: '1' },
  },
});
