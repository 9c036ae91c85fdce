// POST /api/import: what one node exports another imports (codes, targets, expiry, tags, limits);
// a re-run imports nothing and reports every link as present; expired links, codes taken by other
// URLs and bad lines are skipped with their reason, and the rest goes on.
import { describe, expect, it } from 'vitest';
import { appsClosedAfterEach, becomeFollower, json, type Harness } from './harness.js';

const app = appsClosedAfterEach();

function importBody(h: Harness, body: string, contentType: string): Promise<Response> {
  return fetch(h.baseUrl + '/api/import', { method: 'POST', headers: { 'content-type': contentType }, body });
}

const future = Date.now() + 86_400_000;

describe('POST /api/import', () => {
  it.each(['jsonl', 'csv'])(
    'imports an export (%s) and a re-run finds everything present',
    async (format) => {
      const source = await app();
      source.node.seed({ code: 'abc', url: 'https://example.com/a,1', createdAt: 1 });
      source.node.seed({
        code: 'promo',
        url: 'https://example.com/p',
        createdAt: 2,
        alias: true,
        expiresAt: future,
      });
      const exported = await (await fetch(`${source.baseUrl}/api/export?format=${format}`)).text();
      const target = await app();
      const type = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
      const first = await importBody(target, exported, type);
      expect(first.status).toBe(200);
      expect(await json(first)).toMatchObject({ format, imported: 2, alreadyPresent: 0, skipped: 0 });
      expect(target.node.byCode.get('abc')?.url).toBe('https://example.com/a,1');
      expect(target.node.byCode.get('promo')).toMatchObject({
        url: 'https://example.com/p',
        expiresAt: future,
      });
      const again = await json(await importBody(target, exported, type));
      expect(again).toMatchObject({ imported: 0, alreadyPresent: 2, skipped: 0 });
      expect(target.node.byCode.size).toBe(2);
      // Found on the leader before anything was proposed: the re-run made no create at all.
      expect(target.node.createCalls).toHaveLength(2);
    },
  );

  it('skips with reasons: expired, a code taken by another URL, bad JSON, no url; imports the rest', async () => {
    const h = await app();
    h.node.seed({ code: 'taken', url: 'https://example.com/mine', createdAt: 1 });
    const lines = [
      JSON.stringify({ code: 'old', url: 'https://example.com/old', expiresAt: '2001-01-01T00:00:00Z' }),
      JSON.stringify({ code: 'taken', url: 'https://example.com/theirs' }),
      '{not json',
      JSON.stringify({ code: 'nourl' }),
      '',
      JSON.stringify({ code: 'fine', url: 'https://example.com/fine', tags: ['a', 'b'], maxVisits: 3 }),
      JSON.stringify({ url: 'https://example.com/no-code' }),
    ];
    const report = await json(await importBody(h, lines.join('\n'), 'application/x-ndjson'));
    expect(report).toMatchObject({
      lines: 7,
      imported: 2,
      alreadyPresent: 0,
      skipped: 4,
      reasons: { expired: 1, alias_taken: 1, invalid_json: 1, missing_url: 1 },
    });
    expect(
      (report.skippedLines as Array<{ line: number; error: string }>).map((s) => [s.line, s.error]),
    ).toEqual([
      [1, 'expired'],
      [3, 'invalid_json'],
      [4, 'missing_url'],
      [2, 'alias_taken'],
    ]);
    expect(h.node.byCode.get('taken')?.url).toBe('https://example.com/mine');
    expect(h.node.byCode.get('fine')).toMatchObject({ tags: ['a', 'b'], maxVisits: 3 });
  });

  it('many lines go through in batches', async () => {
    const h = await app();
    const n = 1_000;
    const body = Array.from({ length: n }, (_, i) =>
      JSON.stringify({ code: `m${i}x`, url: `https://example.com/${i}` }),
    );
    const report = await json(await importBody(h, body.join('\n'), 'application/x-ndjson'));
    expect(report).toMatchObject({ lines: n, imported: n, skipped: 0 });
    expect(h.node.byCode.size).toBe(n);
  });

  it('refused whole: another media type (415), a CSV without a url column (400), a follower (409)', async () => {
    const h = await app();
    expect((await importBody(h, '<x/>', 'application/xml')).status).toBe(415);
    const noUrl = await importBody(h, 'code,target\r\nabc,https://example.com/\r\n', 'text/csv');
    expect(noUrl.status).toBe(400);
    expect((await json(noUrl)).error).toBe('invalid_csv');
    becomeFollower(h.node, 2, 'http://127.0.0.1:8082');
    const refused = await importBody(
      h,
      JSON.stringify({ url: 'https://example.com/' }),
      'application/x-ndjson',
    );
    expect(refused.status).toBe(409);
    expect(h.node.createCalls).toEqual([]);
  });
});
