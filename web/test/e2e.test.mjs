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
  // The names come from the model itself, as the CLI gives them.
  const cli = JSON.parse(gramrec('recommend', '--model', join(site, 'items.gramrec'), '--history', clicked, '--k', '10', '--json'));
  assert.deepEqual(afterClick, cli.items.map((r) => r.item), 'the CLI\'s list');
  assert.equal(await page.textContent('gramrec-recommendations li:first-child'), cli.items[0].name, 'readable names');
  assert.notEqual(cli.items[0].name, cli.items[0].item);
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
  // The page uses the element's model: one download, and the page says what the element says.
  assert.equal(requests.filter((p) => p.endsWith('items.gramrec')).length, 1, requests.join(' '));
  await page.locator('#status.gramrec-error').waitFor({ state: 'visible' });
  assert.match(await page.textContent('#status'), /corrupt/);
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
  for (const f of ['gramrec.js', 'webgpu.js', 'gramrec-element.js']) cpSync(join(root, 'web', f), join(odd, f));
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

/** A site with a model trained on synthetic clicks with `details` (CSV text) as its item file, and `body` as its page. */
function siteWithDetails(name, details, body) {
  const at = join(dir, name);
  mkdirSync(at, { recursive: true });
  let csv = 'user,item\n';
  for (let u = 0; u < 60; u++) for (let k = 0; k < 4; k++) csv += `u${u},i${(u * 3 + k * 7) % 12}\n`;
  writeFileSync(join(at, 'clicks.csv'), csv);
  writeFileSync(join(at, 'details.csv'), details);
  gramrec('train', '-q', '--implicit', '--factors', '4', '--input', join(at, 'clicks.csv'), '--items', join(at, 'details.csv'), '--out', join(at, 'model'));
  cpSync(join(at, 'model', 'items.gramrec'), join(at, 'items.gramrec'));
  for (const f of ['gramrec.js', 'webgpu.js', 'gramrec-element.js']) cpSync(join(root, 'web', f), join(at, f));
  cpSync(join(root, 'web', 'pkg'), join(at, 'pkg'), { recursive: true });
  writeFileSync(join(at, 'index.html'), `<!doctype html><meta charset="utf-8"><script type="module" src="gramrec-element.js"></script>${body}`);
  return at;
}

const LONG = 'Ω'.repeat(5000);
const DETAILS = [
  'item,title,url,image',
  'i0,"Crème brûlée ""deluxe""",https://shop.example/p/0,/img/0.png',
  'i1,<script>window.pwned = 1</script>,/p/1,',
  'i2,"<img src=x onerror=""window.pwned=2"">",,https://cdn.example/2.jpg',
  `i3,${LONG},p/3.html,`,
  'i4,日本語の本,,',
  'i5,,,',
].join('\n') + '\n';

test('names, links and images come from the model alone, as text and safe attributes', async () => {
  siteWithDetails('details', DETAILS, '<gramrec-recommendations src="items.gramrec" k="12"></gramrec-recommendations>');
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}details/index.html`);
  await page.waitForSelector('gramrec-recommendations li');
  const shown = await page.$$eval('gramrec-recommendations li', (lis) => Object.fromEntries(lis.map((li) => [li.dataset.item, {
    text: li.textContent.trim(),
    href: li.querySelector('a')?.getAttribute('href') ?? null,
    img: li.querySelector('img')?.getAttribute('src') ?? null,
  }])));
  const base = `${server.url}details/`;
  assert.deepEqual(shown.i0, { text: 'Crème brûlée "deluxe"', href: 'https://shop.example/p/0', img: `${server.url}img/0.png` });
  assert.deepEqual(shown.i1, { text: '<script>window.pwned = 1</script>', href: `${server.url}p/1`, img: null });
  assert.deepEqual(shown.i2, { text: '<img src=x onerror="window.pwned=2">', href: null, img: 'https://cdn.example/2.jpg' });
  assert.deepEqual(shown.i3, { text: LONG, href: `${base}p/3.html`, img: null });
  assert.equal(shown.i4.text, '日本語の本');
  assert.equal(shown.i5.text, 'i5', 'an item without details shows its ID');
  assert.equal(shown.i6.text, 'i6', 'an item missing from the details file shows its ID');
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'no script from the model ran');
  assert.equal(await page.locator('gramrec-recommendations script').count(), 0);
  assert.equal(await page.locator('gramrec-recommendations img').count(), 2, 'only the two real images');
  const unsafe = await page.evaluate(async () => {
    const { safeUrl } = await import('./gramrec-element.js');
    return ['javascript:alert(1)', ' java\tscript:alert(1)', 'data:text/html,x', '/ok'].map(safeUrl);
  });
  assert.deepEqual(unsafe, [null, null, null, `${server.url}ok`]);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a page template renders each item as the page likes', async () => {
  siteWithDetails('template', DETAILS, `<gramrec-recommendations src="items.gramrec" k="12">
    <template><div class="card"><a data-gramrec="link"><img data-gramrec="image"><b data-gramrec="name"></b></a>
      <small data-gramrec="item"></small> <i data-gramrec="score"></i></div></template>
  </gramrec-recommendations>`);
  const page = await browser.newPage();
  await page.goto(`${server.url}template/index.html`);
  await page.waitForSelector('gramrec-recommendations .card');
  const cards = await page.$$eval('gramrec-recommendations .card', (cs) => cs.map((c) => ({
    name: c.querySelector('b').textContent,
    item: c.querySelector('small').textContent,
    href: c.querySelector('a').getAttribute('href'),
    img: c.querySelector('img')?.getAttribute('src') ?? null,
    alt: c.querySelector('img')?.getAttribute('alt') ?? null,
    score: Number(c.querySelector('i').textContent),
  })));
  assert.equal(cards.length, 12);
  const byItem = Object.fromEntries(cards.map((c) => [c.item, c]));
  assert.equal(byItem.i0.name, 'Crème brûlée "deluxe"');
  assert.equal(byItem.i0.href, 'https://shop.example/p/0');
  assert.equal(byItem.i0.alt, 'Crème brûlée "deluxe"');
  assert.equal(byItem.i1.name, '<script>window.pwned = 1</script>');
  assert.equal(byItem.i1.img, null, 'an item without an image drops the img element');
  assert.equal(byItem.i5.href, null, 'no link without a URL');
  assert.ok(cards.every((c) => Number.isFinite(c.score)));
  assert.equal(await page.locator('gramrec-recommendations > template').count(), 1, 'the template stays for the next render');
  await page.evaluate(async () => (await import('./gramrec-element.js')).addInteraction('i0', 1));
  await page.waitForFunction(() => !document.querySelector('gramrec-recommendations li[data-item="i0"]'));
  assert.equal(await page.locator('gramrec-recommendations .card').count(), 11, 'rendered again from the template');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await page.close();
});

test('the stored history keeps the 200 most recent distinct items, or as many as history-limit says', async () => {
  siteWithDetails('history', DETAILS, '<gramrec-recommendations src="items.gramrec" k="3" history-limit="4"></gramrec-recommendations>');
  const page = await browser.newPage();
  await page.goto(`${server.url}history/index.html`);
  await page.waitForSelector('gramrec-recommendations li');
  const stored = await page.evaluate(async () => {
    const { addInteraction } = await import('./gramrec-element.js');
    for (let n = 0; n < 260; n++) addInteraction(`x${n}`, 1);
    addInteraction('x100', 5); // seen again: moves to the end with its new weight
    for (const i of ['i1', 'i2', 'i1']) addInteraction(i, 1);
    return JSON.parse(localStorage.getItem('gramrec-history'));
  });
  assert.equal(stored.length, 200);
  assert.equal(new Set(stored.map((e) => e.item)).size, 200, 'one entry per item');
  assert.deepEqual(stored.slice(-3).map((e) => e.item), ['x100', 'i2', 'i1']);
  assert.equal(stored.at(-3).weight, 5);
  assert.ok(!stored.some((e) => e.item === 'x0'), 'the oldest items dropped');
  await page.waitForFunction(() => /Based on your 4 interactions/.test(document.querySelector('gramrec-recommendations .gramrec-note')?.textContent));
  // A tampered history: each entry read back as {item, weight}, the unusable ones dropped.
  const read = await page.evaluate(async () => {
    const { readHistory } = await import('./gramrec-element.js');
    localStorage.setItem('tampered', JSON.stringify([
      { item: 'a', weight: 'lots' }, { item: 'b', weight: { x: 1 } }, { item: 'c', extra: 1 }, 'd', 7,
      { item: 'e', weight: null }, { item: ['f'] }, null, { item: 'g', weight: 2 },
    ]));
    return readHistory('tampered');
  });
  assert.deepEqual(read, [
    { item: 'c', weight: 1 }, { item: 'd', weight: 1 }, { item: 7, weight: 1 }, { item: 'e', weight: 1 }, { item: 'g', weight: 2 },
  ]);
  await page.close();
});

test('two elements with the same src share one model, and the last to go frees it', async () => {
  const shared = join(dir, 'shared');
  mkdirSync(shared, { recursive: true });
  cpSync(site, shared, { recursive: true });
  writeFileSync(join(shared, 'index.html'), `<!doctype html><meta charset="utf-8">
    <script type="module" src="gramrec-element.js"></script>
    <gramrec-recommendations id="a" src="items.gramrec" k="4"></gramrec-recommendations>
    <gramrec-recommendations id="b" src="./items.gramrec" k="6"></gramrec-recommendations>`);
  const page = await browser.newPage();
  const fetched = [];
  page.on('request', (r) => { if (r.url().endsWith('items.gramrec')) fetched.push(r.url()); });
  await page.goto(`${server.url}shared/index.html`);
  await page.waitForSelector('#a li');
  await page.waitForSelector('#b li');
  assert.equal(fetched.length, 1, `one download for both elements: ${fetched}`);
  // Moved in the page (disconnected, connected again at once): not loaded again.
  await page.evaluate(() => {
    const box = document.createElement('div');
    document.body.append(box);
    box.append(document.getElementById('b'));
  });
  await page.waitForSelector('#b li');
  assert.equal(fetched.length, 1, `a moved element keeps the model: ${fetched}`);
  const state = await page.evaluate(async () => {
    const [a, b] = [document.getElementById('a'), document.getElementById('b')];
    const rec = a.recommender;
    const usable = () => {
      try {
        return rec.metadata().items > 0;
      } catch {
        return false;
      }
    };
    const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
    const same = rec === b.recommender;
    a.remove();
    await tick();
    const kept = usable();
    b.remove();
    await tick();
    return { same, kept, freed: !usable() };
  });
  assert.deepEqual(state, { same: true, kept: true, freed: true });
  await page.close();
});

test('<gramrec-bought-together> renders the rules for an item, as the CLI gives them, safely', async () => {
  const at = siteWithDetails('rules', DETAILS, '<gramrec-bought-together item="i0" src="rules.gramrec" k="3"></gramrec-bought-together>');
  // i0 always comes with i1, often with i2; i3 with i4.
  const baskets = [];
  for (let b = 0; b < 40; b++) {
    const basket = ['i0', 'i1'];
    if (b % 3 !== 0) basket.push('i2');
    if (b % 5 === 0) basket.push('i5');
    baskets.push(basket.join(','), 'i3,i4', 'i6');
  }
  writeFileSync(join(at, 'baskets.txt'), `${baskets.join('\n')}\n`);
  gramrec('rules', '--format', 'baskets', '--input', join(at, 'baskets.txt'), '--min-support', '2', '--min-confidence', '0.1',
    '--model', join(at, 'model'), '--out', join(at, 'rules.gramrec'));
  const cli = (item) => JSON.parse(gramrec('rules', '--rules', join(at, 'rules.gramrec'), '--show', item, '--k', '3', '--json'));
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}rules/index.html`);
  await page.waitForSelector('gramrec-bought-together li');
  const shown = () => page.$$eval('gramrec-bought-together li', (lis) => lis.map((li) => [li.dataset.item, li.textContent.trim()]));
  const want = cli('i0');
  assert.deepEqual((await shown()).map(([item]) => item), want.items.map((a) => a.item));
  assert.deepEqual((await shown())[0], ['i1', '<script>window.pwned = 1</script>'], 'names as text');
  assert.match(await page.getAttribute('gramrec-bought-together li:first-child', 'title'), /^confidence 1\.000, lift/);
  // Another item: re-rendered from the same file.
  await page.evaluate(() => document.querySelector('gramrec-bought-together').setAttribute('item', 'i3'));
  await page.waitForFunction(() => document.querySelector('gramrec-bought-together li')?.dataset.item === 'i4');
  assert.deepEqual((await shown()).map(([item]) => item), cli('i3').items.map((a) => a.item));
  // An item no rule starts from: a note, no list items.
  await page.evaluate(() => document.querySelector('gramrec-bought-together').setAttribute('item', 'nothing'));
  await page.waitForFunction(() => document.querySelectorAll('gramrec-bought-together li').length === 0);
  assert.match(await page.textContent('gramrec-bought-together .gramrec-note'), /Nothing/);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.deepEqual(errors, []);
  await page.close();
});
