// The URL store on a disk that fills up: its flush to LMDB fails with ENOSPC, which must not stop
// the node (the log waits out a full disk the same way). Everything applied stays readable from
// memory, applies go on, and once space returns the retried flush writes it all durably. The store
// runs in a child process (fixtures/url-store-full.ts): see there why.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { faultFsUnavailable } from '../../src/launcher/fault-fs.js';

const unavailable = await faultFsUnavailable();
const fixture = fileURLToPath(new URL('./fixtures/url-store-full.ts', import.meta.url));
const viteNode = fileURLToPath(new URL('../../node_modules/.bin/vite-node', import.meta.url));

describe.skipIf(unavailable !== undefined)(
  `URL store on a full disk${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('retries its flush until space returns, serving and applying meanwhile', async () => {
      const child = spawn(viteNode, [fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      // Generous: a hung child is the finding, not its speed.
      const hung = setTimeout(() => child.kill('SIGTERM'), 100_000);
      try {
        const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
        expect(code, `the fixture failed:\n${output}`).toBe(0);
        const line = output.split('\n').find((l) => l.startsWith('{'));
        expect(line, output).toBeDefined();
        const r = JSON.parse(line!) as Record<string, unknown>;
        expect(r.durableBefore).toBe(500);
        expect(r.flushOnFullDisk).toMatch(/Commit failed|No space left/);
        expect(r.durableWhileFull).toBe(500);
        expect(r.servedWhileFull).toBe('https://example.com/3505');
        expect(r.durableAfter).toBe(r.applied);
        expect(r.reopenedApplied).toBe(r.applied);
        expect(r.reopenedFirst).toBe('https://example.com/1');
        expect(r.reopenedLast).toBe(`https://example.com/${String(r.applied)}`);
        expect(r.strayAllDiskFull).toBe(true);
      } finally {
        clearTimeout(hung);
        child.kill('SIGKILL'); // no-op when it already exited
      }
    }, 120_000);
  },
);
