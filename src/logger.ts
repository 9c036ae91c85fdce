// One structured logger per process; every line carries the node id.
import { pino, type Logger } from 'pino';

export function createLogger(nodeId: number, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { nodeId } });
}
