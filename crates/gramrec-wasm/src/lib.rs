//! gramrec in a web page: a [`Recommender`] built from the bytes of an item
//! factor file scores recommendations for the visitor in the visitor's own
//! browser, from their own history, with nothing sent to a server.
//!
//! Fold-in solves the visitor's row with the same normal equations training
//! solves (gramrec-core's `RowSolver`), so a visitor gets what `gramrec
//! recommend --history` gives on the command line. Unknown history items
//! are reported; malformed entries, and those the CLI would refuse
//! (`gramrec_core::history`), are skipped; none is thrown.
//!
//! [`Rules`] answers "bought together" from a rules file (`gramrec rules
//! --out rules.gramrec`), with the figures the CLI prints.
//!
//! `web/webgpu.js` scores on the page's GPU with what [`Recommender`] hands
//! it — the top-k kernel's WGSL ([`Recommender::top_k_shader`]), the items'
//! factors, a [`Visitor`]'s row — and gives back a shortlist, which
//! [`Recommender::recommend_shortlist`] ranks exactly or refuses.

use gramrec_core::{Association, ItemDetails, ItemList, ItemModel, Recommendations, RuleIndex, RuleSet, UserVector};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// An item ID as a page may give it: a string or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(f64),
}

impl Id {
    fn into_string(self) -> String {
        match self {
            Id::Text(s) => s,
            Id::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", n as i64),
            Id::Number(n) => n.to_string(),
        }
    }
}

/// An item ID a page passes to `similar`, `hasItem`, `details` or
/// `rulesFor`: a string or a number, as in a history; anything else is a
/// readable Error (a number passed where wasm-bindgen expects a string
/// used to trap with "memory access out of bounds").
fn item_id(value: JsValue) -> Result<String, JsError> {
    serde_wasm_bindgen::from_value::<Id>(value)
        .map(Id::into_string)
        .map_err(|_| JsError::new("gramrec: an item ID is a string or a number"))
}

/// One history entry: `{item, weight}`, or just an item ID (weight 1).
#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Full { item: Id, weight: Option<f64> },
    Bare(Id),
    Malformed(serde::de::IgnoredAny),
}

/// What `metadata()` returns: the objective (kind, factors, reg, regScaling,
/// alpha, confidence, epsilon, biases), the file's shape and how many items
/// it names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(flatten)]
    params: gramrec_core::ModelParams,
    items: usize,
    dtype: gramrec_core::Dtype,
    rating_min: f32,
    rating_max: f32,
    described: usize,
}

/// What `details()` returns: `{item, name?, url?, image?}`.
#[derive(Serialize)]
struct Details<'a> {
    item: &'a str,
    #[serde(flatten)]
    details: ItemDetails,
}

/// The TypeScript shapes of what the module takes and returns as plain
/// objects (pkg/gramrec_wasm.d.ts): the methods below name them, and
/// web/test/types.test.mjs compiles the module's real answers against them.
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** An item ID as a page may give it: a string, or a number (written as an integer where it is one). */
export type ItemId = string | number;
/** A history entry as an object: the item and its weight (the rating for explicit models, a count or strength for implicit ones; default 1). */
export type HistoryRecord = { item: ItemId; weight?: number | null | undefined };
/** One history entry: a record or a bare item ID (weight 1). */
export type HistoryEntry = HistoryRecord | ItemId;
/** An item's name, page and image, each only where the model has it. */
export interface ItemDetails { name?: string; url?: string; image?: string }
/** One item of a list: its ID and score, with its details. */
export interface Recommendation extends ItemDetails { item: string; score: number }
/** What `recommend` returns: the best items first, whether the history was empty or unknown (popular items then), and the history's unknown IDs. */
export interface Recommendations { items: Recommendation[]; coldStart: boolean; unknown: string[] }
/** What `similar` and `popular` return; `unknown` holds an item asked about that the model does not know. */
export interface ItemList { items: Recommendation[]; unknown?: string[] }
/** What `details` returns for a known item. */
export interface ItemInfo extends ItemDetails { item: string }
/** What `metadata` returns: the model's objective, its storage and size, and how many items it describes. */
export interface ModelMetadata {
  kind: "explicit" | "implicit"; factors: number; reg: number; regScaling: "count" | "none" | "frequency";
  regExponent: number; unobservedWeight: number; alpha: number; confidence: "linear" | "log"; epsilon: number;
  biases: boolean; items: number; dtype: "f32" | "f16" | "i8"; ratingMin: number; ratingMax: number; described: number;
}
/** One item that goes with another: P(it | the given one), lift and support, with its details. */
export interface Association extends ItemDetails { item: string; confidence: number; lift: number; support: number }
/** What `rulesFor` returns, best first; `unknown` holds an item in no basket. */
export interface Associations { items: Association[]; unknown: string[] }
"#;

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

/// Recommendations from an item factor file (f32, f16 or i8).
#[wasm_bindgen]
pub struct Recommender {
    model: ItemModel,
    dtype: gramrec_core::Dtype,
}

#[wasm_bindgen]
impl Recommender {
    /// Parses an item factor file (`items.gramrec` from `gramrec train`, or a
    /// smaller one from `gramrec export`). Throws an Error saying what is wrong
    /// with a corrupt, truncated, newer-version or user factor file. An i8
    /// file's factors stay i8 in the module's memory and are scanned as
    /// integers, with the results of their f32 values.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: Vec<u8>) -> Result<Recommender, JsError> {
        let file = gramrec_core::FactorFile::from_vec(bytes)
            .map_err(|e| JsError::new(&format!("gramrec: cannot read the model: {e}")))?;
        let dtype = file.factors.dtype();
        let model = ItemModel::new(file).map_err(|e| JsError::new(&format!("gramrec: cannot use the model: {e}")))?;
        Ok(Recommender { model, dtype })
    }

    /// [`new`](Self::new) from a file gathered in the module's memory as it
    /// downloaded ([`FileBuffer`]), which it takes: the file is never whole
    /// outside the module.
    #[wasm_bindgen(js_name = fromBuffer)]
    pub fn from_buffer(buffer: FileBuffer) -> Result<Recommender, JsError> {
        Recommender::new(buffer.bytes)
    }

    /// The `k` best items for a visitor whose history is an array of
    /// `{item, weight}` (weight: the rating for explicit models, a count or
    /// strength for implicit ones; default 1) or of bare item IDs. Returns
    /// `{items: [{item, score, name?, url?, image?}], coldStart, unknown}`
    /// (the details where the model has them): the history's items are
    /// excluded, an empty (or all-unknown) history gets the popular items with
    /// `coldStart: true`, and unknown IDs are listed in `unknown`.
    #[wasm_bindgen(unchecked_return_type = "Recommendations")]
    pub fn recommend(
        &self,
        #[wasm_bindgen(unchecked_param_type = "readonly HistoryEntry[] | null | undefined")] history: JsValue,
        k: usize,
    ) -> Result<JsValue, JsError> {
        self.recommend_visitor(&self.visitor(history)?, k)
    }

    /// A visitor from their history (as [`recommend`](Self::recommend)
    /// takes it): its known items, unknown IDs and folded-in row, for
    /// [`recommend_visitor`](Self::recommend_visitor) and
    /// [`recommend_shortlist`](Self::recommend_shortlist).
    pub fn visitor(
        &self,
        #[wasm_bindgen(unchecked_param_type = "readonly HistoryEntry[] | null | undefined")] history: JsValue,
    ) -> Result<Visitor, JsError> {
        let entries: Vec<Entry> = if history.is_undefined() || history.is_null() {
            Vec::new()
        } else {
            serde_wasm_bindgen::from_value(history)
                .map_err(|e| JsError::new(&format!("gramrec: the history must be an array: {e}")))?
        };
        let history: Vec<(String, f32)> = entries
            .into_iter()
            .filter_map(|e| {
                // An entry the CLI and the server would refuse is skipped
                // here: a stored history may be stale or tampered with.
                let (item, weight) = match e {
                    Entry::Full { item, weight } => (item.into_string(), weight),
                    Entry::Bare(item) => (item.into_string(), None),
                    Entry::Malformed(_) => return None,
                };
                gramrec_core::history::entry(&item, weight).ok().map(|w| (item, w))
            })
            .collect();
        let (known, unknown) = self.model.resolve(history.iter().map(|(id, w)| (id.as_str(), *w)));
        let row = if known.is_empty() { None } else { Some(self.model.fold_in(&known).map_err(failed)?) };
        let constant = row.as_ref().map_or(Ok(0.0), |u| self.model.user_constant(u)).map_err(failed)?;
        Ok(Visitor { known, unknown, row, constant, factors: self.model.meta().params.factors })
    }

    /// [`recommend`](Self::recommend) for a visitor already folded in,
    /// scored here (SIMD).
    #[wasm_bindgen(js_name = recommendVisitor, unchecked_return_type = "Recommendations")]
    pub fn recommend_visitor(&self, visitor: &Visitor, k: usize) -> Result<JsValue, JsError> {
        let (top, cold_start) = match &visitor.row {
            None => (self.model.popular_rows(k), true),
            Some(user) => (self.model.visitor_top_rows(user, &visitor.known, k).map_err(failed)?, false),
        };
        self.present(visitor, top, cold_start)
    }

    /// [`recommend_visitor`](Self::recommend_visitor)'s answer from a
    /// shortlist another scorer chose (the page's GPU): its items are
    /// scored here as the full scan scores them, and the answer is returned
    /// only when no item outside it can rank in the top `k` — `cutoff` is
    /// the lowest score the other scorer kept (every item it left out
    /// scored at most that), `undefined` when it kept every item it did not
    /// leave out. `null` otherwise (and for a visitor with no history):
    /// then call `recommendVisitor`. See gramrec-core's `shortlist_top_rows`.
    #[wasm_bindgen(js_name = recommendShortlist, unchecked_return_type = "Recommendations | null")]
    pub fn recommend_shortlist(
        &self,
        visitor: &Visitor,
        shortlist: &[u32],
        cutoff: Option<f32>,
        k: usize,
    ) -> Result<JsValue, JsError> {
        let Some(user) = &visitor.row else { return Ok(JsValue::NULL) };
        let rows: Vec<usize> = shortlist.iter().map(|&i| i as usize).collect();
        match self.model.shortlist_top_rows(user, &visitor.known, &rows, cutoff, k).map_err(failed)? {
            Some(top) => self.present(visitor, top, false),
            None => Ok(JsValue::NULL),
        }
    }

    fn present(&self, visitor: &Visitor, top: Vec<(usize, f32)>, cold_start: bool) -> Result<JsValue, JsError> {
        let items = top.into_iter().map(|(i, s)| self.model.recommendation(i, s)).collect();
        to_js(&Recommendations { items, cold_start, unknown: visitor.unknown.clone() })
    }

    /// The top-k kernel's WGSL (gramrec-wgsl's, as `recommend --all
    /// --device gpu` runs it), for lists of `k` (at most 128); its one
    /// pipeline constant is `F`, the model's factors.
    #[wasm_bindgen(js_name = topKShader)]
    pub fn top_k_shader(&self, k: usize) -> String {
        gramrec_wgsl::top_k_source(k)
    }

    /// How many items one workgroup of that kernel may score for lists of
    /// `k` and a visitor with `seen` items, so that no invocation runs
    /// longer than the strictest driver allows (0: not even one tile).
    #[wasm_bindgen(js_name = topKItemsPerWorkgroup)]
    pub fn top_k_items_per_workgroup(&self, k: usize, seen: usize) -> usize {
        let f = self.model.meta().params.factors;
        gramrec_wgsl::top_k_items_per_workgroup(f, k, seen, gramrec_wgsl::SOFTWARE_LOOP_LIMIT).unwrap_or(0) as usize
    }

    /// The factors of items `begin..end` (rows), row after row, as f32 (an
    /// i8 or f16 file's decoded): what a GPU scorer uploads, a piece at a time.
    #[wasm_bindgen(js_name = factorRows)]
    pub fn factor_rows(&self, begin: usize, end: usize) -> Vec<f32> {
        let end = end.min(self.model.len());
        self.model.factor_rows(begin.min(end)..end)
    }

    /// The per-item terms added to each score (an explicit model's item
    /// biases; zeros otherwise), for items `begin..end`.
    #[wasm_bindgen(js_name = itemTerms)]
    pub fn item_terms(&self, begin: usize, end: usize) -> Vec<f32> {
        let end = end.min(self.model.len());
        match self.model.item_terms() {
            Some(b) => b[begin.min(end)..end].to_vec(),
            None => vec![0.0; end - begin.min(end)],
        }
    }

    /// The `k` items most similar to `item` (cosine of the factors), as
    /// `{items: [{item, score}]}`; an unknown item gives no items and
    /// `unknown: [item]`.
    #[wasm_bindgen(unchecked_return_type = "ItemList")]
    pub fn similar(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ItemId")] item: JsValue,
        k: usize,
    ) -> Result<JsValue, JsError> {
        let item = item_id(item)?;
        match self.model.index_of(&item) {
            Some(i) => to_js(&ItemList { items: self.model.similar(i, k), unknown: vec![] }),
            None => to_js(&ItemList { items: vec![], unknown: vec![item] }),
        }
    }

    /// The `k` items with the most training interactions, as `{items: [{item, score}]}`.
    #[wasm_bindgen(unchecked_return_type = "ItemList")]
    pub fn popular(&self, k: usize) -> Result<JsValue, JsError> {
        to_js(&ItemList { items: self.model.popular(k), unknown: vec![] })
    }

    /// Every item ID, in the file's order.
    #[wasm_bindgen(js_name = itemIds)]
    pub fn item_ids(&self) -> Vec<String> {
        self.model.ids().to_vec()
    }

    /// Whether the model knows an item.
    #[wasm_bindgen(js_name = hasItem)]
    pub fn has_item(&self, #[wasm_bindgen(unchecked_param_type = "ItemId")] item: JsValue) -> Result<bool, JsError> {
        Ok(self.model.index_of(&item_id(item)?).is_some())
    }

    /// What the model is: `{kind, items, factors, dtype, reg, regScaling, alpha,
    /// confidence, epsilon, biases, ratingMin, ratingMax, described}`
    /// (`described`: items with a name, link or image).
    #[wasm_bindgen(unchecked_return_type = "ModelMetadata")]
    pub fn metadata(&self) -> Result<JsValue, JsError> {
        let m = self.model.meta();
        to_js(&Metadata {
            params: m.params,
            items: self.model.len(),
            dtype: self.dtype,
            rating_min: m.rating_min,
            rating_max: m.rating_max,
            described: self.model.info().described(),
        })
    }

    /// An item's `{item, name, url, image}` (each detail only when the model
    /// has it), or `null` for an item the model does not know: to show a
    /// visitor's history as the model names it.
    #[wasm_bindgen(unchecked_return_type = "ItemInfo | null")]
    pub fn details(&self, #[wasm_bindgen(unchecked_param_type = "ItemId")] item: JsValue) -> Result<JsValue, JsError> {
        let Some(row) = self.model.index_of(&item_id(item)?) else { return Ok(JsValue::NULL) };
        to_js(&Details { item: &self.model.ids()[row], details: self.model.details(row) })
    }
}

fn failed(e: gramrec_core::ModelError) -> JsError {
    JsError::new(&format!("gramrec: {e}"))
}

/// A visitor: their history resolved against the model and folded in.
#[wasm_bindgen]
pub struct Visitor {
    known: Vec<(usize, f32)>,
    unknown: Vec<String>,
    row: Option<UserVector>,
    constant: f32,
    factors: usize,
}

#[wasm_bindgen]
impl Visitor {
    /// Whether no history item is known: the visitor gets the popular items.
    #[wasm_bindgen(getter, js_name = coldStart)]
    pub fn cold_start(&self) -> bool {
        self.row.is_none()
    }

    /// The visitor's factors (empty for a cold start).
    #[wasm_bindgen(getter)]
    pub fn factors(&self) -> Vec<f32> {
        self.row.as_ref().map_or_else(Vec::new, |u| u.0[..self.factors].to_vec())
    }

    /// What every one of the visitor's scores adds (μ + b_u for an explicit
    /// model with biases, else 0).
    #[wasm_bindgen(getter)]
    pub fn constant(&self) -> f32 {
        self.constant
    }

    /// The rows of the history's items (left out of the recommendations),
    /// ascending, each once.
    #[wasm_bindgen(getter)]
    pub fn seen(&self) -> Vec<u32> {
        let mut rows: Vec<u32> = self.known.iter().map(|&(i, _)| i as u32).collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }
}

/// A file arriving in pieces (a download's chunks), gathered in the
/// module's memory: what `load(url)` uses so that a large catalogue is not
/// held once as a JavaScript buffer and again here.
#[wasm_bindgen]
pub struct FileBuffer {
    bytes: Vec<u8>,
}

#[wasm_bindgen]
impl FileBuffer {
    /// An empty buffer with room for `expected` bytes (a response's
    /// Content-Length; 0 when unknown). Throws when the page's memory
    /// cannot hold that many.
    #[wasm_bindgen(constructor)]
    pub fn new(expected: usize) -> Result<FileBuffer, JsError> {
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(expected).map_err(|_| too_large(expected))?;
        Ok(FileBuffer { bytes })
    }

    /// Appends a chunk (growing the buffer as a vector grows where the
    /// length was not announced, or understated). Throws, keeping what came
    /// before, when the page's memory cannot hold it.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsError> {
        let total = self.bytes.len().saturating_add(chunk.len());
        self.bytes.try_reserve(chunk.len()).map_err(|_| too_large(total))?;
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// Bytes gathered so far.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.bytes.len()
    }
}

fn too_large(bytes: usize) -> JsError {
    JsError::new(&format!("gramrec: the page's memory cannot hold a file of {bytes} bytes"))
}

/// What `rulesFor()` returns: `{items: [{item, confidence, lift, support, name?, url?, image?}], unknown}`.
#[derive(Serialize)]
struct Associations {
    items: Vec<Association>,
    unknown: Vec<String>,
}

/// "Bought together": association rules from a rules file.
#[wasm_bindgen]
pub struct Rules {
    set: RuleSet,
    index: RuleIndex,
}

#[wasm_bindgen]
impl Rules {
    /// Parses a rules file (`gramrec rules --out rules.gramrec`). Throws an
    /// Error saying what is wrong with a corrupt, truncated or newer file.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8]) -> Result<Rules, JsError> {
        let set =
            RuleSet::from_bytes(bytes).map_err(|e| JsError::new(&format!("gramrec: cannot read the rules: {e}")))?;
        let index = RuleIndex::new(&set);
        Ok(Rules { set, index })
    }

    /// The `k` items that go best with `item` (the rules from it alone, by
    /// confidence then lift); an item in no basket gives no items and
    /// `unknown: [item]`.
    #[wasm_bindgen(js_name = rulesFor, unchecked_return_type = "Associations")]
    pub fn rules_for(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ItemId")] item: JsValue,
        k: usize,
    ) -> Result<JsValue, JsError> {
        let item = item_id(item)?;
        match self.index.item(&item) {
            Some(i) => to_js(&Associations { items: self.index.for_item(&self.set, i, k), unknown: vec![] }),
            None => to_js(&Associations { items: vec![], unknown: vec![item] }),
        }
    }

    /// How many rules the file holds.
    #[wasm_bindgen(js_name = ruleCount)]
    pub fn rule_count(&self) -> usize {
        self.set.rules.len()
    }
}
