// Shared by the browser-module tests: the gramrec binary, a model trained on
// synthetic data, and a static file server on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = process.env.GRAMREC_BIN ?? join(root, 'target/release/gramrec');

/** Runs the gramrec CLI; returns its stdout. */
export function gramrec(...args) {
  return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A fresh temporary directory. */
export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'gramrec-web-'));
}

/**
 * Trains a small model of `kind` (implicit, explicit, or bayes: Bayesian PMF
 * on explicit ratings, with its learned prior) on seeded synthetic data;
 * returns its directory.
 */
export function trainModel(dir, kind) {
  const data = join(dir, `${kind}.csv`);
  const model = join(dir, `${kind}-model`);
  const ratings = kind === 'implicit' ? 'implicit' : 'explicit';
  gramrec('generate', '--kind', ratings, '--users', '400', '--items', '300', '--nnz', '12000', '--seed', '3', '--out', data);
  const method = {
    implicit: ['--implicit', '--reg', '5'],
    explicit: ['--explicit', '--reg', '0.1'],
    bayes: ['--method', 'bayes', '--samples', '20', '--burn-in', '5'],
  }[kind];
  gramrec('train', '-q', ...method, '--factors', '16', '--input', data, '--out', model);
  return model;
}

/** The wasm-bindgen module, initialised from the built pkg/ without fetch. */
export async function wasm() {
  const mod = await import('../pkg/gramrec_wasm.js');
  mod.initSync({ module: readFileSync(new URL('../pkg/gramrec_wasm_bg.wasm', import.meta.url)) });
  return mod;
}

const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json', '.ts': 'text/plain', '.gramrec': 'application/octet-stream',
};

/** Serves `dir` on 127.0.0.1 (a free port); resolves to { url, close }. */
export function serve(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() });
    });
  });
}

/** A seeded pseudo-random generator (mulberry32). */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
