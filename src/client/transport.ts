// One HTTP exchange, and nothing else: no redirects followed, no retries, no status handling.
// The client decides everything else; a Transport only moves bytes and classifies failures, so
// the load tool can plug in its own connection pools (and its own error texts).
import { Agent } from 'undici';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'DELETE';

export interface TransportRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface TransportResponse {
  status: number;
  /** Lower-case names; the first value of repeated headers. */
  headers: Record<string, string | undefined>;
  body: string;
  /** Size of the body on the wire. */
  bytes: number;
}

/**
 * timeout: no complete answer in time (the request may still take effect);
 * connection: the node is not there (refused, reset, closed): nothing reached it, or it died;
 * other: anything else (a bad URL, the transport closed).
 */
export type TransportFailure = 'timeout' | 'connection' | 'other';

export class TransportError extends Error {
  constructor(
    readonly kind: TransportFailure,
    message: string,
    /** The underlying code when there is one (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, …). */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface Transport {
  /** Resolves with any HTTP answer (including 4xx/5xx); rejects with a TransportError. */
  request(req: TransportRequest): Promise<TransportResponse>;
  close(): Promise<void>;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

export function failureKind(code: string | undefined): TransportFailure {
  if (code !== undefined && CONNECTION_CODES.has(code)) return 'connection';
  if (code !== undefined && TIMEOUT_CODES.has(code)) return 'timeout';
  return 'other';
}

export function errorCodeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

export interface UndiciTransportOptions {
  /**
   * Most connections open to one node at once; further requests wait for one (their time waiting
   * counts against their timeout). Default: no cap (one connection per request in flight).
   */
  connections?: number;
}

/** The default transport: undici with keep-alive connections per origin. */
export class UndiciTransport implements Transport {
  private readonly agent: Agent;

  constructor(options: UndiciTransportOptions = {}) {
    const { connections } = options;
    if (connections !== undefined && !(Number.isInteger(connections) && connections >= 1)) {
      throw new TypeError(`connections must be a whole number >= 1, got ${connections}`);
    }
    this.agent = new Agent({ keepAliveTimeout: 4_000, ...(connections !== undefined && { connections }) });
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    // One deadline for the whole exchange: undici's own timeouts are per phase (connect, headers,
    // body), so a slow node could take several of them.
    const deadline = AbortSignal.timeout(req.timeoutMs);
    try {
      const url = new URL(req.url);
      const res = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: deadline,
      });
      const raw = Buffer.from(await res.body.arrayBuffer());
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        headers[name.toLowerCase()] = Array.isArray(value) ? value[0] : value;
      }
      return { status: res.statusCode, headers, body: raw.toString('utf8'), bytes: raw.length };
    } catch (err) {
      const where = `${req.method} ${req.url}`;
      if (deadline.aborted) {
        throw new TransportError('timeout', `${where}: no answer within ${req.timeoutMs} ms`, 'TIMEOUT');
      }
      const code = errorCodeOf(err);
      const detail = (err as { message?: string })?.message ?? String(err);
      throw new TransportError(failureKind(code), `${where}: ${detail}`, code);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
