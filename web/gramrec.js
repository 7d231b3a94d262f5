// gramrec in the browser: load an item factor file and recommend for the
// visitor from their own history, with nothing sent to a server.
//
//   import { load } from './gramrec.js';
//   const rec = await load('items.gramrec');
//   rec.recommend([{ item: 'i42', weight: 1 }], 10);
//   // → { items: [{ item, score }], coldStart: false, unknown: [] }
//
//   const gpu = await useGpu(rec);   // WebGPU when the page has a GPU, else null
//   await gpu.recommend([{ item: 'i42', weight: 1 }], 10);   // the same answer
//
//   const rules = await loadRules('rules.gramrec');   // gramrec rules --out rules.gramrec
//   rules.rulesFor('i42', 5);
//   // → { items: [{ item, confidence, lift, support }], unknown: [] }

import init, { FileBuffer, Recommender, Rules } from './pkg/gramrec_wasm.js';

let ready = null;

/** Loads the WebAssembly module once (later calls reuse it). */
export function initialize(moduleOrPath) {
  ready ??= init(moduleOrPath === undefined ? undefined : { module_or_path: moduleOrPath });
  return ready;
}

/**
 * Resolves to a Recommender for an item factor file. A URL is streamed into
 * the module's memory as it downloads, so a large catalogue is held once.
 * @param {string|URL|ArrayBuffer|Uint8Array} source the file's URL, or its bytes
 */
export async function load(source) {
  await initialize();
  if (!isUrl(source)) return new Recommender(bytesOf(source));
  const response = await download(source);
  if (!response.body) return new Recommender(new Uint8Array(await response.arrayBuffer()));
  // The announced length, to make room once; 0 (grow as it comes) when absent or not a length.
  const announced = Number(response.headers.get('content-length') ?? '');
  const length = Number.isSafeInteger(announced) && announced > 0 ? announced : 0;
  // WebAssembly's 32-bit memory holds less than 4 GiB in all.
  if (length >= 2 ** 32) throw new Error(`gramrec: cannot load ${source}: ${length} bytes is more than a page can hold`);
  const buffer = new FileBuffer(length);
  const reader = response.body.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) buffer.push(chunk.value);
  } catch (e) {
    buffer.free();
    reader.cancel().catch(() => {});
    throw e;
  }
  return Recommender.fromBuffer(buffer);
}

/**
 * Resolves to Rules ("bought together") for a rules file.
 * @param {string|URL|ArrayBuffer|Uint8Array} source the file's URL, or its bytes
 */
export async function loadRules(source) {
  await initialize();
  if (!isUrl(source)) return new Rules(bytesOf(source));
  return new Rules(new Uint8Array(await (await download(source)).arrayBuffer()));
}

const isUrl = (source) => typeof source === 'string' || source instanceof URL;

/** The response for a file's URL; throws for an HTTP error. */
async function download(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`gramrec: cannot load ${url}: ${e.message}`);
  }
  if (!response.ok) {
    throw new Error(`gramrec: cannot load ${url}: HTTP ${response.status}`);
  }
  return response;
}

/** A file given as bytes, as a Uint8Array. */
function bytesOf(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  throw new TypeError('gramrec: load(source) takes a URL, an ArrayBuffer or a Uint8Array');
}

/**
 * Resolves to a GpuScorer scoring `recommender`'s visitors on the page's GPU
 * (webgpu.js: the module's answers, computed through WebGPU), or to null
 * where that is not possible — no WebGPU, no adapter, a software one unless
 * `{ software: true }`, or webgpu.js not served beside this file — with the
 * reason in the console.
 */
export async function useGpu(recommender, options) {
  let webgpu;
  try {
    webgpu = await import('./webgpu.js');
  } catch (error) {
    console.info(`gramrec: scoring in the module, not on the GPU: webgpu.js did not load (${error?.message ?? error})`);
    return null;
  }
  return webgpu.useGpu(recommender, options);
}

export { Recommender, Rules };
