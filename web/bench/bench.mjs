// Browser benchmarks in headless Chromium (BENCHMARKS.md):
//   node web/bench/bench.mjs
// Builds a 300,000-item × 64-factor item file (random factors) in f32, f16
// and i8, serves web/ on 127.0.0.1, and measures in the page: load time
// (fetch + parse), top-10 for one visitor (fold-in of a 10-item history and
// a scan over every item), and fold-in of a 50-item history (on a 1,000-item
// file, where the scan is negligible).
import { cpSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { gramrec, root, serve, tempDir } from '../test/helpers.mjs';

const dir = tempDir();
const site = join(dir, 'site');
mkdirSync(site);
for (const f of ['gramrec.js', 'gramrec-element.js']) cpSync(join(root, 'web', f), join(site, f));
cpSync(join(root, 'web', 'pkg'), join(site, 'pkg'), { recursive: true });
const make = (items, name) => {
  gramrec('bench', '--recommend-all', '--users', '4', '--items', String(items), '--factors', '64', '--write-items', join(site, `${name}-f32.gramrec`));
  for (const dtype of ['f16', 'i8']) {
    gramrec('export', '--model', join(site, `${name}-f32.gramrec`), '--dtype', dtype, '--out', join(site, `${name}-${dtype}.gramrec`));
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
  for (const dtype of ['f32', 'f16', 'i8']) {
    const t0 = performance.now();
    const rec = await load(`/big-${dtype}.gramrec`);
    const loadMs = performance.now() - t0;
    const times = [];
    for (const h of histories(rec, 30, 10)) {
      const t = performance.now();
      rec.recommend(h, 10);
      times.push(performance.now() - t);
    }
    const small = await load(`/small-${dtype}.gramrec`);
    const fold = [];
    for (const h of histories(small, 100, 50)) {
      const t = performance.now();
      small.recommend(h, 10);
      fold.push(performance.now() - t);
    }
    out[dtype] = { loadMs, top10Ms: median(times), foldIn50Ms: median(fold) };
    rec.free();
    small.free();
  }
  return out;
});
await browser.close();
server.close();
const version = (await import('node:child_process')).execFileSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
console.log(`${version}; 300,000 items × 64 factors`);
console.log('dtype  file bytes   % of f32   load ms   top-10 ms   fold-in (50 items) ms');
const f32 = statSync(join(site, 'big-f32.gramrec')).size;
for (const [dtype, r] of Object.entries(results)) {
  const size = statSync(join(site, `big-${dtype}.gramrec`)).size;
  console.log(`${dtype.padEnd(5)}  ${String(size).padStart(10)}   ${(100 * size / f32).toFixed(1).padStart(7)}   ${r.loadMs.toFixed(0).padStart(7)}   ${r.top10Ms.toFixed(2).padStart(9)}   ${r.foldIn50Ms.toFixed(3).padStart(9)}`);
}
