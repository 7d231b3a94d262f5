// Browser benchmarks in headless Chromium (BENCHMARKS.md):
//   node web/bench/bench.mjs
// Builds a 300,000-item × 64-factor item file (random factors) in f32, f16
// and i8, each also with a name, link and image per item (a generated
// catalogue, `gramrec export --items`), serves web/ on 127.0.0.1, and
// measures in the page: load time (fetch + parse, median of 3), top-10 for
// one visitor (fold-in of a 10-item history and a scan over every item),
// and fold-in of a 50-item history (on a 1,000-item file, where the scan is
// negligible).
import { cpSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { gramrec, root, serve, tempDir } from '../test/helpers.mjs';

const dir = tempDir();
const site = join(dir, 'site');
mkdirSync(site);
for (const f of ['gramrec.js', 'gramrec-element.js']) cpSync(join(root, 'web', f), join(site, f));
cpSync(join(root, 'web', 'pkg'), join(site, 'pkg'), { recursive: true });
const DTYPES = ['f32', 'f16', 'i8'];
const make = (items, name) => {
  gramrec('bench', '--recommend-all', '--users', '4', '--items', String(items), '--factors', '64', '--write-items', join(site, `${name}-f32.gramrec`));
  const words = ['Lamp', 'Chair', 'Table', 'Mug', 'Book', 'Pen', 'Rug', 'Vase', 'Clock', 'Shelf'];
  let catalogue = 'item,name,url,image\n';
  for (let i = 0; i < items; i++) catalogue += `${i},${words[i % 10]} ${words[(i * 7) % 10]} no. ${i},https://shop.example/p/${i},https://img.example/${i}.jpg\n`;
  writeFileSync(join(dir, `${name}-catalogue.csv`), catalogue);
  for (const dtype of DTYPES) {
    const from = join(site, `${name}-f32.gramrec`);
    if (dtype !== 'f32') gramrec('export', '--model', from, '--dtype', dtype, '--out', join(site, `${name}-${dtype}.gramrec`));
    gramrec('export', '--model', from, '--dtype', dtype, '--items', join(dir, `${name}-catalogue.csv`), '--out', join(site, `${name}-${dtype}-details.gramrec`));
  }
};
make(300000, 'big');
make(1000, 'small');

const server = await serve(site);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const page = await browser.newPage();
await page.goto(`${server.url}gramrec.js`);
const results = await page.evaluate(async () => {
  const { load } = await import('/gramrec.js');
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const histories = (rec, n, size) => {
    const ids = rec.itemIds();
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    return Array.from({ length: n }, () => Array.from({ length: size }, () => ({ item: ids[Math.floor(next() * ids.length)], weight: 1 })));
  };
  const out = {};
  for (const variant of ['f32', 'f16', 'i8', 'f32-details', 'f16-details', 'i8-details']) {
    const loads = [];
    let rec;
    for (let round = 0; round < 3; round++) {
      rec?.free();
      const t0 = performance.now();
      rec = await load(`/big-${variant}.gramrec`);
      loads.push(performance.now() - t0);
    }
    const loadMs = median(loads);
    const times = [];
    for (const h of histories(rec, 30, 10)) {
      const t = performance.now();
      rec.recommend(h, 10);
      times.push(performance.now() - t);
    }
    const small = await load(`/small-${variant}.gramrec`);
    const fold = [];
    for (const h of histories(small, 100, 50)) {
      const t = performance.now();
      small.recommend(h, 10);
      fold.push(performance.now() - t);
    }
    out[variant] = { loadMs, top10Ms: median(times), foldIn50Ms: median(fold) };
    rec.free();
    small.free();
  }
  return out;
});
await browser.close();
server.close();
const version = (await import('node:child_process')).execFileSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
console.log(`${version}; 300,000 items × 64 factors`);
console.log('file          bytes   % of f32   load ms   top-10 ms   fold-in (50 items) ms');
const f32 = statSync(join(site, 'big-f32.gramrec')).size;
for (const [variant, r] of Object.entries(results)) {
  const size = statSync(join(site, `big-${variant}.gramrec`)).size;
  console.log(`${variant.padEnd(11)}  ${String(size).padStart(10)}   ${(100 * size / f32).toFixed(1).padStart(7)}   ${r.loadMs.toFixed(0).padStart(7)}   ${r.top10Ms.toFixed(2).padStart(9)}   ${r.foldIn50Ms.toFixed(3).padStart(9)}`);
}
