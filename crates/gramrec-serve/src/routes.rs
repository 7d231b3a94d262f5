//! The HTTP API: routes, their handlers, the request counters, CORS and the
//! static files. Every answer is JSON in camelCase with the item shape of
//! `recommend --json`; every 4xx and 5xx is `{"error": "..."}`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gramrec_core::text::excerpt;
use gramrec_core::{Error, ItemAssociations, ItemDetails, ItemList, Recommendations};
use serde::Serialize;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::batch::Query;
use crate::error::ApiError;
use crate::events::LoggedEvent;
use crate::extract::{self, FoldInBody, KQuery, UserQuery};
use crate::App;

type Shared = State<Arc<App>>;
type Answer<T> = Result<Json<T>, ApiError>;

/// The router: the API, then (with `--web`) the static files.
pub fn router(app: Arc<App>) -> Result<Router, Error> {
    let opts = &app.opts;
    let mut api = Router::new()
        .route("/v1/users/{id}/recommendations", get(user_recommendations))
        .route("/v1/users/{id}/events", post(user_events))
        .route("/v1/recommendations", post(fold_in))
        .route("/v1/items/{id}", get(item))
        .route("/v1/items/{id}/similar", get(similar))
        .route("/v1/items/{id}/associations", get(associations))
        .route("/v1/popular", get(popular))
        .route("/v1/admin/reload", post(admin_reload))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(opts.limits.max_body));
    api = match &opts.web {
        Some(dir) => {
            let files = ServeDir::new(dir)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(axum::routing::any(not_found).with_state(app.clone()));
            let root = Arc::new(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone()));
            let guarded = tower::ServiceBuilder::new()
                .layer(middleware::from_fn(move |request: Request, next: Next| {
                    let allowed = servable(&root, request.uri().path());
                    async move {
                        match allowed {
                            true => next.run(request).await,
                            false => not_found(request.uri().clone()).await.into_response(),
                        }
                    }
                }))
                .service(files);
            api.fallback_service(guarded)
        }
        None => api.fallback(not_found),
    };
    let mut router = api
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .layer(middleware::from_fn_with_state(app.clone(), count))
        .with_state(app.clone());
    if let Some(origin) = &opts.cors {
        let allow = if origin == "*" {
            AllowOrigin::any()
        } else {
            // Named only to the origin it names (a list, not `exact`, which
            // would send it to every page).
            let shown = gramrec_core::text::escape_controls(origin);
            AllowOrigin::list([HeaderValue::from_str(origin)
                .map_err(|_| Error::Argument(format!("--cors: '{shown}' is not an origin")))?])
        };
        router = router.layer(
            CorsLayer::new()
                .allow_origin(allow)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]),
        );
    }
    Ok(router)
}

/// Refuses what a web page of another site could send: a `Host` that is
/// not this server's (a name rebound to it: 421) and a POST body that is
/// not declared JSON (a form or `text/plain`, which a page may send without
/// asking: 415). A POST without a body (the admin reload) needs its token.
async fn guard(State(app): Shared, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
    if let Some(host) = host.filter(|h| !allowed_host(h, &app.opts.allowed_hosts)) {
        let message = format!(
            "Host '{}' is not this server's name: it answers to IP addresses, localhost and --allowed-host names",
            excerpt(&host, 80)
        );
        return ApiError { status: StatusCode::MISDIRECTED_REQUEST, message }.into_response();
    }
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() != "0");
    let json = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
    });
    if request.method() == Method::POST && has_body && !json {
        let message = "a POST body is JSON: send Content-Type: application/json".to_string();
        return ApiError { status: StatusCode::UNSUPPORTED_MEDIA_TYPE, message }.into_response();
    }
    if !has_body {
        return next.run(request).await;
    }
    // The whole body within the body timeout, and no more than the limit
    // read: a client that sends it a byte at a time is answered, not waited on.
    let (parts, body) = request.into_parts();
    let (max, wait) = (app.opts.limits.max_body, app.opts.connections.body_timeout);
    let limited = http_body_util::Limited::new(body, max);
    match tokio::time::timeout(wait, http_body_util::BodyExt::collect(limited)).await {
        Ok(Ok(collected)) => next.run(Request::from_parts(parts, Body::from(collected.to_bytes()))).await,
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            let message = format!("the request body is larger than {max} bytes (--max-body)");
            ApiError { status: StatusCode::PAYLOAD_TOO_LARGE, message }.into_response()
        }
        Ok(Err(e)) => ApiError::bad_request(format!("the request body could not be read: {e}")).into_response(),
        Err(_) => {
            let message = format!("the request body did not arrive within {} s", wait.as_secs_f64());
            ApiError { status: StatusCode::REQUEST_TIMEOUT, message }.into_response()
        }
    }
}

/// Whether a `Host` header names this server: an IP address (a browser that
/// connects by address cannot be rebound), `localhost`, or one of `allowed`
/// (case-insensitive), with any port.
fn allowed_host(host: &str, allowed: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => return v6.split(']').next().is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok()),
        None => match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        },
    };
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// Counts every request by route (the pattern, not the path), method and status.
async fn count(State(app): Shared, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = match request.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_string(),
        None if app.opts.web.is_some() && request.method() == Method::GET => "static".to_string(),
        None => "unmatched".to_string(),
    };
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    app.metrics.request(&route, method, response.status().as_u16(), started.elapsed());
    response
}

/// Whether the request path `path` names what `--web` serves: a regular
/// file (or a folder, for its index.html) whose real path lies inside the
/// folder `root` (canonical), no part of the path hidden (`.git`,
/// `.env`). A path to nothing is let through, for the 404 that follows.
fn servable(root: &std::path::Path, path: &str) -> bool {
    let Ok(decoded) = percent_decode(path) else { return false };
    let parts: Vec<&str> = decoded.split('/').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| p.starts_with('.') || p.contains('\\')) {
        return false;
    }
    let asked = parts.iter().fold(root.to_path_buf(), |p, part| p.join(part));
    match (std::fs::canonicalize(&asked), std::fs::metadata(&asked)) {
        (Ok(real), Ok(meta)) => real.starts_with(root) && (meta.is_file() || meta.is_dir()),
        _ => std::fs::symlink_metadata(&asked).is_err(),
    }
}

/// `%XX` escapes decoded; an escape that is not valid UTF-8 is refused.
fn percent_decode(path: &str) -> Result<String, ()> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).ok_or(())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no such route: {}", excerpt(uri.path(), 200)))
}

async fn method_not_allowed() -> ApiError {
    ApiError { status: StatusCode::METHOD_NOT_ALLOWED, message: "this route does not take that method".into() }
}

fn path_id(what: &str, p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(id) = p.map_err(|e| ApiError::bad_request(e.body_text()))?;
    extract::id(what, &id)?;
    Ok(id)
}

fn scoring_failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(StatusCode::UNPROCESSABLE_ENTITY, format!("scoring failed: {e}"))
}

/// `GET /v1/users/{id}/recommendations?k=10&includeSeen=false`.
async fn user_recommendations(
    State(app): Shared,
    id: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Answer<Recommendations> {
    let user = path_id("user", id)?;
    let q: UserQuery = extract::query(&uri)?;
    let k = extract::k_or_default(q.k)?;
    let include_seen = q.include_seen.unwrap_or(false);
    let snapshot = app.snapshot();
    let model = &snapshot.model;
    let query = match (snapshot.live.get(&user), model.user_row(&user)) {
        (Some(live), _) => Query::Row { vector: live.vector, exclude: live.seen },
        (None, Some(row)) => {
            let seen = model.seen(row).unwrap_or(&[]).iter().map(|&i| i as usize).collect();
            Query::Row { vector: Arc::new(model.user_at(row)), exclude: Arc::new(seen) }
        }
        (None, None) => {
            return Ok(Json(Recommendations { items: model.items.popular(k), cold_start: true, unknown: vec![] }))
        }
    };
    let query = match query {
        Query::Row { vector, .. } if include_seen => Query::Row { vector, exclude: Arc::new(Vec::new()) },
        q => q,
    };
    let items = app.batcher.top_k(snapshot.clone(), query, k).await.map_err(scoring_failed)?;
    Ok(Json(Recommendations { items, cold_start: false, unknown: vec![] }))
}

/// `POST /v1/recommendations` `{history: [{item, weight}], k}`: fold-in.
async fn fold_in(State(app): Shared, body: Result<Bytes, BytesRejection>) -> Answer<Recommendations> {
    let body: FoldInBody = extract::json(body)?;
    let k = extract::k_or_default(body.k)?;
    let max = app.opts.limits.max_history;
    if body.history.len() > max {
        return Err(ApiError::bad_request(format!(
            "the history has {} entries; at most {max} are accepted",
            body.history.len()
        )));
    }
    let history = body
        .history
        .iter()
        .map(|e| Ok((extract::id("item", &e.item)?, extract::weight(&e.item, e.weight)?)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let snapshot = app.snapshot();
    let items = &snapshot.model.items;
    let (known, unknown) = items.resolve(history);
    if known.is_empty() {
        return Ok(Json(Recommendations { items: items.popular(k), cold_start: true, unknown }));
    }
    let list = app.batcher.top_k(snapshot.clone(), Query::History(known), k).await.map_err(scoring_failed)?;
    Ok(Json(Recommendations { items: list, cold_start: false, unknown }))
}

/// An item's ID, name, links and training interactions.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemView {
    item: String,
    #[serde(flatten)]
    details: ItemDetails,
    interactions: u32,
}

fn item_row(snapshot: &crate::snapshot::Snapshot, id: &str) -> Result<usize, ApiError> {
    snapshot
        .model
        .items
        .index_of(id)
        .ok_or_else(|| ApiError::not_found(format!("item '{}' is not in the model", excerpt(id, 200))))
}

/// `GET /v1/items/{id}`.
async fn item(State(app): Shared, id: Result<Path<String>, PathRejection>) -> Answer<ItemView> {
    let id = path_id("item", id)?;
    let snapshot = app.snapshot();
    let row = item_row(&snapshot, &id)?;
    let items = &snapshot.model.items;
    Ok(Json(ItemView {
        item: id,
        details: items.details(row),
        interactions: items.popularity().get(row).copied().unwrap_or(0),
    }))
}

/// `GET /v1/items/{id}/similar?k=10`.
async fn similar(State(app): Shared, id: Result<Path<String>, PathRejection>, uri: Uri) -> Answer<ItemList> {
    let id = path_id("item", id)?;
    let k = extract::k_or_default(extract::query::<KQuery>(&uri)?.k)?;
    let snapshot = app.snapshot();
    let row = item_row(&snapshot, &id)?;
    let items = tokio::task::spawn_blocking(move || snapshot.model.items.similar(row, k))
        .await
        .map_err(|e| ApiError::internal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(ItemList { items, unknown: vec![] }))
}

/// `GET /v1/popular?k=10`.
async fn popular(State(app): Shared, uri: Uri) -> Answer<ItemList> {
    let k = extract::k_or_default(extract::query::<KQuery>(&uri)?.k)?;
    Ok(Json(ItemList { items: app.snapshot().model.items.popular(k), unknown: vec![] }))
}

/// `GET /v1/items/{id}/associations?k=10` (with `--rules`).
async fn associations(
    State(app): Shared,
    id: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Answer<ItemAssociations> {
    let id = path_id("item", id)?;
    let k = extract::k_or_default(extract::query::<KQuery>(&uri)?.k)?;
    let snapshot = app.snapshot();
    let Some(rules) = &snapshot.rules else {
        return Err(ApiError::not_found("this server has no association rules: start it with --rules FILE"));
    };
    let Some(row) = rules.index.item(&id) else {
        return Err(ApiError::not_found(format!("item '{}' is in no basket of the rules", excerpt(&id, 200))));
    };
    Ok(Json(ItemAssociations { item: id, items: rules.index.for_item(&rules.set, row, k) }))
}

/// `POST /v1/users/{id}/events`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventsAccepted {
    /// Events logged.
    accepted: usize,
    /// Items of those events the model does not know: logged (a retrain
    /// learns them), not applied to the user's row.
    unknown: Vec<String>,
}

/// `POST /v1/users/{id}/events` `{item, weight, time}` or an array of them:
/// durable in the log, then applied to the user's row, before the answer.
async fn user_events(
    State(app): Shared,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Answer<EventsAccepted> {
    let user = path_id("user", id)?;
    let posted = extract::events(body)?;
    let max = app.opts.limits.max_history;
    if posted.is_empty() || posted.len() > max {
        return Err(ApiError::bad_request(format!("post 1 to {max} events, not {}", posted.len())));
    }
    let received = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let mut events = Vec::with_capacity(posted.len());
    for e in posted {
        extract::id("item", &e.item)?;
        let weight = extract::weight(&e.item, e.weight)?;
        if e.time.is_some_and(|t| !t.is_finite()) {
            return Err(ApiError::bad_request("time must be a finite number"));
        }
        events.push(LoggedEvent {
            user: user.clone(),
            item: e.item,
            weight,
            time: e.time.or(Some(received)),
            received: Some(received),
        });
    }
    let gate = app.gate.read().await;
    let snapshot = app.snapshot();
    let (known, unknown) = snapshot.model.items.resolve(events.iter().map(|e| (e.item.as_str(), e.weight)));
    let lines: Vec<u8> = events.iter().flat_map(LoggedEvent::line).collect();
    let (apply_to, apply_user) = (snapshot.clone(), user.clone());
    let applied = Arc::new(std::sync::Mutex::new(Ok(())));
    let result = applied.clone();
    app.log
        .append(
            lines,
            Box::new(move || {
                let r = apply_to.live.append(&apply_to.model, &apply_user, &known);
                *result.lock().unwrap_or_else(|p| p.into_inner()) = r;
            }),
        )
        .await
        .map_err(|e| {
            ApiError::internal(StatusCode::SERVICE_UNAVAILABLE, format!("the event log could not be written: {e}"))
        })?;
    drop(gate);
    app.metrics.events.fetch_add(events.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let conflict =
        |e: crate::live::LiveError| ApiError::internal(StatusCode::CONFLICT, format!("logged, but not applied: {e}"));
    applied.lock().unwrap_or_else(|p| p.into_inner()).clone().map_err(conflict)?;
    let solve_user = user.clone();
    tokio::task::spawn_blocking(move || snapshot.live.solve(&snapshot.model, &solve_user))
        .await
        .map_err(|e| ApiError::internal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(conflict)?;
    Ok(Json(EventsAccepted { accepted: events.len(), unknown }))
}

/// `POST /v1/admin/reload` with `Authorization: Bearer TOKEN`.
async fn admin_reload(State(app): Shared, headers: HeaderMap) -> Answer<crate::Reloaded> {
    let Some(token) = &app.opts.admin_token else {
        return Err(ApiError::not_found("reloading over HTTP is off: start the server with --admin-token"));
    };
    let presented =
        headers.get(header::AUTHORIZATION).and_then(|v| v.as_bytes().strip_prefix(b"Bearer ")).ok_or_else(|| {
            ApiError { status: StatusCode::UNAUTHORIZED, message: "send Authorization: Bearer TOKEN".into() }
        })?;
    if !extract::same_token(presented, token.as_bytes()) {
        return Err(ApiError { status: StatusCode::FORBIDDEN, message: "wrong admin token".into() });
    }
    crate::Reloader(app.clone()).reload().await.map(Json).map_err(|e| {
        ApiError::internal(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reload refused, the previous model keeps serving: {e}"),
        )
    })
}

/// `GET /healthz`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    status: &'static str,
    model_version: u64,
    users: usize,
    items: usize,
    live_users: usize,
}

async fn health(State(app): Shared) -> Json<Health> {
    let s = app.snapshot();
    Json(Health {
        status: "ok",
        model_version: s.version,
        users: s.model.user_count(),
        items: s.model.items.len(),
        live_users: s.live.len(),
    })
}

/// `GET /metrics`.
async fn metrics(State(app): Shared) -> impl IntoResponse {
    let text = app.metrics.render(app.snapshot().live.len());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], Body::from(text))
}
