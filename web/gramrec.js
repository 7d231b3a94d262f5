// gramrec in the browser: load an item factor file and recommend for the
// visitor from their own history, with nothing sent to a server.
//
//   import { load } from './gramrec.js';
//   const rec = await load('items.gramrec');
//   rec.recommend([{ item: 'i42', weight: 1 }], 10);
//   // → { items: [{ item, score }], coldStart: false, unknown: [] }

import init, { Recommender } from './pkg/gramrec_wasm.js';

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
  await initialize();
  let bytes;
  if (typeof source === 'string' || source instanceof URL) {
    const response = await fetch(source);
    if (!response.ok) {
      throw new Error(`gramrec: cannot load ${source}: HTTP ${response.status}`);
    }
    bytes = new Uint8Array(await response.arrayBuffer());
  } else if (source instanceof ArrayBuffer) {
    bytes = new Uint8Array(source);
  } else if (ArrayBuffer.isView(source)) {
    bytes = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  } else {
    throw new TypeError('gramrec: load(source) takes a URL, an ArrayBuffer or a Uint8Array');
  }
  return new Recommender(bytes);
}

export { Recommender };
