// Our WGSL on a second engine: every GPU pipeline the native backend creates
// (naga, run on lavapipe by the Rust tests) compiled by Chromium's WebGPU —
// Dawn, with its own WGSL compiler Tint — on its software adapter
// (SwiftShader), with the same constants and WebGPU's default limits. A
// construct Tint refuses is a bug in the shared shader, caught here.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { random, root, serve, tempDir } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// `cargo test --workspace` builds the example; GRAMREC_WGSL_PIPELINES names another build.
const PIPELINES = process.env.GRAMREC_WGSL_PIPELINES ?? join(root, 'target/debug/examples/wgsl_pipelines');
// WebGPU on Chromium 156 headless: unsafe-webgpu for Linux, SwiftShader as
// the adapter (no GPU here); the page must be a secure context (127.0.0.1).
const FLAGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

let browser;
let site;
let page;
let pipelines;

before(async () => {
  pipelines = JSON.parse(execFileSync(PIPELINES, { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const dir = tempDir();
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>WebGPU</title>');
  site = await serve(dir);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  page = await browser.newPage();
  await page.goto(site.url);
});

after(async () => {
  await browser?.close();
  site?.close();
});

/** Each pipeline created in the page: the errors of its module and of the pipeline. */
async function compile(pipelines) {
  return page.evaluate(async (pipelines) => {
    if (!navigator.gpu) return { adapter: 'no navigator.gpu' };
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { adapter: 'no adapter' };
    const device = await adapter.requestDevice();
    const results = [];
    for (const p of pipelines) {
      const errors = [];
      device.pushErrorScope('validation');
      const module = device.createShaderModule({ label: p.label, code: p.source });
      const info = await module.getCompilationInfo();
      for (const m of info.messages) if (m.type === 'error') errors.push(`${m.lineNum}:${m.linePos}: ${m.message}`);
      try {
        await device.createComputePipelineAsync({
          label: p.label, layout: 'auto', compute: { module, entryPoint: p.entry, constants: p.constants },
        });
      } catch (e) {
        errors.push(`pipeline: ${e.message}`);
      }
      const scoped = await device.popErrorScope();
      if (scoped) errors.push(scoped.message);
      results.push({ model: p.model, label: p.label, errors });
    }
    return { adapter: adapter.info?.architecture ?? 'unknown', results };
  }, pipelines);
}

test('every GPU pipeline of the native backend compiles on Chromium WebGPU (Dawn/Tint)', async () => {
  assert.ok(pipelines.length >= 20, `${pipelines.length} pipelines`);
  const { adapter, results } = await compile(pipelines);
  assert.equal(adapter, 'swiftshader', 'Chromium exposes its software WebGPU adapter');
  assert.equal(results.length, pipelines.length);
  const failed = results.filter((r) => r.errors.length > 0).map((r) => `${r.model} / ${r.label}: ${r.errors.join('; ')}`);
  assert.deepEqual(failed, []);
});

test('a construct Tint refuses is reported, not passed over', async () => {
  // The literal the kernels once used for "finite": above f32's largest
  // value as written, so an error in WGSL (naga accepted it).
  const bad = { model: 'probe', label: 'probe', entry: 'main', constants: {},
    source: 'fn f(v: f32) -> bool { return abs(v) <= 3.4028235e38; }\n@compute @workgroup_size(1) fn main() { _ = f(1.0); }' };
  const { results } = await compile([bad]);
  assert.match(results[0].errors.join('\n'), /cannot be represented as 'f32'/);
});

/** Runs the top-k pipeline `p` in the page over one batch of users; returns
 * each user's merged list of [score, item], best first (as the host merges
 * the kernel's 16 lists per user in gpu/topk.rs). */
async function runTopK(p, data) {
  return page.evaluate(async ({ p, data }) => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter.requestDevice();
    const { F, K, users, items, offsets, constants, seenIndex, seen } = data;
    const nUsers = users.length / F;
    const nItems = items.length / F;
    const buffer = (array, usage) => {
      const b = device.createBuffer({ size: Math.max(16, array.byteLength), usage: usage | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(b, 0, array);
      return b;
    };
    const storage = GPUBufferUsage.STORAGE;
    const shape = buffer(new Uint32Array([nUsers, 0, nItems, 0]), GPUBufferUsage.UNIFORM);
    const outBytes = nUsers * 16 * K * 8;
    const out = device.createBuffer({ size: outBytes, usage: storage | GPUBufferUsage.COPY_SRC });
    const back = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const module = device.createShaderModule({ code: p.source });
    const pipeline = await device.createComputePipelineAsync({
      layout: 'auto', compute: { module, entryPoint: p.entry, constants: p.constants },
    });
    const inputs = [
      shape, buffer(new Float32Array(users), storage), buffer(new Float32Array(items), storage),
      buffer(new Float32Array(offsets), storage), buffer(new Float32Array(constants), storage),
      buffer(new Uint32Array(seenIndex), storage), buffer(new Uint32Array(seen.length ? seen : [0]), storage), out,
    ];
    const group = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: inputs.map((b, binding) => ({ binding, resource: { buffer: b } })),
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(nUsers / 64));
    pass.end();
    encoder.copyBufferToBuffer(out, 0, back, 0, outBytes);
    device.queue.submit([encoder.finish()]);
    await back.mapAsync(GPUMapMode.READ);
    const words = new Uint32Array(back.getMappedRange().slice(0));
    const scores = new Float32Array(words.buffer);
    const lists = [];
    for (let u = 0; u < nUsers; u++) {
      const all = [];
      for (let c = 0; c < 16 * K; c++) {
        const at = (u * 16 * K + c) * 2;
        if (words[at + 1] !== 0xffffffff) all.push([scores[at], words[at + 1]]);
      }
      all.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      lists.push(all.slice(0, K));
    }
    return lists;
  }, { p, data });
}

test('the top-k kernel on Dawn ranks as the CPU does', async () => {
  const p = pipelines.find((x) => x.label === 'top k' && x.constants.F === 64 && x.source.startsWith('const K: u32 = 10u;'));
  assert.ok(p, 'the example prints a top-10 pipeline over 64 factors');
  const [F, K, USERS, ITEMS] = [64, 10, 150, 1000];
  const next = random(11);
  const values = (n, scale) => Array.from({ length: n }, () => Math.fround((next() * 2 - 1) * scale));
  const users = values(USERS * F, 1);
  const items = values(ITEMS * F, 1);
  const offsets = values(ITEMS, 0.5);
  const constants = values(USERS, 0.5);
  // Each user has seen up to 30 items (sorted, distinct), some none.
  const seenBy = Array.from({ length: USERS }, () => [...new Set(Array.from({ length: Math.floor(next() * 31) }, () => Math.floor(next() * ITEMS)))].sort((a, b) => a - b));
  const seenIndex = [0];
  for (const s of seenBy) seenIndex.push(seenIndex.at(-1) + s.length);
  const lists = await runTopK(p, { F, K, users, items, offsets, constants, seenIndex, seen: seenBy.flat() });
  assert.equal(lists.length, USERS);
  for (let u = 0; u < USERS; u++) {
    // The CPU's sum: factor by factor in order, in f32, then the two terms.
    const score = (i) => {
      let s = 0;
      for (let k = 0; k < F; k++) s = Math.fround(s + Math.fround(users[u * F + k] * items[i * F + k]));
      return Math.fround(Math.fround(s + offsets[i]) + constants[u]);
    };
    const seen = new Set(seenBy[u]);
    const ranked = [];
    for (let i = 0; i < ITEMS; i++) if (!seen.has(i)) ranked.push([score(i), i]);
    ranked.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const got = lists[u];
    assert.equal(got.length, K, `user ${u}: a full list`);
    for (let j = 0; j < K; j++) {
      const [s, i] = got[j];
      assert.ok(!seen.has(i), `user ${u}: item ${i} was seen`);
      // Within f32 rounding (Dawn may fuse the multiply-adds), rank by rank and item by item.
      assert.ok(Math.abs(s - ranked[j][0]) <= 1e-4, `user ${u}, rank ${j}: ${s} against the CPU's ${ranked[j][0]}`);
      assert.ok(Math.abs(s - score(i)) <= 1e-4, `user ${u}: item ${i} scored ${s}, the CPU ${score(i)}`);
    }
  }
});

test('the Gram kernels on Dawn sum YᵀY as the CPU does, over several chunks', async () => {
  const model = 'implicit, 64 factors, f32';
  const partial = pipelines.find((x) => x.model === model && x.label === 'partial_gram');
  const reduce = pipelines.find((x) => x.model === model && x.label === 'reduce_gram');
  const F = partial.constants.F;
  // 3,000 rows in chunks of 1,024, as gpu/mod.rs plans them.
  const [ROWS, CHUNK] = [3000, 1024];
  const chunks = Math.ceil(ROWS / CHUNK);
  const next = random(5);
  const y = Array.from({ length: ROWS * F }, () => Math.fround(next() * 2 - 1));
  const gram = await page.evaluate(async ({ partial, reduce, y, F, ROWS, CHUNK, chunks }) => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter.requestDevice();
    const make = (bytes, usage, data) => {
      const b = device.createBuffer({ size: bytes, usage: usage | GPUBufferUsage.COPY_DST });
      if (data) device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const storage = GPUBufferUsage.STORAGE;
    const shape = make(16, GPUBufferUsage.UNIFORM, new Uint32Array([ROWS, CHUNK, chunks, 0]));
    const factors = make(y.length * 4, storage, new Float32Array(y));
    const partials = make(chunks * F * F * 4, storage);
    const result = make(F * F * 4, storage | GPUBufferUsage.COPY_SRC);
    const back = make(F * F * 4, GPUBufferUsage.MAP_READ);
    const pipeline = async (p) => device.createComputePipelineAsync({
      layout: 'auto', compute: { module: device.createShaderModule({ code: p.source }), entryPoint: p.entry, constants: p.constants },
    });
    // 'auto' layouts hold only the bindings each entry point uses.
    const group = (pl, buffers) => device.createBindGroup({
      layout: pl.getBindGroupLayout(0),
      entries: Object.entries(buffers).map(([binding, buffer]) => ({ binding: Number(binding), resource: { buffer } })),
    });
    const [first, second] = [await pipeline(partial), await pipeline(reduce)];
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(first);
    pass.setBindGroup(0, group(first, { 0: shape, 1: factors, 2: partials }));
    const tiles = Math.ceil(F / 64);
    pass.dispatchWorkgroups(tiles, tiles, chunks);
    pass.setPipeline(second);
    pass.setBindGroup(0, group(second, { 0: shape, 2: partials, 3: result }));
    pass.dispatchWorkgroups(Math.ceil((F * F) / 256));
    pass.end();
    encoder.copyBufferToBuffer(result, 0, back, 0, F * F * 4);
    device.queue.submit([encoder.finish()]);
    await back.mapAsync(GPUMapMode.READ);
    return Array.from(new Float32Array(back.getMappedRange()));
  }, { partial, reduce, y, F, ROWS, CHUNK, chunks });
  assert.equal(gram.length, F * F);
  for (let i = 0; i < F; i++) {
    for (let j = 0; j < F; j++) {
      let s = 0;
      for (let r = 0; r < ROWS; r++) s += y[r * F + i] * y[r * F + j];
      const g = gram[i * F + j];
      assert.ok(Math.abs(g - s) <= 1e-4 * Math.max(1, Math.abs(s)), `YᵀY[${i}][${j}] = ${g}, the CPU ${s}`);
    }
  }
});

/** Runs CG pipeline `p` (f32 factors) on Dawn for `rows` rows of a random
 * problem and checks each row against the same steps in JavaScript (f64),
 * as gramrec_core::linalg::conjugate_gradient takes them on the normal
 * equations of gramrec_core::normal_eq:
 * implicit: A = α₀YᵀY + λI + Σ (c − α₀) y yᵀ, b = Σ c y, c = 1 + α r;
 * explicit with biases: z = [y, 1], A = λ(n)I + Σ z zᵀ, b = Σ (r − μ − b_c) z. */
async function checkConjugateGradient(p, rows) {
  const { F, D, REG, REG_SCALING, ALPHA, UNOBSERVED, CG_STEPS, GLOBAL_MEAN, IMPLICIT } = p.constants;
  assert.equal(p.constants.HALF, 0);
  assert.equal(p.constants.LOG_CONFIDENCE, 0);
  const OTHER = 300;
  const next = random(9);
  const other = Array.from({ length: OTHER * D }, () => Math.fround((next() * 2 - 1) * 0.3));
  const start = Array.from({ length: rows * D }, () => Math.fround((next() * 2 - 1) * 0.3));
  // Row r has 0 to 60 interactions (row 0 none), values 1 to 5.
  const offsets = [0];
  const cols = [];
  const vals = [];
  for (let r = 0; r < rows; r++) {
    const n = r === 0 ? 0 : Math.floor(next() * 61);
    for (const c of new Set(Array.from({ length: n }, () => Math.floor(next() * OTHER)))) {
      cols.push(c);
      vals.push(1 + Math.floor(next() * 5));
    }
    offsets.push(cols.length);
  }
  const gram = new Array(F * F).fill(0);
  for (let c = 0; c < OTHER; c++) {
    for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) gram[i * F + j] += other[c * D + i] * other[c * D + j];
  }
  const solved = await page.evaluate(async ({ p, rows, other, start, offsets, cols, vals, gram, OTHER }) => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter.requestDevice();
    const storage = GPUBufferUsage.STORAGE;
    const make = (array, usage) => {
      const b = device.createBuffer({ size: Math.max(16, array.byteLength), usage: usage | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(b, 0, array);
      return b;
    };
    // Rows: count, first, data_terms, total, row_base, other_rows, padding.
    const shape = make(new Uint32Array([rows, 0, 0, rows, 0, OTHER, 0, 0]), GPUBufferUsage.UNIFORM);
    const rowIndex = make(new Uint32Array([...offsets, ...Array.from({ length: rows }, (_, r) => r)]), storage);
    const x = make(new Float32Array(start), storage | GPUBufferUsage.COPY_SRC);
    const status = make(new Uint32Array([0xffffffff]), storage);
    const buffers = {
      0: shape, 1: rowIndex, 2: make(new Uint32Array(cols), storage), 3: make(new Float32Array(vals), storage),
      4: make(new Float32Array(other), storage), 5: make(new Float32Array(gram), storage), 7: x, 8: status,
    };
    const pipeline = await device.createComputePipelineAsync({
      layout: 'auto', compute: { module: device.createShaderModule({ code: p.source }), entryPoint: p.entry, constants: p.constants },
    });
    const group = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: Object.entries(buffers).map(([binding, buffer]) => ({ binding: Number(binding), resource: { buffer } })),
    });
    const back = device.createBuffer({ size: start.length * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(rows);
    pass.end();
    encoder.copyBufferToBuffer(x, 0, back, 0, start.length * 4);
    device.queue.submit([encoder.finish()]);
    await back.mapAsync(GPUMapMode.READ);
    return Array.from(new Float32Array(back.getMappedRange()));
  }, { p, rows, other, start, offsets, cols, vals, gram, OTHER });
  const dot = (a, b) => a.reduce((s, v, k) => s + v * b[k], 0);
  for (let r = 0; r < rows; r++) {
    const got = solved.slice(r * D, (r + 1) * D);
    const n = offsets[r + 1] - offsets[r];
    if (n === 0) {
      assert.deepEqual(got, new Array(D).fill(0), 'a row without interactions is zero');
      continue;
    }
    // Each interaction's z, weight w and target t.
    const terms = [];
    for (let e = offsets[r]; e < offsets[r + 1]; e++) {
      const y = other.slice(cols[e] * D, (cols[e] + 1) * D);
      if (IMPLICIT) {
        const c = 1 + ALPHA * vals[e];
        terms.push([y, c - UNOBSERVED, c]);
      } else {
        terms.push([[...y.slice(0, F), 1], 1, vals[e] - GLOBAL_MEAN - y[F]]);
      }
    }
    const shift = REG_SCALING === 1 ? REG * n : REG;
    const apply = (v) => {
      const out = v.map((vk) => shift * vk);
      if (IMPLICIT) for (let k = 0; k < F; k++) out[k] += UNOBSERVED * dot(gram.slice(k * F, (k + 1) * F), v);
      for (const [z, w] of terms) {
        const s = w * dot(z, v);
        for (let k = 0; k < D; k++) out[k] += s * z[k];
      }
      return out;
    };
    const x = start.slice(r * D, (r + 1) * D);
    const b = new Array(D).fill(0);
    for (const [z, , t] of terms) for (let k = 0; k < D; k++) b[k] += t * z[k];
    const ax = apply(x);
    const res = b.map((bk, k) => bk - ax[k]);
    let dir = res.slice();
    let rsOld = dot(res, res);
    for (let step = 0; step < CG_STEPS && rsOld >= 1e-20; step++) {
      const ap = apply(dir);
      const alpha = rsOld / dot(dir, ap);
      for (let k = 0; k < D; k++) {
        x[k] += alpha * dir[k];
        res[k] -= alpha * ap[k];
      }
      const rsNew = dot(res, res);
      dir = res.map((rk, k) => rk + (rsNew / rsOld) * dir[k]);
      rsOld = rsNew;
    }
    const scale = Math.max(...x.map(Math.abs));
    const worst = Math.max(...got.map((g, k) => Math.abs(g - x[k])));
    assert.ok(worst <= 1e-3 * scale, `${p.model}, row ${r}: differs by ${worst} (largest element ${scale})`);
  }
}

test("the conjugate-gradient kernel on Dawn takes the CPU's steps, implicit and explicit", async () => {
  for (const model of ['implicit, 64 factors, f32', 'explicit with biases, 256 factors, f32']) {
    await checkConjugateGradient(pipelines.find((x) => x.model === model && x.label === 'cg'), 40);
  }
});
