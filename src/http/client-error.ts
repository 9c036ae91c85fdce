// Requests that never reach the app: Node's HTTP parser refuses them (a bad Content-Length, a
// control character in a header, an unknown method, headers too large), the server's request
// timeout ends them, or Node answers them itself (an unsupported Expect, CONNECT, an HTTP/1.1
// request without Host). Node's default answers are bare status lines with no body; every error of
// this API is JSON, so these get the same { error, message } body, written straight to the socket
// where there is no response object, and the connection is closed, since nothing after a parse
// error can be trusted to start a new request.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { answeredOnSocket } from './access-log.js';
import { writeJson } from './json-response.js';

/** The client reset the connection or closed it mid-request: there is nobody left to answer. */
const CLIENT_LEFT: ReadonlySet<string> = new Set(['ECONNRESET', 'HPE_INVALID_EOF_STATE']);

/** How long a refused connection may take to read its answer before it is cut. */
const CLOSE_GRACE_MS = 5_000;

interface ClientErrorAnswer {
  status: number;
  error: string;
  message: string;
}

/** The answer to a request Node refused before the app saw it; the same codes Node itself uses. */
export function clientErrorAnswer(err: NodeJS.ErrnoException & { reason?: unknown }): ClientErrorAnswer {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: 'headers_too_large', message: 'the request headers are too large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, error: 'payload_too_large', message: 'the chunk extensions are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        error: 'request_timeout',
        message: 'the request was not received in time',
      };
    default: {
      const reason = typeof err.reason === 'string' && err.reason !== '' ? `: ${err.reason}` : '';
      return { status: 400, error: 'bad_request', message: `the request is not valid HTTP/1.1${reason}` };
    }
  }
}

/** The same answer as the app gives a request without Host (app.ts), for HTTP/1.1 only. */
export function missingHostAnswer(req: IncomingMessage): ClientErrorAnswer | undefined {
  if (req.headers.host !== undefined || req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1) {
    return undefined;
  }
  return { status: 400, error: 'bad_request', message: 'an HTTP/1.1 request needs a Host header' };
}

function responseBytes({ status, error, message }: ClientErrorAnswer): string {
  const body = JSON.stringify({ error, message });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Answers the server's client errors with JSON instead of Node's bare status lines. */
export function answerClientErrors(server: Server, logger: Logger): void {
  // Node would answer a missing Host with an empty 400; the app answers it (missingHostAnswer).
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    writeJson(
      res,
      417,
      { error: 'expectation_failed', message: 'the only expectation this server meets is 100-continue' },
      { Connection: 'close' },
    );
  });
  // CONNECT (a proxy tunnel) is no method of this API; without a listener Node drops the socket.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    endWith(socket, {
      status: 405,
      error: 'method_not_allowed',
      message: 'CONNECT is not supported',
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A request already handed to the app (e.g. its body stalled until the request timeout) has a
    // response in flight; once that has started, nothing more can be written on this connection.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
    if (!socket.writable || inFlight?.headersSent === true || CLIENT_LEFT.has(err.code ?? '')) {
      socket.destroy();
      return;
    }
    const answer = clientErrorAnswer(err);
    logger.debug({ err, status: answer.status }, 'request refused before it reached the app');
    if (inFlight !== undefined) answeredOnSocket(inFlight, answer.status);
    endWith(socket, answer);
  });
}

function endWith(socket: Duplex, answer: ClientErrorAnswer): void {
  // Closed once the answer is flushed, or after a grace period if the client does not read it.
  const linger = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  socket.once('close', () => clearTimeout(linger));
  socket.once('finish', () => socket.destroy());
  // The client may reset the connection before the answer is written (ECONNRESET on the write):
  // it left. Unhandled, that 'error' would end the process.
  socket.on('error', () => socket.destroy());
  socket.end(responseBytes(answer));
}
