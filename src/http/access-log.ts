// One access line per request, shared by the Express routes and the hot routes (hot-routes.ts), so
// both write the same lines at the same levels:
// - a success (< 400) logs at debug, so at the usual info level it costs a listener and a level
//   check, not a write; 4xx logs at info and 5xx at error, so problems stay visible;
// - a line carries only the request's id, method and url, its status and its time: copying and
//   stringifying every header would cost more than the request itself on the hot paths;
// - a response that never finished (the client went away) logs at warn as "request aborted", with
//   the status only if one was sent; a request that the server itself ended on the socket (a body
//   that stalled until the request timeout, see client-error.ts) logs that answer's status.
// This replaces pino-http, which built a child logger per request: about a quarter of the HTTP
// layer's CPU per request at saturation (measured for issue #4).
// Errors themselves (with stacks) are logged by the error handlers, not here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Level, Logger } from 'pino';

/** What the access line and the error lines say of a request. */
export interface RequestSummary {
  id: number;
  method: string | undefined;
  url: string | undefined;
}

/** Requests the access log has seen carry their id, so error lines can name the request. */
export type TrackedRequest = IncomingMessage & { id?: number };

/** Starts the access line of one request; it is written when the response ends. */
export type TrackRequest = (req: TrackedRequest, res: ServerResponse) => void;

/** Responses whose request was answered on the socket, not through them: the status written there. */
const socketAnswers = new WeakMap<ServerResponse, number>();

/** The request of `res` was answered with `status` directly on its socket (client-error.ts). */
export function answeredOnSocket(res: ServerResponse, status: number): void {
  socketAnswers.set(res, status);
}

export function levelOf(statusCode: number, finished: boolean): Level {
  if (!finished) return 'warn';
  if (statusCode >= 500) return 'error';
  if (statusCode >= 400) return 'info';
  return 'debug';
}

export function requestSummary(req: TrackedRequest): RequestSummary {
  return { id: req.id ?? 0, method: req.method, url: req.url };
}

export function accessLogger(logger: Logger): TrackRequest {
  let lastId = 0;
  return (req, res) => {
    lastId = (lastId + 1) & 0x7fffffff;
    req.id = lastId;
    const started = performance.now();
    // 'close' comes after 'finish' for a response that was sent, and alone for one that was not.
    res.once('close', () => {
      const onSocket = socketAnswers.get(res);
      const finished = res.writableFinished || onSocket !== undefined;
      // An unfinished response's statusCode is only what a handler meant to send (200 by default).
      const statusCode = onSocket ?? (finished || res.headersSent ? res.statusCode : null);
      const level = levelOf(statusCode ?? 0, finished);
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: requestSummary(req),
          res: { statusCode },
          responseTime: Math.round((performance.now() - started) * 1000) / 1000,
        },
        finished ? (level === 'error' ? 'request errored' : 'request completed') : 'request aborted',
      );
    });
  };
}
