//! Counters for `GET /metrics`, in Prometheus' text format: requests and
//! errors by route and status, a latency histogram per route, events
//! accepted and group commits, scoring batches, the model's version, live
//! users and uptime.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The server's counters.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    routes: Mutex<BTreeMap<(String, &'static str), RouteStats>>,
    /// Events accepted (durable and applied).
    pub events: AtomicU64,
    /// Group commits of the event log.
    pub commits: AtomicU64,
    /// Scoring batches run.
    pub batches: AtomicU64,
    /// Users scored in them.
    pub batched: AtomicU64,
    /// The model's version: 1 at start, +1 per reload.
    pub model_version: AtomicU64,
    /// Reloads refused (the new model did not load).
    pub failed_reloads: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            routes: Mutex::default(),
            events: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            batched: AtomicU64::new(0),
            model_version: AtomicU64::new(1),
            failed_reloads: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, route: &str, method: &'static str, status: u16, took: Duration) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let stats = match routes.get_mut(&(route.to_string(), method)) {
            Some(s) => s,
            None => routes.entry((route.to_string(), method)).or_default(),
        };
        *stats.by_status.entry(status).or_default() += 1;
        let s = took.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|&le| s <= le) {
            stats.buckets[b] += 1;
        }
        stats.sum += s;
        stats.count += 1;
    }

    /// The text exposition; `live_users` is read by the caller.
    pub fn render(&self, live_users: usize) -> String {
        let mut text = String::new();
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        header(&mut text, "gramrec_http_requests_total", "counter", "Requests answered, by route, method and status.");
        for ((route, method), s) in routes.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    text,
                    "gramrec_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        header(
            &mut text,
            "gramrec_http_errors_total",
            "counter",
            "Requests answered with a 4xx or 5xx status, by route.",
        );
        for ((route, method), s) in routes.iter() {
            let errors: u64 = s.by_status.iter().filter(|(st, _)| **st >= 400).map(|(_, n)| n).sum();
            let _ = writeln!(text, "gramrec_http_errors_total{{route=\"{route}\",method=\"{method}\"}} {errors}");
        }
        header(&mut text, "gramrec_http_request_duration_seconds", "histogram", "Time to answer, by route.");
        for ((route, method), s) in routes.iter() {
            let labels = format!("route=\"{route}\",method=\"{method}\"");
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(&s.buckets) {
                cumulative += n;
                let _ =
                    writeln!(text, "gramrec_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(text, "gramrec_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(text, "gramrec_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(text, "gramrec_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let scalars: [(&str, &str, &str, String); 8] = [
            (
                "gramrec_events_accepted_total",
                "counter",
                "Events made durable and applied.",
                load(&self.events).to_string(),
            ),
            (
                "gramrec_event_commits_total",
                "counter",
                "Group commits (one fsync each) of the event log.",
                load(&self.commits).to_string(),
            ),
            ("gramrec_scoring_batches_total", "counter", "Top-k scoring passes.", load(&self.batches).to_string()),
            (
                "gramrec_scoring_batch_users_total",
                "counter",
                "Users scored in those passes.",
                load(&self.batched).to_string(),
            ),
            (
                "gramrec_model_version",
                "gauge",
                "The model served: 1 at start, one more per reload.",
                load(&self.model_version).to_string(),
            ),
            (
                "gramrec_reload_failures_total",
                "counter",
                "Reloads refused because the new model did not load.",
                load(&self.failed_reloads).to_string(),
            ),
            ("gramrec_live_users", "gauge", "Users whose rows were solved again from events.", live_users.to_string()),
            (
                "gramrec_uptime_seconds",
                "gauge",
                "Seconds since the server started.",
                format!("{:.3}", self.started.elapsed().as_secs_f64()),
            ),
        ];
        for (name, kind, help, value) in scalars {
            header(&mut text, name, kind, help);
            let _ = writeln!(text, "{name} {value}");
        }
        text
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_errors() {
        let m = Metrics::default();
        m.request("/v1/popular", "GET", 200, Duration::from_micros(300));
        m.request("/v1/popular", "GET", 400, Duration::from_millis(3));
        let t = m.render(0);
        assert!(
            t.contains("gramrec_http_requests_total{route=\"/v1/popular\",method=\"GET\",status=\"400\"} 1"),
            "{t}"
        );
        assert!(t.contains("gramrec_http_errors_total{route=\"/v1/popular\",method=\"GET\"} 1"));
        assert!(t.contains("le=\"0.0005\"} 1\n"));
        assert!(t.contains("le=\"0.005\"} 2\n"));
        assert!(t.contains("le=\"+Inf\"} 2\n"));
        assert!(t.contains("# TYPE gramrec_uptime_seconds gauge\ngramrec_uptime_seconds "));
    }
}
