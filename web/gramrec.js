// gramrec in the browser: load an item factor file and recommend for the
// visitor from their own history, with nothing sent to a server.
//
//   import { load } from './gramrec.js';
//   const rec = await load('items.gramrec');
//   rec.recommend([{ item: 'i42', weight: 1 }], 10);
//   // → { items: [{ item, score }], coldStart: false, unknown: [] }
//
//   const rules = await loadRules('rules.gramrec');   // gramrec rules --out rules.gramrec
//   rules.rulesFor('i42', 5);
//   // → { items: [{ item, confidence, lift, support }], unknown: [] }

import init, { Recommender, Rules } from './pkg/gramrec_wasm.js';

let ready = null;

/** Loads the WebAssembly module once (later calls reuse it). */
export function initialize(moduleOrPath) {
  ready ??= init(moduleOrPath === undefined ? undefined : { module_or_path: moduleOrPath });
  return ready;
}

/**
 * Resolves to a Recommender for an item factor file.
 * @param {string|URL|ArrayBuffer|Uint8Array} source the file's URL, or its bytes
 */
export async function load(source) {
  return new Recommender(await bytesOf(source));
}

/**
 * Resolves to Rules ("bought together") for a rules file.
 * @param {string|URL|ArrayBuffer|Uint8Array} source the file's URL, or its bytes
 */
export async function loadRules(source) {
  return new Rules(await bytesOf(source));
}

/** The bytes of a file given by URL or as bytes, with the module ready. */
async function bytesOf(source) {
  await initialize();
  if (typeof source === 'string' || source instanceof URL) {
    const response = await fetch(source);
    if (!response.ok) {
      throw new Error(`gramrec: cannot load ${source}: HTTP ${response.status}`);
    }
    return new Uint8Array(await response.arrayBuffer());
  }
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  throw new TypeError('gramrec: load(source) takes a URL, an ArrayBuffer or a Uint8Array');
}

export { Recommender, Rules };
