//! The JavaScript-facing API, run in Node by wasm-bindgen-test
//! (`cargo test -p gramrec-wasm --target wasm32-unknown-unknown`).
#![cfg(target_arch = "wasm32")]

use gramrec_core::format::{FactorFile, Metadata, Side};
use gramrec_core::quant::Factors;
use gramrec_core::{Dtype, ModelKind, ModelParams};
use gramrec_wasm::Recommender;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

#[derive(Deserialize, Debug)]
struct Item {
    item: String,
    score: f32,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Recs {
    items: Vec<Item>,
    cold_start: bool,
    unknown: Vec<String>,
}

/// Six items in 2 factors: i0..i3 on the axes, i4 ≈ i0, i5 ≈ i1; popularity descending.
fn model_bytes(dtype: Dtype) -> Vec<u8> {
    let params = ModelParams { factors: 2, reg: 0.1, ..ModelParams::for_kind(ModelKind::Implicit) };
    let y = vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, -1.0, 0.9, 0.1, 0.1, 0.9];
    FactorFile {
        meta: Metadata {
            side: Side::Items,
            params,
            global_mean: 0.0,
            rating_min: 1.0,
            rating_max: 1.0,
            training: Default::default(),
        },
        ids: (0..6).map(|i| format!("i{i}")).collect(),
        gram: Some(gramrec_core::linalg::gram_matrix(&y, 2)),
        factors: Factors::encode(&y, 2, dtype),
        biases: None,
        popularity: Some(vec![60, 50, 40, 30, 20, 10]),
        info: None,
        seen: None,
        prior: None,
    }
    .to_bytes()
    .unwrap()
}

#[derive(Deserialize, Debug)]
struct Items {
    items: Vec<Item>,
    #[serde(default)]
    unknown: Vec<String>,
}

fn recs(v: JsValue) -> Recs {
    serde_wasm_bindgen::from_value(v).unwrap()
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// JavaScript's JSON.parse: histories as a page would pass them.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse)]
    fn history(text: &str) -> JsValue;
}

#[wasm_bindgen_test]
fn recommends_from_history_excluding_it() {
    for dtype in [Dtype::F32, Dtype::F16, Dtype::I8] {
        let r = Recommender::new(model_bytes(dtype)).unwrap();
        let out = recs(r.recommend(history(r#"[{"item": "i0", "weight": 3}]"#), 2).unwrap());
        assert!(!out.cold_start);
        assert_eq!(out.items.len(), 2);
        assert_eq!(out.items[0].item, "i4", "{dtype:?}: the item closest to i0 comes first");
        assert!(out.items.iter().all(|i| i.item != "i0"));
        assert!(out.items[0].score >= out.items[1].score);
    }
}

#[wasm_bindgen_test]
fn unknown_and_malformed_entries_are_reported_not_thrown() {
    let r = Recommender::new(model_bytes(Dtype::F32)).unwrap();
    let out = recs(
        r.recommend(history(r#"[{"item": "nope"}, 42, null, {"weight": 2}, "i1", {"item": "i1", "weight": "x"}]"#), 3)
            .unwrap(),
    );
    assert!(!out.cold_start, "the bare 'i1' entry is a real history item");
    assert_eq!(out.unknown, vec!["nope".to_string(), "42".to_string()]);
    assert_eq!(out.items[0].item, "i5");
    let refused =
        recs(r.recommend(history(r#"[{"item": "i1", "weight": 1e39}, {"item": "", "weight": 1}]"#), 3).unwrap());
    assert!(refused.cold_start, "entries the CLI refuses are skipped: nothing is left");
    let cold = recs(r.recommend(JsValue::UNDEFINED, 3).unwrap());
    assert!(cold.cold_start);
    assert_eq!(cold.items.iter().map(|i| i.item.as_str()).collect::<Vec<_>>(), vec!["i0", "i1", "i2"]);
    assert!(r.recommend(history(r#"{"item": "i1"}"#), 3).is_err(), "a history that is not an array is an error");
}

#[wasm_bindgen_test]
fn similar_popular_ids_and_metadata() {
    let r = Recommender::new(model_bytes(Dtype::F32)).unwrap();
    let sim: Items = serde_wasm_bindgen::from_value(r.similar("i1".into(), 1).unwrap()).unwrap();
    assert_eq!(sim.items[0].item, "i5");
    assert!(sim.unknown.is_empty());
    let none: Items = serde_wasm_bindgen::from_value(r.similar("zz".into(), 3).unwrap()).unwrap();
    assert!(none.items.is_empty());
    assert_eq!(none.unknown, vec!["zz".to_string()]);
    let popular: Items = serde_wasm_bindgen::from_value(r.popular(2).unwrap()).unwrap();
    assert_eq!(
        popular.items.iter().map(|i| (i.item.as_str(), i.score)).collect::<Vec<_>>(),
        vec![("i0", 60.0), ("i1", 50.0)]
    );
    assert!(r.has_item("i3".into()).unwrap() && !r.has_item("i9".into()).unwrap());
    // A number is an ID as in a history (it used to trap the module); anything else a readable error.
    let numbered: Items = serde_wasm_bindgen::from_value(r.similar(JsValue::from(3.0), 1).unwrap()).unwrap();
    assert_eq!(numbered.unknown, vec!["3".to_string()]);
    assert!(!r.has_item(JsValue::from(3.0)).unwrap());
    assert!(r.has_item(JsValue::TRUE).is_err() && r.details(JsValue::NULL).is_err());
    assert!(r.similar(JsValue::UNDEFINED, 1).is_err());
    assert_eq!(r.item_ids().len(), 6);
    let meta: Meta = serde_wasm_bindgen::from_value(r.metadata().unwrap()).unwrap();
    assert_eq!((meta.kind.as_str(), meta.items, meta.factors), ("implicit", 6, 2));
}

#[derive(Deserialize)]
struct Meta {
    kind: String,
    items: usize,
    factors: usize,
}

#[wasm_bindgen_test]
fn corrupt_files_give_errors_a_developer_can_act_on() {
    let bytes = model_bytes(Dtype::F32);
    assert!(Recommender::new(bytes[..bytes.len() - 70].to_vec()).is_err());
    let mut flipped = bytes.clone();
    flipped[200] ^= 1;
    assert!(Recommender::new(flipped).is_err());
    assert!(Recommender::new(b"<!doctype html><p>404</p>".to_vec()).is_err());
}

#[wasm_bindgen_test]
fn a_huge_k_is_the_catalogue_and_a_huge_weight_still_recommends() {
    let r = Recommender::new(model_bytes(Dtype::F32)).unwrap();
    let out = recs(r.recommend(history(r#"[{"item": "i0", "weight": 1e10}]"#), 1_000_000_000).unwrap());
    assert!(!out.cold_start);
    assert_eq!(out.items.len(), 5, "every item but the history's");
    let popular: Items = serde_wasm_bindgen::from_value(r.popular(usize::MAX).unwrap()).unwrap();
    assert_eq!(popular.items.len(), 6);
}

#[derive(Deserialize, Debug)]
struct Goes {
    item: String,
    confidence: f64,
    lift: f64,
}

#[derive(Deserialize, Debug)]
struct Associations {
    items: Vec<Goes>,
    unknown: Vec<String>,
}

#[wasm_bindgen_test]
fn rules_answer_what_goes_with_an_item_and_report_unknown_items() {
    use gramrec_core::{Rule, RuleSet};
    let set = RuleSet {
        items: vec!["tea".into(), "milk".into(), "sugar".into()],
        item_counts: vec![4, 3, 2],
        baskets: 6,
        min_count: 1,
        min_confidence: 0.1,
        max_len: None,
        rules: vec![
            Rule { antecedent: vec![0], consequent: 1, count: 3, antecedent_count: 4 },
            Rule { antecedent: vec![0], consequent: 2, count: 2, antecedent_count: 4 },
            Rule { antecedent: vec![0, 1], consequent: 2, count: 2, antecedent_count: 3 },
        ],
        info: None,
    };
    let rules = gramrec_wasm::Rules::new(&set.to_bytes().unwrap()).unwrap();
    assert_eq!(rules.rule_count(), 3);
    let got: Associations = serde_wasm_bindgen::from_value(rules.rules_for("tea".into(), 5).unwrap()).unwrap();
    let items: Vec<&str> = got.items.iter().map(|g| g.item.as_str()).collect();
    assert_eq!(items, ["milk", "sugar"], "single-item antecedents only, best first");
    assert_eq!(got.items[0].confidence, 0.75);
    assert_eq!(got.items[0].lift, 0.75 / 0.5);
    let none: Associations = serde_wasm_bindgen::from_value(rules.rules_for("coffee".into(), 5).unwrap()).unwrap();
    assert!(none.items.is_empty() && none.unknown == ["coffee"]);
    assert!(gramrec_wasm::Rules::new(b"GRRULES\0 not really").is_err());
}

#[wasm_bindgen_test]
fn a_visitor_scored_from_a_shortlist_gets_recommend_s_answer_or_null() {
    for dtype in [Dtype::F32, Dtype::I8] {
        let r = Recommender::new(model_bytes(dtype)).unwrap();
        let h = r#"[{"item": "i0", "weight": 3}, {"item": "nope"}]"#;
        let v = r.visitor(history(h)).unwrap();
        assert!(!v.cold_start());
        assert_eq!(v.factors().len(), 2);
        assert_eq!(v.seen(), vec![0]);
        let whole = recs(r.recommend(history(h), 2).unwrap());
        assert_eq!(recs(r.recommend_visitor(&v, 2).unwrap()).items.len(), 2);
        // Every item, no cutoff: the scan's answer, unknown IDs and all.
        let all = recs(r.recommend_shortlist(&v, &[5, 4, 3, 2, 1, 0], None, 2).unwrap());
        assert_eq!(
            all.items.iter().map(|i| (&i.item, i.score)).collect::<Vec<_>>(),
            whole.items.iter().map(|i| (&i.item, i.score)).collect::<Vec<_>>()
        );
        assert_eq!(all.unknown, vec!["nope".to_string()]);
        // A shortlist without the best item, whose cutoff is near the
        // second's score, cannot be proven: null.
        let second = whole.items[1].score;
        assert!(r.recommend_shortlist(&v, &[1, 2, 3, 5], Some(second), 2).unwrap().is_null());
        // A cold visitor has nothing to shortlist.
        let cold = r.visitor(history("[]")).unwrap();
        assert!(cold.cold_start() && cold.factors().is_empty());
        assert!(r.recommend_shortlist(&cold, &[0], None, 2).unwrap().is_null());
        assert!(recs(r.recommend_visitor(&cold, 2).unwrap()).cold_start);
    }
    let r = Recommender::new(model_bytes(Dtype::F16)).unwrap();
    assert_eq!(r.factor_rows(4, 9), vec![0.9, 0.1, 0.1, 0.9].iter().map(|&v| half_round(v)).collect::<Vec<_>>());
    assert_eq!(r.item_terms(0, 6), vec![0.0; 6]);
    assert!(r.top_k_shader(18).starts_with("const K: u32 = 18u;"));
    assert!(r.top_k_items_per_workgroup(18, 10) >= 64);
}

/// `v` as f16 holds it.
fn half_round(v: f32) -> f32 {
    Factors::encode(&[v], 1, Dtype::F16).to_f32(1)[0]
}
