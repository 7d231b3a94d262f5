// <gramrec-recommendations src="items.gramrec" k="10" storage-key="gramrec-history" history-limit="200" gpu="auto">
//
// Renders the visitor's recommendations from the history kept in
// localStorage (an array of {item, weight}) and updates when the page reports
// an interaction:
//
//   addInteraction('i42', 1);   // or dispatch a 'gramrec:interaction' event
//
// Items show the names, links and images the model holds (`gramrec train
// --items movies.csv`, `--item-name-col …`); `names` (optional) is a JSON
// object mapping item IDs to display names that takes precedence. A
// <template> child renders each item as the page likes: elements marked
// data-gramrec="name", "item", "score", "link" (its href) or "image" (its
// src and alt) are filled in, as text or as attributes only — never as HTML —
// and a link or image that is not http(s) or relative is left out.
// `gpu` says where the scores are computed: "auto" (the default) on the
// page's GPU through WebGPU when it has a hardware one, "software" on any
// WebGPU adapter (a software one is slower than the module: for tests),
// "off" in the module; what renders is the same (webgpu.js).
//
// <gramrec-bought-together item="i42" src="rules.gramrec" k="5">
//
// Renders what goes with an item, from a rules file (`gramrec rules --out
// rules.gramrec --model model`, which stores the names): the rules from that
// item alone, best first, rendered as above (data-gramrec="score" is the
// confidence). Changing `item` re-renders without reloading the file.

import { load, loadRules, useGpu } from './gramrec.js';

const DEFAULT_KEY = 'gramrec-history';
/** How many of the most recent distinct items a history keeps. */
export const DEFAULT_HISTORY_LIMIT = 200;

/**
 * The most recent `limit` distinct items of a history, oldest first, each
 * as `{item, weight}`: a repeated item keeps its latest weight and moves to
 * its latest place; a bare ID weighs 1; an entry whose item is not a string
 * or number, or whose weight is neither a number nor absent, is dropped (a
 * stored history may be stale or tampered with).
 */
export function normaliseHistory(history, limit = DEFAULT_HISTORY_LIMIT) {
  const latest = new Map();
  for (const entry of history) {
    const record = entry && typeof entry === 'object';
    const item = record ? entry.item : entry;
    const weight = record ? entry.weight ?? 1 : 1;
    if ((typeof item !== 'string' && typeof item !== 'number') || typeof weight !== 'number') continue;
    const key = String(item);
    latest.delete(key);
    latest.set(key, { item, weight });
  }
  return [...latest.values()].slice(-Math.max(1, limit));
}

/** The visitor's history under `key`, normalised; malformed storage counts as empty. */
export function readHistory(key = DEFAULT_KEY, limit = DEFAULT_HISTORY_LIMIT) {
  try {
    const parsed = JSON.parse(localStorage.getItem(key) ?? '[]');
    return Array.isArray(parsed) ? normaliseHistory(parsed, limit) : [];
  } catch {
    return [];
  }
}

/**
 * Stores the history. When the browser's storage is full, the older half is
 * dropped until it fits (the most recent interactions matter most); when it
 * still does not fit, the history is left as it was. Never throws.
 */
function writeHistory(history, key) {
  let kept = history;
  for (;;) {
    try {
      localStorage.setItem(key, JSON.stringify(kept));
      return true;
    } catch {
      if (kept.length <= 1) return false;
      kept = kept.slice(Math.ceil(kept.length / 2));
    }
  }
}

/**
 * Adds one interaction to the visitor's history (the item's earlier entry,
 * if any, replaced; at most `limit` distinct items kept, the most recent)
 * and announces it.
 */
export function addInteraction(item, weight = 1, key = DEFAULT_KEY, limit = DEFAULT_HISTORY_LIMIT) {
  const history = readHistory(key, limit);
  history.push({ item, weight });
  writeHistory(normaliseHistory(history, limit), key);
  window.dispatchEvent(new CustomEvent('gramrec:interaction', { detail: { item, weight, key } }));
}

/** `url` when a page may follow it (http, https, or relative to the page), else null. */
export function safeUrl(url) {
  if (typeof url !== 'string' || url === '') return null;
  try {
    const parsed = new URL(url, document.baseURI);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The display names of a names file: own string properties only. */
function namesFrom(json) {
  const names = new Map();
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    for (const [id, name] of Object.entries(json)) {
      if (typeof name === 'string') names.set(id, name);
    }
  }
  return names;
}

/** A names file as a Map, or an empty one when it is missing or malformed (the IDs are shown). */
export async function fetchNames(url) {
  try {
    const response = await fetch(url);
    return namesFrom(response.ok ? await response.json() : null);
  } catch (error) {
    console.warn(`gramrec: ignoring the names file ${url}: ${error?.message ?? error}`);
    return new Map();
  }
}

/**
 * Models in use by elements, one per file and `gpu` mode: elements with the
 * same `src` share one (a large catalogue is held once), freed when the
 * last lets go. Key → { key, users, ready: Promise<Recommender>, gpu:
 * Promise<GpuScorer|null> } (the GPU's copy is made after the model loads).
 */
const models = new Map();

/** The shared model for `url` and `mode`, loaded on first use; pair with `letGo`. */
function holdModel(url, mode) {
  const key = `${mode} ${url}`;
  let held = models.get(key);
  if (!held) {
    const ready = load(url);
    const gpu = mode === 'off' ? Promise.resolve(null)
      : ready.then((recommender) => useGpu(recommender, { software: mode === 'software' }), () => null);
    held = { key, users: 0, ready, gpu };
    // A failed load is not kept: the next element to ask tries again.
    ready.catch(() => {
      if (models.get(key) === held) models.delete(key);
    });
    models.set(key, held);
  }
  held.users++;
  return held;
}

/** One element lets go of a shared model; the last frees it. */
function letGo(held) {
  if (--held.users > 0) return;
  if (models.get(held.key) === held) models.delete(held.key);
  Promise.all([held.ready, held.gpu]).then(([recommender, gpu]) => {
    gpu?.destroy();
    recommender.free();
  }, () => {});
}

/** The `gpu` attribute's mode: auto (also when absent), software or off; another value is auto, said in the console. */
function gpuMode(value) {
  const mode = (value ?? 'auto').trim().toLowerCase() || 'auto';
  if (['auto', 'software', 'off'].includes(mode)) return mode;
  console.warn(`gramrec: gpu="${value}" is not auto, software or off: using auto`);
  return 'auto';
}

class GramrecRecommendations extends HTMLElement {
  static observedAttributes = ['src', 'k', 'storage-key', 'names', 'history-limit', 'gpu'];

  constructor() {
    super();
    this.recommender = null;
    /** The GpuScorer scoring for this element, or null (webgpu.js). */
    this.gpu = null;
    /** The shared model this element holds (`holdModel`). */
    this.held = null;
    this.rendering = 0;
    this.names = new Map();
    this.started = false;
    this.generation = 0;
    this.onInteraction = () => this.render();
    this.onStorage = (event) => {
      if (event.key === this.storageKey) this.render();
    };
  }

  get storageKey() {
    return this.getAttribute('storage-key') || DEFAULT_KEY;
  }

  get k() {
    return positive(this.getAttribute('k'), 10);
  }

  get historyLimit() {
    return positive(this.getAttribute('history-limit'), DEFAULT_HISTORY_LIMIT);
  }

  /** The visitor's history as this element reads it. */
  history() {
    return readHistory(this.storageKey, this.historyLimit);
  }

  connectedCallback() {
    window.addEventListener('gramrec:interaction', this.onInteraction);
    window.addEventListener('storage', this.onStorage);
    this.started = true;
    this.reload();
  }

  disconnectedCallback() {
    window.removeEventListener('gramrec:interaction', this.onInteraction);
    window.removeEventListener('storage', this.onStorage);
    // A load under way is dropped. The model is let go of a moment later,
    // so an element moved in the page (disconnected, then connected at
    // once) finds it still held and does not load it again.
    this.generation++;
    this.release(true);
  }

  attributeChangedCallback(name, before, after) {
    // The initial attributes are read when the element connects.
    if (before === after || !this.started) return;
    if (name === 'src' || name === 'names' || name === 'gpu') this.reload();
    else this.render();
  }

  async reload() {
    // A newer load (src or names changed meanwhile) supersedes this one.
    const generation = ++this.generation;
    const src = this.getAttribute('src');
    if (!src) return showError(this, 'no src attribute: point it at an items.gramrec file');
    this.setAttribute('aria-busy', 'true');
    const held = holdModel(new URL(src, document.baseURI).href, gpuMode(this.getAttribute('gpu')));
    try {
      const names = this.getAttribute('names');
      const [recommender, map] = await Promise.all([
        held.ready,
        names ? fetchNames(new URL(names, document.baseURI)) : new Map(),
      ]);
      if (generation !== this.generation) return letGo(held);
      this.release();
      this.held = held;
      this.recommender = recommender;
      this.names = map;
      // The module renders at once; the GPU scores once its copy is made.
      held.gpu.then((gpu) => {
        if (this.held === held) this.gpu = gpu;
      });
      await this.render();
    } catch (error) {
      if (this.held !== held) letGo(held);
      if (generation !== this.generation) return;
      this.release();
      showError(this, error?.message ?? String(error));
    } finally {
      if (generation === this.generation) this.removeAttribute('aria-busy');
    }
  }

  /**
   * Lets go of the model (freed with its GPU memory when no other element
   * holds it); `later`, a moment from now rather than at once.
   */
  release(later = false) {
    const held = this.held;
    this.held = null;
    this.gpu = null;
    this.recommender = null;
    if (held && later) setTimeout(() => letGo(held), 0);
    else if (held) letGo(held);
  }

  /** Resolves to the current recommendations (also rendered); a render overtaken by a later one resolves to null. */
  async render() {
    if (!this.recommender) return null;
    const turn = ++this.rendering;
    const recommender = this.recommender;
    let result;
    const history = this.history();
    try {
      result = this.gpu ? await this.gpu.recommend(history, this.k) : recommender.recommend(history, this.k);
      if (turn !== this.rendering || recommender !== this.recommender) return null;
    } catch (error) {
      if (turn !== this.rendering || recommender !== this.recommender) return null;
      // Never stuck on a history the model cannot use: popular items instead.
      console.warn(`gramrec: ${error?.message ?? error}`);
      result = { ...this.recommender.popular(this.k), coldStart: true, unknown: [] };
    }
    const items = result.items.map((rec) => ({ ...rec, name: this.names.get(rec.item) ?? rec.name ?? rec.item }));
    const note = result.coldStart
      ? 'Popular right now (no history yet).'
      : `Based on your ${history.length} interactions.`;
    showItems(this, items, note, (rec) => `score ${rec.score.toFixed(3)}`);
    this.dispatchEvent(new CustomEvent('gramrec:rendered', { detail: result }));
    return result;
  }
}

class GramrecBoughtTogether extends HTMLElement {
  static observedAttributes = ['src', 'item', 'k'];

  constructor() {
    super();
    this.rules = null;
    this.started = false;
    this.generation = 0;
  }

  get k() {
    return positive(this.getAttribute('k'), 5);
  }

  connectedCallback() {
    this.started = true;
    this.reload();
  }

  attributeChangedCallback(name, before, after) {
    if (before === after || !this.started) return;
    if (name === 'src') this.reload();
    else this.render();
  }

  async reload() {
    const generation = ++this.generation;
    const src = this.getAttribute('src');
    if (!src) return showError(this, 'no src attribute: point it at a rules.gramrec file');
    this.setAttribute('aria-busy', 'true');
    try {
      const rules = await loadRules(new URL(src, document.baseURI));
      if (generation !== this.generation) return rules.free();
      this.rules?.free();
      this.rules = rules;
      this.render();
    } catch (error) {
      if (generation !== this.generation) return;
      this.rules = null;
      showError(this, error?.message ?? String(error));
    } finally {
      if (generation === this.generation) this.removeAttribute('aria-busy');
    }
  }

  /** What goes with the item (also rendered). */
  render() {
    if (!this.rules) return null;
    const item = this.getAttribute('item') ?? '';
    const result = this.rules.rulesFor(item, this.k);
    const items = result.items.map((a) => ({ ...a, name: a.name ?? a.item, score: a.confidence }));
    const note = items.length ? 'Often bought together.' : 'Nothing is often bought with this item yet.';
    showItems(this, items, note, (a) => `confidence ${a.confidence.toFixed(3)}, lift ${a.lift.toFixed(2)}`);
    this.dispatchEvent(new CustomEvent('gramrec:rendered', { detail: result }));
    return result;
  }
}

/** Replaces an element's content with a note and the list of items (its template kept). */
function showItems(element, items, noteText, titleOf) {
  const template = element.querySelector(':scope > template');
  const list = document.createElement('ol');
  list.className = 'gramrec-list';
  for (const rec of items) {
    const li = document.createElement('li');
    li.dataset.item = rec.item;
    li.append(template ? fromTemplate(template, rec) : card(rec));
    li.title = titleOf(rec);
    list.append(li);
  }
  const note = document.createElement('p');
  note.className = 'gramrec-note';
  note.textContent = noteText;
  element.replaceChildren(...(template ? [template] : []), note, list);
}

/** Shows an error in place of an element's content (its template kept). */
function showError(element, message) {
  const p = document.createElement('p');
  p.className = 'gramrec-error';
  p.setAttribute('role', 'alert');
  p.textContent = message;
  const template = element.querySelector(':scope > template');
  element.replaceChildren(...(template ? [template] : []), p);
  element.dispatchEvent(new CustomEvent('gramrec:error', { detail: { message } }));
}

/** A positive integer attribute, or `fallback`. */
function positive(value, fallback) {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The default rendering: the name, as a link when the item has a safe one, after its image. */
function card({ name, url, image }) {
  const href = safeUrl(url);
  const box = document.createElement(href ? 'a' : 'span');
  if (href) box.href = href;
  const src = safeUrl(image);
  if (src) {
    const img = document.createElement('img');
    img.src = src;
    img.alt = '';
    img.loading = 'lazy';
    box.append(img, ' ');
  }
  box.append(name);
  return box;
}

/** The page's template filled in for one item: text and attributes only. */
function fromTemplate(template, rec) {
  const node = template.content.cloneNode(true);
  for (const el of node.querySelectorAll('[data-gramrec]')) {
    const field = el.dataset.gramrec;
    if (field === 'link') {
      const href = safeUrl(rec.url);
      if (href) el.setAttribute('href', href);
      else el.removeAttribute('href');
    } else if (field === 'image') {
      const src = safeUrl(rec.image);
      if (src) {
        el.setAttribute('src', src);
        el.setAttribute('alt', rec.name);
      } else el.remove();
    } else if (field === 'score') {
      el.textContent = rec.score.toFixed(3);
    } else if (field === 'name' || field === 'item') {
      el.textContent = rec[field];
    }
  }
  return node;
}

if (!customElements.get('gramrec-recommendations')) {
  customElements.define('gramrec-recommendations', GramrecRecommendations);
}
if (!customElements.get('gramrec-bought-together')) {
  customElements.define('gramrec-bought-together', GramrecBoughtTogether);
}
