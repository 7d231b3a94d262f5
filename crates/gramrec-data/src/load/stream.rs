//! From bytes to lines of UTF-8 text: a file or standard input, gzip
//! (detected by its magic bytes), the text encoding, and lines bounded in
//! length — the layers every text parser reads through.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use flate2::read::MultiGzDecoder;
use gramrec_core::{named_enum, Error, Result};

/// The longest line read: past it a line is refused (a sign of the wrong
/// delimiter or file type), before it is held in memory.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// The text encoding of an input (`--encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 (with or without a byte-order mark), UTF-16 by its byte-order
    /// mark; a file that turns out not to be UTF-8 before any non-ASCII
    /// UTF-8 was seen is read as Windows-1252, and a note says so.
    #[default]
    Auto,
    /// Strict UTF-8: a line that is not is bad input.
    Utf8,
    /// ISO-8859-1: every byte is the character of that code point.
    Latin1,
    /// Windows-1252 (the superset of Latin-1 that Windows exports use).
    Windows1252,
    /// UTF-16, little-endian unless a byte-order mark says otherwise.
    Utf16,
}

named_enum!(Encoding, "encoding" {
    Auto => "auto",
    Utf8 => "utf-8" | "utf8",
    Latin1 => "latin1" | "latin-1" | "iso-8859-1",
    Windows1252 => "windows-1252" | "cp1252",
    Utf16 => "utf-16" | "utf16",
});

/// What the layers observed, for the log: notes to print, and the lines
/// dropped for being too long (with `--skip-invalid`).
#[derive(Debug, Default)]
pub struct Observed {
    /// One line each: the encoding chosen when it is not plain UTF-8.
    pub notes: Vec<String>,
    /// Lines longer than [`MAX_LINE_BYTES`] that were skipped.
    pub long_lines: u64,
}

/// Shared between the layers and the loader.
pub type Shared = Rc<RefCell<Observed>>;

/// An opened input: its text, size on disk, and what the layers observed.
pub struct Opened {
    /// UTF-8 text (except for lines strict UTF-8 rejects), lines bounded.
    pub text: Box<dyn BufRead>,
    /// The bytes decompressed, before any decoding: for sniffing binary files.
    pub bytes: u64,
    /// Filled in while reading.
    pub observed: Shared,
}

/// The raw bytes of `path`, or of standard input for `-`, with the size on
/// disk (0 for a pipe).
pub fn open_raw(path: &Path) -> Result<(Box<dyn BufRead>, u64)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(BufReader::with_capacity(1 << 20, io::stdin())), 0));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((Box::new(BufReader::with_capacity(1 << 20, file)), bytes))
}

/// The stream itself, or its gzip decompression when it starts with gzip's
/// magic bytes.
pub fn decompress(mut raw: Box<dyn BufRead>) -> io::Result<Box<dyn BufRead>> {
    let gz = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz { Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(raw))) } else { raw })
}

/// Decodes `stream` (already decompressed) as `encoding` into UTF-8 and
/// bounds its lines; with `skip_long`, a line past the bound becomes an empty
/// line (counted) instead of an error.
pub fn text(
    mut stream: Box<dyn BufRead>,
    encoding: Encoding,
    skip_long: bool,
) -> io::Result<(Box<dyn BufRead>, Shared)> {
    let observed = Shared::default();
    let head = stream.fill_buf()?;
    let bom16 = match head {
        [0xFF, 0xFE, ..] => Some(encoding_rs::UTF_16LE),
        [0xFE, 0xFF, ..] => Some(encoding_rs::UTF_16BE),
        _ => None,
    };
    let utf8_bom = head.starts_with(b"\xEF\xBB\xBF");
    let utf16 = match (encoding, bom16) {
        (Encoding::Auto | Encoding::Utf16, Some(e)) => {
            stream.consume(2);
            if encoding == Encoding::Auto {
                observed.borrow_mut().notes.push(format!("read as {} (byte-order mark)", e.name()));
            }
            Some(e)
        }
        (Encoding::Utf16, None) => Some(encoding_rs::UTF_16LE),
        _ => None,
    };
    let (raw, mode): (Box<dyn Read>, Mode) = match utf16 {
        // UTF-16 is decoded as a stream first: its line ends are two bytes.
        Some(e) => (
            Box::new(Utf16 { inner: stream, decoder: e.new_decoder_without_bom_handling(), done: false }),
            Mode::Utf8 { auto: false },
        ),
        None => {
            if utf8_bom && matches!(encoding, Encoding::Auto | Encoding::Utf8) {
                stream.consume(3);
            }
            let mode = match encoding {
                Encoding::Latin1 => Mode::Latin1,
                Encoding::Windows1252 => Mode::Windows1252,
                Encoding::Utf8 | Encoding::Utf16 => Mode::Utf8 { auto: false },
                Encoding::Auto => Mode::Utf8 { auto: true },
            };
            (Box::new(stream), mode)
        }
    };
    let lines = Lines {
        inner: raw,
        mode,
        ascii_only: true,
        ready: Vec::new(),
        at: 0,
        partial: Vec::new(),
        dropping: false,
        skip_long,
        line: 1,
        observed: observed.clone(),
    };
    Ok((Box::new(BufReader::with_capacity(1 << 20, lines)), observed))
}

/// How each line's bytes become UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// UTF-8 passed through; with `auto`, the first invalid line read while
    /// every line before was ASCII switches the file to Windows-1252.
    Utf8 { auto: bool },
    /// Bytes as code points.
    Latin1,
    /// Windows-1252.
    Windows1252,
}

/// UTF-16 decoded to UTF-8 as a stream.
struct Utf16<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    done: bool,
}

impl<R: BufRead> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.done || buf.len() < 4 {
                return Ok(0);
            }
            let chunk = self.inner.fill_buf()?;
            let last = chunk.is_empty();
            let (_, read, written, _) = self.decoder.decode_to_utf8(chunk, buf, last);
            self.inner.consume(read);
            self.done = last;
            if written > 0 || last {
                return Ok(written);
            }
        }
    }
}

/// Passes whole lines through, decoded as the mode says, refusing (or, with
/// `skip_long`, emptying and counting) any longer than [`MAX_LINE_BYTES`]
/// before it is held whole.
struct Lines<R> {
    inner: R,
    mode: Mode,
    /// Every line so far was ASCII (so a switch of encoding changes nothing read).
    ascii_only: bool,
    /// Decoded lines ready to be read, from `at`.
    ready: Vec<u8>,
    at: usize,
    /// The current line so far (raw).
    partial: Vec<u8>,
    /// Dropping the rest of an overlong line.
    dropping: bool,
    skip_long: bool,
    /// The line `partial` belongs to (1-based).
    line: u64,
    observed: Shared,
}

/// The error a [`Lines`] reader reports, carried inside an `io::Error`.
#[derive(Debug)]
pub struct LineTooLong(pub u64);

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} is longer than {} MiB", self.0, MAX_LINE_BYTES >> 20)
    }
}

impl std::error::Error for LineTooLong {}

impl<R: Read> Lines<R> {
    /// Appends whole raw lines to `ready`, decoded: at once while they are
    /// what the mode expects, line by line around a line that is not.
    fn emit_lines(&mut self, lines: &[u8]) {
        let count = memchr::memchr_iter(b'\n', lines).count() as u64;
        match self.mode {
            Mode::Utf8 { .. } if std::str::from_utf8(lines).is_ok() => {
                self.ascii_only &= lines.is_ascii();
                self.ready.extend_from_slice(lines);
            }
            Mode::Utf8 { .. } => {
                for line in lines.split_inclusive(|&b| b == b'\n') {
                    self.emit(line);
                    self.line += 1;
                }
                return;
            }
            _ => self.emit(lines),
        }
        self.line += count;
    }

    /// Appends one whole raw line to `ready`, decoded.
    fn emit(&mut self, line: &[u8]) {
        match self.mode {
            Mode::Utf8 { auto } => match std::str::from_utf8(line) {
                Ok(_) => {
                    self.ascii_only &= line.is_ascii();
                    self.ready.extend_from_slice(line);
                }
                Err(_) if auto && self.ascii_only => {
                    self.observed
                        .borrow_mut()
                        .notes
                        .push(format!("not valid UTF-8 (first at line {}): read as Windows-1252", self.line));
                    self.mode = Mode::Windows1252;
                    self.emit(line);
                }
                // Passed on as it is: the parser rejects the line.
                Err(_) => self.ready.extend_from_slice(line),
            },
            Mode::Latin1 => {
                for &b in line {
                    if b < 0x80 {
                        self.ready.push(b);
                    } else {
                        self.ready.extend_from_slice(char::from(b).encode_utf8(&mut [0; 2]).as_bytes());
                    }
                }
            }
            Mode::Windows1252 => {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(line);
                self.ready.extend_from_slice(text.as_bytes());
            }
        }
    }

    /// The current line is past the bound: an error, or (skipping) dropped
    /// up to its end and counted.
    fn too_long(&mut self) -> io::Result<()> {
        if !self.skip_long {
            return Err(io::Error::new(io::ErrorKind::InvalidData, LineTooLong(self.line)));
        }
        self.partial = Vec::new();
        self.dropping = true;
        self.observed.borrow_mut().long_lines += 1;
        Ok(())
    }

    fn refill(&mut self) -> io::Result<bool> {
        self.ready.clear();
        self.at = 0;
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            let n = self.inner.read(&mut chunk)?;
            if n == 0 {
                // The last line, without a line end.
                if !self.dropping && !self.partial.is_empty() {
                    let last = std::mem::take(&mut self.partial);
                    self.emit(&last);
                }
                self.dropping = false;
                return Ok(!self.ready.is_empty());
            }
            let mut piece = &chunk[..n];
            // The line that the last read left unfinished, or that is being dropped.
            if let Some(nl) = memchr::memchr(b'\n', piece).filter(|_| self.dropping || !self.partial.is_empty()) {
                if !self.dropping && self.partial.len() + nl > MAX_LINE_BYTES {
                    self.too_long()?;
                }
                if self.dropping {
                    self.dropping = false;
                    self.ready.push(b'\n');
                } else {
                    let mut whole = std::mem::take(&mut self.partial);
                    whole.extend_from_slice(&piece[..=nl]);
                    self.emit(&whole);
                }
                self.line += 1;
                piece = &piece[nl + 1..];
            }
            // Whole lines, at once (none is longer than the read).
            if !self.dropping && self.partial.is_empty() {
                if let Some(last) = memchr::memrchr(b'\n', piece) {
                    self.emit_lines(&piece[..=last]);
                    piece = &piece[last + 1..];
                }
            }
            if !self.dropping {
                self.partial.extend_from_slice(piece);
                if self.partial.len() > MAX_LINE_BYTES {
                    self.too_long()?;
                }
            }
            if !self.ready.is_empty() {
                return Ok(true);
            }
        }
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.ready.len() && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.ready.len() - self.at);
        buf[..n].copy_from_slice(&self.ready[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], encoding: Encoding) -> (String, Vec<String>) {
        let (mut text, observed) = text(Box::new(io::Cursor::new(bytes.to_vec())), encoding, false).unwrap();
        let mut out = Vec::new();
        text.read_to_end(&mut out).unwrap();
        let notes = observed.borrow().notes.clone();
        (String::from_utf8_lossy(&out).into_owned(), notes)
    }

    #[test]
    fn latin1_windows_1252_and_utf16_become_utf8() {
        assert_eq!(decode(b"caf\xe9,\x80\n", Encoding::Latin1).0, "café,\u{80}\n");
        assert_eq!(decode(b"caf\xe9,\x80\n", Encoding::Windows1252).0, "café,€\n");
        let utf16: Vec<u8> = "\u{feff}naïve,ok\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let (text, notes) = decode(&utf16, Encoding::Auto);
        assert_eq!(text, "naïve,ok\n");
        assert_eq!(notes, ["read as UTF-16LE (byte-order mark)"]);
        let be: Vec<u8> = "\u{feff}é".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(decode(&be, Encoding::Utf16).0, "é");
    }

    #[test]
    fn auto_reads_utf8_and_switches_to_windows_1252_for_a_file_that_is_not() {
        assert_eq!(decode("\u{feff}ü,ok\n".as_bytes(), Encoding::Auto), ("ü,ok\n".to_string(), vec![]));
        let (text, notes) = decode(b"a,b\nc,d\nM\xfcller,\x93quoted\x94\n", Encoding::Auto);
        assert_eq!(text, "a,b\nc,d\nMüller,\u{201c}quoted\u{201d}\n");
        assert_eq!(notes, ["not valid UTF-8 (first at line 3): read as Windows-1252"]);
        // After real UTF-8 text, an invalid byte is the line's problem, not the file's.
        let (text, notes) = decode(b"\xc3\xbc,a\nb,\xff\n", Encoding::Auto);
        assert_eq!(text, "ü,a\nb,\u{fffd}\n", "the bad line is passed on for the parser to reject");
        assert!(notes.is_empty());
    }

    #[test]
    fn characters_split_across_reads_survive() {
        // 'é' straddles the 64 KiB reads of the layers, in UTF-8 and UTF-16.
        let mut text8 = "a".repeat((1 << 16) - 1);
        text8.push_str("é\nnext\n");
        let (text, notes) = decode(text8.as_bytes(), Encoding::Auto);
        assert_eq!(text, text8);
        assert!(notes.is_empty());
        let utf16: Vec<u8> =
            std::iter::once(0xfeff).chain(text8.encode_utf16()).flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(decode(&utf16, Encoding::Auto).0, text8);
    }

    #[test]
    fn long_lines_are_refused_or_skipped_and_counted() {
        let mut bytes = b"a,b\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 5));
        bytes.extend_from_slice(b"\nc,d\n");
        let (mut strict, _) = text(Box::new(io::Cursor::new(bytes.clone())), Encoding::Auto, false).unwrap();
        let e = strict.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.get_ref().unwrap().to_string(), "line 2 is longer than 16 MiB");
        let (mut skipping, observed) = text(Box::new(io::Cursor::new(bytes)), Encoding::Auto, true).unwrap();
        let mut out = String::new();
        skipping.read_to_string(&mut out).unwrap();
        assert_eq!(out, "a,b\n\nc,d\n", "the long line is an empty line, so line numbers stay right");
        assert_eq!(observed.borrow().long_lines, 1);
    }
}
