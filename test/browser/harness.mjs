// Shared by the browser tests: Debian's chromium through playwright-core, pages that fail the
// test on a script error or a Content-Security-Policy violation, screenshots, and the figures
// of a page load. test/e2e/browser_test.go starts the real binary and sets the variables.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const baseURL = process.env.MINIMART_URL || 'http://127.0.0.1:8080';
export const adminUser = process.env.MINIMART_ADMIN_USER || 'admin';
export const adminPassword = process.env.MINIMART_ADMIN_PASSWORD || '';
const screenshotDir = process.env.MINIMART_SCREENSHOTS || path.join(import.meta.dirname, 'screenshots');

// launchBrowser starts a headless chromium with a fresh profile and none of its calls home
// (this machine's network is closed, and they would only slow it down).
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.MINIMART_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

// Console messages that are expected: an API refusal the page shows to the user is logged by
// chromium as a failed resource load, and the demo catalog's images live on a host that this
// machine cannot reach (pages show a placeholder). The answers behind them are checked apart
// (badAnswer), so this hides no failure of our own.
const expectedConsole = [/^Failed to load resource/];

// badAnswer says what is wrong with an answer the page got, or '' when nothing is: a server
// error (5xx) anywhere fails the test, and so does any 4xx for the page's own files (/ui/…,
// the pages themselves); an API 4xx is an answer the tests provoke and the page shows.
function badAnswer(res) {
  const status = res.status();
  if (status >= 500) return `${status} ${res.request().method()} ${res.url()}`;
  if (status < 400) return '';
  const url = new URL(res.url());
  if (url.origin !== new URL(baseURL).origin || url.pathname.startsWith('/api/')) return '';
  return `${status} ${res.request().method()} ${res.url()}`;
}

// newPage opens a page in its own context (its own cookies) with a phone-sized or desktop
// viewport; when the test ends it fails on any uncaught script error, CSP violation, server
// error or missing file of the page seen.
export async function newPage(browser, t, { mobile = false } = {}) {
  const context = await browser.newContext({
    baseURL,
    locale: 'zh-CN',
    viewport: mobile ? { width: 390, height: 844 } : { width: 1366, height: 900 },
    isMobile: mobile,
    hasTouch: mobile,
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (!expectedConsole.some((re) => re.test(text))) problems.push(`console: ${text}`);
  });
  page.on('response', (res) => {
    const bad = badAnswer(res);
    if (bad) problems.push(`answer: ${bad}`);
  });
  t.after(async () => {
    await context.close();
    if (problems.length) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
  });
  return page;
}

// screenshot saves the page as <dir>/<name>.png.
export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

// step runs one named part of a test; when it fails, the page is saved as FAILED-<name>.png
// before the error goes on.
export async function step(page, name, fn) {
  try {
    return await fn();
  } catch (err) {
    await screenshot(page, `FAILED-${name}`).catch(() => {});
    throw err;
  }
}

// measureLoad opens url in page and reports what it cost: bytes on the wire (compressed bodies
// and headers, from chromium's own network accounting) and milliseconds until readySelector
// is visible. Images are counted apart, since the budgets leave product images aside.
export async function measureLoad(page, url, readySelector) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const types = new Map();
  let bytes = 0;
  let imageBytes = 0;
  cdp.on('Network.responseReceived', (e) => types.set(e.requestId, e.type));
  cdp.on('Network.loadingFinished', (e) => {
    if (types.get(e.requestId) === 'Image') imageBytes += e.encodedDataLength;
    else bytes += e.encodedDataLength;
  });
  const started = Date.now();
  await page.goto(url);
  await page.locator(readySelector).first().waitFor({ state: 'visible' });
  const ms = Date.now() - started;
  await page.waitForLoadState('networkidle');
  await cdp.detach();
  return { bytes, imageBytes, ms };
}

// api calls the API directly (test setup: staff changes, buyers' orders), throwing on an
// answer other than 2xx with the error body.
export async function api(method, urlPath, { token, body, headers = {} } = {}) {
  const res = await fetch(new URL(urlPath, baseURL), {
    method,
    headers: {
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${urlPath}: ${res.status} ${text}`);
  return data;
}

// staffToken logs the bootstrap admin in through the API.
export async function staffToken() {
  const data = await api('POST', '/api/v1/admin/auth/login', { body: { username: adminUser, password: adminPassword } });
  return data.tokens.access_token;
}
