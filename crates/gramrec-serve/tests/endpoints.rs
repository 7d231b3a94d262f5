//! The endpoints answered in process, through the router (`oneshot`), as
//! axum's examples test handlers: bad requests get their status and a JSON
//! message, and a page of another site can neither write events nor reach
//! the server by a rebound name. Connection handling, durability, reloads
//! and signals stay process tests (tests/serve.rs).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gramrec_engine::{fit, load, Device, FitOptions, ModelKind, SaveOptions, TrainConfig};
use gramrec_serve::{Limits, ServeOptions, Service};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

/// A small implicit model of users u0…u399 and items i0…i119 in `dir`/model.
fn model(dir: &Path) -> PathBuf {
    let rows: Vec<String> = (0..8000u64)
        .map(|k| {
            let user = k % 400;
            let item = (user * 7 + k * k / 400) % 120;
            format!("u{user},i{item},{}", 1 + k % 3)
        })
        .collect();
    let input = dir.join("plays.csv");
    std::fs::write(&input, format!("user,item,plays\n{}\n", rows.join("\n"))).unwrap();
    let x = load::load(&input, &Default::default()).unwrap();
    let mut config = TrainConfig { iterations: 3, device: Device::Cpu, ..TrainConfig::for_kind(ModelKind::Implicit) };
    config.params.factors = 8;
    let fitted = fit(x, &config, &FitOptions::default(), &mut |_| Ok(())).unwrap();
    fitted.save(&dir.join("model"), &SaveOptions::default()).unwrap();
    dir.join("model")
}

/// The service over a fresh model, with `options` applied.
async fn service(dir: &Path, options: impl FnOnce(&mut ServeOptions)) -> Service {
    let mut opts = ServeOptions::new(model(dir));
    opts.log = std::sync::Arc::new(|_: &str| {});
    options(&mut opts);
    Service::open(opts).await.unwrap()
}

/// One request through the router: (status, body as JSON).
async fn call(s: &Service, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path).header("content-length", body.len());
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = s.router().oneshot(request.body(Body::from(body.to_vec())).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, value)
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn bad_requests_get_their_status_and_a_json_message_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path(), |o| o.limits = Limits { max_body: 4000, max_history: 5 }).await;
    let long_id = "x".repeat(5000);
    let history = |n: usize| json!({"history": (0..n).map(|i| json!({"item": format!("i{i}")})).collect::<Vec<_>>()});
    let body = |v: Value| v.to_string().into_bytes();
    let cases: Vec<(&str, String, Vec<u8>, u16, &str)> = vec![
        ("POST", "/v1/recommendations".into(), b"{\"history\": [".to_vec(), 400, "invalid JSON body"),
        ("POST", "/v1/recommendations".into(), br#"{"history": "i1"}"#.to_vec(), 400, "invalid type"),
        ("POST", "/v1/recommendations".into(), br#"{"history": [], "kk": 3}"#.to_vec(), 400, "unknown field `kk`"),
        (
            "POST",
            "/v1/recommendations".into(),
            body(json!({"history": [{"item": "i1", "weight": 1e39}]})),
            400,
            "not a finite",
        ),
        (
            "POST",
            "/v1/recommendations".into(),
            br#"{"history": [{"item": "i1", "weight": NaN}]}"#.to_vec(),
            400,
            "invalid JSON body",
        ),
        ("POST", "/v1/recommendations".into(), body(history(6)), 400, "at most 5"),
        ("POST", "/v1/recommendations".into(), body(json!({"history": [{"item": long_id}]})), 413, "larger than"),
        (
            "POST",
            "/v1/recommendations".into(),
            body(json!({"history": [{"item": "i1"}], "k": 0})),
            400,
            "k must be at least 1",
        ),
        ("GET", "/v1/users/u1/recommendations?k=abc".into(), vec![], 400, "k: invalid digit"),
        ("GET", "/v1/users/u1/recommendations?top=3".into(), vec![], 400, "unknown field `top`"),
        ("GET", format!("/v1/users/{long_id}/recommendations"), vec![], 400, "at most 4096"),
        ("GET", "/v1/items/nope/similar".into(), vec![], 404, "item 'nope' is not in the model"),
        ("GET", "/v1/items/nope".into(), vec![], 404, "not in the model"),
        ("GET", "/v1/items/i1/associations".into(), vec![], 404, "start it with --rules"),
        ("POST", "/v1/users/u1/events".into(), b"[]".to_vec(), 400, "post 1 to 5 events"),
        ("POST", "/v1/users/u1/events".into(), b"\"i1\"".to_vec(), 400, "an event object or an array"),
        (
            "POST",
            "/v1/users/u1/events".into(),
            br#"{"item": "i1", "weight": "3"}"#.to_vec(),
            400,
            "invalid type: string",
        ),
        ("POST", "/v1/users/u1/events".into(), br#"{"item": "i1", "when": 3}"#.to_vec(), 400, "unknown field `when`"),
        ("POST", "/v1/users/u1/events".into(), br#"{"item": ""}"#.to_vec(), 400, "the item ID is empty"),
        ("GET", "/v1/users/u1/events".into(), vec![], 405, "does not take that method"),
        ("GET", "/nowhere".into(), vec![], 404, "no such route"),
        ("POST", "/v1/admin/reload".into(), vec![], 404, "--admin-token"),
    ];
    for (method, path, body, status, message) in cases {
        let (got, v) = call(&s, method, &path, &[JSON], &body).await;
        assert_eq!(got.as_u16(), status, "{method} {path}: {v}");
        let error = v["error"].as_str().unwrap_or_else(|| panic!("{method} {path}: no error message: {v}"));
        assert!(error.contains(message), "{method} {path}: {v}");
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{method} {path}: the error alone: {v}");
    }
    // Unknown items are reported, not fatal.
    let events = body(json!([{"item": "brand-new"}, {"item": "i1", "weight": 2}]));
    let (status, v) = call(&s, "POST", "/v1/users/u1/events", &[JSON], &events).await;
    assert_eq!((status, v["accepted"].as_u64(), &v["unknown"]), (StatusCode::OK, Some(2), &json!(["brand-new"])));
    // A huge k is the whole catalogue, and the server still answers.
    let (status, v) = call(&s, "GET", "/v1/popular?k=1000000", &[], b"").await;
    assert_eq!((status, v["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(120)));
    assert_eq!(call(&s, "GET", "/healthz", &[], b"").await.1["status"], "ok");
}

#[tokio::test]
async fn a_page_of_another_site_cannot_write_events_or_rebind_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path(), |o| o.allowed_hosts = vec!["recs.shop.example".into()]).await;
    let event = br#"{"item": "i1"}"#;
    // Bodies a page may send without asking first: a form, text/plain, none declared.
    for content_type in ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"] {
        let (status, v) = call(&s, "POST", "/v1/users/u1/events", &[("content-type", content_type)], event).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert!(v["error"].as_str().unwrap().contains("Content-Type: application/json"), "{content_type}");
    }
    assert_eq!(call(&s, "POST", "/v1/users/u1/events", &[], event).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let charset = ("content-type", "application/json; charset=utf-8");
    assert_eq!(call(&s, "POST", "/v1/users/u1/events", &[charset], event).await.0, StatusCode::OK);
    // A name rebound to this server is refused, reads and writes alike;
    // addresses, localhost and the named hosts answer.
    for host in ["evil.example:8080", "evil.example", "shop.example:8080"] {
        for (method, path) in [("GET", "/v1/users/u1/recommendations?k=3"), ("POST", "/v1/users/u1/events")] {
            let (status, v) = call(&s, method, path, &[("host", host), JSON], event).await;
            assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{host} {method}");
            assert!(v["error"].as_str().unwrap().contains("--allowed-host"), "{host} {method}: {v}");
        }
    }
    for host in ["localhost:8080", "[::1]:8080", "RECS.shop.example:8080", "10.0.0.7"] {
        let (status, _) = call(&s, "GET", "/v1/users/u1/recommendations?k=3", &[("host", host)], b"").await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
}

/// A Bayesian model (`method = bayes`) serves a visitor's history folded in
/// with its learned prior, as the library (and so the CLI and the browser)
/// folds it in — and not as the same factors with ALS's λ would.
#[tokio::test]
async fn a_bayesian_model_folds_visitors_in_with_its_prior() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<String> = (0..6000u64)
        .map(|k| {
            let user = k % 300;
            let item = (user * 11 + k * k / 300) % 100;
            format!("u{user},i{item},{}", 1 + (user + item) % 5)
        })
        .collect();
    let input = dir.path().join("ratings.csv");
    std::fs::write(&input, format!("user,item,rating\n{}\n", rows.join("\n"))).unwrap();
    let x = load::load(&input, &Default::default()).unwrap();
    let mut config = TrainConfig { device: Device::Cpu, ..TrainConfig::for_kind(ModelKind::Explicit) };
    config.method = gramrec_engine::Method::Bayes;
    config.bayes = gramrec_engine::BayesOptions { samples: 5, burn_in: 2 };
    config.params.factors = 6;
    let fitted = fit(x, &config, &FitOptions::default(), &mut |_| Ok(())).unwrap();
    let model = dir.path().join("model");
    fitted.save(&model, &SaveOptions::default()).unwrap();
    let mut opts = ServeOptions::new(model.clone());
    opts.log = std::sync::Arc::new(|_: &str| {});
    let s = Service::open(opts).await.unwrap();

    let history = [("i3", 5.0f32), ("i17", 1.0), ("i40", 4.0)];
    let body =
        json!({"history": history.iter().map(|(i, w)| json!({"item": i, "weight": w})).collect::<Vec<_>>(), "k": 5});
    let (status, served) = call(&s, "POST", "/v1/recommendations", &[JSON], body.to_string().as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{served}");
    let file = gramrec_core::FactorFile::from_bytes(&std::fs::read(model.join("items.gramrec")).unwrap()).unwrap();
    assert!(file.prior.is_some(), "the item file keeps the prior");
    let asked: Vec<(String, f32)> = history.iter().map(|(i, w)| (i.to_string(), *w)).collect();
    let scores = |file: gramrec_core::FactorFile| {
        let r = gramrec_core::ItemModel::new(file).unwrap().recommend_history(&asked, 5).unwrap();
        r.items.iter().map(|i| (i.item.clone(), i.score)).collect::<Vec<_>>()
    };
    let want = scores(file.clone());
    let got: Vec<(String, f32)> = served["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["item"].as_str().unwrap().to_string(), i["score"].as_f64().unwrap() as f32))
        .collect();
    assert_eq!(got.len(), 5);
    for ((gi, gs), (wi, ws)) in got.iter().zip(&want) {
        assert!(gi == wi && (gs - ws).abs() < 1e-5, "served {got:?}, the library {want:?}");
    }
    let without_prior = scores(gramrec_core::FactorFile { prior: None, ..file });
    assert_ne!(want, without_prior, "the prior changes the visitor's row");
}
