// Whether this node should get traffic: writes (a leader is known and this node has caught up
// once) and redirects (caught up once, even through an election), both off while it shuts down.
import type { UrlRuntime } from './runtime-calls.js';

export class Readiness {
  private caughtUp = false;
  private draining = false;

  constructor(private readonly runtime: Pick<UrlRuntime, 'leaderId'>) {}

  /** Can take writes: knows a leader and has applied what it was behind at start or join; not stopping. */
  isReady(): boolean {
    return this.caughtUp && !this.draining && this.runtime.leaderId !== 0;
  }

  /**
   * Can serve redirects: has caught up with a leader once since it started, and is not stopping.
   * Stays true through an election or a lost quorum: local data is then as current as it gets.
   */
  isReadyForRedirects(): boolean {
    return this.caughtUp && !this.draining;
  }

  /** The node is shutting down: both checks answer "not ready" from now on. */
  beginDrain(): void {
    this.draining = true;
  }

  /** The node has caught up with a leader (one ReadIndex round answered). */
  markReady(): void {
    this.caughtUp = true;
  }
}
