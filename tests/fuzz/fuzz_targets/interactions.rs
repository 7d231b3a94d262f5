//! The interaction parsers (delimited text and JSON lines, strict and
//! skipping), from raw bytes: errors are fine, panics are not.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use gramrec_data::load::{decompress, load_reader, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the file name (format sniffing) and the options.
    let Some((&mode, body)) = data.split_first() else { return };
    let name = ["x.csv", "x.tsv", "x.dat", "x.jsonl", "x.txt"][mode as usize % 5];
    let opts = LoadOptions {
        skip_invalid: mode & 0x08 != 0,
        timestamps: mode & 0x10 != 0,
        record_lines: mode & 0x20 != 0,
        ..Default::default()
    };
    let Ok(reader) = decompress(Cursor::new(body.to_vec())) else { return };
    if let Ok(x) = load_reader(reader, Path::new(name), body.len() as u64, &opts) {
        let _ = gramrec_data::Dataset::build(x, &Default::default());
    }
});
