use std::io::Write;

use super::*;

fn ids(ix: &IdIndex, v: &[u32]) -> Vec<String> {
    v.iter().map(|&i| ix.id(i).to_string()).collect()
}

fn triples(x: &Interactions) -> Vec<(String, String, f32)> {
    ids(&x.users, &x.user).into_iter().zip(ids(&x.items, &x.item)).zip(&x.value).map(|((u, i), &v)| (u, i, v)).collect()
}

fn t(u: &str, i: &str, v: f32) -> (String, String, f32) {
    (u.into(), i.into(), v)
}

fn err_text(r: Result<Interactions>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn movielens_tab_file_without_header() {
    let x = load_bytes("u.data", b"196\t242\t3\t881250949\n186\t302\t3\t891717742\n", &LoadOptions::default()).unwrap();
    assert_eq!(triples(&x), vec![t("196", "242", 3.0), t("186", "302", 3.0)]);
    assert!(x.has_ratings);
}

#[test]
fn movielens_double_colon_file() {
    let x = load_bytes("ratings.dat", b"1::1193::5::978300760\r\n1::661::3::978302109\r\n", &LoadOptions::default())
        .unwrap();
    assert_eq!(triples(&x), vec![t("1", "1193", 5.0), t("1", "661", 3.0)]);
}

#[test]
fn csv_with_header_quoting_and_string_ids() {
    let data = b"userId,movieId,rating,timestamp\n\"alice, a.\",\"m \"\"1\"\"\",4.5,1\nbob,m2,2,2\n";
    let x = load_bytes("ratings.csv", data, &LoadOptions::default()).unwrap();
    assert_eq!(triples(&x), vec![t("alice, a.", "m \"1\"", 4.5), t("bob", "m2", 2.0)]);
}

#[test]
fn columns_by_name_and_index_and_no_rating() {
    let data = b"ts;item;who;stars\n1;i1;u1;5\n2;i2;u2;1\n";
    let opts = LoadOptions {
        user: Some(Column::Name("who".into())),
        item: Some(Column::Index(1)),
        rating: RatingColumn::Column(Column::Name("stars".into())),
        ..Default::default()
    };
    let x = load_bytes("x.txt", data, &opts).unwrap();
    assert_eq!(triples(&x), vec![t("u1", "i1", 5.0), t("u2", "i2", 1.0)]);
    let x = load_bytes("x.csv", b"u1,i1\nu2,i1\n", &LoadOptions::default()).unwrap();
    assert!(!x.has_ratings);
    assert_eq!(triples(&x), vec![t("u1", "i1", 1.0), t("u2", "i1", 1.0)]);
}

#[test]
fn json_lines_amazon_style() {
    let data = br#"{"reviewerID": "A1", "asin": "B00", "overall": 5.0, "summary": "ok"}
{"reviewerID": "A2", "asin": 123, "overall": "3"}

{"reviewerID": "A1", "asin": "B01", "overall": 1}
"#;
    let x = load_bytes("reviews.jsonl", data, &LoadOptions::default()).unwrap();
    assert_eq!(triples(&x), vec![t("A1", "B00", 5.0), t("A2", "123", 3.0), t("A1", "B01", 1.0)]);
}

#[test]
fn json_lines_ratings_beyond_f32_are_not_finite() {
    let e = err_text(load_bytes(
        "x.jsonl",
        b"{\"user\": \"a\", \"item\": \"b\", \"rating\": 1e40}\n",
        &LoadOptions::default(),
    ));
    assert!(e.starts_with("x.jsonl:1: field 'rating' is not a finite number"), "{e}");
}

#[test]
fn json_lines_errors_name_the_line() {
    let data = b"{\"user\": \"a\", \"item\": \"b\"}\n{\"user\": \"a\"}\n";
    assert_eq!(err_text(load_bytes("x.jsonl", data, &LoadOptions::default())), "x.jsonl:2: missing field 'item'");
    let data = b"{\"user\": \"a\", \"item\": [1]}\n";
    assert!(err_text(load_bytes("x.jsonl", data, &LoadOptions::default()))
        .contains("x.jsonl:1: field 'item' must be a string or a number"));
    assert!(err_text(load_bytes("x.jsonl", b"{\"user\": 1, \"item\": 2}\nnot json\n", &LoadOptions::default()))
        .starts_with("x.jsonl:2: not a JSON object"));
}

#[test]
fn gzip_is_read_transparently_and_truncation_is_reported() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..2000 {
        writeln!(enc, "u{},i{},{}", i % 17, i % 31, 1 + i % 5).unwrap();
    }
    let gz = enc.finish().unwrap();
    let x = load_bytes("big.csv.gz", &gz, &LoadOptions::default()).unwrap();
    assert_eq!(x.len(), 2000);
    assert_eq!(x.users.len(), 17);
    let e = err_text(load_bytes("big.csv.gz", &gz[..gz.len() / 2], &LoadOptions::default()));
    assert!(e.contains("gzip"), "{e}");
}

#[test]
fn bad_values_are_errors_with_file_and_line() {
    let o = LoadOptions::default();
    assert_eq!(err_text(load_bytes("r.csv", b"a,b,1\nc,d,x\n", &o)), "r.csv:2: rating 'x' is not a number");
    assert_eq!(err_text(load_bytes("r.csv", b"a,b,1\nc,d,NaN\n", &o)), "r.csv:2: rating 'NaN' is not a finite number");
    assert_eq!(err_text(load_bytes("r.csv", b"a,b,1\nc,d,inf\n", &o)), "r.csv:2: rating 'inf' is not a finite number");
    assert_eq!(err_text(load_bytes("r.csv", b"a,b,1\nc,d\n", &o)), "r.csv:2: expected at least 3 columns, found 2");
    assert_eq!(err_text(load_bytes("r.csv", b"a,b,1\n,d,1\n", &o)), "r.csv:2: empty user ID");
    assert!(err_text(load_bytes("r.csv", b"", &o)).contains("no interactions"));
    assert!(err_text(load_bytes("r.csv", b"user,item,rating\n", &o)).contains("no interactions"));
    let strict = LoadOptions { encoding: Encoding::Utf8, ..Default::default() };
    assert_eq!(err_text(load_bytes("r.csv", b"a,b,1\nc,\xff,1\n", &strict)), "r.csv:2: the line is not valid UTF-8");
    let named = LoadOptions { user: Some(Column::Name("customer".into())), ..Default::default() };
    assert!(err_text(load_bytes("r.csv", b"user,item\na,b\n", &named)).contains("no column named 'customer'"));
}

#[test]
fn a_line_past_the_limit_is_refused_before_it_is_held_even_inside_gzip() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    writeln!(enc, "u1,i1,5").unwrap();
    enc.write_all(&vec![b'x'; MAX_LINE_BYTES + 10]).unwrap();
    let gz = enc.finish().unwrap();
    assert!(gz.len() < 1 << 20, "the compressed file is small");
    let e = err_text(load_bytes("one-line.csv.gz", &gz, &LoadOptions::default()));
    assert_eq!(e, "one-line.csv.gz:2: the line is longer than 16 MiB (is the delimiter or the file's format right?)");
}

#[test]
fn bom_and_crlf_are_handled() {
    let x = load_bytes("r.csv", b"\xEF\xBB\xBFuser,item,rating\r\nu,i,2\r\n", &LoadOptions::default()).unwrap();
    assert_eq!(triples(&x), vec![t("u", "i", 2.0)]);
}

#[test]
fn factor_file_as_input_is_named() {
    let mut data = gramrec_core::format::MAGIC.to_vec();
    data.extend_from_slice(&[0; 56]);
    assert!(err_text(load_bytes("items.gramrec", &data, &LoadOptions::default())).contains("factor file"));
}

#[test]
fn skip_invalid_keeps_good_lines_and_counts_bad_ones_by_kind() {
    let data = b"u1,i1,5\nu2,i2,x\nu3\nu4,i4,NaN\n,i5,1\nu6,i6,\xff\nu7,i7,2\n";
    let opts = LoadOptions { skip_invalid: true, encoding: Encoding::Utf8, ..Default::default() };
    let x = load_bytes("mixed.csv", data, &opts).unwrap();
    assert_eq!(triples(&x), vec![t("u1", "i1", 5.0), t("u7", "i7", 2.0)]);
    let skipped: Vec<(&str, u64)> = x.skipped.iter().map(|(k, n)| (*k, *n)).collect();
    assert_eq!(
        skipped,
        vec![
            ("empty ID", 1),
            ("invalid UTF-8", 1),
            ("rating not a number", 1),
            ("rating not finite", 1),
            ("too few columns", 1)
        ]
    );
    let json = b"{\"user\": \"a\", \"item\": \"b\"}\n{oops\n{\"user\": \"c\"}\n{\"user\": \"d\", \"item\": \"e\"}\n";
    let x = load_bytes("x.jsonl", json, &opts).unwrap();
    assert_eq!(x.len(), 2);
    assert_eq!(x.skipped.get("not a JSON object"), Some(&1));
    assert_eq!(x.skipped.get("missing field"), Some(&1));
    // Structural problems stay fatal.
    assert!(load_bytes("x.csv", b"", &opts).is_err());
}

#[test]
fn fields_that_are_invalid_utf8_apart_but_valid_together_are_rejected() {
    // Found by the `interactions` fuzz target: "\xEF\xBB" + "\xBF" is a valid
    // character only once the comma between them is gone.
    let strict = LoadOptions { encoding: Encoding::Utf8, ..Default::default() };
    let e = err_text(load_bytes("f.csv", b"u1,\xEF\xBB,\xBF1\n", &strict));
    assert_eq!(e, "f.csv:1: the line is not valid UTF-8");
    // The artifact itself: mode byte 0x02 picks "x.dat" and default options.
    let crash = b"\xef,\xbb\xbf\xef\xbb\xbfi,r\x05,i#ng,\x02\xef\xbb\xbfitem,item,r\x01,i2,3\n";
    assert!(load_bytes("x.dat", crash, &strict).is_err());
}

#[test]
fn appended_files_share_ids_and_keep_the_first_files_kind_of_values() {
    let mut base = load_bytes("base.csv", b"user,item\nu1,a\nu2,b\n", &LoadOptions::default()).unwrap();
    let events = load_bytes(
        "events.jsonl",
        b"{\"user\":\"u2\",\"item\":\"a\",\"weight\":2.5}\n{\"user\":\"u9\",\"item\":\"c\",\"weight\":1}\n",
        &LoadOptions::default(),
    )
    .unwrap();
    assert!(!base.has_ratings && events.has_ratings);
    base.append(events).unwrap();
    assert_eq!(triples(&base), vec![t("u1", "a", 1.0), t("u2", "b", 1.0), t("u2", "a", 2.5), t("u9", "c", 1.0)]);
    assert_eq!((base.users.len(), base.items.len()), (3, 3));
    assert!(!base.has_ratings, "click data stays click data");
}

#[test]
fn records_are_placed_on_their_own_lines_whatever_the_line_ends() {
    let lines = |name: &str, data: &[u8], opts: LoadOptions| {
        let x = load_bytes(name, data, &LoadOptions { record_lines: true, ..opts }).unwrap();
        (x.line.clone(), x.layout.clone().unwrap())
    };
    // CRLF without a header, as the Book-Crossing export: each record on its line.
    let (at, layout) = lines(
        "bx.csv",
        b"\"1\";\"0345\";\"5\"\r\n\"2\";\"0346\";\"0\"\r\n\"3\";\"0347\";\"4\"\r\n",
        Default::default(),
    );
    assert_eq!(at, [1, 2, 3]);
    assert_eq!((layout.delimiter.as_str(), layout.header_line), (";", None));
    // Blank lines, a quoted line end, and no newline at the end.
    let data = b"user,item,rating\n\na,x,1\r\n\r\nb,\"y\nz\",2\n\nc,w,3";
    let (at, layout) = lines("x.csv", data, Default::default());
    assert_eq!(at, [3, 5, 8]);
    assert_eq!((layout.header_line, layout.spans.clone()), (Some(1), vec![(5, 2)]));
    let x = load_bytes("x.csv", data, &Default::default()).unwrap();
    assert_eq!(triples(&x)[1], t("b", "y\nz", 2.0));
    // Baskets: every item on its basket's line, which names it.
    let (at, layout) =
        lines("b.csv", b"milk,bread\r\n\r\neggs\r\n", LoadOptions { format: Format::Baskets, ..Default::default() });
    assert_eq!(at, [1, 1, 3]);
    assert_eq!(layout.format, Format::Baskets);
    // An error names the right line of a CRLF file.
    let e = err_text(load_bytes("e.csv", b"u,i,1\r\nv,j,2\r\nw,k,x\r\n", &Default::default()));
    assert!(e.starts_with("e.csv:3:"), "{e}");
}
