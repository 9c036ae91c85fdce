// GET /api/export: every record as JSON lines or CSV, with the index it reflects; the view is
// closed whether the client reads to the end or goes away; the API key is needed when set.
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { csvRow, jsonLine } from '../../src/http/link-formats.js';
import { appsClosedAfterEach, json } from './harness.js';

const app = appsClosedAfterEach();

const plain = { code: 'abc', url: 'https://example.com/a?x=1,2', createdAt: Date.UTC(2026, 0, 2) };
const aliased = {
  code: 'promo',
  url: 'https://example.com/"quoted"',
  createdAt: Date.UTC(2026, 0, 3),
  expiresAt: Date.UTC(2030, 0, 1),
  alias: true,
  tags: ['news', 'spring'],
  maxVisits: 100,
};

describe('link formats', () => {
  it('JSON lines: ISO instants, optional fields only when set', () => {
    expect(jsonLine(plain)).toBe(
      '{"code":"abc","url":"https://example.com/a?x=1,2","createdAt":"2026-01-02T00:00:00.000Z"}\n',
    );
    expect(JSON.parse(jsonLine(aliased))).toEqual({
      code: 'promo',
      url: 'https://example.com/"quoted"',
      createdAt: '2026-01-03T00:00:00.000Z',
      expiresAt: '2030-01-01T00:00:00.000Z',
      alias: true,
      tags: ['news', 'spring'],
      maxVisits: 100,
    });
  });

  it('CSV: commas and quotes are quoted, quotes doubled', () => {
    expect(csvRow(plain)).toBe('abc,"https://example.com/a?x=1,2",2026-01-02T00:00:00.000Z,,,,\r\n');
    expect(csvRow(aliased)).toBe(
      'promo,"https://example.com/""quoted""",2026-01-03T00:00:00.000Z,2030-01-01T00:00:00.000Z,true,news spring,100\r\n',
    );
  });
});

describe('GET /api/export', () => {
  it('JSON lines by default, every record once, with X-Raft-Index; the view is closed', async () => {
    const h = await app();
    h.node.seed(aliased);
    h.node.seed(plain);
    const res = await fetch(h.baseUrl + '/api/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(res.headers.get('x-raft-index')).toBe('7');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="links-7.jsonl"');
    expect(await res.text()).toBe(jsonLine(plain) + jsonLine(aliased));
    expect(h.node.exportsClosed).toBe(1);
  });

  it('CSV with a header row', async () => {
    const h = await app();
    h.node.seed(plain);
    const res = await fetch(h.baseUrl + '/api/export?format=csv');
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await res.text()).toBe('code,url,createdAt,expiresAt,alias,tags,maxVisits\r\n' + csvRow(plain));
  });

  it('streams many records in chunks, all of them, in order', async () => {
    const h = await app();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      h.node.seed({ code: `c${String(i).padStart(6, '0')}`, url: `https://example.com/${i}`, createdAt: i });
    }
    const text = await (await fetch(h.baseUrl + '/api/export')).text();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(n);
    expect(lines.map((l) => (JSON.parse(l) as { code: string }).code)).toEqual(
      Array.from({ length: n }, (_, i) => `c${String(i).padStart(6, '0')}`),
    );
  });

  it('a client that stops reading and goes away: the view is closed all the same', async () => {
    const h = await app();
    for (let i = 0; i < 50_000; i++) {
      h.node.seed({ code: `d${i}`, url: `https://example.com/${'x'.repeat(100)}/${i}`, createdAt: i });
    }
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(h.baseUrl + '/api/export', (res) => {
        // Take the headers, read nothing, hang up: the server fills the socket and waits.
        expect(res.statusCode).toBe(200);
        req.destroy();
        resolve();
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
    await expect.poll(() => h.node.exportsClosed, { timeout: 10_000 }).toBe(1);
  });

  it('a bad format → 400 before anything is read; the API key is needed when set', async () => {
    const h = await app({ apiKey: 'k'.repeat(16) });
    const unauthorized = await fetch(h.baseUrl + '/api/export');
    expect(unauthorized.status).toBe(401);
    const bad = await fetch(h.baseUrl + '/api/export?format=xml', {
      headers: { 'x-api-key': 'k'.repeat(16) },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toBe('invalid_format');
    expect(h.node.exportsClosed).toBe(0);
    const ok = await fetch(h.baseUrl + '/api/export', { headers: { 'x-api-key': 'k'.repeat(16) } });
    expect(ok.status).toBe(200);
  });
});
