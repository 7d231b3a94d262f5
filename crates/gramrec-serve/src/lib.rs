//! `gramrec serve`: a model behind an HTTP API, with live updates that lose
//! nothing.
//!
//! - Recommendations for known users (micro-batched: concurrent requests
//!   share one pass over the item factors, [`batch`]), for visitors from
//!   their history (fold-in, as the browser does), similar, popular and
//!   associated items, and item metadata ([`routes`]).
//! - Events (`POST /v1/users/{id}/events`) are appended to a JSON-lines log
//!   and made durable by group commit before they are acknowledged
//!   ([`events`]); the user's row is then solved again against the item
//!   factors ([`live`]), so the next request reflects it. On start, and on
//!   every reload, the events the model lacks are applied again.
//! - Reload (SIGHUP through [`Reloader`], or `POST /v1/admin/reload` with
//!   the admin token) loads the model directory into a new [`snapshot`] and
//!   swaps it in whole; a model that does not load is refused and the old one
//!   keeps serving.
//!
//! The library reads no environment and installs no signal handler: the CLI
//! builds [`ServeOptions`], hands [`Server::run`] its shutdown signal and
//! calls [`Reloader::reload`] on SIGHUP.

pub mod batch;
pub mod connections;
pub mod error;
pub mod events;
pub mod extract;
pub mod live;
pub mod metrics;
pub mod routes;
pub mod snapshot;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use gramrec_core::Error;
use serde::Serialize;

pub use batch::Batching;
pub use connections::Connections;
pub use error::ApiError;

use crate::batch::Batcher;
use crate::events::EventLog;
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;

/// Where a line of the server's log goes (the CLI prints it on stderr).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// Limits on what one request may ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Most history entries in a fold-in request, and events in one post.
    pub max_history: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_body: 1 << 20, max_history: 10_000 }
    }
}

/// Everything `serve` is told; [`ServeOptions::new`] gives the defaults.
#[derive(Clone)]
pub struct ServeOptions {
    /// The model directory (items.gramrec, users.gramrec), read again on reload.
    pub model_dir: PathBuf,
    /// The event log (appended; replayed on start).
    pub events: PathBuf,
    /// An association-rules file for `/v1/items/{id}/associations`.
    pub rules: Option<PathBuf>,
    /// A folder served as static files at `/` (the page, the WASM module).
    pub web: Option<PathBuf>,
    /// The origin allowed to call the API from another site (`*` for any).
    pub cors: Option<String>,
    /// The token `POST /v1/admin/reload` needs (without one, that route is off).
    pub admin_token: Option<String>,
    /// Host names the server answers to besides IP addresses and `localhost`
    /// (the name a reverse proxy or DNS gives it): any other `Host` is
    /// refused, so a page that rebinds its own name to this server cannot.
    pub allowed_hosts: Vec<String>,
    /// Request limits.
    pub limits: Limits,
    /// Connection cap and timeouts.
    pub connections: Connections,
    /// Micro-batching of top-k requests.
    pub batching: Batching,
    /// Where log lines go.
    pub log: Log,
}

impl ServeOptions {
    /// The defaults for a model directory: events in `DIR/events.jsonl`,
    /// no rules, no static files, no CORS, no admin route, log lines dropped.
    pub fn new(model_dir: impl Into<PathBuf>) -> Self {
        let model_dir = model_dir.into();
        Self {
            events: model_dir.join("events.jsonl"),
            model_dir,
            rules: None,
            web: None,
            cors: None,
            admin_token: None,
            allowed_hosts: Vec::new(),
            limits: Limits::default(),
            connections: Connections::default(),
            batching: Batching::default(),
            log: Arc::new(|_| {}),
        }
    }
}

/// The state every request shares.
pub struct App {
    opts: ServeOptions,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Held (shared) by every event from its log append to its application,
    /// and (exclusively) by a reload while it catches up with the log's end
    /// and swaps the model: no event falls between the two models.
    gate: tokio::sync::RwLock<()>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    log: EventLog,
    batcher: Batcher,
    metrics: Arc<Metrics>,
}

impl App {
    /// The model being served now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn say(&self, line: &str) {
        (self.opts.log)(line)
    }
}

/// What a reload did: `POST /v1/admin/reload`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reloaded {
    /// The new model's version.
    pub model_version: u64,
    /// Its users and items.
    pub users: usize,
    /// Items.
    pub items: usize,
    /// Logged events applied to it (those after its data was read).
    pub events_applied: u64,
}

/// Reloads the model of a running server.
#[derive(Clone)]
pub struct Reloader(Arc<App>);

impl Reloader {
    /// Loads the model directory again and swaps it in, re-applying the
    /// events it lacks; on failure the old model keeps serving. The reload
    /// runs to its end even if the caller stops waiting (a client that
    /// hangs up): it moves the event log, so it must not stop half-way.
    pub async fn reload(&self) -> Result<Reloaded, Error> {
        let app = self.0.clone();
        tokio::spawn(async move { reload(&app).await }).await.map_err(|e| Error::Data(format!("reload failed: {e}")))?
    }
}

async fn reload(app: &Arc<App>) -> Result<Reloaded, Error> {
    let _one = app.reloading.lock().await;
    let refused = |e: Error| {
        app.metrics.failed_reloads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        app.say(&format!("reload refused, the previous model keeps serving: {e}"));
        e
    };
    let version = app.snapshot().version + 1;
    // The model path is read again: a link swapped to another folder is followed.
    let (dir, rules, events) = (app.opts.model_dir.clone(), app.opts.rules.clone(), app.log.path().to_path_buf());
    // Load and catch up with the log at the path without stopping anything...
    let moves = app.log.moves();
    let loaded = tokio::task::spawn_blocking(move || {
        let snapshot = Snapshot::load(&dir, rules.as_deref(), version)?;
        let replay = match events.exists() {
            true => events::read_from(&events, 0, 0)?,
            false => events::Replay { events: Vec::new(), end: 0, torn: 0, lines: 0 },
        };
        let applied = snapshot.apply(&replay.events);
        Ok::<_, Error>((snapshot, replay, applied))
    })
    .await
    .map_err(|e| Error::Data(format!("reload failed: {e}")))?;
    let (mut snapshot, replay, mut applied) = loaded.map_err(refused)?;
    // ...then, with events held back, move the log if its path now names
    // another file (carrying what this model lacks), apply the events logged
    // meanwhile (or, if it moved, the whole log again), and swap.
    let _quiet = app.gate.write().await;
    let carried = app.log.follow(snapshot.read_at()).await.map_err(refused)?;
    // The file read above is the log still, unless the log moved since (at
    // this follow, or at a commit meanwhile): then it is read again whole.
    let again = carried.is_some() || app.log.moves() != moves;
    let path = app.log.path().to_path_buf();
    let (snap, applied) = tokio::task::spawn_blocking(move || {
        match again {
            true => {
                snapshot.live = live::LiveUsers::default();
                applied = snapshot.apply(&events::read_from(&path, 0, 0)?.events);
            }
            false => {
                let tail = events::read_from(&path, replay.end, replay.lines)?;
                applied.applied += snapshot.apply(&tail.events).applied;
            }
        }
        Ok::<_, Error>((snapshot, applied))
    })
    .await
    .map_err(|e| Error::Data(format!("reload failed: {e}")))?
    .map_err(refused)?;
    let snapshot = Arc::new(snap);
    *app.snapshot.write().unwrap_or_else(|p| p.into_inner()) = snapshot.clone();
    app.metrics.model_version.store(version, std::sync::atomic::Ordering::Relaxed);
    let m = &snapshot.model;
    app.say(&format!(
        "reloaded {}: model version {version}, {} users × {} items, {} logged events applied",
        app.opts.model_dir.display(),
        m.user_count(),
        m.items.len(),
        applied.applied
    ));
    Ok(Reloaded {
        model_version: version,
        users: m.user_count(),
        items: m.items.len(),
        events_applied: applied.applied,
    })
}

/// A bound server, ready to run.
pub struct Server {
    app: Arc<App>,
    router: axum::Router,
    listener: tokio::net::TcpListener,
}

/// The loaded service, answering requests in process: its router is what
/// [`Server`] runs behind its connections, and what tests call directly
/// (`tower::ServiceExt::oneshot`).
pub struct Service {
    app: Arc<App>,
    router: axum::Router,
}

impl Service {
    /// Loads the model and replays the event log (dropping a torn last line
    /// with a warning); opens the log for new events.
    pub async fn open(opts: ServeOptions) -> Result<Self, Error> {
        let load_opts = opts.clone();
        let (snapshot, applied) = tokio::task::spawn_blocking(move || {
            let o = &load_opts;
            let snapshot = Snapshot::load(&o.model_dir, o.rules.as_deref(), 1)?;
            let applied = if o.events.exists() {
                if events::complete_last_line(&o.events)? {
                    (o.log)(&format!(
                        "{}: the last event had no line end (appended by hand?): kept, and its line ended",
                        o.events.display()
                    ));
                }
                let replay = events::read_from(&o.events, 0, 0)?;
                if replay.torn > 0 {
                    (o.log)(&format!(
                        "warning: {}: dropped a half-written last line ({} bytes; a write cut short, never acknowledged)",
                        o.events.display(),
                        replay.torn
                    ));
                    events::truncate_torn(&o.events, replay.end)?;
                }
                Some((replay.events.len(), snapshot.apply(&replay.events)))
            } else {
                None
            };
            Ok::<_, Error>((snapshot, applied))
        })
        .await
        .map_err(|e| Error::Data(format!("starting the server failed: {e}")))??;
        let say = |s: &str| (opts.log)(s);
        let m = &snapshot.model;
        say(&format!("model {}: {} users × {} items", opts.model_dir.display(), m.user_count(), m.items.len()));
        if let Some((n, a)) = &applied {
            say(&format!(
                "{}: {n} logged events; {} applied, {} already in the model, {} for items the model lacks",
                opts.events.display(),
                a.applied,
                a.older,
                a.unknown_items
            ));
            for (user, why) in &a.failed {
                say(&format!(
                    "warning: user '{}' keeps the model's row: {why}",
                    gramrec_core::text::escape_controls(user)
                ));
            }
        }
        let metrics = Arc::new(Metrics::default());
        let commits = metrics.clone();
        let notices = opts.log.clone();
        let log = EventLog::open(
            &opts.events,
            snapshot.read_at(),
            move |_| {
                commits.commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            },
            Box::new(move |line| notices(line)),
        )?;
        let batches = metrics.clone();
        let batcher = Batcher::start(
            opts.batching,
            Arc::new(move |n| {
                batches.batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                batches.batched.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            }),
        );
        let app = Arc::new(App {
            opts,
            snapshot: RwLock::new(Arc::new(snapshot)),
            gate: tokio::sync::RwLock::new(()),
            reloading: tokio::sync::Mutex::new(()),
            log,
            batcher,
            metrics,
        });
        let router = routes::router(app.clone())?;
        Ok(Self { app, router })
    }

    /// The router: every endpoint, with its guards and counters.
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }
}

impl Server {
    /// Loads the model, replays the event log (dropping a torn last line with
    /// a warning) and binds `listener`.
    pub async fn start(opts: ServeOptions, listener: std::net::TcpListener) -> Result<Self, Error> {
        let Service { app, router } = Service::open(opts).await?;
        listener.set_nonblocking(true).map_err(|e| Error::Data(format!("cannot listen: {e}")))?;
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|e| Error::Data(format!("cannot listen: {e}")))?;
        Ok(Self { app, router, listener })
    }

    /// The address it listens on (the port chosen when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// A handle that reloads the model.
    pub fn reloader(&self) -> Reloader {
        Reloader(self.app.clone())
    }

    /// Serves until `shutdown` resolves, then stops accepting connections,
    /// lets requests in flight finish, and syncs the event log.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), Error> {
        let (limits, log) = (self.app.opts.connections, self.app.opts.log.clone());
        connections::serve(self.listener, self.router, limits, log, shutdown).await;
        // Dropping the last handle closes the log (flushed and synced) and
        // stops the scoring threads.
        let app = self.app;
        tokio::task::spawn_blocking(move || drop(app)).await.ok();
        Ok(())
    }
}
