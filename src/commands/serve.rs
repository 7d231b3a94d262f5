//! `gramrec serve`: options from the flags and the environment, the
//! signals (SIGHUP reloads, SIGTERM and Ctrl-C stop gracefully), and the
//! server of `gramrec-serve`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use gramrec_core::Error;
use gramrec_serve::{Batching, Connections, Limits, ServeOptions, Server};

use crate::cli::ServeArgs;

pub fn run(a: ServeArgs) -> Result<()> {
    if a.batch == 0 {
        return Err(Error::Argument("--batch must be at least 1 (1 scores each request alone)".into()).into());
    }
    if a.threads > gramrec_als::MAX_THREADS {
        return Err(Error::Argument(format!(
            "--threads must be between 0 (one per core) and {}, not {}",
            gramrec_als::MAX_THREADS,
            a.threads
        ))
        .into());
    }
    if a.batch_wait_us > 1000 {
        return Err(Error::Argument(format!("--batch-wait-us is at most 1000, not {}", a.batch_wait_us)).into());
    }
    let timeout = |flag: &str, secs: f64| -> Result<Duration> {
        if !(0.1..=3600.0).contains(&secs) {
            return Err(Error::Argument(format!("--{flag} is between 0.1 and 3600 seconds, not {secs}")).into());
        }
        Ok(Duration::from_secs_f64(secs))
    };
    let (header_timeout, body_timeout) =
        (timeout("header-timeout", a.header_timeout)?, timeout("body-timeout", a.body_timeout)?);
    if a.max_connections == 0 {
        return Err(Error::Argument("--max-connections must be at least 1".into()).into());
    }
    let admin_token = match a.admin_token.clone() {
        Some(t) if t.len() < 16 => {
            return Err(Error::Argument("--admin-token must be at least 16 characters".into()).into())
        }
        Some(t) => Some(t),
        None => crate::env::admin_token()?,
    };
    let listener = std::net::TcpListener::bind(&a.listen)
        .map_err(|e| Error::Argument(format!("--listen {}: cannot listen there: {e}", a.listen)))?;
    let quiet = a.quiet;
    let mut opts = ServeOptions::new(&a.model);
    if let Some(events) = &a.events {
        opts.events = events.clone();
    }
    opts.rules = a.rules.clone();
    opts.web = a.web.clone();
    opts.cors = a.cors.clone();
    opts.allowed_hosts = a.allowed_host.clone();
    opts.admin_token = admin_token;
    opts.limits = Limits { max_body: a.max_body, max_history: a.max_history };
    let (max_connections, lowered) = connections_within_file_limit(a.max_connections);
    opts.connections = Connections { max: max_connections, header_timeout, body_timeout };
    opts.batching = Batching { max: a.batch, wait: Duration::from_micros(a.batch_wait_us), workers: a.threads };
    opts.log = Arc::new(move |line| {
        if !quiet {
            crate::progress::stderr_line(line)
        }
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gramrec-http")
        .build()
        .map_err(|e| Error::Data(format!("cannot start the server's threads: {e}")))?;
    if let Some(limit) = lowered {
        (opts.log)(&format!(
            "warning: --max-connections lowered to {max_connections}: the open-file limit is {limit} (ulimit -n), \
             and the model, the log and the scoring threads need some"
        ));
    }
    runtime.block_on(async move {
        let log = opts.log.clone();
        let server = Server::start(opts, listener).await?;
        log(&format!("listening on http://{}", server.local_addr()));
        let reloader = server.reloader();
        tokio::spawn(async move {
            #[cfg(unix)]
            if let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
                while hangups.recv().await.is_some() {
                    // The reload logs its outcome; a refused model leaves the old one serving.
                    let _ = reloader.reload().await;
                }
            }
            #[cfg(not(unix))]
            drop(reloader);
        });
        let stop_log = log.clone();
        server
            .run(async move {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate() => {}
                }
                stop_log("stopping: finishing the requests in flight");
            })
            .await?;
        log("stopped; every acknowledged event is in the log");
        Ok::<_, anyhow::Error>(())
    })
}

/// Resolves on SIGTERM (never where there is no such signal).
async fn terminate() {
    #[cfg(unix)]
    if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        s.recv().await;
        return;
    }
    std::future::pending::<()>().await
}

/// Descriptors kept for everything but connections: the model and event
/// files, the static files being sent, the runtime's own.
const RESERVED_FILES: usize = 64;

/// The connection cap that fits the open-file limit: the soft limit is
/// raised towards the hard one as far as `wanted` needs, and the cap lowered
/// to what is left if that is not enough (with the limit, to say so).
/// Without it, connections past the limit make `accept` fail and lock every
/// client out.
fn connections_within_file_limit(wanted: usize) -> (usize, Option<usize>) {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit and setrlimit read and write the one struct given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return (wanted, None);
        }
        let need = libc::rlim_t::try_from(wanted + RESERVED_FILES).unwrap_or(libc::rlim_t::MAX);
        if lim.rlim_cur < need {
            let raised = libc::rlimit { rlim_cur: need.min(lim.rlim_max), rlim_max: lim.rlim_max };
            // SAFETY: as above.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                lim.rlim_cur = raised.rlim_cur;
            }
        }
        let files = usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX);
        let fits = files.saturating_sub(RESERVED_FILES).max(1);
        if fits < wanted {
            return (fits, Some(files));
        }
    }
    (wanted, None)
}
