// The TypeScript declarations (gramrec.d.ts, webgpu.d.ts,
// gramrec-element.d.ts, and pkg/gramrec_wasm.d.ts with the shapes
// crates/gramrec-wasm names) against what the modules really are:
// - each .d.ts declares exactly the names its .js file exports;
// - the module's real answers (a model with item details, explicit and
//   implicit, rules), written as typed constants, compile under
//   `strict` and `exactOptionalPropertyTypes`: a field the types lack, a
//   required one an answer lacks, or a wrong type fails;
// - a page's code using the API compiles, and misuses marked
//   `@ts-expect-error` are refused.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import ts from 'typescript';

import { gramrec, root, tempDir, trainModel, wasm } from './helpers.mjs';

const web = join(root, 'web');
const MODULES = ['gramrec', 'webgpu', 'gramrec-element'];

/** Compiles `files` (name → text) beside a copy of web/'s modules; returns the diagnostics as text (`file:line: TScode message`). */
function compile(files) {
  const dir = tempDir();
  for (const m of MODULES) {
    cpSync(join(web, `${m}.js`), join(dir, `${m}.js`));
    cpSync(join(web, `${m}.d.ts`), join(dir, `${m}.d.ts`));
  }
  cpSync(join(web, 'pkg'), join(dir, 'pkg'), { recursive: true });
  const names = Object.entries(files).map(([name, text]) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  });
  const program = ts.createProgram(names, {
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts', 'lib.dom.d.ts'],
    skipLibCheck: false,
  });
  return ts.getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : ''}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`)
    .join('\n');
}

/** The exported names of a module file, as TypeScript reads it (a .js or a .d.ts). */
function exportsOf(file) {
  const program = ts.createProgram([file], { allowJs: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 });
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(file));
  return checker.getExportsOfModule(symbol).map((s) => s.name)
    // Type-only exports have no value in the .js.
    .filter((name) => !file.endsWith('.d.ts') || values(program, file, checker).has(name))
    .sort();
}

/** The exports of a .d.ts that are values (functions, classes, constants), not types. */
function values(program, file, checker) {
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(file));
  const out = new Set();
  for (const s of checker.getExportsOfModule(symbol)) {
    // `export type { … }` re-exports a class as a type only.
    const typeOnly = (s.declarations ?? []).some((d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly));
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    if (!typeOnly && target.flags & ts.SymbolFlags.Value) out.add(s.name);
  }
  return out;
}

/** The instance members of an exported class, as TypeScript reads the file (a .js infers them from the constructor). */
function membersOf(file, name) {
  const program = ts.createProgram([file], { allowJs: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 });
  const checker = program.getTypeChecker();
  const symbol = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file))).find((s) => s.name === name);
  return checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).map((p) => p.name).sort();
}

/** GpuScorer's members that are its own business (not declared for pages). */
const GPU_SCORER_INTERNALS = ['checked', 'destroyed', 'device', 'factors', 'fail', 'items', 'pipeline', 'pipelines', 'run', 'shortlist', 'upload', 'windows'];

test('each declaration file declares exactly what its module exports', () => {
  for (const m of MODULES) {
    assert.deepEqual(exportsOf(join(web, `${m}.d.ts`)), exportsOf(join(web, `${m}.js`)), `${m}.d.ts against ${m}.js`);
  }
  // And GpuScorer's members: every one the class has, but its internals.
  const js = membersOf(join(web, 'webgpu.js'), 'GpuScorer');
  assert.deepEqual(membersOf(join(web, 'webgpu.d.ts'), 'GpuScorer'), js.filter((m) => !GPU_SCORER_INTERNALS.includes(m)));
  assert.ok(GPU_SCORER_INTERNALS.every((m) => js.includes(m)), `internals that GpuScorer no longer has: ${GPU_SCORER_INTERNALS.filter((m) => !js.includes(m))}`);
});

test("the module's real answers compile against the declared shapes", async () => {
  const { Recommender, Rules } = await wasm();
  const dir = tempDir();
  // An implicit model with a name, link and image for some items, and rules named by it.
  const clicks = join(dir, 'clicks.csv');
  gramrec('generate', '--kind', 'implicit', '--users', '400', '--items', '300', '--nnz', '12000', '--seed', '3', '--out', clicks);
  let details = 'item,name,url,image\n';
  for (let i = 0; i < 300; i += 3) details += `i${i},Item ${i},https://shop.example/p/${i},/img/${i}.jpg\n`;
  writeFileSync(join(dir, 'details.csv'), details);
  const model = join(dir, 'described');
  gramrec('train', '-q', '--implicit', '--reg', '5', '--factors', '16', '--input', clicks, '--items', join(dir, 'details.csv'), '--out', model);
  // Every other value of the metadata's enumerations: f16 and i8, log confidence, frequency scaling.
  const other = join(dir, 'other');
  gramrec('train', '-q', '--implicit', '--factors', '8', '--reg', '5', '--confidence', 'log', '--reg-scaling', 'frequency', '--dtype', 'f16',
    '--input', clicks, '--out', other);
  gramrec('export', '--model', model, '--dtype', 'i8', '--out', join(dir, 'i8.gramrec'));
  let baskets = '';
  for (let b = 0; b < 200; b++) baskets += `i${b % 7},i${(b * 3) % 11},i${(b * 5) % 13}\n`;
  writeFileSync(join(dir, 'baskets.txt'), baskets);
  gramrec('rules', '--format', 'baskets', '--input', join(dir, 'baskets.txt'), '--min-support', '2', '--min-confidence', '0.1',
    '--model', model, '--out', join(dir, 'rules.gramrec'));

  const implicit = new Recommender(readFileSync(join(model, 'items.gramrec')));
  const f16 = new Recommender(readFileSync(join(other, 'items.gramrec')));
  const i8 = new Recommender(readFileSync(join(dir, 'i8.gramrec')));
  const explicit = new Recommender(readFileSync(join(trainModel(dir, 'explicit'), 'items.gramrec')));
  const rules = new Rules(readFileSync(join(dir, 'rules.gramrec')));
  const answers = {
    Recommendations: [
      implicit.recommend([{ item: 'i0', weight: 2 }, 'i3', 6, { item: 'nope' }], 300),
      implicit.recommend([], 3),
      explicit.recommend([{ item: 'i1', weight: 4 }], 5),
    ],
    ItemList: [implicit.similar('i0', 4), implicit.similar('nope', 4), explicit.popular(3)],
    ModelMetadata: [implicit.metadata(), explicit.metadata(), f16.metadata(), i8.metadata()],
    'ItemInfo | null': [implicit.details('i0'), implicit.details('i1'), implicit.details('nope')],
    Associations: [rules.rulesFor('i0', 3), rules.rulesFor('nope', 3)],
  };
  // The answers hold what the types must describe: details, unknown IDs, a cold start, nulls.
  assert.ok(answers.Recommendations[0].items.some((i) => i.name && i.url && i.image), 'details in a recommendation');
  assert.deepEqual(answers.Recommendations[0].unknown, ['6', 'nope'], 'a number ID is read as its digits');
  assert.equal(answers.Recommendations[1].coldStart, true);
  assert.equal(answers['ItemInfo | null'][2], null);
  assert.ok(answers.Associations[0].items.some((a) => a.name && a.url && a.image), 'details in an association');
  assert.deepEqual(answers.Associations[1].unknown, ['nope']);
  const enums = answers.ModelMetadata.map((m) => `${m.kind} ${m.regScaling} ${m.confidence} ${m.dtype}`);
  assert.deepEqual(enums, ['implicit none linear f32', 'explicit count linear f32', 'implicit frequency log f16', 'implicit none linear i8']);
  let text = "import type { Associations, ItemInfo, ItemList, ModelMetadata, Recommendations } from './gramrec.js';\n";
  let n = 0;
  for (const [type, values] of Object.entries(answers)) {
    for (const v of values) text += `export const answer${n++}: ${type} = ${JSON.stringify(v)};\n`;
  }
  assert.equal(compile({ 'answers.ts': text }), '');

  // And the check has teeth: a field the types do not know, and one they require left out.
  const extra = { ...answers.Recommendations[0], extra: 1 };
  const { coldStart, ...missing } = answers.Recommendations[2];
  assert.equal(typeof coldStart, 'boolean');
  const refused = compile({
    'wrong.ts': "import type { Recommendations } from './gramrec.js';\n"
      + `export const a: Recommendations = ${JSON.stringify(extra)};\nexport const b: Recommendations = ${JSON.stringify(missing)};\n`,
  });
  assert.match(refused, /wrong\.ts:2: TS2353 /, 'an unknown property');
  assert.match(refused, /wrong\.ts:3: TS2741 .*'coldStart'/, 'a missing property');
  // And enumeration values are checked: an unknown dtype is refused.
  const dtype = compile({
    'dtype.ts': "import type { ModelMetadata } from './gramrec.js';\n"
      + `export const m: ModelMetadata = ${JSON.stringify({ ...answers.ModelMetadata[2], dtype: 'f64' })};\n`,
  });
  assert.match(dtype, /dtype\.ts:2: TS2322 /);
});

test("a page's code compiles against the declarations, and misuses are refused", () => {
  const usage = `
import { initialize, load, loadRules, useGpu, type HistoryEntry, type Recommendation, type Recommendations } from './gramrec.js';
import { addInteraction, DEFAULT_HISTORY_LIMIT, fetchNames, normaliseHistory, readHistory, safeUrl } from './gramrec-element.js';
import { GpuScorer } from './webgpu.js';

export async function page(): Promise<string[]> {
  const { memory } = await initialize();
  const grown: number = memory.buffer.byteLength;
  const rec = await load('items.gramrec');
  const history: readonly HistoryEntry[] = [{ item: 'i42', weight: 1 }, { item: 'i9', weight: undefined }, 'i7', 12, ...readHistory()];
  const { items, coldStart, unknown } = rec.recommend(history, 10);
  const names: string[] = items.map((r: Recommendation) => r.name ?? r.item);
  const meta = rec.metadata();
  const kind: 'explicit' | 'implicit' = meta.kind;
  const similar = rec.similar('i42', 5).unknown ?? [];
  const known = rec.details('i42')?.url ?? null;
  const gpu = await useGpu(rec, { software: false, windowRows: 4096 });
  const onGpu = gpu ? (await gpu.recommend(history, 10)).items.length + gpu.counts.gpu : 0;
  gpu?.destroy();
  const rules = await loadRules(new Uint8Array(await (await fetch('rules.gramrec')).arrayBuffer()));
  const lifts = rules.rulesFor('i42', 5).items.map((a) => a.confidence * a.lift);
  addInteraction('i42', 1);
  const display = await fetchNames('names.json');
  const kept = normaliseHistory(history, DEFAULT_HISTORY_LIMIT).length;
  const element = document.querySelector('gramrec-recommendations');
  const onRendered = (event: CustomEvent<Recommendations>) => console.log(event.detail.coldStart, event.detail.items.length);
  element?.addEventListener('gramrec:rendered', onRendered);
  element?.removeEventListener('gramrec:rendered', onRendered);
  element?.addEventListener('gramrec:error', (event) => console.log(event.detail.message));
  element?.addEventListener('click', (event) => console.log(event.button));
  const together = document.querySelector('gramrec-bought-together');
  together?.addEventListener('gramrec:rendered', (event) => console.log(event.detail.items[0]?.lift));
  window.addEventListener('gramrec:interaction', (event) => console.log(event.detail.item ?? 'a page fired it'));
  const shown: string[] = (element?.history() ?? []).map((entry) => String(entry.item) + ' ' + entry.weight.toFixed(1));
  const numbered = rec.details(42)?.item ?? String(rec.hasItem(7)) + rec.similar(3, 2).items.length;
  const model = element?.recommender?.metadata().items ?? 0;
  const rendered = await element?.render();
  rec.free();
  return [String(grown), String(coldStart), ...unknown, ...names, kind, ...similar, String(known), String(onGpu),
    String(lifts.length), String(display.size), String(kept), String(safeUrl('/p/1')), String(rendered?.items.length),
    ...shown, String(model), String(together?.render()?.items.length), numbered];
}

export async function misuses(): Promise<void> {
  const rec = await load('items.gramrec');
  // @ts-expect-error a history is an array of entries
  rec.recommend({ item: 'i42' }, 10);
  // @ts-expect-error k is a number
  rec.recommend([], '10');
  // @ts-expect-error a recommendation's score is a number
  const score: string = rec.recommend([], 10).items[0]!.score;
  // @ts-expect-error details may be null for an unknown item
  const url: string | undefined = rec.details('nope').url;
  // @ts-expect-error unknown options are refused
  await useGpu(rec, { fast: true });
  // @ts-expect-error a URL, an ArrayBuffer or a Uint8Array
  await load(42);
  // @ts-expect-error an item ID is a string or a number
  rec.similar({ item: 'i42' }, 5);
  // @ts-expect-error made by useGpu, not by new
  new GpuScorer();
  // @ts-expect-error the elements' events do not bubble: a listener elsewhere gets a plain Event
  document.body.addEventListener('gramrec:rendered', (event) => event.detail);
  console.log(score, url);
}
`;
  assert.equal(compile({ 'page.ts': usage }), '');
  // Without the declarations' answers the same code is refused: the check is not vacuous.
  const broken = compile({ 'page.ts': usage.replace("rec.recommend(history, 10)", "rec.recommend(history)") });
  assert.match(broken, /page\.ts:\d+: TS2554 /);
});
