// The two requests a shortener serves thousands of times a second — POST /shorten with a JSON body
// and GET /:code — answered without Express. Express costs about 90 µs of CPU per request here
// against under 20 µs for Node's http alone (closed loop, one core; measured for issue #4), and on
// the leader that is the largest share of a write's CPU.
//
// Nothing changes for a client: a request is taken here only in the plain shape whose answer this
// code gives exactly as the Express routes do (same handler functions, same write check, same
// error mapping, same access line and metrics); anything else — another content type, a
// compressed or chunked body, an Origin (CORS), a browser form post (Accept: text/html), a
// consistency query parameter or X-Consistency header, HEAD, a code in percent-encoding — goes to the Express app,
// untouched. test/http/hot-routes.test.ts checks the answers of both paths against each other.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { answerForError } from './error-middleware.js';
import { invalidJson } from './body.js';
import { writeJson } from './json-response.js';
import type { NodeApi } from './node-api.js';
import { hasConsistencyParam } from './query-forwarding.js';
import { mayBeCode, type AnswerRedirect } from './routes/codes.js';
import type { Shorten } from './routes/shorten.js';
import type { WriteCheck } from './write-guard.js';

export interface HotRoute {
  /** The Express route pattern of the same request, for the metrics' route label. */
  readonly path: string;
  serve(req: IncomingMessage, res: ServerResponse): void;
}

export interface HotRouteDeps {
  node: Pick<NodeApi, 'lookup' | 'lookupAfterMiss'>;
  shorten: Shorten;
  checkWrite: WriteCheck;
  answerRedirect: AnswerRedirect;
  maxBodyBytes: number;
  logger: Logger;
}

/** JSON, in UTF-8 if a charset is named at all (body-parser refuses other charsets with a 415). */
const JSON_CONTENT_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*(?:utf-8|"utf-8")\s*)?$/i;
const DIGITS = /^\d{1,9}$/;

/** Returns the hot route that takes this request, or undefined to leave it to Express. */
export function hotRoutes(deps: HotRouteDeps): (req: IncomingMessage) => HotRoute | undefined {
  const { logger } = deps;
  const fail = (err: unknown, req: IncomingMessage, res: ServerResponse): void => {
    const answer = answerForError(err, req, res, logger);
    if (answer !== undefined) writeJson(res, answer.status, answer.body, answer.headers);
  };

  const shorten: HotRoute = {
    path: '/shorten',
    serve(req, res) {
      const refused = deps.checkWrite(req);
      if (refused !== undefined) return fail(refused, req, res);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A client that goes away mid-body gets no answer; there is nobody to send one to.
      req.once('end', () => {
        let body: unknown;
        try {
          body = parseStrictJson(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
        } catch (err) {
          return fail(err, req, res);
        }
        deps
          .shorten(body, req.headers)
          .then((answer) => writeJson(res, answer.status, answer.body, answer.headers))
          .catch((err: unknown) => fail(err, req, res));
      });
    },
  };

  const redirect: HotRoute = {
    path: '/:code',
    serve(req, res) {
      // A stored value that cannot be sent (a Location with characters invalid in a header) throws
      // here, inside the server's 'request' event: uncaught, it would end the process.
      const url = req.url!;
      const q = url.indexOf('?');
      const code = q === -1 ? url.slice(1) : url.slice(1, q);
      const query = q === -1 ? undefined : url.slice(q + 1);
      try {
        const record = deps.node.lookup(code);
        if (record !== undefined) return deps.answerRedirect(record, res, query);
      } catch (err) {
        return fail(err, req, res);
      }
      deps.node.lookupAfterMiss(code).then(
        (found) => {
          try {
            deps.answerRedirect(found, res, query);
          } catch (err) {
            fail(err, req, res);
          }
        },
        (err: unknown) => fail(err, req, res),
      );
    },
  };

  return (req) => {
    const { url, headers } = req;
    if (req.method === 'GET') {
      // One path segment and a code as it is stored (no percent-encoding); a query only when it
      // does not ask for another read consistency (the Express route reads that).
      if (url === undefined || headers['x-consistency'] !== undefined) return undefined;
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      if (path.indexOf('/', 1) !== -1 || !mayBeCode(path.slice(1))) return undefined;
      if (q !== -1 && hasConsistencyParam(url.slice(q + 1))) return undefined;
      return redirect;
    }
    if (req.method === 'POST' && url === '/shorten') {
      const length = headers['content-length'];
      if (length === undefined || !DIGITS.test(length)) return undefined;
      const bytes = Number(length);
      if (bytes === 0 || bytes > deps.maxBodyBytes) return undefined;
      if (headers['transfer-encoding'] !== undefined || headers['content-encoding'] !== undefined)
        return undefined;
      if (headers.origin !== undefined || headers.accept?.includes('text/html')) return undefined;
      const type = headers['content-type'];
      if (type === undefined || !JSON_CONTENT_TYPE.test(type)) return undefined;
      return shorten;
    }
    return undefined;
  };
}

/**
 * JSON.parse with body-parser's strict rule (only an object or an array at the top), so the same
 * bodies are refused with the same 400 as on the Express path. A UTF-8 byte-order mark is dropped,
 * as body-parser's decoder does.
 */
export function parseStrictJson(bytes: Buffer): unknown {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = /^[ \t\n\r]*(.)/.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw invalidJson();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidJson();
  }
}
