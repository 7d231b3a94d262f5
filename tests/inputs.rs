//! Real-world inputs through the binary: Parquet written by pandas, pyarrow,
//! Spark and gramrec's own writer (tests/fixtures/parquet, made by its
//! make.py), encodings, detected delimiters, baskets, standard input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::{factors, gramrec, ok_json};
use predicates::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet").join(name)
}

/// Trains `input` with `extra` flags into `out` (deterministic: one thread, the CPU).
fn train(input: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    gramrec()
        .args(["train", "--factors", "4", "--iterations", "3", "--threads", "1", "--device", "cpu", "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

/// The model's (users, items) counts and its IDs, from `inspect`.
fn shape(model: &Path) -> (u64, u64) {
    let rows = |f: &str| ok_json(gramrec().args(["inspect", "--json"]).arg(model.join(f)))["rows"].as_u64().unwrap();
    (rows("users.gramrec"), rows("items.gramrec"))
}

fn ids(model: &Path, file: &str) -> Vec<String> {
    let bytes = std::fs::read(model.join(file)).unwrap();
    gramrec_core::FactorFile::from_bytes(&bytes).unwrap().ids
}

#[test]
fn parquet_from_pandas_trains_the_same_model_as_its_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, pq) = (dir.path().join("csv"), dir.path().join("pq"));
    train(&fixture("ratings.csv"), &csv, &[]).success();
    // pandas: string users, a categorical (dictionary) item column, a datetime, the index as a column.
    train(&fixture("pandas.parquet"), &pq, &[]).success();
    for f in ["users.gramrec", "items.gramrec"] {
        assert_eq!(ids(&csv, f), ids(&pq, f), "{f}: the same IDs in the same order");
        assert_eq!(factors(&csv, f), factors(&pq, f), "{f}: bit-identical factors");
    }
}

#[test]
fn parquet_written_by_arrow_rs_trains_the_same_model_as_its_csv() {
    use arrow_array::{Float32Array, RecordBatch, StringArray};
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("ratings.csv")).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let batch = RecordBatch::try_from_iter([
        ("user", Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r[0]))) as _),
        ("item", Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r[1]))) as _),
        ("rating", Arc::new(rows.iter().map(|r| r[2].parse::<f32>().unwrap()).collect::<Float32Array>()) as _),
    ])
    .unwrap();
    let path = dir.path().join("rust.parquet");
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let (csv, pq) = (dir.path().join("csv"), dir.path().join("pq"));
    train(&fixture("ratings.csv"), &csv, &[]).success();
    train(&path, &pq, &[]).success();
    assert_eq!(factors(&csv, "items.gramrec"), factors(&pq, "items.gramrec"));
}

#[test]
fn every_id_type_reads_as_its_text() {
    let dir = tempfile::tempdir().unwrap();
    for col in [
        "user_i8",
        "user_i16",
        "user_i32",
        "user_i64",
        "user_u8",
        "user_u16",
        "user_u32",
        "user_u64",
        "user_large",
        "user_binary",
    ] {
        let out = dir.path().join(col);
        train(
            &fixture("types.parquet"),
            &out,
            &["--user-col", col, "--item-col", "item_f64", "--rating-col", "rating_i32"],
        )
        .success();
        assert_eq!(shape(&out), (12, 25), "{col}");
        let users = ids(&out, "users.gramrec");
        match col {
            "user_i64" => assert_eq!(users[0], "9007199254740993", "64-bit IDs are exact, past 2^53"),
            "user_large" | "user_binary" => assert_eq!(users[0], "u0"),
            _ => assert_eq!(users[0], "0"),
        }
        assert!(ids(&out, "items.gramrec").iter().all(|i| !i.contains('.')), "integral floats read as integers");
    }
}

#[test]
fn spark_folders_with_parts_success_files_and_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let (flat, parted) = (dir.path().join("flat"), dir.path().join("parted"));
    train(&fixture("spark"), &flat, &[]).success().stderr(predicate::str::contains("Parquet: 3 files"));
    assert_eq!(shape(&flat), (12, 25));
    train(&fixture("spark-partitioned"), &parted, &[]).success();
    assert_eq!(shape(&parted), (12, 25));
    // A partition key is a column like the files' own.
    let by_country = dir.path().join("country");
    train(&fixture("spark-partitioned"), &by_country, &["--user-col", "country", "--duplicates", "sum"]).success();
    let mut countries = ids(&by_country, "users.gramrec");
    countries.sort();
    assert_eq!(countries, ["de", "fr", "us"]);
}

#[test]
fn parquet_nulls_and_damage_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = |a: assert_cmd::assert::Assert| String::from_utf8_lossy(&a.code(2).get_output().stderr).into_owned();
    let e = err(train(&fixture("nulls.parquet"), &dir.path().join("m"), &[]));
    assert!(e.contains("nulls.parquet: row group 0, row 5: empty user ID"), "{e}");
    train(&fixture("nulls.parquet"), &dir.path().join("m"), &["--skip-invalid"])
        .success()
        .stderr(predicate::str::contains("skipped 2 bad lines (1 empty ID, 1 empty rating)"));
    // Truncated; its footer damaged; the page header of a column that is read
    // damaged (found through the file's metadata): one line each, no panic.
    let good = std::fs::read(fixture("types.parquet")).unwrap();
    let meta = parquet::file::metadata::ParquetMetaDataReader::decode_metadata(
        &good[good.len() - 8 - footer_len(&good)..good.len() - 8],
    )
    .unwrap();
    let item = meta.row_group(0).columns().iter().find(|c| c.column_descr().name() == "item").unwrap();
    let page = item.data_page_offset() as usize;
    let mut damaged_page = good.clone();
    damaged_page[page..page + 16].fill(0xFF);
    let mut damaged_footer = good.clone();
    let at = good.len() - 8 - footer_len(&good) / 2;
    damaged_footer[at..at + 16].fill(0xFF);
    for (name, bytes) in [
        ("cut.parquet", good[..good.len() / 2].to_vec()),
        ("footer.parquet", damaged_footer),
        ("page.parquet", damaged_page),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = err(train(&path, &dir.path().join("x"), &["--user-col", "user_i32", "--item-col", "item"]));
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains(name) && e.contains("not a readable Parquet file") && !e.contains("panicked"), "{e}");
    }
}

/// The length of a Parquet file's footer metadata (the 4 bytes before `PAR1`).
fn footer_len(file: &[u8]) -> usize {
    u32::from_le_bytes(file[file.len() - 8..file.len() - 4].try_into().unwrap()) as usize
}

#[test]
fn split_of_parquet_writes_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("split");
    gramrec().args(["split", "--input"]).arg(fixture("spark-partitioned")).arg("--out").arg(&out).assert().success();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    train(&out.join("train.parquet"), &a, &["--implicit"]).success();
    train(&out.join("test.parquet"), &b, &["--implicit", "--min-user-count", "1"]).success();
    let rows = |m: &Path| {
        ok_json(gramrec().args(["inspect", "--json"]).arg(m.join("items.gramrec")))["training"]["interactions"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(rows(&a) + rows(&b), 120, "every row in exactly one part");
    assert_eq!(rows(&b), 24);
    // The partition column travels with the rows.
    let c = dir.path().join("c");
    train(&out.join("train.parquet"), &c, &["--user-col", "country", "--duplicates", "sum"]).success();
    assert_eq!(shape(&c).0, 3);
}

#[test]
fn latin1_and_windows_1252_keep_their_characters_and_strict_utf8_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let m = dir.path().join("m");
    train(&corpus.join("latin1.csv"), &m, &[])
        .success()
        .stderr(predicate::str::contains("not valid UTF-8 (first at line 2): read as Windows-1252"));
    let mut items = ids(&m, "items.gramrec");
    items.sort();
    assert_eq!(items, ["Müller Straße", "café", "naïve"]);
    let w = dir.path().join("w");
    train(&corpus.join("windows1252.csv"), &w, &[]).success();
    assert!(ids(&w, "items.gramrec").contains(&"\u{201c}smart\u{201d} €5 deal".to_string()));
    let l = dir.path().join("l");
    train(&corpus.join("windows1252.csv"), &l, &["--encoding", "latin1"]).success();
    assert!(ids(&l, "items.gramrec").iter().any(|i| i.contains('\u{80}')), "Latin-1 maps 0x80 to U+0080, not €");
    let u = dir.path().join("u");
    train(&corpus.join("utf16.csv"), &u, &[]).success().stderr(predicate::str::contains("read as UTF-16LE"));
    assert!(ids(&u, "items.gramrec").contains(&"日本".to_string()));
    // Strict UTF-8: the line is bad input, or skipped.
    let e = train(&corpus.join("invalid_utf8.csv"), &dir.path().join("s"), &["--encoding", "utf-8"]).code(2);
    assert!(String::from_utf8_lossy(&e.get_output().stderr).contains("invalid_utf8.csv:2: the line is not valid UTF-8"));
    train(&corpus.join("invalid_utf8.csv"), &dir.path().join("s"), &["--encoding", "utf-8", "--skip-invalid"])
        .success()
        .stderr(predicate::str::contains("1 invalid UTF-8"));
}

#[test]
fn delimiters_are_detected_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    for (file, said, users) in [
        ("semicolon_quoted.csv", "delimiter: ';' (detected)", 3),
        ("pipes.csv", "delimiter: '|' (detected)", 2),
        ("spaces.txt", "delimiter: runs of spaces (detected)", 2),
    ] {
        let m = dir.path().join(file);
        train(&corpus.join(file), &m, &["--implicit"]).success().stderr(predicate::str::contains(said));
        assert_eq!(shape(&m).0, users, "{file}");
    }
    // A comma file named .csv says nothing.
    train(&fixture("ratings.csv"), &dir.path().join("c"), &[])
        .success()
        .stderr(predicate::str::contains("delimiter").not());
}

#[test]
fn baskets_one_per_line_with_or_without_an_id_column() {
    let dir = tempfile::tempdir().unwrap();
    let groceries = dir.path().join("groceries.csv");
    std::fs::write(&groceries, "citrus fruit,semi-finished bread,margarine,ready soups\ntropical fruit,yogurt,coffee\nwhole milk\n\npip fruit,yogurt,cream cheese\nwhole milk,yogurt\n").unwrap();
    let m = dir.path().join("m");
    train(&groceries, &m, &["--format", "baskets"]).success();
    assert_eq!(shape(&m), (5, 10), "5 baskets (the blank line is none), 10 items, a one-item basket kept");
    assert!(ids(&m, "items.gramrec").contains(&"semi-finished bread".to_string()), "items keep their spaces");
    let with_ids = dir.path().join("receipts.tsv");
    std::fs::write(&with_ids, "receipt\titems\nr1\tmilk\tbread\nr2\tmilk\nr1\teggs\n").unwrap();
    let r = dir.path().join("r");
    train(&with_ids, &r, &["--format", "baskets", "--basket-col", "receipt"]).success();
    assert_eq!(ids(&r, "users.gramrec"), ["r1", "r2"]);
    assert_eq!(shape(&r).1, 3);
    train(&groceries, &dir.path().join("x"), &["--format", "baskets", "--item-col", "2"])
        .code(2)
        .stderr(predicate::str::contains("do not apply to --format baskets"));
}

#[test]
fn standard_input_with_and_without_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(fixture("ratings.csv")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&text).unwrap();
    let file_model = dir.path().join("file");
    train(&fixture("ratings.csv"), &file_model, &[]).success();
    for (name, bytes) in [("plain", text.clone()), ("gzip", gz.finish().unwrap())] {
        let out = dir.path().join(name);
        gramrec()
            .args([
                "train",
                "--factors",
                "4",
                "--iterations",
                "3",
                "--threads",
                "1",
                "--device",
                "cpu",
                "--input",
                "-",
                "--out",
            ])
            .arg(&out)
            .write_stdin(bytes)
            .assert()
            .success();
        assert_eq!(factors(&out, "items.gramrec"), factors(&file_model, "items.gramrec"), "{name}");
    }
    let bad = gramrec()
        .args(["train", "--input", "-", "--out"])
        .arg(dir.path().join("bad"))
        .write_stdin("u1,i1,5\nu2,i2,x\n")
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&bad.get_output().stderr).contains("standard input:2: rating 'x' is not a number"));
    gramrec()
        .args(["split", "--input", "-", "--out"])
        .arg(dir.path().join("s"))
        .write_stdin(text)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a file, not standard input"));
}
