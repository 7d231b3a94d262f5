//! `gramrec serve` through real HTTP on 127.0.0.1: every endpoint against
//! the CLI's answers for the same model, events that survive `kill -9`,
//! reloads under load, concurrent events for one user, requests hyper
//! cannot parse, slow clients, static files and CORS. Bad requests and the
//! cross-site guards are answered in process, through the router
//! (crates/gramrec-serve/tests/endpoints.rs).
#![cfg(feature = "serve")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{check, generate, gramrec, ok_json};
use serde_json::{json, Value};

/// A running `gramrec serve`, killed when dropped.
struct Served {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn start(model: &Path, extra: &[&str]) -> Served {
        Self::start_with_env(model, extra, &[])
    }

    fn start_with_env(model: &Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("gramrec"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--model"]).arg(model).args(extra);
        cmd.env_remove("GRAMREC_ADMIN_TOKEN").envs(env.iter().copied());
        Self::spawn(cmd)
    }

    /// The server under an open-file limit of `files` (as `ulimit -n` sets it).
    #[cfg(unix)]
    fn start_with_file_limit(model: &Path, extra: &[&str], files: u32) -> Served {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!(r#"ulimit -n {files} && exec "$0" "$@""#));
        cmd.arg(assert_cmd::cargo::cargo_bin("gramrec"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--model"]).arg(model).args(extra);
        cmd.env_remove("GRAMREC_ADMIN_TOKEN");
        Self::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Served {
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => panic!("the server did not start: {:?}", log.lock().unwrap()),
        };
        Served { child, addr, log }
    }

    fn get(&self, path: &str) -> Reply {
        http(&self.addr, "GET", path, &[], b"")
    }

    fn post(&self, path: &str, body: &Value) -> Reply {
        http(&self.addr, "POST", path, &[("content-type", "application/json")], body.to_string().as_bytes())
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body of a 200, as JSON.
    fn ok(&self) -> Value {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        self.json()
    }
}

/// One request on its own connection (HTTP/1.1, `Connection: close`).
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    Reply { status, headers, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 4 + n..];
    }
}

/// The items of a list, with their scores.
fn ranked(v: &Value) -> Vec<(String, f64)> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["item"].as_str().unwrap().to_string(), x["score"].as_f64().unwrap()))
        .collect()
}

/// The same items in the same order, scores within 1e-5.
fn same_list(server: &Value, cli: &Value) {
    let (a, b) = (ranked(server), ranked(cli));
    assert_eq!(
        a.iter().map(|x| &x.0).collect::<Vec<_>>(),
        b.iter().map(|x| &x.0).collect::<Vec<_>>(),
        "{server} vs {cli}"
    );
    for ((_, x), (_, y)) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "{x} vs {y}");
    }
    assert_eq!(server.get("coldStart"), cli.get("coldStart"));
    assert_eq!(server.get("unknown"), cli.get("unknown"));
}

/// An implicit data set, an item catalogue naming a few items, a model
/// trained on them, and a rules file mined from the same interactions.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    model: PathBuf,
    rules: PathBuf,
}

fn fixture(kind: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let data = root.join("data.csv");
    generate(&data, kind, 400, 120, 8000);
    let catalogue = root.join("items.csv");
    let names: String = (0..120).step_by(3).map(|i| format!("i{i},Item number {i}\n")).collect();
    std::fs::write(&catalogue, format!("item,name\n{names}")).unwrap();
    let model = root.join("model");
    gramrec()
        .args(["train", "-q", "--factors", "8", "--iterations", "4", "--input"])
        .arg(&data)
        .arg("--items")
        .arg(&catalogue)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let rules = root.join("rules.gramrec");
    gramrec()
        .args([
            "rules",
            "--min-support",
            "0.05",
            "--min-confidence",
            "0.1",
            "--max-len",
            "2",
            "--basket-col",
            "user",
            "--input",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&rules)
        .assert()
        .success();
    Fixture { _dir: dir, root, data, model, rules }
}

fn cli(args: &[&str], model: &Path) -> Value {
    ok_json(gramrec().args(args).arg("--model").arg(model).arg("--json"))
}

#[test]
fn every_endpoint_answers_as_the_cli_does() {
    for kind in ["implicit", "explicit"] {
        let f = fixture(kind);
        let s = Served::start(&f.model, &["--rules", f.rules.to_str().unwrap()]);
        for user in ["u1", "u17", "u399"] {
            let got = s.get(&format!("/v1/users/{user}/recommendations?k=7")).ok();
            check("recommendations", &got);
            same_list(&got, &cli(&["recommend", "--user", user, "--k", "7"], &f.model));
            let all = s.get(&format!("/v1/users/{user}/recommendations?k=7&includeSeen=true")).ok();
            same_list(&all, &cli(&["recommend", "--user", user, "--k", "7", "--include-seen"], &f.model));
        }
        // An unknown user: the popular items, marked coldStart, as the CLI.
        let cold = s.get("/v1/users/nobody/recommendations?k=5").ok();
        assert_eq!(cold["coldStart"], true);
        same_list(&cold, &cli(&["recommend", "--user", "nobody", "--k", "5"], &f.model));
        let popular = s.get("/v1/popular?k=5").ok();
        check("item-list", &popular);
        assert_eq!(ranked(&popular), ranked(&cold));

        // Fold-in, as `recommend --history`.
        let body =
            json!({"history": [{"item": "i3", "weight": 4}, {"item": "i9"}, {"item": "nope", "weight": 2}], "k": 6});
        let folded = s.post("/v1/recommendations", &body).ok();
        check("recommendations", &folded);
        same_list(&folded, &cli(&["recommend", "--history", "i3:4,i9,nope:2", "--k", "6"], &f.model));
        assert_eq!(folded["unknown"], json!(["nope"]));

        let similar = s.get("/v1/items/i3/similar?k=4").ok();
        check("item-list", &similar);
        same_list(&similar, &cli(&["similar", "--item", "i3", "--k", "4"], &f.model));

        let item = s.get("/v1/items/i3").ok();
        check("item", &item);
        assert_eq!(item["name"], "Item number 3");
        assert!(item["interactions"].as_u64().unwrap() > 0);
        assert!(s.get("/v1/items/i4").ok().get("name").is_none(), "i4 has no name");
        // Names travel with every list.
        let named = s.get("/v1/items/i4/similar?k=120").ok();
        assert!(named["items"].as_array().unwrap().iter().any(|x| x["name"] == "Item number 3"));

        let cli_rules =
            ok_json(gramrec().args(["rules", "--rules"]).arg(&f.rules).args(["--show", "i3", "--k", "5", "--json"]));
        let assoc = s.get("/v1/items/i3/associations?k=5").ok();
        check("associations", &assoc);
        assert_eq!(assoc["items"].as_array().unwrap().len(), cli_rules["items"].as_array().unwrap().len());
        for (a, b) in assoc["items"].as_array().unwrap().iter().zip(cli_rules["items"].as_array().unwrap()) {
            assert_eq!(a["item"], b["item"]);
            assert!((a["confidence"].as_f64().unwrap() - b["confidence"].as_f64().unwrap()).abs() < 1e-9);
        }

        let health = s.get("/healthz").ok();
        check("health", &health);
        assert_eq!((health["users"].as_u64(), health["items"].as_u64()), (Some(400), Some(120)));
        let metrics = s.get("/metrics");
        assert_eq!(metrics.status, 200);
        let text = String::from_utf8(metrics.body).unwrap();
        assert!(
            text.contains(
                "gramrec_http_requests_total{route=\"/v1/users/{id}/recommendations\",method=\"GET\",status=\"200\"} 7"
            ),
            "{text}"
        );
        assert!(text.contains("gramrec_model_version 1"));
        assert!(text.contains("# TYPE gramrec_http_request_duration_seconds histogram"));
    }
}

/// The server's events, as `weight` of (user, item), from its log.
fn logged(path: &Path) -> Vec<(String, String, f64)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["user"].as_str().unwrap().into(), v["item"].as_str().unwrap().into(), v["weight"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn acknowledged_events_survive_kill_9_and_are_reflected_after_restart() {
    let f = fixture("implicit");
    let events = f.root.join("events.jsonl");
    let s = Served::start(&f.model, &["--events", events.to_str().unwrap()]);
    // Eight clients post events until the server dies; each records what was acknowledged.
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (addr, acked, stop) = (s.addr.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let user = format!("new{c}");
                    let weight = 1.0 + (n % 7) as f64;
                    let body = json!({"item": format!("i{}", (c * 13 + n) % 120), "weight": weight}).to_string();
                    let Ok(mut conn) = TcpStream::connect(&addr) else { break };
                    let req = format!(
                        "POST /v1/users/{user}/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let mut reply = Vec::new();
                    if conn.write_all(req.as_bytes()).is_err() || conn.read_to_end(&mut reply).is_err() {
                        break;
                    }
                    if reply.starts_with(b"HTTP/1.1 200") {
                        acked.lock().unwrap().push((user, format!("i{}", (c * 13 + n) % 120), weight));
                    } else if reply.is_empty() {
                        break;
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acked.lock().unwrap().len() < 300 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut s = s;
    s.child.kill().unwrap(); // SIGKILL: no drain, no shutdown
    s.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300, "only {} events acknowledged", acked.len());
    let mut on_disk = logged(&events);
    for a in &acked {
        let at = on_disk.iter().position(|e| e == a).unwrap_or_else(|| panic!("acknowledged {a:?} is not in the log"));
        on_disk.swap_remove(at);
    }
    // A crash in the middle of a write leaves a torn line: dropped with a warning.
    let mut f_log = std::fs::OpenOptions::new().append(true).open(&events).unwrap();
    f_log.write_all(b"{\"user\":\"new0\",\"item\":\"i1").unwrap();
    drop(f_log);
    let before = logged_lines(&events);

    let s2 = Served::start(&f.model, &["--events", events.to_str().unwrap()]);
    assert!(s2.log_text().contains("dropped a half-written last line"), "{}", s2.log_text());
    assert_eq!(logged_lines(&events), before - 1, "the torn line is cut off");
    assert!(std::fs::read(&events).unwrap().ends_with(b"\n"));
    // Each user's recommendations are those of their logged history, folded
    // in: what `recommend --history` gives for it (the users are new).
    let log = logged(&events);
    for c in 0..8 {
        let user = format!("new{c}");
        let history: Vec<String> = log.iter().filter(|e| e.0 == user).map(|e| format!("{}:{}", e.1, e.2)).collect();
        let got = s2.get(&format!("/v1/users/{user}/recommendations?k=5")).ok();
        assert_eq!(got["coldStart"], false);
        let want = cli(&["recommend", "--history", &history.join(","), "--k", "5"], &f.model);
        same_list(&got, &want);
    }
    // And they keep going where they left off.
    assert_eq!(s2.post("/v1/users/new0/events", &json!({"item": "i2"})).status, 200);
    // `train` reads the log as input beside the base file.
    let retrained = f.root.join("retrained");
    let t = ok_json(
        gramrec()
            .args(["train", "-q", "--json", "--factors", "4", "--iterations", "1", "--input"])
            .arg(&f.data)
            .arg("--input")
            .arg(&events)
            .arg("--out")
            .arg(&retrained),
    );
    assert_eq!(t["users"], 408, "the 8 new users are trained on");
}

fn logged_lines(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

#[test]
fn concurrent_events_for_one_user_all_count_as_a_serial_replay_does() {
    for kind in ["implicit", "explicit"] {
        let f = fixture(kind);
        let events = f.root.join("events.jsonl");
        let s = Served::start(&f.model, &["--events", events.to_str().unwrap()]);
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let addr = s.addr.clone();
                std::thread::spawn(move || {
                    for n in 0..8 {
                        // Items repeat across threads: merging depends on the order.
                        let body =
                            json!([{"item": format!("i{}", (t + n) % 10), "weight": 1 + (t * n) % 5}]).to_string();
                        let json = [("content-type", "application/json")];
                        let r = http(&addr, "POST", "/v1/users/u5/events", &json, body.as_bytes());
                        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(logged_lines(&events), 128);
        let live = s.get("/v1/users/u5/recommendations?k=10").ok();
        drop(s);
        // A fresh server replays the log serially.
        let replayed = Served::start(&f.model, &["--events", events.to_str().unwrap()]);
        let serial = replayed.get("/v1/users/u5/recommendations?k=10").ok();
        assert_eq!(ranked(&live), ranked(&serial), "{kind}: exactly equal, not just close");
        let before = cli(&["recommend", "--user", "u5", "--k", "10"], &f.model);
        assert_ne!(ranked(&live), ranked(&before), "{kind}: the events changed the row");
    }
}

#[test]
fn reloads_swap_models_under_load_and_refuse_a_corrupt_one() {
    let f = fixture("implicit");
    let token = "a-token-of-sixteen-chars";
    let s = Served::start_with_env(&f.model, &[], &[("GRAMREC_ADMIN_TOKEN", token)]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let load: Vec<_> = (0..4)
        .map(|t| {
            let (addr, stop, failures) = (s.addr.clone(), stop.clone(), failures.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = http(
                        &addr,
                        "GET",
                        &format!("/v1/users/u{}/recommendations?k=10", (t * 31 + n) % 400),
                        &[],
                        b"",
                    );
                    if r.status != 200 {
                        failures.lock().unwrap().push(r.status);
                    }
                    n += 1;
                }
                n
            })
        })
        .collect();
    // A new model, written into the served directory as `train` commits it.
    let retrain = |factors: &str, seed: &str| {
        gramrec()
            .args(["train", "-q", "--factors", factors, "--iterations", "3", "--seed", seed, "--input"])
            .arg(&f.data)
            .arg("--out")
            .arg(&f.model)
            .assert()
            .success();
    };
    retrain("6", "7");
    // An event after the new model read its data: the reload applies it again.
    assert_eq!(s.post("/v1/users/u7/events", &json!({"item": "i1", "weight": 2})).status, 200);
    let auth = format!("Bearer {token}");
    let r = http(&s.addr, "POST", "/v1/admin/reload", &[("authorization", &auth)], b"");
    let reloaded = r.ok();
    check("reloaded", &reloaded);
    assert_eq!((&reloaded["modelVersion"], &reloaded["eventsApplied"]), (&json!(2), &json!(1)));
    let now = s.get("/v1/users/u3/recommendations?k=5").ok();
    same_list(&now, &cli(&["recommend", "--user", "u3", "--k", "5"], &f.model));
    // u7's row is their training items (weight 1: clicks) and the event, folded into the new model.
    let text = std::fs::read_to_string(&f.data).unwrap();
    let mut history: Vec<String> =
        text.lines().filter_map(|l| l.strip_prefix("u7,")).map(|i| format!("{i}:1")).collect();
    history.push("i1:2".into());
    let u7 = s.get("/v1/users/u7/recommendations?k=5").ok();
    same_list(&u7, &cli(&["recommend", "--history", &history.join(","), "--k", "5"], &f.model));

    // SIGHUP reloads too.
    retrain("5", "8");
    s.signal("-HUP");
    let started = Instant::now();
    while s.get("/healthz").ok()["modelVersion"] != 3 {
        assert!(started.elapsed() < Duration::from_secs(30), "SIGHUP did not reload: {}", s.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let now = s.get("/v1/users/u3/recommendations?k=5").ok();
    same_list(&now, &cli(&["recommend", "--user", "u3", "--k", "5"], &f.model));

    // A damaged model is refused; the one before keeps serving.
    let items = f.model.join("items.gramrec");
    let mut bytes = std::fs::read(&items).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&items, bytes).unwrap();
    let refused = http(&s.addr, "POST", "/v1/admin/reload", &[("authorization", &auth)], b"");
    assert_eq!(refused.status, 500);
    check("error", &refused.json());
    assert!(refused.json()["error"].as_str().unwrap().contains("the previous model keeps serving"));
    same_list(&s.get("/v1/users/u3/recommendations?k=5").ok(), &now);
    let wrong = http(&s.addr, "POST", "/v1/admin/reload", &[("authorization", "Bearer not-the-token-at-all")], b"");
    assert_eq!(wrong.status, 403);
    assert_eq!(http(&s.addr, "POST", "/v1/admin/reload", &[], b"").status, 401);

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let served: usize = load.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(served > 20, "the load ran ({served} requests)");
    assert!(failures.lock().unwrap().is_empty(), "failed requests during reloads: {:?}", failures.lock().unwrap());
    let metrics = String::from_utf8(s.get("/metrics").body).unwrap();
    assert!(metrics.contains("gramrec_model_version 3") && metrics.contains("gramrec_reload_failures_total 1"));

    // SIGTERM: a graceful stop, exit 0.
    let mut s = s;
    s.signal("-TERM");
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status:?}: {}", s.log_text());
}

#[test]
fn static_files_are_served_safely_with_types_compression_and_cors() {
    let f = fixture("implicit");
    let web = f.root.join("site");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), format!("<!doctype html><title>shop</title>{}", "<p>hello</p>".repeat(200)))
        .unwrap();
    std::fs::write(web.join("gramrec.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(f.root.join("secret.txt"), b"not for the web").unwrap();
    let s = Served::start(&f.model, &["--web", web.to_str().unwrap(), "--cors", "https://shop.example"]);
    let index = http(&s.addr, "GET", "/", &[("accept-encoding", "gzip")], b"");
    assert_eq!(index.status, 200);
    assert_eq!(index.header("content-encoding"), Some("gzip"));
    assert!(index.header("content-type").unwrap().starts_with("text/html"));
    assert!(index.header("cache-control").is_some() && index.header("last-modified").is_some());
    let mut html = String::new();
    flate2::read::GzDecoder::new(&index.body[..]).read_to_string(&mut html).unwrap();
    assert!(html.starts_with("<!doctype html><title>shop</title>"));
    let wasm = s.get("/gramrec.wasm");
    assert_eq!((wasm.status, wasm.header("content-type")), (200, Some("application/wasm")));
    // Links out of the folder, hidden files and folders: never served.
    std::os::unix::fs::symlink(f.root.join("secret.txt"), web.join("passwd")).unwrap();
    std::os::unix::fs::symlink(&f.root, web.join("outside")).unwrap();
    std::fs::create_dir_all(web.join(".git")).unwrap();
    std::fs::write(web.join(".git/config"), b"not for the web").unwrap();
    std::fs::write(web.join(".env"), b"not for the web").unwrap();
    std::os::unix::fs::symlink("gramrec.wasm", web.join("module.wasm")).unwrap();
    for sneaky in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/site/../../secret.txt",
        "/passwd",
        "/outside/secret.txt",
        "/.git/config",
        "/%2egit/config",
        "/.env",
    ] {
        let r = s.get(sneaky);
        assert_eq!(r.status, 404, "{sneaky}");
        assert!(!String::from_utf8_lossy(&r.body).contains("not for the web"), "{sneaky}");
        assert!(String::from_utf8_lossy(&r.body).contains("\"error\""), "{sneaky}: a JSON error");
    }
    assert_eq!(s.get("/module.wasm").status, 200, "a link inside the folder is served");
    // The API still answers beside the files, and pages of the allowed origin may call it.
    let pre = http(
        &s.addr,
        "OPTIONS",
        "/v1/recommendations",
        &[
            ("origin", "https://shop.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        b"",
    );
    assert_eq!(pre.header("access-control-allow-origin"), Some("https://shop.example"));
    let other = http(&s.addr, "GET", "/v1/popular?k=2", &[("origin", "https://evil.example")], b"");
    assert_eq!(other.status, 200);
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[test]
fn a_hand_appended_last_event_without_a_line_end_is_an_event() {
    let f = fixture("implicit");
    let events = f.root.join("hand.jsonl");
    std::fs::write(&events, "{\"user\":\"hand\",\"item\":\"i1\"}\n{\"user\":\"hand\",\"item\":\"i2\",\"weight\":2}")
        .unwrap();
    let s = Served::start(&f.model, &["--events", events.to_str().unwrap()]);
    assert!(s.log_text().contains("the last event had no line end"), "{}", s.log_text());
    assert!(std::fs::read(&events).unwrap().ends_with(b"\"weight\":2}\n"), "kept, and its line ended");
    let got = s.get("/v1/users/hand/recommendations?k=3").ok();
    let want = cli(&["recommend", "--history", "i1:1,i2:2", "--k", "3"], &f.model);
    same_list(&got, &want);
    // Weights whose sums would not be finite are refused, in JSON.
    for (path, body) in [
        ("/v1/users/hand/events", json!({"item": "i3", "weight": 3e38})),
        ("/v1/recommendations", json!({"history": [{"item": "i1", "weight": -3e38}], "k": 3})),
    ] {
        let r = s.post(path, &body);
        assert_eq!(r.status, 400, "{path}");
        assert!(String::from_utf8_lossy(&r.body).contains("within ±1e15"), "{path}");
    }
    // An event posted now starts a line of its own.
    assert_eq!(s.post("/v1/users/hand/events", &json!({"item": "i3"})).status, 200);
    assert_eq!(logged_lines(&events), 3);
}

#[test]
fn bad_start_up_options_are_one_line_errors_with_exit_2() {
    let f = fixture("implicit");
    let events = f.root.join("bad-events.jsonl");
    std::fs::write(&events, "{\"user\":\"u1\",\"item\":\"i1\"}\nnot json\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--listen".into(), "nonsense".into()], "--listen nonsense: cannot listen there"),
        (vec!["--events".into(), events.to_str().unwrap().into()], "bad-events.jsonl:2: not an event line"),
        (vec!["--cors".into(), "bad\norigin".into()], "--cors: 'bad\\u{a}origin' is not an origin"),
        (vec!["--batch".into(), "0".into()], "--batch must be at least 1"),
        (vec!["--batch-wait-us".into(), "5000".into()], "at most 1000"),
        (vec!["--threads".into(), "100000".into()], "--threads must be between 0 (one per core) and 1024, not 100000"),
        (vec!["--admin-token".into(), "short".into()], "at least 16 characters"),
    ];
    for (args, message) in cases {
        let mut cmd = gramrec();
        cmd.args(["serve", "-q", "--model"]).arg(&f.model);
        if !args.contains(&"--listen".to_string()) {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        let out = cmd.args(&args).timeout(Duration::from_secs(60)).assert().code(2).get_output().stderr.clone();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1, "{args:?}: {text}");
        assert!(text.contains(message), "{args:?}: {text}");
    }
}

/// Sends `raw` on a connection of its own and reads the answer to its end
/// (or for `wait` at most).
fn raw_exchange(addr: &str, raw: &[u8], wait: Duration) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(wait)).unwrap();
    // The server may answer and close before all is sent (a URI too long).
    let _ = c.write_all(raw);
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn requests_hyper_cannot_parse_get_a_json_error_too() {
    let f = fixture("implicit");
    let s = Served::start(&f.model, &[]);
    let host = format!("Host: {}\r\n", s.addr);
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (format!("GET /{} HTTP/1.1\r\n{host}\r\n", "a".repeat(70_000)).into_bytes(), "414", "URI"),
        (format!("GET /healthz HTTP/1.1\r\n{host}X: {}\r\n\r\n", "a".repeat(500_000)).into_bytes(), "431", "headers"),
        (format!("GET /healthz HTTP/1.1\r\n{host}{}\r\n", "X: y\r\n".repeat(101)).into_bytes(), "431", "headers"),
        (b"NOT AN HTTP REQUEST\r\n\r\n".to_vec(), "400", "malformed"),
        (format!("GET /healthz HTTP/1.1\r\n{host}Bad Header\r\n\r\n").into_bytes(), "400", "malformed"),
    ];
    for (request, status, says) in cases {
        let answer = raw_exchange(&s.addr, &request, Duration::from_secs(10));
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{status} ({}): {answer:.200}",
            String::from_utf8_lossy(&request[..60.min(request.len())])
        );
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let json: Value = serde_json::from_str(body).unwrap();
        assert!(json["error"].as_str().unwrap().contains(says), "{status}: {body}");
    }
    // After a good answer on the same connection, the error still gets its body.
    let pipelined = format!("GET /healthz HTTP/1.1\r\n{host}\r\nGET /{} HTTP/1.1\r\n{host}\r\n", "a".repeat(70_000));
    let answer = raw_exchange(&s.addr, pipelined.as_bytes(), Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer:.200}");
    let second = &answer[answer.find("HTTP/1.1 414 ").expect("the second answer")..];
    assert!(second.ends_with(r#"{"error":"the request's URI is longer than 65,534 bytes"}"#), "{second}");
    assert_eq!(s.get("/healthz").status, 200);
}

#[cfg(unix)]
#[test]
fn silent_and_slow_clients_cannot_lock_the_others_out() {
    let f = fixture("implicit");
    // Under 256 descriptors, as the red team ran it: the cap is lowered to fit.
    let s = Served::start_with_file_limit(&f.model, &["--header-timeout", "2", "--body-timeout", "1"], 256);
    assert!(s.log_text().contains("--max-connections lowered to 192"), "{}", s.log_text());
    let silent: Vec<TcpStream> = (0..280).map(|_| TcpStream::connect(&s.addr).unwrap()).collect();
    let mut half_headers: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(&s.addr).unwrap()).collect();
    for c in &mut half_headers {
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").unwrap();
    }
    // Served once the silent ones time out, not never.
    let started = Instant::now();
    let answer = raw_exchange(
        &s.addr,
        format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", s.addr).as_bytes(),
        Duration::from_secs(30),
    );
    assert!(answer.starts_with("HTTP/1.1 200 "), "after {:?}: {answer:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    // The silent and half-sent connections were closed by the server.
    for mut c in silent.into_iter().take(3).chain(half_headers.into_iter().take(3)) {
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(c.read(&mut buf).unwrap_or(0), 0, "closed after the header timeout");
    }
    // A body sent too slowly is answered 408, in JSON.
    let mut c = TcpStream::connect(&s.addr).unwrap();
    let head = format!(
        "POST /v1/recommendations HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        s.addr
    );
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(b"{\"history\": [").unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut answer = String::new();
    let _ = c.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains(r#"{"error":"the request body did not arrive within 1 s"}"#), "{answer}");
    assert!(s.log_text().contains("192 connections open, the most allowed"), "{}", s.log_text());
    drop(s);

    // With the usual limit, hundreds of silent connections do not delay anyone.
    let s = Served::start(&f.model, &[]);
    let _silent: Vec<TcpStream> = (0..300).map(|_| TcpStream::connect(&s.addr).unwrap()).collect();
    let started = Instant::now();
    assert_eq!(s.get("/healthz").status, 200);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// `u1`'s top 5 item IDs as the server ranks them now.
fn top5(s: &Served) -> Vec<String> {
    ranked(&s.get("/v1/users/u1/recommendations?k=5").ok()).into_iter().map(|(item, _)| item).collect()
}

/// The (user, item) pairs of a log, in order.
fn logged_pairs(path: &Path) -> Vec<(String, String)> {
    logged(path).into_iter().map(|(u, i, _)| (u, i)).collect()
}

#[cfg(unix)]
#[test]
fn blue_green_deploys_and_rotated_logs_keep_every_acknowledged_event() {
    let f = fixture("implicit");
    // Two model folders and a link naming the one in service; the second is
    // trained before any event, so it lacks them all.
    let (blue, green, cur) = (f.root.join("blue"), f.root.join("green"), f.root.join("cur"));
    std::fs::rename(&f.model, &blue).unwrap();
    gramrec()
        .args(["train", "-q", "--factors", "8", "--iterations", "5", "--input"])
        .arg(&f.data)
        .arg("--out")
        .arg(&green)
        .assert()
        .success();
    std::os::unix::fs::symlink(&blue, &cur).unwrap();
    let token = "a-token-of-sixteen-chars";
    let s = Served::start(&cur, &["--admin-token", token]);
    let post = |s: &Served, item: &str| {
        assert_eq!(s.post("/v1/users/u1/events", &json!({"item": item, "weight": 40})).status, 200);
    };
    post(&s, "i7");
    let before = top5(&s);
    // Deploy: the link now names green (renamed over, as deploy tools do), then reload.
    let next = f.root.join("cur.next");
    std::os::unix::fs::symlink(&green, &next).unwrap();
    std::fs::rename(&next, &cur).unwrap();
    let reload = http(&s.addr, "POST", "/v1/admin/reload", &[("authorization", &format!("Bearer {token}"))], b"");
    assert_eq!(reload.json()["eventsApplied"], 1, "{:?}", reload.json());
    // The event the new model lacks was copied into its folder's log, byte
    // for byte; new ones go there too.
    assert_eq!(logged_pairs(&green.join("events.jsonl")), [("u1".into(), "i7".into())]);
    let first_line = |p: &Path| std::fs::read_to_string(p).unwrap().lines().next().unwrap().to_string();
    assert_eq!(first_line(&green.join("events.jsonl")), first_line(&blue.join("events.jsonl")));
    post(&s, "i9");
    assert_eq!(logged_pairs(&green.join("events.jsonl")), [("u1".into(), "i7".into()), ("u1".into(), "i9".into())]);
    assert_eq!(logged_pairs(&blue.join("events.jsonl")).len(), 1, "the old folder's log is left as it was");
    assert!(s.log_text().contains("the log at this path is a new file"), "{}", s.log_text());
    let served = top5(&s);
    assert_ne!(served, before, "the new model with both events");
    // A folder whose log is not an event log: the reload is refused and the
    // log stays where it was until the link is put back.
    let bad = f.root.join("bad");
    std::fs::create_dir(&bad).unwrap();
    for name in ["items.gramrec", "users.gramrec"] {
        std::fs::copy(green.join(name), bad.join(name)).unwrap();
    }
    std::fs::write(bad.join("events.jsonl"), "not an event\n").unwrap();
    let swap = |to: &Path| {
        std::os::unix::fs::symlink(to, &next).unwrap();
        std::fs::rename(&next, &cur).unwrap();
    };
    swap(&bad);
    let reload = http(&s.addr, "POST", "/v1/admin/reload", &[("authorization", &format!("Bearer {token}"))], b"");
    assert_eq!(reload.status, 500, "{:?}", reload.json());
    assert!(
        reload.json()["error"].as_str().unwrap().contains("events.jsonl:1: not an event line"),
        "{:?}",
        reload.json()
    );
    assert_eq!(s.post("/v1/users/u1/events", &json!({"item": "i3"})).status, 503, "not acknowledged");
    assert_eq!(std::fs::read_to_string(bad.join("events.jsonl")).unwrap(), "not an event\n", "left as it was");
    swap(&green);
    assert_eq!(top5(&s), served);
    // A restart (after kill -9) reads the same folder and log: the same answers.
    drop(s);
    let s = Served::start(&cur, &[]);
    assert_eq!(top5(&s), served);

    // Rotation: the log is renamed away under the server; the next event
    // starts a new file at the path, holding every event the model lacks.
    std::fs::rename(green.join("events.jsonl"), green.join("events.jsonl.1")).unwrap();
    post(&s, "i11");
    let expected: Vec<(String, String)> =
        ["i7", "i9", "i11"].iter().map(|i| ("u1".to_string(), i.to_string())).collect();
    assert_eq!(logged_pairs(&green.join("events.jsonl")), expected);
    let served = top5(&s);
    drop(s);
    let s = Served::start(&cur, &[]);
    assert_eq!(top5(&s), served, "a restart after rotation replays every event");
    // A log removed outright is the same.
    std::fs::remove_file(green.join("events.jsonl")).unwrap();
    post(&s, "i13");
    assert_eq!(logged_pairs(&green.join("events.jsonl")).len(), 4);
    // Rotated, then stopped with no event between: the stop carries them.
    std::fs::rename(green.join("events.jsonl"), green.join("events.jsonl.2")).unwrap();
    let mut s = s;
    s.signal("-TERM");
    assert!(s.child.wait().unwrap().success());
    assert_eq!(logged_pairs(&green.join("events.jsonl")).len(), 4, "{}", s.log_text());
}

#[cfg(feature = "interop-tests")]
#[test]
fn the_server_matches_its_openapi_description() {
    // schemathesis (tests/interop/requirements.txt) generates requests from
    // docs/openapi.yaml for 90 s: no 5xx, and every status, content type and
    // body as described.
    let f = fixture("implicit");
    let token = "a-token-of-sixteen-chars";
    let s = Served::start(&f.model, &["--rules", f.rules.to_str().unwrap(), "--admin-token", token]);
    let python = std::env::var_os("GRAMREC_TEST_PYTHON")
        .expect("GRAMREC_TEST_PYTHON names a Python with tests/interop/requirements.txt (tests/run-all.sh)");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(python)
        .arg(root.join("tests/interop/openapi_check.py"))
        .arg(root.join("docs/openapi.yaml"))
        .arg(format!("http://{}", s.addr))
        .arg(token)
        .arg("90")
        .status()
        .unwrap();
    assert!(status.success(), "schemathesis found answers that do not match docs/openapi.yaml (above)");
    assert_eq!(s.get("/healthz").status, 200, "still serving");
}
