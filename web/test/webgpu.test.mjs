// Our WGSL on a second engine: every GPU pipeline the native backend creates
// (naga, run on lavapipe by the Rust tests) compiled by Chromium's WebGPU —
// Dawn, with its own WGSL compiler Tint — on its software adapter
// (SwiftShader), with the same constants and WebGPU's default limits. A
// construct Tint refuses is a bug in the shared shader, caught here. Then
// every kernel runs there against the same maths in JavaScript: top-k, the
// two YᵀY kernels, CG, the row matrices and Cholesky (ALS rows solved,
// Bayesian rows drawn), and the objective's terms; CG, Cholesky and the
// objective also with the factors stored as f16 (two halves a word).
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

/**
 * Runs pipelines in the page, one compute pass, as the native backend's
 * dispatches do: `buffers` maps a name to `{ u32 | f32: values, uniform }`;
 * each step binds `{ binding: name }` to `pipeline` (a PipelineSource, its
 * layout 'auto': only the bindings its entry point uses) and dispatches
 * `groups` workgroups. Returns the buffer `read` as u32 words.
 */
async function run(buffers, steps, read) {
  return page.evaluate(async ({ buffers, steps, read }) => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter.requestDevice();
    const made = {};
    for (const [name, b] of Object.entries(buffers)) {
      const data = b.u32 ? new Uint32Array(b.u32) : new Float32Array(b.f32);
      const usage = (b.uniform ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST
        | GPUBufferUsage.COPY_SRC;
      made[name] = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
      device.queue.writeBuffer(made[name], 0, data);
    }
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const { pipeline: p, bind, groups } of steps) {
      const pipeline = await device.createComputePipelineAsync({
        layout: 'auto',
        compute: { module: device.createShaderModule({ code: p.source }), entryPoint: p.entry, constants: p.constants },
      });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: Object.entries(bind).map(([binding, name]) => ({ binding: Number(binding), resource: { buffer: made[name] } })),
      }));
      pass.dispatchWorkgroups(...groups);
    }
    pass.end();
    const size = made[read].size;
    const back = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(made[read], 0, back, 0, size);
    device.queue.submit([encoder.finish()]);
    await back.mapAsync(GPUMapMode.READ);
    return Array.from(new Uint32Array(back.getMappedRange()));
  }, { buffers, steps, read });
}

/** u32 words read back as the f32 values they hold. */
const floats = (words) => Array.from(new Float32Array(Uint32Array.from(words).buffer));

/** `x` rounded to the nearest IEEE half (ties to even), as bits; `x` within
 * f16's finite range. */
function halfBits(x) {
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  let e = a === 0 ? -14 : Math.max(-14, Math.floor(Math.log2(a)));
  if (2 ** e > a && e > -14) e -= 1;
  if (2 ** (e + 1) <= a) e += 1;
  // In units of the last place: 2^(e−10), normal or (e = −14) subnormal.
  const ulps = a / 2 ** (e - 10);
  const floor = Math.floor(ulps);
  const rounded = ulps - floor > 0.5 || (ulps - floor === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  // A normal's implicit leading 1 is 1024 units: the bits are then the
  // exponent field times 1024 plus the rest; carries roll into the exponent.
  const bits = (a < 2 ** -14 ? 0 : (e + 14) * 1024) + rounded;
  assert.ok(bits < 0x7c00, `${x} is outside f16's finite range`);
  return sign | bits;
}

/** The value of half bits `h` (finite). */
function halfValue(h) {
  const [e, m] = [(h >> 10) & 31, h & 1023];
  return (h & 0x8000 ? -1 : 1) * (e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25));
}

/** Rows of `d` values as HALF factor storage (constants.wgsl): two halves a
 * word, element 2j in the low half, each row starting on a word. */
function packHalf(values, d) {
  const stride = Math.ceil(d / 2);
  const words = new Array((values.length / d) * stride).fill(0);
  values.forEach((v, i) => {
    const [row, k] = [Math.floor(i / d), i % d];
    words[row * stride + (k >> 1)] |= halfBits(v) << (16 * (k & 1));
  });
  return words.map((w) => w >>> 0);
}

/** [`packHalf`]'s inverse. */
function unpackHalf(words, d) {
  const stride = Math.ceil(d / 2);
  return Array.from({ length: (words.length / stride) * d }, (_, i) => {
    const [row, k] = [Math.floor(i / d), i % d];
    return halfValue((words[row * stride + (k >> 1)] >>> (16 * (k & 1))) & 0xffff);
  });
}

/** How the kernels' factor buffers hold rows of `d` values: f32 words, or
 * with HALF two halves a word. `round` is a value as stored, `buffer` the
 * buffer of some rows, `read` the values of the words read back. */
function storage(half, d) {
  if (!half) return { round: (v) => v, buffer: (values) => ({ f32: values }), read: floats };
  return { round: (v) => halfValue(halfBits(v)), buffer: (values) => ({ u32: packHalf(values, d) }), read: (words) => unpackHalf(words, d) };
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

/** Runs the top-k pipeline `p` over one batch of users, `span` items per
 * workgroup row (all of them in one row by default); returns each user's
 * merged list of [score, item], best first (as the host merges the kernel's
 * 16 lists per user in gpu/topk.rs, and every row's in web/webgpu.js). */
async function runTopK(p, { F, K, users, items, offsets, constants, seenIndex, seen, span = items.length / F }) {
  const nUsers = users.length / F;
  const rows = Math.ceil(items.length / F / span);
  const buffers = {
    shape: { u32: [nUsers, 0, items.length / F, span], uniform: true }, users: { f32: users }, items: { f32: items },
    offsets: { f32: offsets }, constants: { f32: constants }, seenIndex: { u32: seenIndex },
    seen: { u32: seen.length ? seen : [0] }, out: { u32: new Array(rows * nUsers * 16 * K * 2).fill(0) },
  };
  const bind = { 0: 'shape', 1: 'users', 2: 'items', 3: 'offsets', 4: 'constants', 5: 'seenIndex', 6: 'seen', 7: 'out' };
  const words = await run(buffers, [{ pipeline: p, bind, groups: [Math.ceil(nUsers / 64), rows] }], 'out');
  const scores = floats(words);
  const lists = [];
  for (let u = 0; u < nUsers; u++) {
    const all = [];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < 16 * K; c++) {
        const at = (((r * nUsers) + u) * 16 * K + c) * 2;
        if (words[at + 1] !== 0xffffffff) all.push([scores[at], words[at + 1]]);
      }
    }
    all.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    lists.push(all.slice(0, K));
  }
  return lists;
}

for (const span of [undefined, 192]) test(`the top-k kernel on Dawn ranks as the CPU does (${span ? `${span} items a workgroup row` : 'one row'})`, async () => {
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
  const lists = await runTopK(p, { F, K, users, items, offsets, constants, seenIndex, seen: seenBy.flat(), span });
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
  const buffers = {
    shape: { u32: [ROWS, CHUNK, chunks, 0], uniform: true }, y: { f32: y },
    partials: { f32: new Array(chunks * F * F).fill(0) }, gram: { f32: new Array(F * F).fill(0) },
  };
  const tiles = Math.ceil(F / 64);
  const gram = floats(await run(buffers, [
    { pipeline: partial, bind: { 0: 'shape', 1: 'y', 2: 'partials' }, groups: [tiles, tiles, chunks] },
    { pipeline: reduce, bind: { 0: 'shape', 2: 'partials', 3: 'gram' }, groups: [Math.ceil((F * F) / 256)] },
  ], 'gram'));
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

/** Runs CG pipeline `p` on Dawn for `rows` rows of a random problem (with
 * HALF, the factors stored as halves both ways, the reference starting from
 * the same halves) and checks each row against the same steps in JavaScript (f64),
 * as gramrec_core::linalg::conjugate_gradient takes them on the normal
 * equations of gramrec_core::normal_eq:
 * implicit: A = α₀YᵀY + λ(n)I + Σ (c − α₀) y yᵀ, b = Σ c y, c = 1 + α r (or
 * 1 + α ln(1 + r/ε));
 * explicit with biases: z = [y, 1], A = λ(n)I + Σ z zᵀ, b = Σ (r − μ − b_c) z;
 * λ(n) = λ, λn or λ(n + α₀N)^ν as the model scales it. */
async function checkConjugateGradient(p, rows) {
  const { F, D, REG, REG_SCALING, REG_EXPONENT, ALPHA, EPSILON, UNOBSERVED, CG_STEPS, GLOBAL_MEAN, IMPLICIT, HALF } =
    p.constants;
  const store = storage(HALF, D);
  // The confidence curve, as gramrec_core::params::ModelParams::confidence_of.
  const confidence = (r) => Math.min(
    p.constants.LOG_CONFIDENCE ? 1 + ALPHA * Math.log1p(Math.abs(r) / EPSILON) : 1 + ALPHA * Math.abs(r), 1e6);
  const OTHER = 300;
  const next = random(9);
  const other = Array.from({ length: OTHER * D }, () => store.round(Math.fround((next() * 2 - 1) * 0.3)));
  const start = Array.from({ length: rows * D }, () => store.round(Math.fround((next() * 2 - 1) * 0.3)));
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
  const buffers = {
    // Rows: count, first, data_terms, total, row_base, other_rows, padding.
    rows: { u32: [rows, 0, 0, rows, 0, OTHER, 0, 0], uniform: true },
    rowIndex: { u32: [...offsets, ...Array.from({ length: rows }, (_, r) => r)] },
    cols: { u32: cols }, vals: { f32: vals }, other: store.buffer(other), gram: { f32: gram }, x: store.buffer(start),
    status: { u32: [0xffffffff] },
  };
  const bind = { 0: 'rows', 1: 'rowIndex', 2: 'cols', 3: 'vals', 4: 'other', 5: 'gram', 7: 'x', 8: 'status' };
  const words = await run(buffers, [{ pipeline: p, bind, groups: [rows] }], 'x');
  const solved = store.read(words);
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
        const c = confidence(vals[e]);
        terms.push([y, c - UNOBSERVED, c]);
      } else {
        terms.push([[...y.slice(0, F), 1], 1, vals[e] - GLOBAL_MEAN - y[F]]);
      }
    }
    const shift = [REG, REG * n, REG * (n + UNOBSERVED * OTHER) ** REG_EXPONENT][REG_SCALING];
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
  const frequency = 'implicit, 130 factors, log confidence, frequency-scaled λ';
  const half = 'explicit with biases, 64 factors, f16';
  for (const model of ['implicit, 64 factors, f32', 'explicit with biases, 256 factors, f32', frequency, half]) {
    await checkConjugateGradient(pipelines.find((x) => x.model === model && x.label === 'cg'), 40);
  }
});

/** The high and low words of a × b, as the kernels form them (philox.wgsl). */
function mulhilo(a, b) {
  const [al, ah, bl, bh] = [a & 0xffff, a >>> 16, b & 0xffff, b >>> 16];
  const [ll, lh, hl] = [al * bl, al * bh, ah * bl];
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return [(ah * bh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) >>> 0, ((mid << 16) | (ll & 0xffff)) >>> 0];
}

/** Philox4x32-10 (gramrec-als's bayes/philox.rs; checked against Random123's answer below). */
function philox(counter, key) {
  let c = counter.map((w) => w >>> 0);
  let k = key.map((w) => w >>> 0);
  for (let round = 0; round < 10; round++) {
    if (round > 0) k = [(k[0] + 0x9e3779b9) >>> 0, (k[1] + 0xbb67ae85) >>> 0];
    const [h0, l0] = mulhilo(0xd2511f53, c[0]);
    const [h1, l1] = mulhilo(0xcd9e8d57, c[2]);
    c = [(h1 ^ c[1] ^ k[0]) >>> 0, l1, (h0 ^ c[3] ^ k[1]) >>> 0, l0];
  }
  return c;
}

/** Element k of a row's standard normal draws, keyed by the row's (lo, hi) key words. */
function normalDraw(seed, rowKey, half, k) {
  const [a, b] = philox([rowKey[0], rowKey[1], half, Math.floor(k / 2)], seed);
  const u1 = (Math.floor(a / 256) + 0.5) / 16777216;
  const u2 = (Math.floor(b / 256) + 0.5) / 16777216;
  const radius = Math.sqrt(-2 * Math.log(u1));
  return k % 2 === 0 ? radius * Math.cos(2 * Math.PI * u2) : radius * Math.sin(2 * Math.PI * u2);
}

/** Cholesky factor L (lower, row-major) of the d×d symmetric `a`, in f64. */
function cholesky(a, d) {
  const l = new Array(d * d).fill(0);
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j];
    for (let k = 0; k < j; k++) s -= l[j * d + k] ** 2;
    l[j * d + j] = Math.sqrt(s);
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j];
      for (let k = 0; k < j; k++) t -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = t / l[j * d + j];
    }
  }
  return l;
}

/** Solves L y = b, then Lᵀ x = y (either alone with `forward` / `backward`). */
function forward(l, d, b) {
  const y = b.slice();
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < i; k++) y[i] -= l[i * d + k] * y[k];
    y[i] /= l[i * d + i];
  }
  return y;
}
function backward(l, d, y) {
  const x = y.slice();
  for (let i = d - 1; i >= 0; i--) {
    for (let k = i + 1; k < d; k++) x[i] -= l[k * d + i] * x[k];
    x[i] /= l[i * d + i];
  }
  return x;
}

/** Runs the Cholesky path of `model` (row_gram, then cholesky) on Dawn for
 * `rows` explicit rows with biases, and checks each against f64: ALS's
 * A = λ·n·I + Σ z zᵀ, x = A⁻¹b; with BAYES, A = Λ + τΣ z zᵀ, b = Λμ + τΣ t z
 * and the row drawn as A⁻¹b + L⁻ᵀε, ε the row's Philox draws. With HALF
 * (f16 storage) the fixed side goes in as halves and the rows come back as
 * halves, against the reference computed from the same halves. */
async function checkCholesky(model, rows) {
  const rowGram = pipelines.find((x) => x.model === model && x.label === 'row_gram');
  const solve = pipelines.find((x) => x.model === model && x.label === 'cholesky');
  const { F, D, REG, GLOBAL_MEAN, BAYES, HALF } = solve.constants;
  const OTHER = 200;
  const next = random(11);
  const store = storage(HALF, D);
  const other = Array.from({ length: OTHER * D }, () => store.round(Math.fround((next() * 2 - 1) * 0.3)));
  const offsets = [0];
  const [cols, vals] = [[], []];
  for (let r = 0; r < rows; r++) {
    for (const c of new Set(Array.from({ length: 1 + Math.floor(next() * 40) }, () => Math.floor(next() * OTHER)))) {
      cols.push(c);
      vals.push(1 + Math.floor(next() * 5));
    }
    offsets.push(cols.length);
  }
  // BAYES: the prior buffer as gpu/mod.rs writes it (row_common.wgsl).
  const lambda = Array.from({ length: D * D }, (_, k) => {
    const [i, j] = [Math.floor(k / D), k % D];
    return i === j ? 2 : Math.fround(0.1 / (1 + i + j));
  });
  const mean = Array.from({ length: D }, () => Math.fround((next() * 2 - 1) * 0.1));
  const shift = Array.from({ length: D }, (_, i) => Math.fround(mean.reduce((s, m, j) => s + lambda[i * D + j] * m, 0)));
  const [tau, half, seed] = [Math.fround(1.7), 6, [0x2468ace0, 0x13579bdf]];
  const parts = (w) => [w & 0xffff, w >>> 16];
  const keys = Array.from({ length: rows }, () => [Math.floor(next() * 2 ** 32), Math.floor(next() * 2 ** 32)]);
  const prior = [...lambda, ...shift, tau, half, ...parts(seed[0]), ...parts(seed[1]), ...parts(rows),
    ...keys.flatMap(([lo, hi]) => [...parts(lo), ...parts(hi)])];
  const buffers = {
    rows: { u32: [rows, 0, 0, rows, 0, OTHER, 0, 0], uniform: true },
    rowIndex: { u32: [...offsets, ...Array.from({ length: rows }, (_, r) => r)] },
    cols: { u32: cols }, vals: { f32: vals }, other: store.buffer(other),
    gram: { f32: BAYES ? prior : new Array(F * F).fill(0) },
    systems: { f32: new Array(rows * D * D).fill(0) }, x: store.buffer(new Array(rows * D).fill(0)),
    status: { u32: [0xffffffff] },
  };
  // An 'auto' layout has only the bindings an entry point uses: row_gram writes no row.
  const bind = { 0: 'rows', 1: 'rowIndex', 2: 'cols', 3: 'vals', 4: 'other', 5: 'gram', 6: 'systems' };
  const tiles = Math.ceil(D / 64);
  const words = await run(buffers, [
    { pipeline: rowGram, bind, groups: [rows, tiles, tiles] },
    { pipeline: solve, bind: { ...bind, 7: 'x', 8: 'status' }, groups: [rows] },
  ], 'x');
  const solved = store.read(words);
  for (let r = 0; r < rows; r++) {
    const n = offsets[r + 1] - offsets[r];
    const w = BAYES ? tau : 1;
    const a = BAYES ? lambda.slice() : Array.from({ length: D * D }, (_, k) => (k % (D + 1) === 0 ? REG * n : 0));
    const b = BAYES ? shift.slice() : new Array(D).fill(0);
    for (let e = offsets[r]; e < offsets[r + 1]; e++) {
      const y = other.slice(cols[e] * D, (cols[e] + 1) * D);
      const z = [...y.slice(0, F), 1];
      const t = vals[e] - GLOBAL_MEAN - y[F];
      for (let i = 0; i < D; i++) {
        b[i] += w * t * z[i];
        for (let j = 0; j < D; j++) a[i * D + j] += w * z[i] * z[j];
      }
    }
    const l = cholesky(a, D);
    const want = backward(l, D, forward(l, D, b));
    if (BAYES) {
      const noise = backward(l, D, Array.from({ length: D }, (_, k) => normalDraw(seed, keys[r], half, k)));
      noise.forEach((e, k) => { want[k] += e; });
    }
    const got = solved.slice(r * D, (r + 1) * D);
    const scale = Math.max(...want.map(Math.abs));
    const worst = Math.max(...got.map((g, k) => Math.abs(g - want[k])));
    assert.ok(worst <= 1e-3 * scale, `${model}, row ${r}: differs by ${worst} (largest element ${scale})`);
  }
}

test('Philox in JavaScript matches the reference answers', () => {
  assert.deepEqual(philox([0, 0, 0, 0], [0, 0]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  assert.deepEqual(philox([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]),
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
});

test('the Cholesky kernels on Dawn solve ALS rows (f32 and f16 storage) and draw Bayesian ones as the CPU does', async () => {
  await checkCholesky('explicit with biases, 256 factors, f32', 12);
  await checkCholesky('Bayesian PMF with biases, 64 factors, f32', 30);
  await checkCholesky('explicit with biases, 64 factors, f16', 12);
});

/** Runs the loss pipeline of `model` on Dawn over `rows` rows with the data
 * terms (the user side) and checks each workgroup's (data, regulariser)
 * sums against f64 in JavaScript: explicit Σ (r − μ − b − c − xᵀy)²,
 * implicit Σ [c (p − xᵀy)² − α₀(xᵀy)²]; and shift(n)·‖x‖² per row. With
 * HALF both sides go in as halves. */
async function checkLoss(model, rows) {
  const p = pipelines.find((x) => x.model === model && x.label === 'loss');
  const { F, D, REG, REG_SCALING, REG_EXPONENT, ALPHA, UNOBSERVED, GLOBAL_MEAN, IMPLICIT, BIASES, HALF } = p.constants;
  const store = storage(HALF, D);
  assert.equal(p.constants.LOG_CONFIDENCE, 0);
  const OTHER = 250;
  const next = random(13);
  const other = Array.from({ length: OTHER * D }, () => store.round(Math.fround((next() * 2 - 1) * 0.3)));
  const x = Array.from({ length: rows * D }, () => store.round(Math.fround((next() * 2 - 1) * 0.3)));
  const offsets = [0];
  const [cols, vals] = [[], []];
  for (let r = 0; r < rows; r++) {
    for (const c of new Set(Array.from({ length: Math.floor(next() * 50) }, () => Math.floor(next() * OTHER)))) {
      cols.push(c);
      vals.push(IMPLICIT ? Math.floor(next() * 4) : 1 + Math.floor(next() * 5));
    }
    offsets.push(cols.length);
  }
  const groups = Math.ceil(rows / 64);
  const buffers = {
    rows: { u32: [rows, 0, 1, rows, 0, OTHER, 0, 0], uniform: true },
    rowIndex: { u32: [...offsets, ...Array.from({ length: rows }, (_, r) => r)] },
    cols: { u32: cols }, vals: { f32: vals }, other: store.buffer(other), x: store.buffer(x),
    partials: { f32: new Array(2 * groups).fill(0) },
  };
  const bind = { 0: 'rows', 1: 'rowIndex', 2: 'cols', 3: 'vals', 4: 'other', 7: 'x', 8: 'partials' };
  const sums = floats(await run(buffers, [{ pipeline: p, bind, groups: [groups] }], 'partials'));
  const want = Array.from({ length: groups }, () => [0, 0]);
  for (let r = 0; r < rows; r++) {
    const row = x.slice(r * D, (r + 1) * D);
    const n = offsets[r + 1] - offsets[r];
    let data = 0;
    for (let e = offsets[r]; e < offsets[r + 1]; e++) {
      const y = other.slice(cols[e] * D, (cols[e] + 1) * D);
      const s = row.slice(0, F).reduce((acc, v, k) => acc + v * y[k], 0);
      if (IMPLICIT) {
        const c = Math.min(1 + ALPHA * Math.abs(vals[e]), 1e6);
        data += c * ((vals[e] > 0 ? 1 : 0) - s) ** 2 - UNOBSERVED * s * s;
      } else {
        data += (vals[e] - s - (BIASES ? GLOBAL_MEAN + row[F] + y[F] : 0)) ** 2;
      }
    }
    const shift = [REG, REG * n, REG * (n + UNOBSERVED * OTHER) ** REG_EXPONENT][REG_SCALING];
    const group = Math.floor(r / 64);
    want[group][0] += data;
    want[group][1] += shift * row.reduce((acc, v) => acc + v * v, 0);
  }
  want.forEach(([data, reg], g) => {
    for (const [name, got, w] of [['data', sums[2 * g], data], ['regulariser', sums[2 * g + 1], reg]]) {
      assert.ok(Math.abs(got - w) <= 1e-4 * Math.max(1, Math.abs(w)), `${model}, group ${g}: ${name} ${got}, the CPU ${w}`);
    }
  });
}

test("the loss kernel on Dawn sums the objective's terms as the CPU does, explicit and implicit", async () => {
  await checkLoss('explicit with biases, 256 factors, f32', 150);
  await checkLoss('implicit, 64 factors, f32', 150);
  await checkLoss('explicit with biases, 64 factors, f16', 150);
});
