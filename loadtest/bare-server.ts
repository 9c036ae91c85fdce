// `node dist/loadtest/bare-server.js --port N`: runs the ceiling server (see bare-server-app.ts) and
// prints "listening on http://127.0.0.1:<port>" once it accepts connections (--port 0 picks a free one).
import { parseArgs } from 'node:util';
import { startBareServer } from './bare-server-app.js';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  process.stdout.write(
    'Usage: node dist/loadtest/bare-server.js [--port N]\n' +
      'Bare Express 5 URL shortener in memory (no replication, no disk): the ceiling for load-test comparisons.\n',
  );
} else {
  const server = await startBareServer(Number(values.port));
  process.stdout.write(`listening on ${server.url}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
