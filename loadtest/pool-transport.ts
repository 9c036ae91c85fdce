// The shortener client's Transport over the load tool's HttpClient: the client's protocol rules
// (follow 409s to the leader, never follow redirects) on the load tool's own connection pools,
// which the run can destroy at its drain deadline, and with its vegeta-like error texts.
import {
  failureKind,
  TransportError,
  type Transport,
  type TransportRequest,
  type TransportResponse,
} from '../src/client/transport.js';
import type { HttpClient } from './client.js';

export class PoolTransport implements Transport {
  constructor(private readonly http: HttpClient) {}

  async request(req: TransportRequest): Promise<TransportResponse> {
    const r = await this.http.request({ ...req, keepBody: true });
    if (r.status === 0) {
      throw new TransportError(
        failureKind(r.errorCode),
        r.error ?? `${req.method} ${req.url}: failed`,
        r.errorCode,
      );
    }
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(r.headers ?? {})) {
      headers[name] = Array.isArray(value) ? value[0] : value;
    }
    return { status: r.status, headers, body: r.body?.toString('utf8') ?? '', bytes: r.bytesIn };
  }

  /** The pools belong to the HttpClient, which the run closes or destroys itself. */
  async close(): Promise<void> {}
}
