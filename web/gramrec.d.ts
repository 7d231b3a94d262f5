// Types for gramrec.js (docs/WEB.md): the module's classes and result
// shapes come from the wasm-bindgen declarations in pkg/, which name them
// in crates/gramrec-wasm; web/test/types.test.mjs checks both.
import type { InitInput, InitOutput } from './pkg/gramrec_wasm.js';
import { Recommender, Rules } from './pkg/gramrec_wasm.js';
import type { GpuScorer, GpuOptions } from './webgpu.js';

export type {
  Association, Associations, HistoryEntry, HistoryRecord, ItemDetails, ItemId, ItemInfo, ItemList, ModelMetadata,
  Recommendation, Recommendations,
} from './pkg/gramrec_wasm.js';
export type { GpuCounts, GpuOptions, GpuScorer } from './webgpu.js';

/** A factor or rules file: its URL (streamed into the module as it downloads), or its bytes. */
export type Source = string | URL | ArrayBuffer | Uint8Array;

/** Loads the WebAssembly module once (later calls reuse it); resolves to its exports. */
export function initialize(moduleOrPath?: InitInput | Promise<InitInput>): Promise<InitOutput>;

/** Resolves to a Recommender for an item factor file; rejects saying what is wrong with it or its download. */
export function load(source: Source): Promise<Recommender>;

/** Resolves to Rules ("bought together") for a rules file (`gramrec rules --out rules.gramrec`). */
export function loadRules(source: Source): Promise<Rules>;

/**
 * Resolves to a GpuScorer scoring `recommender`'s visitors on the page's GPU
 * (the module's answers, through WebGPU), or to null where that is not
 * possible, with the reason in the console.
 */
export function useGpu(recommender: Recommender, options?: GpuOptions): Promise<GpuScorer | null>;

export { Recommender, Rules };
