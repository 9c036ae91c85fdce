// A request body copied to a temporary file as fast as the client sends it, so a route whose work
// takes longer than the node's --request-timeout-ms (the slowloris bound on receiving a request)
// can read it afterwards at its own pace. The file is removed by dispose().
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError } from './errors.js';

export interface SpooledBody {
  open(): ReadStream;
  dispose(): Promise<void>;
}

export async function spoolBody(req: IncomingMessage, maxBytes: number): Promise<SpooledBody> {
  const dir = await mkdtemp(join(tmpdir(), 'shortener-body-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const file = join(dir, 'body');
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes)
        done(new HttpError(413, 'payload_too_large', `the request body exceeds ${maxBytes} bytes`));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(req, limit, createWriteStream(file));
  } catch (err) {
    await dispose();
    throw err;
  }
  return { open: () => createReadStream(file), dispose };
}
