// A graceful stop of an HTTP server: stop accepting connections, let the requests in flight finish
// (for a bounded time), then cut what is left. Responses written while draining carry
// `Connection: close`, so keep-alive clients (a load balancer's pool) reconnect elsewhere instead
// of sending their next request into a closing socket.
import type { Server, ServerResponse } from 'node:http';

export interface Drainable {
  /** Requests being answered right now. */
  readonly inFlight: number;
  /** Resolves once the server is closed: after the last request, or at timeoutMs at the latest. */
  drain(timeoutMs: number): Promise<void>;
}

export function trackRequests(server: Server): Drainable {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let idle: (() => void) | undefined;
  const closeAfter = (res: ServerResponse): void => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };

  // Before the app's listener, so the header is set before any handler writes its answer.
  server.prependListener('request', (_req, res) => {
    inFlight.add(res);
    if (draining) closeAfter(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (inFlight.size === 0) idle?.();
    });
  });

  return {
    get inFlight() {
      return inFlight.size;
    },
    async drain(timeoutMs) {
      draining = true;
      inFlight.forEach(closeAfter);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (idle = resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
      }
      // Idle keep-alive sockets and anything that outlived the bound.
      server.closeAllConnections();
      await closed;
    },
  };
}
