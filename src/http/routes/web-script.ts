// The page's script, as the browser runs it (plain ES2020, no build step). It replaces the form's
// own post with fetch, so the answer appears in place with a Copy button. On a follower the
// write answers 409 with the leader's URL: the script sends it there (cross-origin; the leader
// allows the cluster's own origins, see web-cors.ts). If that fetch fails — the page was opened
// under a name the cluster does not advertise, so CORS refuses — it lets the browser post the
// form to the leader itself, which answers with a page, like the no-JavaScript path. A leader
// remembered from an earlier write that is gone since is forgotten: the write starts over here.
export const PAGE_SCRIPT = `
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const form = $('shorten-form');
  const submit = $('submit');
  const result = $('result');
  const shortUrl = $('short-url');
  const openLink = $('open-link');
  const longUrl = $('long-url');
  const note = $('result-note');
  const copy = $('copy');
  const copied = $('copied');
  const error = $('error');
  const busy = $('busy');
  const apiKey = $('api-key');
  // '' is this node. After a 409 it is the leader's base URL, so later writes skip the hop.
  let writeBase = '';

  copy.hidden = false;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    hide(error);
    hide(result);
    hide(copied);
    submit.disabled = true;
    show(busy);
    try {
      const body = { url: $('url').value.trim() };
      const alias = $('alias').value.trim();
      if (alias !== '') body.alias = alias;
      const answer = await post(body);
      if (answer === undefined) return; // the browser is posting the form to the leader
      if (answer.status === 200 || answer.status === 201) showResult(answer.data, answer.status === 201);
      else showError(messageOf(answer.status, answer.data));
    } catch (err) {
      showError('Could not reach the server (' + (err && err.message ? err.message : err) + '). Try again.');
    } finally {
      submit.disabled = false;
      hide(busy);
    }
  });

  async function post(body) {
    let base = writeBase;
    for (let hop = 0; hop <= 3; hop++) {
      const headers = { 'content-type': 'application/json', accept: 'application/json' };
      if (apiKey && apiKey.value !== '') headers['x-api-key'] = apiKey.value;
      let res;
      try {
        res = await fetch(base + '/shorten', { method: 'POST', headers, body: JSON.stringify(body) });
      } catch (err) {
        if (base === '') throw err;
        if (hop === 0) {
          // The leader remembered from an earlier write is gone: ask this node again.
          writeBase = base = '';
          continue;
        }
        form.action = base + '/shorten';
        form.submit();
        return undefined;
      }
      const data = await res.json().catch(() => ({}));
      if (res.status === 409 && typeof data.leaderUrl === 'string' && /^https?:\\/\\//.test(data.leaderUrl)) {
        base = data.leaderUrl.replace(/\\/+$/, '');
        writeBase = base;
        continue;
      }
      return { status: res.status, data };
    }
    return { status: 409, data: { message: 'The cluster is changing leaders. Try again in a moment.' } };
  }

  function showResult(data, isNew) {
    shortUrl.value = data.shortUrl;
    openLink.href = data.shortUrl;
    longUrl.textContent = data.url;
    longUrl.href = data.url;
    note.textContent = isNew
      ? (data.expiresAt ? 'Expires ' + data.expiresAt + '.' : '')
      : 'This URL already had a short URL: here it is.';
    show(result);
    form.reset();
    shortUrl.focus();
    shortUrl.select();
  }

  function messageOf(status, data) {
    if (status === 401) return 'This node needs an API key for writes.';
    if (data && typeof data.message === 'string') {
      const text = data.message.charAt(0).toUpperCase() + data.message.slice(1);
      return /[.!?]$/.test(text) ? text : text + '.';
    }
    return 'The server answered ' + status + '.';
  }

  function showError(text) {
    error.textContent = text;
    show(error);
  }

  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(shortUrl.value);
    } catch {
      // No clipboard API (a page served over plain HTTP to another host is not a secure context).
      shortUrl.select();
      document.execCommand('copy');
    }
    show(copied);
  });

  function show(el) { el.hidden = false; }
  function hide(el) { el.hidden = true; }
})();
`;
