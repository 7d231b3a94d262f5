// A visitor's recommendations scored on the page's GPU through WebGPU, with
// the module's answers.
//
// The items' factors are uploaded once (decoded to f32, in windows no larger
// than the GPU binds at a time); for each visitor, the top-k kernel that
// `gramrec recommend --all --device gpu` runs (gramrec-wgsl's topk.wgsl,
// handed over by the module) scores every item, many workgroups to a
// catalogue, and keeps a shortlist of k + 8. The module then ranks that
// shortlist exactly and returns it only when no item outside it can rank in
// the top k whatever the GPU's rounding (gramrec-core's
// `shortlist_top_rows`); otherwise, and whenever the GPU fails, the module
// scans the catalogue itself. So the results are the module's either way.
//
//   import { load, useGpu } from './gramrec.js';
//   const rec = await load('items.gramrec');
//   const gpu = await useGpu(rec);            // null without a usable GPU
//   const result = gpu ? await gpu.recommend(history, 10) : rec.recommend(history, 10);

/** The longest list the kernel keeps (gramrec-als's gpu/topk.rs MAX_K). */
const MAX_K = 128;
/** The shortlist's length beyond k: room for the two scorers' rounding. */
const EXTRA = 8;
/** Lists the kernel writes per user and workgroup: one per column of its 16 × 16 threads. */
const COLUMNS = 16;
/** Items per tile: the kernel's windows start on one. */
const TILE = 64;
/** "No item" in a slot of the kernel's lists. */
const NONE = 0xffffffff;
/** Bytes of factors decoded and uploaded at a time. */
const UPLOAD_BYTES = 16 << 20;
/** Adapters that run on the CPU, where the module's own scan is faster (measured: BENCHMARKS.md). */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|warp|software/i;

/**
 * Resolves to a GpuScorer for `recommender` (from `load`), or to null when
 * the page has no WebGPU, no adapter, or only a software one (unless
 * `software` is true: tests run on SwiftShader), or the catalogue does not
 * fit; the reason goes to the console. A scorer holds the factors on the
 * GPU: call `destroy()` when done, before `recommender.free()`.
 * `windowRows` caps the items in one GPU buffer (default: as many as the
 * adapter binds at once; a multiple of 64).
 */
export async function useGpu(recommender, { software = false, windowRows = Infinity } = {}) {
  try {
    return await GpuScorer.open(recommender, software, windowRows);
  } catch (error) {
    console.info(`gramrec: scoring in the module, not on the GPU: ${error?.message ?? error}`);
    return null;
  }
}

/** The catalogue on the GPU and the kernel, for one Recommender. */
export class GpuScorer {
  /** Opens the adapter, uploads the factors; throws saying why it cannot. */
  static async open(recommender, software, windowRows = Infinity) {
    if (typeof isSecureContext !== 'undefined' && !isSecureContext) {
      throw new Error('WebGPU needs a secure context: serve the page over https, or from localhost or 127.0.0.1');
    }
    if (typeof navigator === 'undefined' || !navigator.gpu) throw new Error('this browser has no WebGPU');
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('WebGPU offers no adapter');
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
    if (!software && (info.isFallbackAdapter || adapter.isFallbackAdapter || SOFTWARE.test(name))) {
      throw new Error(`the adapter (${name || 'unnamed'}) is software, slower than the module (useGpu(rec, { software: true }) or gpu="software" uses it anyway)`);
    }
    const { factors, items } = recommender.metadata();
    if (items === 0 || factors === 0) throw new Error('the model has no items to score');
    const { maxStorageBufferBindingSize: binding, maxBufferSize: largest } = adapter.limits;
    const device = await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize: binding, maxBufferSize: largest },
    });
    const scorer = new GpuScorer(recommender, device, name, factors, items);
    try {
      await scorer.upload(Math.floor(Math.min(binding, largest, windowRows * factors * 4) / (factors * 4) / TILE) * TILE);
    } catch (error) {
      scorer.destroy();
      throw error;
    }
    return scorer;
  }

  constructor(recommender, device, name, factors, items) {
    this.recommender = recommender;
    this.device = device;
    /** The adapter, as it names itself. */
    this.adapter = name;
    this.factors = factors;
    this.items = items;
    /** Item windows on the GPU: `{ begin, end, factors: GPUBuffer, terms: GPUBuffer }`. */
    this.windows = [];
    /** Compiled pipelines (promises) by list length. */
    this.pipelines = new Map();
    /**
     * Visitors answered from the GPU's shortlist (`gpu`), by the module's
     * scan because the shortlist was not proven (`refused`), and by the
     * module alone (`module`: a cold start, k = 0 or above 120, a history
     * too long for the kernel, a catalogue too large for one dispatch, or
     * the GPU lost or failing).
     */
    this.counts = { gpu: 0, refused: 0, module: 0 };
    /** Why the GPU is no longer used, once it failed. */
    this.lost = null;
    this.destroyed = false;
    device.lost.then((why) => {
      if (!this.destroyed) this.fail(why.message || why.reason || 'the GPU device was lost');
    });
    device.addEventListener('uncapturederror', (event) => this.fail(event.error?.message || 'the GPU reported an error'));
  }

  /** Stops using the GPU (the module scores from now on), saying why once. */
  fail(reason) {
    if (this.lost) return;
    this.lost = reason;
    console.warn(`gramrec: scoring in the module from now on: ${reason}`);
  }

  /** Uploads the factors and item terms in windows of `rows` items; throws when the GPU cannot hold them. */
  async upload(rows) {
    if (rows < TILE) throw new Error(`the GPU binds too little memory for ${this.factors} factors`);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const chunk = Math.max(1, Math.floor(UPLOAD_BYTES / (this.factors * 4)));
    for (let begin = 0; begin < this.items; begin += rows) {
      const end = Math.min(begin + rows, this.items);
      await this.checked(async () => {
        const window = {
          begin,
          end,
          factors: this.device.createBuffer({ size: (end - begin) * this.factors * 4, usage }),
          terms: this.device.createBuffer({ size: Math.max(16, (end - begin) * 4), usage }),
        };
        this.windows.push(window);
        for (let at = begin; at < end; at += chunk) {
          const values = this.recommender.factorRows(at, Math.min(at + chunk, end));
          this.device.queue.writeBuffer(window.factors, (at - begin) * this.factors * 4, values);
        }
        this.device.queue.writeBuffer(window.terms, 0, this.recommender.itemTerms(begin, end));
      });
      // One window's staging at a time.
      await this.device.queue.onSubmittedWorkDone();
    }
  }

  /**
   * Runs `work` (which issues GPU commands and may await), then throws the
   * first validation or out-of-memory error the GPU reported for it: WebGPU
   * reports them there, not by throwing.
   */
  async checked(work) {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result;
    try {
      result = await work();
    } finally {
      const invalid = await this.device.popErrorScope();
      const memory = await this.device.popErrorScope();
      const error = memory ?? invalid;
      if (error) throw new Error(`the GPU refused: ${error.message}`);
    }
    if (this.destroyed) throw new Error('gramrec: the GPU scorer was destroyed');
    return result;
  }

  /**
   * The `k` best items for a visitor's history (as `Recommender.recommend`
   * takes it), as `Recommender.recommend` gives them (a `k` that is not a
   * whole number from 1 to 120 is the module's to read and score).
   */
  async recommend(history, k) {
    if (this.destroyed) throw new Error('gramrec: the GPU scorer was destroyed');
    const visitor = this.recommender.visitor(history);
    try {
      if (!visitor.coldStart && Number.isInteger(k) && k > 0 && k + EXTRA <= MAX_K && !this.lost) {
        let found = null;
        try {
          found = await this.shortlist(visitor, k + EXTRA);
        } catch (error) {
          if (this.destroyed) throw error;
          this.fail(error?.message ?? String(error));
        }
        // An error the GPU reported meanwhile spoils what it returned.
        if (this.lost) found = null;
        if (found) {
          const result = this.recommender.recommendShortlist(visitor, found.rows, found.cutoff, k);
          if (result) {
            this.counts.gpu++;
            return result;
          }
          this.counts.refused++;
          return this.recommender.recommendVisitor(visitor, k);
        }
      }
      this.counts.module++;
      return this.recommender.recommendVisitor(visitor, k);
    } finally {
      visitor.free();
    }
  }

  /**
   * The GPU's `length` best items for the visitor: `{ rows, cutoff }`, the
   * rows as a Uint32Array and cutoff the lowest score kept (undefined when
   * fewer were found: then every item not seen is in `rows`); null when the
   * kernel cannot run for this visitor.
   */
  async shortlist(visitor, length) {
    const seen = visitor.seen;
    const span = this.recommender.topKItemsPerWorkgroup(length, seen.length);
    if (span === 0) return null;
    const pipeline = await this.pipeline(length);
    return this.checked(() => this.run(pipeline, visitor, seen, span, length));
  }

  /** `shortlist`'s dispatches and read-back. */
  async run(pipeline, visitor, seen, span, length) {
    const { device } = this;
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const made = [];
    const buffer = (data, usage = storage) => {
      const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
      device.queue.writeBuffer(b, 0, data);
      made.push(b);
      return b;
    };
    try {
      const user = buffer(visitor.factors);
      const constant = buffer(new Float32Array([visitor.constant]));
      const perRow = COLUMNS * length * 8;
      const passes = this.windows.map((w) => {
        // This window's seen items, counted from its first row.
        const own = seen.filter((i) => i >= w.begin && i < w.end).map((i) => i - w.begin);
        const rows = Math.ceil((w.end - w.begin) / span);
        if (rows > device.limits.maxComputeWorkgroupsPerDimension) return null;
        const out = device.createBuffer({ size: rows * perRow, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
        made.push(out);
        const shape = buffer(new Uint32Array([1, 0, w.end - w.begin, span]), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
        const group = device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [shape, user, w.factors, w.terms, constant, buffer(new Uint32Array([0, own.length])),
            buffer(own.length ? own : new Uint32Array(1)), out].map((b, binding) => ({ binding, resource: { buffer: b } })),
        });
        return { window: w, rows, out, group };
      });
      if (passes.includes(null)) return null;
      const total = passes.reduce((n, p) => n + p.rows * perRow, 0);
      const back = device.createBuffer({ size: total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      made.push(back);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      for (const p of passes) {
        pass.setBindGroup(0, p.group);
        pass.dispatchWorkgroups(1, p.rows);
      }
      pass.end();
      let at = 0;
      for (const p of passes) {
        encoder.copyBufferToBuffer(p.out, 0, back, at, p.rows * perRow);
        at += p.rows * perRow;
      }
      device.queue.submit([encoder.finish()]);
      await back.mapAsync(GPUMapMode.READ);
      const mapped = back.getMappedRange();
      const found = best(new Uint32Array(mapped), new Float32Array(mapped), passes, perRow / 4, length);
      back.unmap();
      return found;
    } finally {
      for (const b of made) b.destroy();
    }
  }

  /**
   * The kernel for lists of `length` (each thread keeps `length` per user:
   * so the merged best `length` are the GPU's best, and the cutoff holds),
   * compiled once.
   */
  pipeline(length) {
    let pipeline = this.pipelines.get(length);
    if (!pipeline) {
      pipeline = (async () => {
        const module = this.device.createShaderModule({ label: 'top k', code: this.recommender.topKShader(length) });
        const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
        if (errors.length) throw new Error(`the top-k shader does not compile here: ${errors[0].lineNum}:${errors[0].linePos}: ${errors[0].message}`);
        return this.device.createComputePipelineAsync({
          label: 'top k', layout: 'auto', compute: { module, entryPoint: 'main', constants: { F: this.factors } },
        });
      })();
      this.pipelines.set(length, pipeline);
    }
    return pipeline;
  }

  /** Releases the GPU's memory; the Recommender stays usable. */
  destroy() {
    this.destroyed = true;
    for (const w of this.windows) {
      w.factors.destroy();
      w.terms.destroy();
    }
    this.windows = [];
    this.device.destroy();
  }
}

/**
 * The `length` best (score, row) pairs of the kernel's lists, best first
 * as the module ranks them (a higher score, then the lower row): each
 * pass's `rows` blocks of `COLUMNS` lists, `words` u32 words a block.
 */
function best(words, scores, passes, block, length) {
  const rows = new Uint32Array(length);
  const kept = new Float32Array(length);
  let count = 0;
  let base = 0;
  for (const p of passes) {
    for (let at = base; at < base + p.rows * block; at += 2) {
      const item = words[at + 1];
      if (item === NONE) continue;
      if (item >= p.window.end - p.window.begin) throw new Error(`the GPU returned item ${item} of a window of ${p.window.end - p.window.begin}`);
      const row = p.window.begin + item;
      const score = scores[at];
      if (count === length && !(score > kept[count - 1] || (score === kept[count - 1] && row < rows[count - 1]))) continue;
      // Insert in order, dropping the last when full.
      let j = count < length ? count++ : count - 1;
      while (j > 0 && (score > kept[j - 1] || (score === kept[j - 1] && row < rows[j - 1]))) {
        kept[j] = kept[j - 1];
        rows[j] = rows[j - 1];
        j--;
      }
      kept[j] = score;
      rows[j] = row;
    }
    base += p.rows * block;
  }
  const found = rows.slice(0, count);
  if (new Set(found).size !== count) throw new Error('the GPU returned an item twice');
  return { rows: found, cutoff: count === length ? kept[length - 1] : undefined };
}
