// POST /shorten: the write path. Validates, decides the code and createdAt here on the leader (the
// command must be plain data, the same on every node), and waits for the entry to be applied.
// newCode() never returns a reserved word (a route such as "healthz"), so every code resolves.
import type { Express, RequestHandler } from 'express';
import { parseBody } from '../body.js';
import { methodNotAllowed } from '../error-middleware.js';
import { HttpError } from '../errors.js';
import { CODE_TAKEN, ConflictError, type CreateResult, type NodeApi } from '../node-api.js';
import type { ShortUrlOf } from '../short-url.js';
import { validateLongUrl } from '../../shortener/validate-url.js';
import { newCode } from '../../shortener/code-generator.js';

/**
 * A collision of random codes is vanishingly rare; several in a row mean something is broken
 * (e.g. a generator with too little entropy), which should surface as a logged 500, not a loop.
 */
export const MAX_CODE_ATTEMPTS = 4;

export function registerShortenRoutes(
  app: Express,
  deps: { node: NodeApi; shortUrlOf: ShortUrlOf; maxBodyBytes: number; access: RequestHandler },
): void {
  const { node, shortUrlOf } = deps;

  const shorten: RequestHandler = async (req, res) => {
    const input = longUrlInput(req.body);
    if (input === undefined || input === '') {
      throw new HttpError(
        400,
        'missing_url',
        'send the URL to shorten as JSON {"url": …}, a form field url=…, or a text/plain body',
      );
    }
    const validation = validateLongUrl(input);
    if (!validation.ok) throw new HttpError(400, 'invalid_url', validation.message);

    const result = await createWithFreshCode(node, validation.url);
    // 201 for a new code; 200 when the URL already had one (decided in apply, so it holds across
    // concurrent requests and leader changes).
    res
      .status(result.created ? 201 : 200)
      .json({ code: result.code, shortUrl: shortUrlOf(result.code), url: result.url });
  };

  app
    .route('/shorten')
    // The key is checked before the body is read: a refused client costs no parsing.
    .post(deps.access, parseBody(['json', 'form', 'text'], deps.maxBodyBytes), shorten)
    .all(methodNotAllowed(['POST']));
}

/** The URL from any of the three body formats; undefined when there is none. */
function longUrlInput(body: unknown): unknown {
  if (typeof body === 'string') return body.trim(); // text/plain: `echo URL | curl --data-binary @-` adds a newline
  if (typeof body === 'object' && body !== null && !Array.isArray(body))
    return (body as { url?: unknown }).url;
  return undefined;
}

async function createWithFreshCode(node: NodeApi, url: string): Promise<CreateResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await node.createShortUrl({ code: newCode(), url, createdAt: Date.now() });
    } catch (err) {
      if (!(err instanceof ConflictError && err.errorCode === CODE_TAKEN)) throw err;
      if (attempt >= MAX_CODE_ATTEMPTS) {
        throw new Error(`no free code after ${MAX_CODE_ATTEMPTS} attempts`, { cause: err });
      }
    }
  }
}
