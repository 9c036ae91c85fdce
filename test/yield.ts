/**
 * Lets the event loop run once. Long CPU-bound tests await this between units of work: vitest's
 * worker answers the runner's RPC on this loop, and a stretch of synchronous work longer than the
 * RPC timeout fails the run ("Timeout calling onTaskUpdate") even though every test passed.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
