//! The interaction parsers (delimited text with any delimiter, JSON lines,
//! baskets; strict and skipping; every encoding), from raw bytes: errors are
//! fine, panics are not.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use gramrec_data::load::{decompress, load_reader, Encoding, Format, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes pick the file name (format sniffing) and the options.
    let Some((&[mode, more], body)) = data.split_first_chunk::<2>() else { return };
    let name = ["x.csv", "x.tsv", "x.dat", "x.jsonl", "x.txt"][mode as usize % 5];
    let encoding = [Encoding::Auto, Encoding::Utf8, Encoding::Latin1, Encoding::Windows1252, Encoding::Utf16][more as usize % 5];
    let format = if more & 0x80 != 0 { Format::Baskets } else { Format::Auto };
    let opts = LoadOptions {
        skip_invalid: mode & 0x08 != 0,
        timestamps: mode & 0x10 != 0 && format != Format::Baskets,
        record_lines: mode & 0x20 != 0,
        encoding,
        format,
        ..Default::default()
    };
    let Ok(reader) = decompress(Box::new(Cursor::new(body.to_vec()))) else { return };
    if let Ok(x) = load_reader(reader, Path::new(name), body.len() as u64, &opts) {
        let _ = gramrec_data::Dataset::build(x, &Default::default());
    }
});
