// Scoring on the page's GPU (webgpu.js) in headless Chromium on its software
// WebGPU adapter (SwiftShader): the top-k kernel `recommend --all --device
// gpu` runs, over the catalogue in several windows and many workgroups,
// gives the module's answers — the same items, order and scores, bit for
// bit — for f32 and i8 files, explicit models with biases and implicit ones;
// most answers come from the GPU's shortlist, not from the fallback scan;
// the element renders the same with `gpu="software"` as with `gpu="off"`;
// and without a hardware adapter, or without WebGPU, `useGpu` says no and
// the module scores.
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { gramrec, random, root, serve, tempDir, trainModel } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// As webgpu.test.mjs: WebGPU on Chromium 156 headless, SwiftShader the adapter.
const WEBGPU = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];
const ITEMS = 20_000;

let dir;
let server;
let browser;

before(async () => {
  dir = tempDir();
  for (const f of ['gramrec.js', 'webgpu.js', 'gramrec-element.js', 'pkg']) cpSync(join(root, 'web', f), join(dir, f), { recursive: true });
  for (const kind of ['implicit', 'explicit']) {
    gramrec('export', '--model', trainModel(dir, kind), '--out', join(dir, `${kind}.gramrec`));
  }
  const f32 = join(dir, 'random.gramrec');
  gramrec('bench', '--recommend-all', '--users', '1', '--items', String(ITEMS), '--factors', '48', '--device', 'cpu', '--write-items', f32);
  gramrec('export', '--model', f32, '--dtype', 'i8', '--out', join(dir, 'random-i8.gramrec'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>gpu</title>');
  server = await serve(dir);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Histories of `count` random known items (weights 1–3), for a model of `items` items. */
function histories(items, ids, seed) {
  const next = random(seed);
  return Array.from({ length: 12 }, (_, h) =>
    Array.from({ length: 1 + (h % 9) }, () => ({ item: ids(Math.floor(next() * items)), weight: 1 + Math.floor(next() * 3) })));
}

/** Each history's answer from the GPU scorer and from the module, and the scorer's counts, in the page. */
async function compare(file, histories, windowRows) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'warning') errors.push(m.text()); });
  await page.goto(server.url);
  const got = await page.evaluate(async ({ file, histories, windowRows }) => {
    const { load, useGpu } = await import('/gramrec.js');
    const rec = await load(file);
    const gpu = await useGpu(rec, { software: true, windowRows });
    if (!gpu) return { error: 'useGpu gave no scorer' };
    const answers = [];
    for (const h of histories) answers.push({ gpu: await gpu.recommend(h, 10), module: rec.recommend(h, 10) });
    // A k that is not a whole number is the module's to read: the same answer, and the GPU stays on.
    for (const k of [1.5, '10']) answers.push({ gpu: await gpu.recommend(histories[0], k), module: rec.recommend(histories[0], k) });
    const windows = gpu.windows.length;
    const counts = gpu.counts;
    gpu.destroy();
    rec.free();
    return { answers, windows, counts };
  }, { file, histories, windowRows });
  await page.close();
  assert.deepEqual(errors, []);
  assert.equal(got.error, undefined, got.error);
  return got;
}

for (const [file, ids, items, windowRows] of [
  ['/explicit.gramrec', (i) => `i${i}`, 300, undefined],
  ['/implicit.gramrec', (i) => `i${i}`, 300, 128],
  ['/random.gramrec', (i) => String(i), ITEMS, 8192],
  ['/random-i8.gramrec', (i) => String(i), ITEMS, undefined],
]) {
  test(`the GPU's shortlist gives the module's answers: ${file.slice(1)}${windowRows ? `, windows of ${windowRows} items` : ''}`, async () => {
    const wanted = histories(items, ids, items + (windowRows ?? 0));
    // A cold start and unknown items pass through as the module gives them.
    wanted.push([], [{ item: 'no-such-item', weight: 1 }, { item: ids(3), weight: 2 }]);
    const { answers, windows, counts } = await compare(file, wanted, windowRows);
    if (windowRows) assert.equal(windows, Math.ceil(items / windowRows));
    answers.forEach(({ gpu, module }, h) => assert.deepEqual(gpu, module, `history ${h}`));
    assert.ok(answers.some((a) => a.module.unknown.length > 0) && answers.some((a) => a.module.coldStart));
    // Every visitor with a history went to the GPU, and its shortlist was proven.
    assert.equal(counts.module, 3, 'only the cold start and the odd k scored in the module');
    assert.ok(counts.gpu >= wanted.length - 2, `answered from the GPU ${counts.gpu} times, refused ${counts.refused}`);
  });
}

test('the element renders the same on the GPU as in the module', async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  const [gpu, module] = await page.evaluate(async () => {
    localStorage.setItem('h', JSON.stringify([{ item: 'i5', weight: 3 }, { item: 'i17', weight: 1 }]));
    await import('/gramrec-element.js');
    const rendered = async (mode) => {
      const el = document.createElement('gramrec-recommendations');
      Object.entries({ src: '/explicit.gramrec', k: '7', 'storage-key': 'h', gpu: mode }).forEach(([a, v]) => el.setAttribute(a, v));
      const first = new Promise((resolve) => el.addEventListener('gramrec:rendered', resolve, { once: true }));
      document.body.append(el);
      await first;
      // The module renders first; then the GPU's copy is ready.
      await el.held.gpu;
      const detail = await el.render();
      return { detail, html: el.innerHTML, gpu: Boolean(el.gpu), counts: el.gpu?.counts };
    };
    return [await rendered('software'), await rendered('off')];
  });
  await page.close();
  assert.equal(gpu.gpu, true, 'gpu="software" scores on the adapter');
  assert.equal(gpu.counts.gpu, 1, 'the second render came from the GPU');
  assert.equal(module.gpu, false);
  assert.equal(gpu.detail.items.length, 7);
  assert.deepEqual(gpu.detail, module.detail);
  assert.equal(gpu.html, module.html);
});

test('without a hardware adapter, or without WebGPU, the module scores', async () => {
  const refusals = async (b) => {
    const page = await b.newPage();
    const logged = [];
    page.on('console', (m) => logged.push(m.text()));
    await page.goto(server.url);
    const scorer = await page.evaluate(async () => {
      const { load, useGpu } = await import('/gramrec.js');
      return (await useGpu(await load('/implicit.gramrec'))) === null;
    });
    await page.close();
    return { scorer, logged };
  };
  // SwiftShader is software: "auto" leaves it to the module.
  const software = await refusals(browser);
  assert.equal(software.scorer, true);
  assert.match(software.logged.join('\n'), /gramrec: scoring in the module, not on the GPU: the adapter \(.*\) is software/);
  const plain = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const none = await refusals(plain);
    assert.equal(none.scorer, true);
    assert.match(none.logged.join('\n'), /gramrec: scoring in the module, not on the GPU: (this browser has no WebGPU|WebGPU offers no adapter|the adapter \(.*\) is software)/);
  } finally {
    await plain.close();
  }
});
