// A shop's catalogue in the page: 1,000,000 items × 64 factors as an i8 file,
// streamed into the module from its URL and scanned as integers, recommends
// exactly what `gramrec recommend --history` gives for the same factors
// decoded to f32 — the same top 10 in the same order, scores within 1e-4
// relative — in headless Chromium, and holds the file once.
import assert from 'node:assert/strict';
import { cpSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { gramrec, random, root, serve, tempDir } from './helpers.mjs';

const ITEMS = 1_000_000;
let dir;
let server;
let browser;

before(async () => {
  dir = tempDir();
  for (const f of ['gramrec.js', 'webgpu.js', 'pkg']) cpSync(join(root, 'web', f), join(dir, f), { recursive: true });
  const f32 = join(dir, 'random-f32.gramrec');
  gramrec('bench', '--recommend-all', '--users', '1', '--items', String(ITEMS), '--factors', '64', '--device', 'cpu', '--write-items', f32);
  gramrec('export', '--model', f32, '--dtype', 'i8', '--out', join(dir, 'i8.gramrec'));
  // The i8 file's values decoded: what the page's answers must equal.
  gramrec('export', '--model', join(dir, 'i8.gramrec'), '--dtype', 'f32', '--out', join(dir, 'decoded.gramrec'));
  server = await serve(dir);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('a million-item i8 catalogue recommends as the CLI does from its f32 values', async () => {
  const next = random(11);
  const histories = Array.from({ length: 5 }, () =>
    Array.from({ length: 10 }, () => ({ item: String(Math.floor(next() * ITEMS)), weight: 1 + Math.floor(next() * 3) })));
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}gramrec.js`);
  const site = await page.evaluate(async ([histories]) => {
    const { initialize, load } = await import('/gramrec.js');
    const streamed = await load('/i8.gramrec');
    const memory = (await initialize()).memory.buffer.byteLength;
    const meta = streamed.metadata();
    const fromUrl = histories.map((h) => streamed.recommend(h, 10));
    streamed.free();
    // The same file given as bytes (the other way in) answers the same.
    const bytes = await (await fetch('/i8.gramrec')).arrayBuffer();
    const given = await load(bytes);
    const fromBytes = histories.map((h) => given.recommend(h, 10));
    given.free();
    return { memory, meta, fromUrl, fromBytes };
  }, [histories]);
  await page.close();
  assert.deepEqual(errors, []);
  assert.equal(site.meta.items, ITEMS);
  assert.equal(site.meta.dtype, 'i8');
  assert.deepEqual(site.fromBytes, site.fromUrl);
  histories.forEach((history, h) => {
    const spec = history.map((e) => `${e.item}:${e.weight}`).join(',');
    const cli = JSON.parse(gramrec('recommend', '--json', '--k', '10', '--model', join(dir, 'decoded.gramrec'), '--history', spec));
    const got = site.fromUrl[h];
    assert.equal(got.coldStart, false);
    assert.deepEqual(got.items.map((i) => i.item), cli.items.map((i) => i.item), `history ${h}: ${spec}`);
    got.items.forEach((item, n) => {
      const want = cli.items[n].score;
      assert.ok(Math.abs(item.score - want) <= 1e-4 * Math.abs(want), `history ${h}, rank ${n}: ${item.score} vs ${want}`);
    });
  });
  // Held once: the file (68 MB) and its million IDs, their index, the
  // norms and counts (123 MB in all when written); a second copy of the
  // factors would add another 64 MB.
  const file = statSync(join(dir, 'i8.gramrec')).size;
  assert.ok(site.memory < file + 80 * 2 ** 20, `module memory ${site.memory} bytes for a ${file}-byte file`);
});

test('a download that fails says which file, whether the server answered or not', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}gramrec.js`);
  const errors = await page.evaluate(async () => {
    const { load } = await import('/gramrec.js');
    const reason = (p) => p.then(() => 'loaded', (e) => `${e.constructor.name}: ${e.message}`);
    return [await reason(load('/missing.gramrec')), await reason(load('http://127.0.0.1:9/items.gramrec'))];
  });
  await page.close();
  assert.match(errors[0], /^Error: gramrec: cannot load \/missing\.gramrec: HTTP 404$/);
  assert.match(errors[1], /^Error: gramrec: cannot load http:\/\/127\.0\.0\.1:9\/items\.gramrec: \S/);
});
