// The browser module recommends what `gramrec recommend --history` does:
// for 50 random histories of each kind, the same top-10 items in the same order, scores
// within 1e-4 relative (f32 item files); a Bayesian model's visitors folded
// in with its learned prior as the CLI folds them in. A file gathered in
// chunks (as `load(url)` streams it) loads as its bytes do.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { gramrec, random, tempDir, trainModel, wasm } from './helpers.mjs';

for (const [kind, seed] of [['implicit', 1], ['explicit', 2], ['bayes', 3]]) {
  test(`${kind}: 50 random histories match the CLI`, async () => {
    const { Recommender } = await wasm();
    const model = trainModel(tempDir(), kind);
    const rec = new Recommender(readFileSync(join(model, 'items.gramrec')));
    const ids = rec.itemIds();
    const next = random(seed);
    for (let h = 0; h < 50; h++) {
      const history = Array.from({ length: 1 + Math.floor(next() * 8) }, () => ({
        item: ids[Math.floor(next() * ids.length)],
        weight: 1 + Math.floor(next() * 5),
      }));
      const browser = rec.recommend(history, 10);
      const spec = history.map((e) => `${e.item}:${e.weight}`).join(',');
      const cli = JSON.parse(gramrec('recommend', '--json', '--k', '10', '--model', model, '--history', spec));
      assert.deepEqual(browser.items.map((i) => i.item), cli.items.map((i) => i.item), `history ${spec}`);
      browser.items.forEach((item, n) => {
        const want = cli.items[n].score;
        assert.ok(Math.abs(item.score - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${spec}: ${item.score} vs ${want}`);
      });
      assert.equal(browser.coldStart, cli.coldStart);
    }
  });
}

test('a file gathered in chunks loads as the same bytes do; a cut-off or impossible download is a readable error', async () => {
  const { FileBuffer, Recommender } = await wasm();
  const bytes = readFileSync(join(trainModel(tempDir(), 'implicit'), 'items.gramrec'));
  const whole = new Recommender(bytes);
  const gather = (length, sizes) => {
    const buffer = new FileBuffer(length);
    for (let at = 0, n = 0; at < bytes.length; at += sizes[n++ % sizes.length]) {
      buffer.push(bytes.subarray(at, Math.min(bytes.length, at + sizes[n % sizes.length])));
    }
    return buffer;
  };
  // Chunks of odd sizes, with the length announced, unknown, or understated.
  for (const length of [bytes.length, 0, 100]) {
    const buffer = gather(length, [1, 7, 4096, 65536]);
    assert.equal(buffer.length, bytes.length);
    const streamed = Recommender.fromBuffer(buffer);
    const history = whole.itemIds().slice(0, 5);
    assert.deepEqual(streamed.recommend(history, 10), whole.recommend(history, 10));
    assert.deepEqual(streamed.itemIds(), whole.itemIds());
  }
  const cut = new FileBuffer(bytes.length);
  cut.push(bytes.subarray(0, bytes.length - 64));
  assert.throws(() => Recommender.fromBuffer(cut), /gramrec: cannot read the model: .*(truncated|length|short)/i);
  assert.throws(() => new FileBuffer(0xfff00000), /the page's memory cannot hold a file of 4293918720 bytes/);
});
