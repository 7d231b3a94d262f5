// Types for webgpu.js (docs/WEB.md "On the page's GPU"); checked by
// web/test/types.test.mjs.
import type { HistoryEntry, Recommendations, Recommender } from './pkg/gramrec_wasm.js';

/** Options of `useGpu`. */
export interface GpuOptions {
  /** Use a software adapter too (SwiftShader, llvmpipe: slower than the module; for tests). Default false. */
  software?: boolean | undefined;
  /** The most items one GPU buffer holds (a multiple of 64); default: as many as the adapter binds at once. */
  windowRows?: number | undefined;
}

/** Which path answered each visitor. */
export interface GpuCounts {
  /** Answered from the GPU's shortlist, proven by the module. */
  gpu: number;
  /** Scanned by the module because the shortlist was not proven. */
  refused: number;
  /** Scored by the module alone (a cold start, a k the kernel does not take, the GPU lost or failing). */
  module: number;
}

/**
 * Resolves to a GpuScorer for `recommender`, or to null when the page has no
 * WebGPU, no adapter, only a software one (unless `software`), or the
 * catalogue does not fit; the reason goes to the console.
 */
export function useGpu(recommender: Recommender, options?: GpuOptions): Promise<GpuScorer | null>;

/** The catalogue on the GPU and the top-k kernel, for one Recommender. */
export class GpuScorer {
  /** Made by `useGpu` or `GpuScorer.open`. */
  private constructor();
  /** Opens the adapter and uploads the factors; rejects saying why it cannot. */
  static open(recommender: Recommender, software: boolean, windowRows?: number): Promise<GpuScorer>;
  /** The Recommender whose answers it gives. */
  readonly recommender: Recommender;
  /** The adapter, as it names itself. */
  readonly adapter: string;
  /** Which path answered each visitor so far. */
  readonly counts: GpuCounts;
  /** Why the GPU is no longer used, once it failed (the module scores from then on); null while it works. */
  readonly lost: string | null;
  /** The `k` best items for a visitor's history, as `Recommender.recommend` gives them. */
  recommend(history: readonly HistoryEntry[] | null | undefined, k: number): Promise<Recommendations>;
  /** Releases the GPU's memory; the Recommender stays usable. */
  destroy(): void;
}
