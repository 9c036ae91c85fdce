// Promises waiting for something the Raft loop will report later: a proposal's entry being
// applied, or a read index becoming safe to read at. Each has a deadline so no caller hangs.

export class DeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'DeadlineError';
  }
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class Waiters<K, T> {
  private readonly byKey = new Map<K, Waiter<T>>();

  wait(key: K, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.byKey.delete(key);
        reject(new DeadlineError(timeoutMs));
      }, timeoutMs);
      // A pending write must not keep a stopping process alive.
      timer.unref();
      this.byKey.set(key, { resolve, reject, timer });
    });
  }

  has(key: K): boolean {
    return this.byKey.has(key);
  }

  resolve(key: K, value: T): boolean {
    const w = this.byKey.get(key);
    if (!w) return false;
    this.byKey.delete(key);
    clearTimeout(w.timer);
    w.resolve(value);
    return true;
  }

  reject(key: K, error: Error): boolean {
    const w = this.byKey.get(key);
    if (!w) return false;
    this.byKey.delete(key);
    clearTimeout(w.timer);
    w.reject(error);
    return true;
  }

  rejectAll(error: Error): void {
    for (const key of [...this.byKey.keys()]) this.reject(key, error);
  }

  keys(): IterableIterator<K> {
    return this.byKey.keys();
  }

  get size(): number {
    return this.byKey.size;
  }
}
