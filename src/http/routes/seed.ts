// POST / — the contract of the Go shortener this project replaces: the long URL is the whole raw
// body, whatever Content-Type the client sends (curl -d sends a form type, vegeta target files
// send none), and the answer is {"url": <short URL>, "redirectsTo": <long URL>}. Its users' scripts
// and load-test targets keep working unchanged.
//
// It is POST /shorten underneath (same validation, idempotency, abuse limits, write guard, leader
// rule and errors); only the request's body format and the success shape differ. Like /shorten it
// answers 201 for a new code and 200 when the URL already had one.
import type { Express, RequestHandler } from 'express';
import { parseRawText } from '../body.js';
import { HttpError } from '../errors.js';
import type { Shorten } from './shorten.js';

export function registerSeedRoute(
  app: Express,
  deps: { shorten: Shorten; maxBodyBytes: number; access: RequestHandler },
): void {
  const handler: RequestHandler = async (req, res) => {
    const body: unknown = req.body;
    const longUrl = typeof body === 'string' ? body.trim() : '';
    if (longUrl === '') {
      throw new HttpError(400, 'missing_url', 'send the long URL as the request body');
    }
    const answer = await deps.shorten(longUrl, req.headers);
    if (answer.headers) res.set(answer.headers);
    res.status(answer.status).json({ url: answer.body.shortUrl, redirectsTo: answer.body.url });
  };
  // The key is checked before the body is read, as on /shorten.
  app.post('/', deps.access, parseRawText(deps.maxBodyBytes), handler);
}
