// The ceiling for comparisons: a bare Express 5 app doing the shortener's HTTP work in memory (JSON
// body, the same validation shape, a nanoid code into a Map, GET -> 302) with no replication or disk.
// Whatever our service loses against it is the cost of consensus and durability, plus our overhead.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import { newCode } from '../src/shortener/code-generator.js';
import { validateLongUrl } from '../src/shortener/validate-url.js';

export function createBareApp(): { app: express.Express; size: () => number } {
  const byCode = new Map<string, { code: string; url: string; createdAt: number }>();
  const byUrl = new Map<string, string>();
  let baseUrl = '';
  const app = express();
  app.use(express.json({ limit: '16kb' }));

  app.post('/shorten', (req: Request, res: Response) => {
    // The service's own validation and code generator: the same per-request work, minus Raft and disk.
    const valid = validateLongUrl((req.body as { url?: unknown } | undefined)?.url);
    if (!valid.ok) return void res.status(400).json({ message: valid.message });
    const url = valid.url;
    baseUrl ||= `${req.protocol}://${req.get('host')}`;
    const existing = byUrl.get(url);
    if (existing)
      return void res.status(200).json({ code: existing, shortUrl: `${baseUrl}/${existing}`, url });
    let code = newCode();
    while (byCode.has(code)) code = newCode();
    byCode.set(code, { code, url, createdAt: Date.now() });
    byUrl.set(url, code);
    res.status(201).json({ code, shortUrl: `${baseUrl}/${code}`, url });
  });

  // A one-node "cluster", so the load tool's leader discovery works against it unchanged.
  app.get('/cluster/status', (req: Request, res: Response) => {
    const httpUrl = `${req.protocol}://${req.get('host')}`;
    res.json({
      id: 1,
      role: 'leader',
      term: 1,
      leaderId: 1,
      leaderUrl: httpUrl,
      commitIndex: byCode.size,
      appliedIndex: byCode.size,
      members: [{ id: 1, httpUrl, raftAddr: '', voter: true, matchIndex: byCode.size }],
    });
  });

  app.get('/:code', (req: Request, res: Response) => {
    const record = byCode.get(req.params.code as string);
    if (!record) return void res.status(404).json({ message: 'unknown code' });
    // A bare 302, as the service sends (res.redirect would also build an HTML body per request).
    res.statusCode = 302;
    res.setHeader('Location', record.url);
    res.end();
  });

  // Malformed JSON bodies: a 400 with the same {message} shape instead of Express's HTML page.
  app.use(
    (
      err: { status?: number; message?: string },
      _req: Request,
      res: Response,
      _next: express.NextFunction,
    ) => {
      res.status(err.status && err.status < 500 ? err.status : 500).json({ message: err.message ?? 'error' });
    },
  );
  return { app, size: () => byCode.size };
}

export interface BareServer {
  url: string;
  port: number;
  /** URLs stored so far. */
  size(): number;
  close(): Promise<void>;
}

/** Starts the ceiling server on 127.0.0.1 (port 0 picks a free one). */
export async function startBareServer(port = 0): Promise<BareServer> {
  const { app, size } = createBareApp();
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  // Keep-alive must outlive the load generator's idle connections, as on the real nodes.
  server.keepAliveTimeout = 65_000;
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
