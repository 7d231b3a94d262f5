// The demo page in headless Chromium: it loads, shows recommendations, a
// click changes them, and a corrupt model shows a visible error.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { gramrec, root, serve, tempDir } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
let browser;
let site;
let server;
let dir;

before(async () => {
  dir = tempDir();
  site = join(dir, 'site');
  gramrec('demo', '--out', join(dir, 'demo'), '--web', site);
  server = await serve(dir);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function recommendations(page) {
  await page.waitForSelector('gramrec-recommendations li');
  return page.$$eval('gramrec-recommendations li', (lis) => lis.map((li) => li.dataset.item));
}

test('the demo page recommends, and a click changes the recommendations at once', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}site/index.html`);
  const before = await recommendations(page);
  assert.equal(before.length, 10);
  assert.match(await page.textContent('gramrec-recommendations .gramrec-note'), /Popular/);
  const clicked = await page.getAttribute('#catalogue button:nth-child(3)', 'data-item');
  await page.click('#catalogue button:nth-child(3)');
  await page.waitForFunction((old) => {
    const now = [...document.querySelectorAll('gramrec-recommendations li')].map((li) => li.dataset.item);
    return now.length > 0 && now.join() !== old;
  }, before.join());
  const afterClick = await recommendations(page);
  assert.ok(!afterClick.includes(clicked), 'the clicked item is not recommended back');
  assert.match(await page.textContent('gramrec-recommendations .gramrec-note'), /1 interaction/);
  const names = JSON.parse(readFileSync(join(site, 'items.json'), 'utf8'));
  assert.equal(await page.textContent('gramrec-recommendations li:first-child'), names[afterClick[0]], 'readable names');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a corrupt model shows a readable error in the page', async () => {
  const bad = `${site}-bad`;
  cpSync(site, bad, { recursive: true });
  const model = readFileSync(join(bad, 'items.gramrec'));
  model[Math.floor(model.length / 2)] ^= 0xff;
  writeFileSync(join(bad, 'items.gramrec'), model);
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(`${server.url}site-bad/index.html`);
  const error = page.locator('gramrec-recommendations .gramrec-error');
  await error.waitFor({ state: 'visible' });
  assert.match(await error.textContent(), /corrupt/);
  // The page and the element each load the model once.
  assert.equal(requests.filter((p) => p.endsWith('items.gramrec')).length, 2, requests.join(' '));
  await page.close();
});

test('hostile IDs, a malformed names file and a full localStorage do not break the element', async () => {
  // Item IDs that are Object.prototype properties, and one that is HTML.
  const odd = join(dir, 'odd');
  const ids = ['constructor', 'toString', '__proto__', '<img src=x onerror="window.pwned=1">', 'plain'];
  let csv = 'user,item\n';
  for (let u = 0; u < 40; u++) for (let k = 0; k < 3; k++) csv += `u${u},"${ids[(u + k) % ids.length].replaceAll('"', '""')}"\n`;
  mkdirSync(odd, { recursive: true });
  writeFileSync(join(odd, 'clicks.csv'), csv);
  gramrec('train', '-q', '--implicit', '--factors', '4', '--input', join(odd, 'clicks.csv'), '--out', join(odd, 'model'));
  cpSync(join(odd, 'model', 'items.gramrec'), join(odd, 'items.gramrec'));
  for (const f of ['gramrec.js', 'gramrec-element.js']) cpSync(join(root, 'web', f), join(odd, f));
  cpSync(join(root, 'web', 'pkg'), join(odd, 'pkg'), { recursive: true });
  writeFileSync(join(odd, 'names.json'), '{"plain": "Plain item", ');
  writeFileSync(join(odd, 'index.html'), `<!doctype html><meta charset="utf-8">
    <script type="module" src="gramrec-element.js"></script>
    <gramrec-recommendations src="items.gramrec" names="names.json" k="5"></gramrec-recommendations>`);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}odd/index.html`);
  await page.waitForSelector('gramrec-recommendations li');
  const shown = await page.$$eval('gramrec-recommendations li', (lis) => lis.map((li) => li.textContent));
  assert.deepEqual([...shown].sort(), [...ids].sort(), 'every ID shown as text, none looked up on the prototype');
  assert.equal(await page.locator('gramrec-recommendations .gramrec-error').count(), 0);
  assert.equal(await page.locator('gramrec-recommendations img').count(), 0, 'HTML in an ID is text, not markup');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  // localStorage full: the interaction is not stored, nothing throws, the element still renders.
  const threw = await page.evaluate(async () => {
    const { addInteraction } = await import('./gramrec-element.js');
    Storage.prototype.setItem = () => { throw new DOMException('full', 'QuotaExceededError'); };
    try {
      addInteraction('plain', 1);
      return false;
    } catch {
      return true;
    }
  });
  assert.equal(threw, false);
  await page.waitForSelector('gramrec-recommendations li');
  assert.deepEqual(errors, []);
  await page.close();
});
