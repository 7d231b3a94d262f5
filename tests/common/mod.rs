//! What the end-to-end tests share: the binary, its JSON output, and small
//! synthetic data sets and models made through it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `gramrec` binary under test.
pub fn gramrec() -> Command {
    Command::cargo_bin("gramrec").unwrap()
}

/// stdout parsed as one JSON value.
pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).expect("stdout is one JSON object")
}

/// Runs the command, expects success, and parses its stdout as JSON.
pub fn ok_json(cmd: &mut Command) -> serde_json::Value {
    json(&cmd.assert().success().get_output().stdout)
}

/// Writes `gramrec generate` data of `kind` to `path`.
pub fn generate(path: &Path, kind: &str, users: u32, items: u32, nnz: u32) {
    gramrec()
        .args(["generate", "--kind", kind, "--users", &users.to_string(), "--items", &items.to_string()])
        .args(["--nnz", &nnz.to_string(), "--out"])
        .arg(path)
        .assert()
        .success();
}

/// Writes a small synthetic explicit data set and splits it 80/20 by line.
pub fn data(dir: &Path) -> (PathBuf, PathBuf) {
    let all = dir.join("all.csv");
    generate(&all, "explicit", 300, 200, 12000);
    split_lines(&all, &dir.join("train.csv"), &dir.join("test.csv"))
}

/// Splits a CSV file with a header into `train` and `test` (every fifth line).
pub fn split_lines(all: &Path, train: &Path, test: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(all).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut tr, mut te) = (format!("{header}\n"), format!("{header}\n"));
    for (n, l) in lines.enumerate() {
        let dst = if n % 5 == 0 { &mut te } else { &mut tr };
        dst.push_str(l);
        dst.push('\n');
    }
    std::fs::write(train, tr).unwrap();
    std::fs::write(test, te).unwrap();
    (train.to_path_buf(), test.to_path_buf())
}

/// `gramrec train FLAGS --input INPUT --out OUT EXTRA`.
pub fn train_command(flags: &[&str], input: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = gramrec();
    cmd.arg("train").args(flags).arg("--input").arg(input).arg("--out").arg(out).args(extra);
    cmd
}

/// Trains a model on `input` into `out` with a few factors and iterations.
pub fn train(input: &Path, out: &Path, extra: &[&str]) {
    train_command(&["-q", "--factors", "4", "--iterations", "2"], input, out, extra).assert().success();
}

/// Trains a small deterministic model (6 factors, 4 iterations, one CPU
/// thread) on `input` into `out`; returns `out`.
pub fn train_small(input: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let flags = ["-q", "--factors", "6", "--iterations", "4", "--threads", "1", "--device", "cpu"];
    train_command(&flags, input, out, extra).assert().success();
    out.to_path_buf()
}

/// Synthetic data and a small explicit model trained on its training part.
pub fn small_model(dir: &Path) -> (PathBuf, PathBuf) {
    let (train_file, _) = data(dir);
    let model = dir.join("model");
    train(&train_file, &model, &[]);
    (train_file, model)
}

/// A factor file's factors as f32.
pub fn factors(model: &Path, file: &str) -> Vec<f32> {
    let bytes = std::fs::read(model.join(file)).unwrap();
    gramrec_core::FactorFile::from_bytes(&bytes).unwrap().factors_f32()
}

fn schema(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A validator for docs/schema/NAME.json, the schemas it may refer to registered.
pub fn validator(name: &str) -> jsonschema::Validator {
    let registry = jsonschema::Registry::new()
        .add("urn:gramrec:evaluate", schema("evaluate"))
        .unwrap()
        .add("urn:gramrec:recommendation", schema("recommendation"))
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options().with_registry(&registry).build(&schema(name)).unwrap()
}

/// Checks `value` against docs/schema/NAME.json.
pub fn check(name: &str, value: &serde_json::Value) {
    let v = validator(name);
    let errors: Vec<String> = v.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{value:#}");
}
