// <gramrec-recommendations src="items.gramrec" k="10" storage-key="gramrec-history" names="items.json">
//
// Renders the visitor's recommendations from the history kept in
// localStorage (an array of {item, weight}) and updates when the page reports
// an interaction:
//
//   window.dispatchEvent(new CustomEvent('gramrec:interaction', { detail: { item: 'i42', weight: 1 } }));
//
// `names` (optional) is a JSON object mapping item IDs to display names.

import { load } from './gramrec.js';

const DEFAULT_KEY = 'gramrec-history';

/** The visitor's history under `key`; malformed storage counts as empty. */
export function readHistory(key = DEFAULT_KEY) {
  try {
    const parsed = JSON.parse(localStorage.getItem(key) ?? '[]');
    return Array.isArray(parsed) ? parsed : [];
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

/** Appends one interaction to the visitor's history and announces it. */
export function addInteraction(item, weight = 1, key = DEFAULT_KEY) {
  const history = readHistory(key);
  history.push({ item, weight });
  writeHistory(history, key);
  window.dispatchEvent(new CustomEvent('gramrec:interaction', { detail: { item, weight, key } }));
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

class GramrecRecommendations extends HTMLElement {
  static observedAttributes = ['src', 'k', 'storage-key', 'names'];

  constructor() {
    super();
    this.recommender = null;
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
    const k = Number.parseInt(this.getAttribute('k') ?? '10', 10);
    return Number.isFinite(k) && k > 0 ? k : 10;
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
  }

  attributeChangedCallback(name, before, after) {
    // The initial attributes are read when the element connects.
    if (before === after || !this.started) return;
    if (name === 'src' || name === 'names') this.reload();
    else this.render();
  }

  async reload() {
    // A newer load (src or names changed meanwhile) supersedes this one.
    const generation = ++this.generation;
    const src = this.getAttribute('src');
    if (!src) return this.showError('no src attribute: point it at an items.gramrec file');
    this.setAttribute('aria-busy', 'true');
    try {
      const names = this.getAttribute('names');
      const [recommender, map] = await Promise.all([
        load(new URL(src, document.baseURI)),
        names ? fetchNames(new URL(names, document.baseURI)) : new Map(),
      ]);
      if (generation !== this.generation) return recommender.free();
      this.recommender?.free();
      this.recommender = recommender;
      this.names = map;
      this.render();
    } catch (error) {
      if (generation !== this.generation) return;
      this.recommender = null;
      this.showError(error?.message ?? String(error));
    } finally {
      if (generation === this.generation) this.removeAttribute('aria-busy');
    }
  }

  /** The current recommendations (also rendered). */
  render() {
    if (!this.recommender) return null;
    let result;
    try {
      result = this.recommender.recommend(readHistory(this.storageKey), this.k);
    } catch (error) {
      // Never stuck on a history the model cannot use: popular items instead.
      console.warn(`gramrec: ${error?.message ?? error}`);
      result = { ...this.recommender.popular(this.k), coldStart: true, unknown: [] };
    }
    const list = document.createElement('ol');
    list.className = 'gramrec-list';
    for (const { item, score } of result.items) {
      const li = document.createElement('li');
      li.dataset.item = item;
      li.textContent = this.names.get(item) ?? item;
      li.title = `score ${score.toFixed(3)}`;
      list.append(li);
    }
    const note = document.createElement('p');
    note.className = 'gramrec-note';
    note.textContent = result.coldStart
      ? 'Popular right now (no history yet).'
      : `Based on your ${readHistory(this.storageKey).length} interactions.`;
    this.replaceChildren(note, list);
    this.dispatchEvent(new CustomEvent('gramrec:rendered', { detail: result }));
    return result;
  }

  showError(message) {
    const p = document.createElement('p');
    p.className = 'gramrec-error';
    p.setAttribute('role', 'alert');
    p.textContent = message;
    this.replaceChildren(p);
  }
}

if (!customElements.get('gramrec-recommendations')) {
  customElements.define('gramrec-recommendations', GramrecRecommendations);
}
