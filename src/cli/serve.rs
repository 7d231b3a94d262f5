//! `gramrec serve`: the HTTP API.

use std::path::PathBuf;

use clap::Args;

use super::long_help;

/// `gramrec serve`.
#[cfg(feature = "serve")]
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The model directory (items.gramrec and users.gramrec).
    #[arg(long, short, long_help = long_help::SERVE_MODEL)]
    pub model: PathBuf,
    /// Address and port to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The event log, appended to and replayed on start (default: MODEL/events.jsonl).
    #[arg(long, long_help = long_help::EVENTS)]
    pub events: Option<PathBuf>,
    /// An association-rules file (`gramrec rules --out rules.gramrec`) for GET /v1/items/{id}/associations.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Also serve this folder's files at / (the page, the WASM module, the item file).
    #[arg(long)]
    pub web: Option<PathBuf>,
    /// Let pages from this origin call the API (e.g. https://shop.example; * for any).
    #[arg(long)]
    pub cors: Option<String>,
    /// A host name the server answers to (repeatable).
    #[arg(long, value_name = "NAME", long_help = long_help::ALLOWED_HOST)]
    pub allowed_host: Vec<String>,
    /// Turn on POST /v1/admin/reload with this token.
    #[arg(long, long_help = long_help::ADMIN_TOKEN)]
    pub admin_token: Option<String>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body: usize,
    /// Most history entries in a fold-in request, and events in one post.
    #[arg(long, default_value_t = 10_000)]
    pub max_history: usize,
    /// Most concurrent top-k requests scored in one pass over the item factors (1: each alone).
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Longest a top-k request waits for others to share its pass, in microseconds (at most 1000).
    #[arg(long, default_value_t = 200)]
    pub batch_wait_us: u64,
    /// Scoring threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Most connections open at once; more wait until one closes.
    #[arg(long, default_value_t = 512, long_help = long_help::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds a request's headers may take.
    #[arg(long, default_value_t = 30.0, long_help = long_help::HEADER_TIMEOUT)]
    pub header_timeout: f64,
    /// Seconds a request's whole body may take to arrive (408 after).
    #[arg(long, default_value_t = 30.0)]
    pub body_timeout: f64,
    /// No log lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}
