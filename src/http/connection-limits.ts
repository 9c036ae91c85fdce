// Limits on the HTTP server's connections, so that slow or idle clients cannot use up the file
// descriptors the node needs for its WAL, LMDB and peers (a node that cannot open its next WAL
// segment must stop), nor lock out other clients:
// - a connection must send its request headers within headersTimeoutMs and its whole request
//   within requestTimeoutMs (slowloris);
// - a connection on which nothing moves for idleTimeoutMs is closed, e.g. a backup download whose
//   client stopped reading;
// - at most maxConnections are open: beyond it, the connection that has waited longest without a
//   request in progress (one still sending its headers, or an idle keep-alive one) is closed to
//   make room, so a flood of slow connections only displaces itself while requests being served
//   are never cut off.
import { readFileSync } from 'node:fs';
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ConnectionLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
}

/** Used when the open-file limit cannot be read. */
const FALLBACK_MAX_CONNECTIONS = 4_096;
/** More connections than this cost more memory than any single node should spend on them. */
const CEILING_MAX_CONNECTIONS = 16_384;
/** A flood sheds connections by the thousand: one log line per interval says how many. */
const SHED_LOG_INTERVAL_MS = 10_000;

export const DEFAULT_CONNECTION_LIMITS: Omit<ConnectionLimits, 'maxConnections'> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Above the longest a request may legitimately wait for an answer (a commit, a read index).
  idleTimeoutMs: 30_000,
};

/**
 * Half of this process's open-file limit: the other half stays for the WAL, LMDB, snapshots and
 * gRPC peers, whatever the clients do.
 */
export function defaultMaxConnections(limitsFile = '/proc/self/limits'): number {
  let text: string;
  try {
    text = readFileSync(limitsFile, 'utf8');
  } catch {
    return FALLBACK_MAX_CONNECTIONS;
  }
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(text)?.[1];
  if (soft === undefined) return FALLBACK_MAX_CONNECTIONS;
  if (soft === 'unlimited') return CEILING_MAX_CONNECTIONS;
  return Math.max(1, Math.min(CEILING_MAX_CONNECTIONS, Math.floor(Number(soft) / 2)));
}

/**
 * Options for http(s).createServer. The timeouts are checked every connectionsCheckingInterval
 * (30 s by default, which would let a slow request live up to 30 s beyond its limit).
 */
export function connectionServerOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
  };
}

/** On an HTTPS server a request's socket wraps the TCP socket that 'connection' reported. */
function tcpSocketOf(socket: Socket): Socket {
  return (socket as Socket & { _parent?: Socket })._parent ?? socket;
}

/** Applies the idle timeout and the connection cap to `server` (created with connectionServerOptions). */
export function limitConnections(
  server: Server,
  limits: ConnectionLimits,
  options: { registry?: Registry; logger?: Logger } = {},
): void {
  // With no 'timeout' listener on the server, a socket idle this long is destroyed.
  server.timeout = limits.idleTimeoutMs;
  const shed = options.registry
    ? new Counter({
        name: 'http_connections_shed_total',
        help: 'HTTP connections closed because maxConnections were open (oldest without a request in progress)',
        registers: [options.registry],
      })
    : undefined;
  // Insertion-ordered: the first is the one that has waited longest without a request in progress.
  const waiting = new Set<Socket>();
  let open = 0;
  let shedSinceLog = 0;
  let lastLogAt = -Infinity;
  const noteShed = () => {
    shed?.inc();
    shedSinceLog++;
    const now = performance.now();
    if (now - lastLogAt < SHED_LOG_INTERVAL_MS) return;
    options.logger?.warn(
      { shed: shedSinceLog, maxConnections: limits.maxConnections },
      'too many HTTP connections: closed the oldest without a request in progress',
    );
    lastLogAt = now;
    shedSinceLog = 0;
  };
  if (options.registry) {
    new Gauge({
      name: 'http_connections_open',
      help: 'HTTP connections open now',
      registers: [options.registry],
      collect() {
        this.set(open);
      },
    });
  }

  server.on('connection', (socket: Socket) => {
    open++;
    waiting.add(socket);
    socket.once('close', () => {
      open--;
      waiting.delete(socket);
    });
    if (open <= limits.maxConnections) return;
    // Never empty: it holds at least the connection that just arrived.
    const victim = waiting.values().next().value as Socket;
    waiting.delete(victim);
    victim.destroy();
    noteShed();
  });
  server.on('request', (req, res) => {
    const socket = tcpSocketOf(req.socket);
    waiting.delete(socket);
    res.once('close', () => {
      if (!socket.destroyed) waiting.add(socket);
    });
  });
}
