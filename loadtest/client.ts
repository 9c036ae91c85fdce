// The HTTP client: one undici Pool per origin (node), pipelining 1 like a browser or a typical
// service client. Requests never throw: failures come back as status 0 with an error text, so the
// recorder can count them like vegeta does. The workload's shortener client (src/client) sends its
// requests through these pools too (pool-transport.ts).
import { Pool } from 'undici';

export interface ClientOptions {
  /** Connection cap per origin. The pool opens connections lazily, so a high cap costs nothing idle. */
  connections: number;
  /** Time allowed for the response headers, and again for the body. */
  timeoutMs: number;
}

export interface HttpResult {
  status: number;
  bytesIn: number;
  /** Present only when asked for (keepBody), to avoid buffering read responses. */
  body?: Buffer;
  location?: string;
  error?: string;
  /** The error's code when there is one (ECONNREFUSED, UND_ERR_SOCKET, UND_ERR_HEADERS_TIMEOUT, …). */
  errorCode?: string;
  /** Every response header (lower-case names), from request(); send() gives only `location`. */
  headers?: Record<string, string | string[] | undefined>;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Buffer the body (send() does not for reads, to keep their hot path lean). */
  keepBody?: boolean;
  /** Overrides the client's timeout for this request (e.g. short status probes). */
  timeoutMs?: number;
}

/**
 * Errors that say the node is not there (refused, reset, closed under us): a write can move on to
 * another node at once. Timeouts are not among them: a slow node may still answer, and a write
 * that timed out may still commit.
 */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);

export function isConnectionError(r: HttpResult): boolean {
  return r.status === 0 && r.errorCode !== undefined && CONNECTION_ERRORS.has(r.errorCode);
}

export class HttpClient {
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  constructor(private readonly options: ClientOptions) {}

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** `timeoutMs` overrides the client's timeout for this request (e.g. short status probes). */
  send(
    method: 'GET' | 'POST',
    url: string,
    body?: string,
    keepBody = false,
    timeoutMs = this.options.timeoutMs,
  ): Promise<HttpResult> {
    const headers = body === undefined ? undefined : { 'content-type': 'application/json' };
    return this.request({ method, url, headers, body, keepBody, timeoutMs });
  }

  /** Like send(), with any headers, and every response header in the result. */
  async request(req: HttpRequest): Promise<HttpResult> {
    const { method, url, body } = req;
    const timeoutMs = req.timeoutMs ?? this.options.timeoutMs;
    let origin: string;
    let path: string;
    try {
      const u = new URL(url);
      origin = u.origin;
      path = u.pathname + u.search;
    } catch {
      return { status: 0, bytesIn: 0, error: `invalid URL: ${url}` };
    }
    try {
      const res = await this.pool(origin).request({
        method,
        path,
        body,
        headers: req.headers,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      let bytesIn = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        bytesIn += chunk.length;
        if (req.keepBody) chunks.push(chunk);
      }
      const location = res.headers.location;
      return {
        status: res.statusCode,
        bytesIn,
        body: req.keepBody ? Buffer.concat(chunks) : undefined,
        location: Array.isArray(location) ? location[0] : location,
        headers: res.headers,
      };
    } catch (err) {
      return { status: 0, bytesIn: 0, error: describeError(method, url, err), errorCode: errorCodeOf(err) };
    }
  }

  /** Fails every request still queued or in flight; used when the drain deadline passes. */
  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((p) => p.destroy().catch(() => undefined)));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      if (this.closed) throw new Error('client closed');
      pool = new Pool(origin, { connections: this.options.connections, pipelining: 1 });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

function errorCodeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** vegeta-like error texts: "POST http://…/shorten: connect ECONNREFUSED 127.0.0.1:8081". */
function describeError(method: string, url: string, err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { message?: string } };
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  const code = e?.code && !detail.includes(e.code) ? `${e.code} ` : '';
  return `${method} ${url}: ${code}${detail}`;
}
