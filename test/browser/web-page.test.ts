// The web page end to end in headless Chromium against a real two-node cluster (built dist/, free
// loopback ports): shorten with JavaScript on and off, on the leader and on the follower, copy the
// short URL, see an error, and check that the short URL redirects to the long one.
// Needs Debian's chromium at /usr/bin/chromium (`apt-get install chromium`); skipped without it.
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/domain/errors.js';
import { request, shorten, startCluster, type TestCluster } from '../cluster/helpers.js';
import { startApp } from '../http/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`test/browser: skipped, ${CHROMIUM} not found (install it: apt-get install -y chromium)`);
}

describe.skipIf(!hasChromium)('the web page in Chromium', () => {
  let tc: TestCluster;
  let browser: Browser;
  let leader: string;
  let follower: string;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    [tc, browser] = await Promise.all([
      startCluster('web-page', 2),
      chromium.launch({
        executablePath: CHROMIUM,
        // Playwright adds --headless and a fresh temporary --user-data-dir itself.
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    ]);
    const nodes = [tc.node(1), tc.node(2)];
    const status = await nodes[0].status();
    const leaderId = status!.leaderId;
    leader = nodes.find((n) => n.spec.id === leaderId)!.url;
    follower = nodes.find((n) => n.spec.id !== leaderId)!.url;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await tc?.destroy();
  });

  async function withPage<T>(
    options: { javaScriptEnabled: boolean; origin?: string },
    fn: (page: Page, context: BrowserContext) => Promise<T>,
  ): Promise<T> {
    const context = await browser.newContext({ javaScriptEnabled: options.javaScriptEnabled });
    if (options.origin)
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: options.origin });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      return await fn(page, context);
    } finally {
      await context.close();
    }
  }

  async function fill(page: Page, url: string, alias = ''): Promise<void> {
    await page.fill('#url', url);
    await page.fill('#alias', alias);
  }

  /** GET of the short URL, not followed: it must redirect to the long URL. */
  async function expectRedirect(shortUrl: string, longUrl: string): Promise<void> {
    const res = await request(shortUrl);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(longUrl);
  }

  it('with JavaScript, on the leader: the short URL appears in place, Copy copies it, it redirects', async () => {
    const longUrl = `https://example.com/js/${Date.now()}`;
    await withPage({ javaScriptEnabled: true, origin: leader }, async (page) => {
      await page.goto(`${leader}/`);
      await fill(page, longUrl);
      await page.click('#submit');
      await page.waitForSelector('#result:not([hidden])');
      expect(page.url()).toBe(`${leader}/`); // no navigation: the script posted
      const shortUrl = await page.inputValue('#short-url');
      expect(shortUrl).toMatch(new RegExp(`^${leader}/[0-9A-Za-z_-]+$`));
      expect(await page.textContent('#long-url')).toBe(longUrl);

      await page.click('#copy');
      await page.waitForSelector('#copied:not([hidden])');
      // A string: the test is compiled without the DOM's types.
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(shortUrl);
      await expectRedirect(shortUrl, longUrl);
    });
  });

  it('with JavaScript, on the follower: the script follows the 409 to the leader (CORS allows it)', async () => {
    const longUrl = `https://example.com/follower-js/${Date.now()}`;
    await withPage({ javaScriptEnabled: true }, async (page) => {
      const posts: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST') posts.push(r.url());
      });
      await page.goto(`${follower}/`);
      await fill(page, longUrl, `f-js-${Date.now()}`);
      await page.click('#submit');
      await page.waitForSelector('#result:not([hidden])');
      expect(page.url()).toBe(`${follower}/`);
      expect(posts).toEqual([`${follower}/shorten`, `${leader}/shorten`]);
      const shortUrl = await page.inputValue('#short-url');
      expect(shortUrl.startsWith(`${leader}/f-js-`)).toBe(true);
      await expectRedirect(shortUrl, longUrl);
    });
  });

  it('with JavaScript, an error is shown as a sentence', async () => {
    const alias = `taken-${Date.now()}`;
    expect((await shorten(leader, 'https://example.com/first')).status).toBeLessThan(300);
    await request(`${leader}/shorten`, {
      method: 'POST',
      body: JSON.stringify({ url: 'https://example.com/first', alias }),
      contentType: 'application/json',
    });
    await withPage({ javaScriptEnabled: true }, async (page) => {
      await page.goto(`${leader}/`);
      await fill(page, 'https://example.com/second', alias);
      await page.click('#submit');
      await page.waitForSelector('#error:not([hidden])');
      expect(await page.textContent('#error')).toBe(`The alias "${alias}" is already taken.`);
      expect(await page.isHidden('#result')).toBe(true);
    });
  });

  it('without JavaScript, on the leader: the form posts and the answer is a page with the short URL', async () => {
    const longUrl = `https://example.com/no-js/${Date.now()}`;
    await withPage({ javaScriptEnabled: false }, async (page) => {
      await page.goto(`${leader}/`);
      await fill(page, longUrl);
      const [response] = await Promise.all([page.waitForNavigation(), page.click('#submit')]);
      expect(response?.status()).toBe(201);
      expect(page.url()).toBe(`${leader}/shorten`);
      expect(await page.isVisible('#result')).toBe(true);
      expect(await page.isHidden('#copy')).toBe(true); // copying needs the script
      const shortUrl = await page.inputValue('#short-url');
      expect(shortUrl).toMatch(new RegExp(`^${leader}/[0-9A-Za-z_-]+$`));
      await expectRedirect(shortUrl, longUrl);
    });
  });

  it('without JavaScript, on the follower: a 307 sends the form to the leader, which answers the page', async () => {
    const longUrl = `https://example.com/follower-no-js/${Date.now()}`;
    await withPage({ javaScriptEnabled: false }, async (page) => {
      await page.goto(`${follower}/`);
      await fill(page, longUrl);
      const [response] = await Promise.all([page.waitForNavigation(), page.click('#submit')]);
      expect(response?.status()).toBe(201);
      expect(page.url()).toBe(`${leader}/shorten`);
      expect((await response!.request().redirectedFrom()?.response())?.status()).toBe(307);
      const shortUrl = await page.inputValue('#short-url');
      expect(shortUrl.startsWith(`${leader}/`)).toBe(true);
      await expectRedirect(shortUrl, longUrl);
    });
  });

  it('with JavaScript, a remembered leader that is gone is forgotten: the write starts over on this node', async () => {
    // In-process nodes, to stop the "leader" at will: A says B leads, B takes the write.
    const a = await startApp();
    const b = await startApp();
    try {
      a.node.fail.create = new NotLeaderError(2, b.baseUrl);
      b.node.members = [{ id: 1, httpUrl: a.baseUrl, raftAddr: '127.0.0.1:1', voter: true }];
      await withPage({ javaScriptEnabled: true }, async (page) => {
        const posts: string[] = [];
        page.on('request', (r) => {
          if (r.method() === 'POST') posts.push(r.url());
        });
        await page.goto(`${a.baseUrl}/`);
        await fill(page, 'https://example.com/one');
        await page.click('#submit');
        await page.waitForSelector('#result:not([hidden])');
        expect(b.node.createCalls).toHaveLength(1);

        await b.close(); // B is gone; A leads now
        a.node.fail.create = undefined;
        await fill(page, 'https://example.com/two');
        await page.click('#submit');
        await page.waitForSelector('#result:not([hidden])');
        expect(await page.textContent('#long-url')).toBe('https://example.com/two');
        expect(a.node.byCode.size).toBe(1);
        const [toA, toB] = [`${a.baseUrl}/shorten`, `${b.baseUrl}/shorten`];
        expect(posts).toEqual([toA, toB, toB, toA]); // the second write tried the remembered B first
      });
    } finally {
      await a.close();
      await b.close().catch(() => undefined);
    }
  });

  it('without JavaScript, an error is a page with the message and the form filled in again', async () => {
    await withPage({ javaScriptEnabled: false }, async (page) => {
      await page.goto(`${leader}/`);
      await fill(page, 'https://example.com/x', 'healthz');
      const [response] = await Promise.all([page.waitForNavigation(), page.click('#submit')]);
      expect(response?.status()).toBe(400);
      expect(await page.textContent('#error')).toBe('"healthz" is a reserved word and cannot be an alias.');
      expect(await page.inputValue('#url')).toBe('https://example.com/x');
      expect(await page.inputValue('#alias')).toBe('healthz');
    });
  });
});
