// Access logs with pino-http, tuned for the hot paths (POST /shorten and GET /:code run thousands
// of times a second):
// - a success (< 400) logs at debug, so at the usual info level it costs a no-op call, not a write;
//   4xx logs at info and 5xx at error, so problems stay visible;
// - the serializers keep only id, method, url and status: pino-http binds the request to a child
//   logger on every request (that child is req.log), and the standard serializer would copy and
//   stringify every header;
// - createHttpApp({ requestLogging: false }) leaves this middleware out entirely.
// Errors themselves (with stacks) are logged by the error handler, not here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { RequestHandler } from 'express';

export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage & { id?: unknown }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => {
      if (err !== undefined || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'info';
      return 'debug';
    },
    // The error handler logs the error with its stack; the access line only needs the outcome.
    customErrorObject: (_req, res, _err, val: { responseTime: number }) => ({
      res,
      responseTime: val.responseTime,
    }),
  });
}
