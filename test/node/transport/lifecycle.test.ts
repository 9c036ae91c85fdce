import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/exchange-then-stop.ts', import.meta.url));
const viteNode = fileURLToPath(new URL('../../../node_modules/.bin/vite-node', import.meta.url));

describe('GrpcTransport lifecycle', () => {
  it('leaves no handles after stop(): a process that used it exits on its own', async () => {
    const child = spawn(viteNode, [fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const hung = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(output).toContain('stopped');
      expect(code, `the fixture process hung or failed:\n${output}`).toBe(0);
    } finally {
      clearTimeout(hung);
      child.kill('SIGKILL'); // no-op when it already exited
    }
  });
});
