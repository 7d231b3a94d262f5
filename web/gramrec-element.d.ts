// Types for gramrec-element.js (docs/WEB.md "The custom element"):
// <gramrec-recommendations> and <gramrec-bought-together>, their events,
// and the history helpers. Checked by web/test/types.test.mjs.
import type { Associations, Recommendations, Recommender } from './pkg/gramrec_wasm.js';

/** How many of the most recent distinct items a history keeps by default. */
export const DEFAULT_HISTORY_LIMIT: number;

/** A history entry as the element keeps it: the item and its weight. */
export interface StoredEntry { item: string | number; weight: number }

/**
 * The most recent `limit` distinct items of a history, oldest first, each as
 * `{item, weight}` (a bare ID weighs 1; a repeated item keeps its latest
 * weight and place; an entry whose item is not a string or number, or whose
 * weight is neither a number nor absent, is dropped).
 */
export function normaliseHistory(history: Iterable<unknown>, limit?: number): StoredEntry[];

/**
 * The visitor's history stored under `key` (default "gramrec-history"),
 * normalised; storage that is not a JSON array reads as empty.
 */
export function readHistory(key?: string, limit?: number): StoredEntry[];

/** Adds one interaction to the stored history and announces it (`gramrec:interaction` on window). */
export function addInteraction(item: string | number, weight?: number, key?: string, limit?: number): void;

/** `url` when a page may follow it (http, https, or relative to the page), else null. */
export function safeUrl(url: unknown): string | null;

/** A names file (a JSON object of item ID → display name) as a Map; empty when missing or malformed. */
export function fetchNames(url: string | URL): Promise<Map<string, string>>;

/**
 * What `gramrec:interaction` carries when `addInteraction` fires it; a page
 * may fire the event itself with any detail (the elements only re-render).
 */
export interface InteractionDetail { item: string | number; weight: number; key: string }

/** What `gramrec:error` carries. */
export interface ErrorDetail { message: string }

/**
 * `<gramrec-recommendations src k storage-key names history-limit gpu>`.
 * Its events do not bubble: listen on the element.
 */
export interface GramrecRecommendationsElement extends HTMLElement {
  /** The model it renders from, once loaded (shared by elements with the same `src`); null before. */
  readonly recommender: Recommender | null;
  /** The stored history it renders from. */
  history(): StoredEntry[];
  /** Renders again; resolves to what it rendered, or null before the model loads or when a later render overtakes it. */
  render(): Promise<Recommendations | null>;
  addEventListener(type: 'gramrec:rendered', listener: (event: CustomEvent<Recommendations>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: 'gramrec:error', listener: (event: CustomEvent<ErrorDetail>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: HTMLElement, event: HTMLElementEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener(type: 'gramrec:rendered', listener: (event: CustomEvent<Recommendations>) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: 'gramrec:error', listener: (event: CustomEvent<ErrorDetail>) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: HTMLElement, event: HTMLElementEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

/**
 * `<gramrec-bought-together src item k>`. Its events do not bubble: listen
 * on the element.
 */
export interface GramrecBoughtTogetherElement extends HTMLElement {
  /** Renders again for the `item` attribute; returns what it rendered, or null before the rules load. */
  render(): Associations | null;
  addEventListener(type: 'gramrec:rendered', listener: (event: CustomEvent<Associations>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: 'gramrec:error', listener: (event: CustomEvent<ErrorDetail>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: HTMLElement, event: HTMLElementEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener(type: 'gramrec:rendered', listener: (event: CustomEvent<Associations>) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: 'gramrec:error', listener: (event: CustomEvent<ErrorDetail>) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: HTMLElement, event: HTMLElementEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'gramrec-recommendations': GramrecRecommendationsElement;
    'gramrec-bought-together': GramrecBoughtTogetherElement;
  }
  interface WindowEventMap {
    'gramrec:interaction': CustomEvent<Partial<InteractionDetail>>;
  }
}
