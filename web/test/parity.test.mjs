// The browser module recommends what `gramrec recommend --history` does:
// for 100 random histories, the same top-10 items in the same order, scores
// within 1e-4 relative (f32 item files); a Bayesian model's visitors folded
// in with its learned prior as the CLI folds them in.
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
