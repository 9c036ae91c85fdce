// POST /shorten answers browsers' form posts with a page. A form posted without JavaScript sends
// `Accept: text/html…`; the route itself knows only JSON, so for such a request this wraps
// res.json — every answer of the route, the error handler's included, goes through it — and
// renders the same answer as the web page instead. Requests that prefer JSON (API clients, curl's
// */*, the page's own script) never reach the wrapper: their answers are unchanged.
//
// On a follower the route answers 409 with the leader's URL; a browser cannot act on that, so the
// page answers 307 Temporary Redirect to the leader's /shorten instead: the browser posts the same
// form there (307 keeps the method and the body), and the leader answers with the result page.
import type { Request, RequestHandler, Response } from 'express';
import { PAGE_CSP, renderPage, sentence, type PageState } from './web-page.js';

export function htmlForFormPosts(options: { apiKeyField: boolean }): RequestHandler {
  return (req, res, next) => {
    if (!prefersHtml(req)) return next();
    res.json = ((body: unknown) => {
      sendFormAnswer(req, res, body, options.apiKeyField);
      return res;
    }) as Response['json'];
    next();
  };
}

function prefersHtml(req: Request): boolean {
  const accept = req.headers.accept;
  // The cheap test first: this runs on the write path of every API client.
  if (accept === undefined || !accept.includes('text/html')) return false;
  return req.accepts(['application/json', 'text/html']) === 'text/html';
}

function sendFormAnswer(req: Request, res: Response, body: unknown, apiKeyField: boolean): void {
  const answer = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const status = res.statusCode;
  const leaderUrl = status === 409 ? httpUrl(answer.leaderUrl) : undefined;
  if (leaderUrl !== undefined) {
    const target = `${leaderUrl.replace(/\/+$/, '')}/shorten`;
    res.status(307).location(target);
    sendHtml(
      res,
      renderPage({ error: 'This node does not lead the cluster: sending your form to the leader.' }),
    );
    return;
  }
  const state: PageState = { apiKeyField };
  if ((status === 200 || status === 201) && typeof answer.shortUrl === 'string') {
    state.result = {
      shortUrl: answer.shortUrl,
      url: String(answer.url),
      created: status === 201,
      expiresAt: typeof answer.expiresAt === 'string' ? answer.expiresAt : undefined,
    };
  } else {
    state.error =
      status === 401
        ? 'This node needs an API key for writes; the page can send one only with JavaScript on.'
        : sentence(typeof answer.message === 'string' ? answer.message : `the server answered ${status}`);
    state.values = formValues(req.body);
  }
  sendHtml(res, renderPage(state));
}

/** A page of the web UI; answers to posts are never stored (`no-store`). */
export function sendHtml(res: Response, html: string, cacheControl = 'no-store'): void {
  res.set({
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': PAGE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': cacheControl,
  });
  res.send(html);
}

/** The fields to fill the form with again after an error (the body may not have been parsed). */
function formValues(body: unknown): PageState['values'] {
  if (typeof body !== 'object' || body === null) return {};
  const { url, alias } = body as Record<string, unknown>;
  return {
    url: typeof url === 'string' ? url : undefined,
    alias: typeof alias === 'string' ? alias : undefined,
  };
}

function httpUrl(value: unknown): string | undefined {
  return typeof value === 'string' && /^https?:\/\/[^/]/i.test(value) ? value : undefined;
}
