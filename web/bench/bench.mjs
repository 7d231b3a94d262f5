// Browser benchmarks in headless Chromium (BENCHMARKS.md):
//   node web/bench/bench.mjs
// Builds item files of 100,000, 300,000 and 1,000,000 items × 64 factors
// (random factors; SIZES=100000,1000000 to choose) in f32, f16 and i8, and
// the 300,000-item ones also with a name, link and image per item (a
// generated catalogue, `gramrec export --items`); serves web/ on 127.0.0.1
// and measures in the page, each file in a fresh page (a fresh module):
// load time (fetch + parse, median of 3), the module's memory once loaded
// (its WebAssembly memory, which never shrinks: the peak of the loads), the
// top-10 for one visitor (fold-in of a 10-item history and a scan over every
// item, median of 30), and fold-in of a 50-item history (on a 1,000-item
// file, where the scan is negligible). WEB=DIR measures another build of
// web/ (its gramrec.js and pkg/: an older commit's, for a before/after in
// one run). Then, in a Chromium with WebGPU on its software adapter
// (SwiftShader, as web/test/gpu.test.mjs runs it), the same top-10 scored by
// webgpu.js for the f32 and i8 files: the upload of the factors (median of
// 3) and the top-10 (median of 5), with how many answers came from the
// GPU's shortlist. GPU=0 leaves that table out.
import { cpSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { gramrec, root, serve, tempDir } from '../test/helpers.mjs';

const dir = tempDir();
const site = join(dir, 'site');
mkdirSync(site);
const web = process.env.WEB ?? join(root, 'web');
// webgpu.js where the build has one (an older one's WEB=DIR may not).
for (const f of ['gramrec.js', 'webgpu.js', 'gramrec-element.js', 'pkg']) {
  if (existsSync(join(web, f))) cpSync(join(web, f), join(site, f), { recursive: true });
}
const DTYPES = ['f32', 'f16', 'i8'];
const SIZES = (process.env.SIZES ?? '100000,300000,1000000').split(',').map(Number);
const make = (items, details) => {
  const from = join(site, `${items}-f32.gramrec`);
  gramrec('bench', '--recommend-all', '--users', '4', '--items', String(items), '--factors', '64', '--write-items', from);
  for (const dtype of DTYPES.filter((d) => d !== 'f32')) {
    gramrec('export', '--model', from, '--dtype', dtype, '--out', join(site, `${items}-${dtype}.gramrec`));
  }
  if (!details) return;
  const words = ['Lamp', 'Chair', 'Table', 'Mug', 'Book', 'Pen', 'Rug', 'Vase', 'Clock', 'Shelf'];
  let catalogue = 'item,name,url,image\n';
  for (let i = 0; i < items; i++) catalogue += `${i},${words[i % 10]} ${words[(i * 7) % 10]} no. ${i},https://shop.example/p/${i},https://img.example/${i}.jpg\n`;
  writeFileSync(join(dir, `${items}-catalogue.csv`), catalogue);
  for (const dtype of DTYPES) {
    gramrec('export', '--model', from, '--dtype', dtype, '--items', join(dir, `${items}-catalogue.csv`), '--out', join(site, `${items}-${dtype}-details.gramrec`));
  }
};
for (const items of SIZES) make(items, items === 300000);
make(1000, false);

const server = await serve(site);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});

/** Measures one file in a fresh page. */
async function measure(file, small) {
  const page = await browser.newPage();
  await page.goto(`${server.url}gramrec.js`);
  const result = await page.evaluate(async ([file, small]) => {
    const { initialize, load } = await import('/gramrec.js');
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const histories = (rec, n, size) => {
      const ids = rec.itemIds();
      let seed = 7;
      const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      return Array.from({ length: n }, () => Array.from({ length: size }, () => ({ item: ids[Math.floor(next() * ids.length)], weight: 1 })));
    };
    const loads = [];
    let rec;
    for (let round = 0; round < 3; round++) {
      rec?.free();
      const t0 = performance.now();
      rec = await load(`/${file}`);
      loads.push(performance.now() - t0);
    }
    const memoryBytes = (await initialize()).memory.buffer.byteLength;
    const times = [];
    for (const h of histories(rec, 30, 10)) {
      const t = performance.now();
      rec.recommend(h, 10);
      times.push(performance.now() - t);
    }
    const fold = [];
    const smallRec = await load(`/${small}`);
    for (const h of histories(smallRec, 100, 50)) {
      const t = performance.now();
      smallRec.recommend(h, 10);
      fold.push(performance.now() - t);
    }
    return { loadMs: median(loads), memoryBytes, top10Ms: median(times), foldIn50Ms: median(fold) };
  }, [file, small]);
  await page.close();
  return result;
}

const version = (await import('node:child_process')).execFileSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
console.log(`${version}; 64 factors; module from ${web}`);
console.log('file                          bytes   load ms   module MB   top-10 ms   fold-in (50 items) ms');
for (const items of SIZES) {
  const variants = items === 300000 ? [...DTYPES, ...DTYPES.map((d) => `${d}-details`)] : DTYPES;
  for (const variant of variants) {
    const file = `${items}-${variant}.gramrec`;
    const r = await measure(file, `1000-${variant.replace('-details', '')}.gramrec`);
    const size = statSync(join(site, file)).size;
    console.log(`${file.padEnd(24)}  ${String(size).padStart(10)}   ${r.loadMs.toFixed(0).padStart(7)}   ${(r.memoryBytes / 2 ** 20).toFixed(0).padStart(9)}   ${r.top10Ms.toFixed(2).padStart(9)}   ${r.foldIn50Ms.toFixed(3).padStart(9)}`);
  }
}
await browser.close();

/** The top-10 on the page's WebGPU (software adapter) for one file, in a fresh page. */
async function measureGpu(gpuBrowser, file) {
  const page = await gpuBrowser.newPage();
  await page.goto(`${server.url}gramrec.js`);
  const result = await page.evaluate(async (file) => {
    const { load, useGpu } = await import('/gramrec.js');
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const rec = await load(`/${file}`);
    const uploads = [];
    let gpu;
    for (let round = 0; round < 3; round++) {
      gpu?.destroy();
      const t0 = performance.now();
      gpu = await useGpu(rec, { software: true });
      uploads.push(performance.now() - t0);
      if (!gpu) return { error: 'no scorer' };
    }
    const ids = rec.itemIds();
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const times = [];
    for (let n = 0; n < 6; n++) {
      const h = Array.from({ length: 10 }, () => ({ item: ids[Math.floor(next() * ids.length)], weight: 1 }));
      const t = performance.now();
      await gpu.recommend(h, 10);
      // The first compiles the kernel: left out.
      if (n > 0) times.push(performance.now() - t);
    }
    return { uploadMs: median(uploads), top10Ms: median(times), counts: gpu.counts, adapter: gpu.adapter };
  }, file);
  await page.close();
  return result;
}

if (process.env.GPU !== '0') {
  const gpuBrowser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'],
  });
  console.log('\nWebGPU, software adapter (webgpu.js)');
  console.log('file                        upload ms   top-10 ms   from the GPU   adapter');
  for (const items of SIZES) {
    for (const dtype of ['f32', 'i8']) {
      const file = `${items}-${dtype}.gramrec`;
      const r = await measureGpu(gpuBrowser, file);
      if (r.error) {
        console.log(`${file.padEnd(24)}  ${r.error}`);
        continue;
      }
      console.log(`${file.padEnd(24)}  ${r.uploadMs.toFixed(0).padStart(9)}   ${r.top10Ms.toFixed(1).padStart(9)}   ${String(r.counts.gpu).padStart(6)} of 6   ${r.adapter}`);
    }
  }
  await gpuBrowser.close();
}
server.close();
