// The one HTML page of the web UI, rendered on the server: empty at GET /, and with the result (or
// the error) of a form post filled in when the browser posted without JavaScript. Every value that
// came from a request or the store goes through escapeHtml. The styles and the script are inline
// and pinned by hash in the Content-Security-Policy, so nothing else can run on the page.
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './web-script.js';

export interface PageState {
  /** The form post created or found a short URL. */
  result?: { shortUrl: string; url: string; created: boolean; expiresAt?: string };
  /** The form post failed: a sentence for humans. */
  error?: string;
  /** What the user typed, to fill the form again after an error. */
  values?: { url?: string; alias?: string };
  /** The node wants an API key for writes: show a field for it (sent by the script as a header). */
  apiKeyField?: boolean;
}

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; display: flex; justify-content: center; }
main { width: min(40rem, 100% - 2rem); margin-top: 3rem; }
h1 { font-size: 1.6rem; }
label { display: block; margin: 1rem 0 0.3rem; font-weight: 600; }
.hint { font-weight: normal; opacity: 0.7; font-size: 0.9em; }
input { box-sizing: border-box; width: 100%; padding: 0.5rem; font: inherit; }
button { margin-top: 1rem; padding: 0.5rem 1.2rem; font: inherit; cursor: pointer; }
.row { display: flex; gap: 0.5rem; align-items: center; }
.row button { margin-top: 0; }
#result { margin-top: 2rem; padding: 1rem; border: 1px solid #3a8; border-radius: 6px; }
#result label { margin-top: 0; }
#error { margin-top: 2rem; padding: 1rem; border: 1px solid #c33; border-radius: 6px; }
#long-url { word-break: break-all; }
`;

/** What the Content-Security-Policy allows: this script and this style, nothing else inline. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256(PAGE_SCRIPT)}'`,
  `style-src 'sha256-${sha256(STYLE)}'`,
  // Writes may go to the leader, another node of the cluster, by fetch or by the form.
  "connect-src 'self' http: https:",
  "form-action 'self' http: https:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function renderPage(state: PageState = {}): string {
  const { result, error, values = {} } = state;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shorten a URL</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Shorten a URL</h1>
<form id="shorten-form" method="post" action="/shorten">
<label for="url">Long URL</label>
<input id="url" name="url" type="url" required maxlength="8192" placeholder="https://example.com/a/long/path" value="${escapeHtml(values.url ?? '')}">
<label for="alias">Alias <span class="hint">optional: 3–64 of a–z, A–Z, 0–9, _ and -</span></label>
<input id="alias" name="alias" pattern="[0-9A-Za-z_\\-]{3,64}" autocomplete="off" value="${escapeHtml(values.alias ?? '')}">
${state.apiKeyField ? API_KEY_FIELD : ''}<button type="submit" id="submit">Shorten</button> <span id="busy" hidden>Shortening…</span>
</form>
<section id="result" aria-live="polite"${result ? '' : ' hidden'}>
<label for="short-url">Your short URL</label>
<div class="row"><input id="short-url" readonly value="${escapeHtml(result?.shortUrl ?? '')}"><button type="button" id="copy" hidden>Copy</button></div>
<p><span id="copied" hidden>Copied. </span><a id="open-link" href="${escapeHtml(result?.shortUrl ?? '')}">Open it</a> — it redirects to <a id="long-url" href="${escapeHtml(result?.url ?? '')}">${escapeHtml(result?.url ?? '')}</a></p>
<p id="result-note">${escapeHtml(resultNote(result))}</p>
</section>
<p id="error" role="alert"${error ? '' : ' hidden'}>${escapeHtml(error ?? '')}</p>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

// No `name`: the key must never travel in a form body (or a URL); the script sends it as a header.
const API_KEY_FIELD = `<label for="api-key">API key <span class="hint">this node needs one for writes (JavaScript sends it)</span></label>
<input id="api-key" type="password" autocomplete="off">
`;

function resultNote(result: PageState['result']): string {
  if (!result) return '';
  if (!result.created) return 'This URL already had a short URL: here it is.';
  return result.expiresAt ? `Expires ${result.expiresAt}.` : '';
}

/** A server message as a sentence: capitalized, with a full stop. */
export function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}
