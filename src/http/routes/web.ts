// The web UI: GET / is a page with a form to shorten a URL. With JavaScript the page posts JSON to
// /shorten and shows the answer in place (following a follower's 409 to the leader); without it
// the form posts itself (application/x-www-form-urlencoded) and /shorten answers with the page,
// the result filled in (web-form-answer.ts). Register before the shorten routes: the form answer
// and the CORS headers must be in place before /shorten's own handlers run.
import type { Express } from 'express';
import { methodNotAllowed } from '../error-middleware.js';
import type { NodeApi } from '../node-api.js';
import { corsHeaders, corsPreflight } from './web-cors.js';
import { htmlForFormPosts, sendHtml } from './web-form-answer.js';
import { renderPage } from './web-page.js';

export function registerWebRoutes(app: Express, deps: { node: NodeApi; apiKeyRequired: boolean }): void {
  const apiKeyField = deps.apiKeyRequired;
  // The empty page is the same for every request: render it once.
  const page = renderPage({ apiKeyField });

  app
    .route('/')
    // The page changes only with a new version of the node: the browser may keep it, revalidating.
    .get((_req, res) => sendHtml(res, page, 'no-cache'))
    // POST / is the seed's create (seed.ts), registered before this.
    .all(methodNotAllowed(['GET', 'HEAD', 'POST']));
  app.options('/shorten', corsPreflight(deps.node));
  app.post('/shorten', corsHeaders(deps.node), htmlForFormPosts({ apiKeyField }));
}
