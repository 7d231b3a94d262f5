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
import { root, serve, tempDir } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// `cargo test --workspace` builds the example; GRAMREC_WGSL_PIPELINES names another build.
const PIPELINES = process.env.GRAMREC_WGSL_PIPELINES ?? join(root, 'target/debug/examples/wgsl_pipelines');
// WebGPU on Chromium 156 headless: unsafe-webgpu for Linux, SwiftShader as
// the adapter (no GPU here); the page must be a secure context (127.0.0.1).
const FLAGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

let browser;
let site;
let page;

before(async () => {
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
  const pipelines = JSON.parse(execFileSync(PIPELINES, { encoding: 'utf8', maxBuffer: 64 << 20 }));
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
