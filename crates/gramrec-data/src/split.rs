//! Holding out interactions for evaluation: train/test splits and k folds.
//!
//! Three ways, as users of Spark notebooks build them by hand:
//! * `random`: a share of all interactions, drawn uniformly;
//! * `per-user`: the same share of each user's interactions (users with too
//!   few interactions stay entirely in training);
//! * `time`: each user's latest interactions (needs a timestamp per interaction).
//!
//! The units dealt out are distinct (user, item) pairs, so a pair's repeated
//! records never straddle the two sides. [`write_split`] writes the two
//! parts in the input's own layout (same columns, header, IDs, line ends and
//! compression) and checks them before they appear.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use gramrec_core::{named_enum, set, setting, Error, ParamError, Result};
use gramrec_store::write_atomic_many_checked;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::load::{self, Interactions, LoadOptions, TextLayout};

/// How interactions are held out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitMode {
    /// Uniformly over all interactions.
    Random,
    /// The same share of every user's interactions.
    PerUser,
    /// Every user's latest interactions.
    Time,
}

named_enum!(SplitMode, "mode" { Random => "random", PerUser => "per-user" | "user", Time => "time" });

/// How to split.
#[derive(Debug, Clone, Copy)]
pub struct SplitOptions {
    /// The mode.
    pub mode: SplitMode,
    /// Share held out, in (0, 1).
    pub test_fraction: f64,
    /// Seed of the random choices.
    pub seed: u64,
    /// Per-user and time modes: users with fewer interactions stay in training.
    pub min_user_interactions: usize,
}

impl SplitOptions {
    fn validate(&self) -> Result<()> {
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(ParamError::new(
                "test_fraction",
                format!("must be between 0 and 1, not {}", self.test_fraction),
            )
            .into());
        }
        Ok(())
    }
}

/// The units a split deals out: the distinct (user, item) pairs, so that
/// the records of a repeated pair — which training merges into one
/// interaction — always land on the same side.
struct Pairs {
    /// Each record's pair, pairs numbered in order of first appearance.
    of_record: Vec<u32>,
    /// Each pair's user.
    user: Vec<u32>,
    /// Each pair's latest timestamp (empty without timestamps).
    timestamp: Vec<f64>,
}

impl Pairs {
    fn of(x: &Interactions) -> Self {
        let mut index = rustc_hash::FxHashMap::default();
        let mut p = Pairs { of_record: Vec::with_capacity(x.len()), user: Vec::new(), timestamp: Vec::new() };
        let timed = x.timestamp.len() == x.len();
        for k in 0..x.len() {
            let next = p.user.len() as u32;
            let pair = *index.entry((x.user[k], x.item[k])).or_insert(next);
            if pair == next {
                p.user.push(x.user[k]);
                if timed {
                    p.timestamp.push(x.timestamp[k]);
                }
            } else if timed {
                let t = &mut p.timestamp[pair as usize];
                *t = t.max(x.timestamp[k]);
            }
            p.of_record.push(pair);
        }
        p
    }

    fn len(&self) -> usize {
        self.user.len()
    }

    /// Each user's pairs, in order of first appearance.
    fn by_user(&self, users: usize) -> Vec<Vec<usize>> {
        let mut rows = vec![Vec::new(); users];
        for (k, &u) in self.user.iter().enumerate() {
            rows[u as usize].push(k);
        }
        rows
    }

    /// A value per pair, spread over the records.
    fn spread<T: Copy>(&self, per_pair: &[T]) -> Vec<T> {
        self.of_record.iter().map(|&p| per_pair[p as usize]).collect()
    }
}

/// How many pairs are repeated in `x` (records beyond each pair's first).
pub fn repeated_records(x: &Interactions) -> usize {
    x.len() - Pairs::of(x).len()
}

/// How many of `n` interactions a user holds out: the share, rounded, at
/// least one and never all.
fn held_out(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).round() as usize).clamp(1, n - 1)
}

/// For each interaction, in file order: whether it goes to the test part.
/// The units dealt are distinct (user, item) pairs: every record of a pair
/// goes where the pair goes (a time split places a pair by its latest
/// record), so no pair is on both sides.
pub fn assign(x: &Interactions, opts: &SplitOptions) -> Result<Vec<bool>> {
    opts.validate()?;
    if opts.mode == SplitMode::Time && x.timestamp.len() != x.len() {
        return Err(Error::Argument(format!(
            "{} needs a timestamp column ({})",
            set("mode", "time"),
            setting("timestamp_col")
        )));
    }
    let pairs = Pairs::of(x);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut test = vec![false; pairs.len()];
    match opts.mode {
        SplitMode::Random => {
            let mut idx: Vec<usize> = (0..pairs.len()).collect();
            idx.shuffle(&mut rng);
            let n = (pairs.len() as f64 * opts.test_fraction).round() as usize;
            for &k in &idx[..n] {
                test[k] = true;
            }
        }
        SplitMode::PerUser | SplitMode::Time => {
            for mut rows in pairs.by_user(x.users.len()) {
                if rows.len() < opts.min_user_interactions.max(2) {
                    continue;
                }
                let n = held_out(rows.len(), opts.test_fraction);
                if opts.mode == SplitMode::PerUser {
                    rows.shuffle(&mut rng);
                } else {
                    // Stable: equal timestamps keep file order.
                    rows.sort_by(|&a, &b| pairs.timestamp[a].total_cmp(&pairs.timestamp[b]));
                    rows.reverse();
                }
                for &k in &rows[..n] {
                    test[k] = true;
                }
            }
        }
    }
    Ok(pairs.spread(&test))
}

/// Assigns every interaction to one of `k` folds the way [`assign`] holds
/// out: uniformly (`Random`) or evenly within each user (`PerUser`), every
/// record of a (user, item) pair in the same fold.
pub fn folds(x: &Interactions, k: usize, mode: SplitMode, seed: u64) -> Result<Vec<u32>> {
    if k < 2 {
        return Err(ParamError::new("folds", format!("must be at least 2, not {k}")).into());
    }
    let pairs = Pairs::of(x);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold = vec![0u32; pairs.len()];
    let mut deal = |rows: &mut Vec<usize>, rng: &mut ChaCha8Rng, start: usize| {
        rows.shuffle(rng);
        for (n, &r) in rows.iter().enumerate() {
            fold[r] = ((start + n) % k) as u32;
        }
    };
    match mode {
        SplitMode::Random => deal(&mut (0..pairs.len()).collect(), &mut rng, 0),
        SplitMode::PerUser => {
            for (u, mut rows) in pairs.by_user(x.users.len()).into_iter().enumerate() {
                deal(&mut rows, &mut rng, u % k);
            }
        }
        SplitMode::Time => {
            return Err(Error::Argument("cross-validation folds are random or per-user, not time".into()))
        }
    }
    Ok(pairs.spread(&fold))
}

/// The interactions for which `keep` holds, with the same ID tables.
pub fn subset(x: &Interactions, keep: impl Fn(usize) -> bool) -> Interactions {
    let idx: Vec<usize> = (0..x.len()).filter(|&k| keep(k)).collect();
    let pick = |v: &[u32]| idx.iter().map(|&k| v[k]).collect();
    Interactions {
        users: x.users.clone(),
        items: x.items.clone(),
        user: pick(&x.user),
        item: pick(&x.item),
        value: idx.iter().map(|&k| x.value[k]).collect(),
        has_ratings: x.has_ratings,
        timestamp: if x.timestamp.is_empty() { Vec::new() } else { idx.iter().map(|&k| x.timestamp[k]).collect() },
        line: if x.line.is_empty() { Vec::new() } else { idx.iter().map(|&k| x.line[k]).collect() },
        item_fields: x.item_fields.clone(),
        item_fields_found: x.item_fields_found.clone(),
        ..Default::default()
    }
}

/// Where a split was written, and how many records went where.
#[derive(Debug, Clone)]
pub struct SplitFiles {
    /// The training part.
    pub train: PathBuf,
    /// The test part.
    pub test: PathBuf,
    /// Records (interactions as read, before repeated pairs are merged) in training.
    pub train_count: usize,
    /// Records in test.
    pub test_count: usize,
}

/// Writes `DIR/train.EXT` and `DIR/test.EXT` (EXT as the input's, `.gz`
/// included) in the input's own layout: each record's lines are copied to
/// its side byte for byte (line ends and encoding kept), a header goes to
/// both, and lines that held no record — skipped bad lines, blank lines —
/// to neither. A basket line is written to both sides, each holding the
/// items that went there (an empty line where none did, so the line
/// numbers that name baskets stay the same). A Parquet input gives
/// `train.parquet` and `test.parquet`.
///
/// Before the two files are renamed into place they are read back with
/// `opts` (the options `x` was read with, `record_lines` set) and checked:
/// no (user, item) pair is on both sides, and together they hold exactly
/// the records of `x`. Either fails, and nothing is written.
pub fn write_split(
    input: &Path,
    x: &Interactions,
    test: &[bool],
    dir: &Path,
    opts: &LoadOptions,
) -> Result<SplitFiles> {
    assert_eq!(x.line.len(), x.len(), "interactions were loaded without line numbers");
    let paths = part_paths(input, dir, x.layout.is_none())?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let test_count = test.iter().filter(|&&t| t).count();
    let [train_path, test_path] = paths.clone();
    let check = |staged: &[Option<PathBuf>]| verify(x, test, staged, &paths, opts);
    match &x.layout {
        None => write_parquet_split(input, x, test, &paths, check)?,
        Some(layout) => {
            if layout.utf16 {
                return Err(Error::input(
                    input,
                    None,
                    "split copies lines byte for byte, and UTF-16 lines cannot be: convert the file to UTF-8 first \
                     (iconv -f UTF-16 -t UTF-8)",
                ));
            }
            let gz = train_path.to_string_lossy().ends_with(".gz");
            let reader = load::open(input)?;
            write_atomic_many_checked(
                &paths,
                |outs| {
                    let [train_out, test_out] = outs else { unreachable!("two outputs") };
                    let (mut train_out, mut test_out) = (compressor(*train_out, gz), compressor(*test_out, gz));
                    write_lines(reader, x, layout, test, [&mut *train_out, &mut *test_out])
                        .and_then(|()| train_out.flush())
                        .and_then(|()| test_out.flush())
                        .map_err(|e| Error::io(dir, e))
                },
                check,
            )?;
        }
    }
    Ok(SplitFiles { train: train_path, test: test_path, train_count: x.len() - test_count, test_count })
}

/// The two files a split of `input` into `dir` writes (`parquet`: the
/// input is Parquet), refused when either is one of the input's files or
/// the input is standard input: a check to make before reading the input.
pub fn part_paths(input: &Path, dir: &Path, parquet: bool) -> Result<[PathBuf; 2]> {
    if input.as_os_str() == "-" {
        return Err(Error::Argument("split copies its input's lines, so it needs a file, not standard input".into()));
    }
    let (paths, inputs) = if parquet {
        ([dir.join("train.parquet"), dir.join("test.parquet")], load::parquet_files(input)?)
    } else {
        let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let ext = name.split_once('.').map(|(_, e)| format!(".{e}")).unwrap_or_default();
        ([dir.join(format!("train{ext}")), dir.join(format!("test{ext}"))], vec![input.to_path_buf()])
    };
    gramrec_store::refuse_overwriting(&paths, &inputs)?;
    Ok(paths)
}

/// Reads the staged parts back and checks [`write_split`]'s promise.
fn verify(
    x: &Interactions,
    test: &[bool],
    staged: &[Option<PathBuf>],
    paths: &[PathBuf; 2],
    opts: &LoadOptions,
) -> Result<()> {
    let broken = |why: String| Error::System(format!("split: the parts written {why}; nothing was written"));
    // Each record as (user, item, value, timestamp) in the input's indexes.
    type Key = (u32, u32, u32, u64);
    let key = |k: usize, user: u32, item: u32, x: &Interactions| -> Key {
        (user, item, x.value[k].to_bits(), x.timestamp.get(k).map_or(0, |t| t.to_bits()))
    };
    let mut sides: [Vec<Key>; 2] = [Vec::new(), Vec::new()];
    for (side, (staged, path)) in staged.iter().zip(paths).enumerate() {
        let Some(staged) = staged else {
            return Err(Error::Argument(format!("{} is not a regular file: split writes files", path.display())));
        };
        // Read under its final name, which picks the format as it will.
        let part = if x.layout.is_none() {
            load::load(staged, &LoadOptions { format: load::Format::Parquet, ..opts.clone() })?
        } else {
            load::load_reader(load::open(staged)?, path, 0, opts)?
        };
        for k in 0..part.len() {
            let (u, i) = (part.users.id(part.user[k]), part.items.id(part.item[k]));
            match (x.users.get(u), x.items.get(i)) {
                (Some(u), Some(i)) => sides[side].push(key(k, u, i, &part)),
                _ => return Err(broken(format!("hold a record the input does not ({u}, {i})"))),
            }
        }
    }
    let mut expected: [Vec<Key>; 2] = [Vec::new(), Vec::new()];
    for k in 0..x.len() {
        expected[usize::from(test[k])].push(key(k, x.user[k], x.item[k], x));
    }
    for (side, name) in [(0, "training"), (1, "test")] {
        sides[side].sort_unstable();
        expected[side].sort_unstable();
        if sides[side] != expected[side] {
            return Err(broken(format!(
                "do not hold the records assigned to {name} ({} read back, {} assigned)",
                sides[side].len(),
                expected[side].len()
            )));
        }
    }
    let train_pairs: rustc_hash::FxHashSet<(u32, u32)> = sides[0].iter().map(|k| (k.0, k.1)).collect();
    if let Some(k) = sides[1].iter().find(|k| train_pairs.contains(&(k.0, k.1))) {
        return Err(broken(format!("put the pair ({}, {}) on both sides", x.users.id(k.0), x.items.id(k.1))));
    }
    Ok(())
}

/// [`write_split`] of a Parquet file or folder: `train.parquet` and
/// `test.parquet` (snappy-compressed, as Spark writes), every row of the
/// input (its partition values as columns) in the part its interaction went
/// to; rows that were skipped go to neither.
fn write_parquet_split(
    input: &Path,
    x: &Interactions,
    test: &[bool],
    paths: &[PathBuf; 2],
    check: impl FnOnce(&[Option<PathBuf>]) -> Result<()>,
) -> Result<()> {
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;

    // Global row number → output (0 train, 1 test).
    let part: std::collections::HashMap<u64, usize> =
        x.line.iter().zip(test).map(|(&row, &t)| (row, usize::from(t))).collect();
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let failed = |k: usize, e: parquet::errors::ParquetError| Error::io(&paths[k], std::io::Error::other(e));
    write_atomic_many_checked(
        paths,
        |outs| {
            let [train_out, test_out] = outs else { unreachable!("two outputs") };
            let mut outs = [Some(&mut **train_out), Some(&mut **test_out)];
            let mut writers: [Option<ArrowWriter<&mut (dyn Write + Send)>>; 2] = [None, None];
            let schema = load::write_parts(
                input,
                &mut |k, batch| {
                    if writers[k].is_none() {
                        let out = outs[k].take().expect("an output per writer");
                        writers[k] = Some(
                            ArrowWriter::try_new(out, batch.schema(), Some(props.clone())).map_err(|e| failed(k, e))?,
                        );
                    }
                    writers[k].as_mut().expect("opened").write(batch).map_err(|e| failed(k, e))
                },
                |row| part.get(&row).copied(),
            )?;
            for (k, w) in writers.into_iter().enumerate() {
                let w = match w {
                    Some(w) => w,
                    // No row went here: the file still holds the schema.
                    None => ArrowWriter::try_new(outs[k].take().expect("unused"), schema.clone(), Some(props.clone()))
                        .map_err(|e| failed(k, e))?,
                };
                w.close().map_err(|e| failed(k, e))?;
            }
            Ok(())
        },
        check,
    )
}

fn compressor<'w>(w: &'w mut (dyn Write + 'w), gz: bool) -> Box<dyn Write + 'w> {
    if gz {
        Box::new(GzFinisher(Some(GzEncoder::new(w, flate2::Compression::default()))))
    } else {
        Box::new(w)
    }
}

/// A gzip encoder that finishes its stream on flush.
struct GzFinisher<W: Write>(Option<GzEncoder<W>>);

impl<W: Write> Write for GzFinisher<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.as_mut().ok_or_else(|| std::io::Error::other("gzip stream already finished"))?.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.take() {
            Some(enc) => enc.finish().map(|_| ()),
            None => Ok(()),
        }
    }
}

/// Writes each line of `reader` to the side(s) it belongs to, as
/// [`write_split`] describes.
fn write_lines(
    mut reader: Box<dyn BufRead>,
    x: &Interactions,
    layout: &TextLayout,
    test: &[bool],
    mut outs: [&mut dyn Write; 2],
) -> std::io::Result<()> {
    let baskets = layout.format == load::Format::Baskets;
    let mut spans = layout.spans.iter().peekable();
    let (mut group, mut line, mut next) = (Vec::new(), 0u64, 0usize);
    let mut buf = Vec::new();
    loop {
        // One record's lines: usually one, more when a quoted field holds a line end.
        group.clear();
        let first = line + 1;
        let lines = match spans.peek() {
            Some(&&(at, n)) if at == first => {
                spans.next();
                n
            }
            _ => 1,
        };
        for _ in 0..lines {
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            line += 1;
            group.extend_from_slice(&buf);
        }
        if group.is_empty() {
            return Ok(());
        }
        let start = next;
        while next < x.len() && x.line[next] == first {
            next += 1;
        }
        let records = start..next;
        if layout.header_line == Some(first) {
            outs[0].write_all(&group)?;
            outs[1].write_all(&group)?;
        } else if baskets {
            let end: &[u8] = if group.ends_with(b"\r\n") {
                b"\r\n"
            } else if group.ends_with(b"\n") {
                b"\n"
            } else {
                b""
            };
            for (side, out) in outs.iter_mut().enumerate() {
                let items: Vec<&str> =
                    records.clone().filter(|&k| usize::from(test[k]) == side).map(|k| x.items.id(x.item[k])).collect();
                // A basket ID column is written only beside items; a line that is its own ID always.
                let basket = match layout.basket_column {
                    Some(_) if items.is_empty() => continue,
                    Some(column) => Some((column, x.users.id(x.user[start]))),
                    None => None,
                };
                out.write_all(basket_line(layout, basket, &items).as_bytes())?;
                out.write_all(end)?;
            }
        } else if let Some(k) = records.clone().next() {
            debug_assert_eq!(records.len(), 1, "one record a line");
            outs[usize::from(test[k])].write_all(&group)?;
        }
    }
}

/// One basket as a line of `layout`: its ID in its column (empty fields
/// before it, which hold no item), then its items, quoted where needed.
fn basket_line(layout: &TextLayout, basket: Option<(usize, &str)>, items: &[&str]) -> String {
    let quote = |field: &str| -> String {
        let needs = field.contains(layout.delimiter.as_str())
            || field.contains(['"', '\r', '\n'])
            || field.starts_with(' ')
            || field.ends_with(' ');
        if needs && layout.quoting {
            format!("\"{}\"", field.replace('"', "\"\""))
        } else {
            field.to_string()
        }
    };
    let mut fields: Vec<String> = Vec::new();
    if let Some((column, id)) = basket {
        fields.resize(column, String::new());
        fields.push(quote(id));
    }
    fields.extend(items.iter().map(|i| quote(i)));
    fields.join(&layout.delimiter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{load_bytes, LoadOptions};

    fn data() -> Interactions {
        let mut text = String::from("user,item,rating,timestamp\n");
        for u in 0..20 {
            for i in 0..(5 + u % 7) {
                text.push_str(&format!("u{u},i{},{},{}\n", (u * 3 + i) % 40, 1 + i % 5, 1000 + (i * 37 + u) % 50));
            }
        }
        let opts = LoadOptions { timestamps: true, record_lines: true, ..Default::default() };
        load_bytes("x.csv", text.as_bytes(), &opts).unwrap()
    }

    fn opts(mode: SplitMode) -> SplitOptions {
        SplitOptions { mode, test_fraction: 0.2, seed: 1, min_user_interactions: 2 }
    }

    #[test]
    fn random_split_size_and_seed() {
        let x = data();
        let a = assign(&x, &opts(SplitMode::Random)).unwrap();
        assert_eq!(a.iter().filter(|&&t| t).count(), (x.len() as f64 * 0.2).round() as usize);
        assert_eq!(a, assign(&x, &opts(SplitMode::Random)).unwrap(), "same seed, same split");
        assert_ne!(a, assign(&x, &SplitOptions { seed: 2, ..opts(SplitMode::Random) }).unwrap());
    }

    #[test]
    fn per_user_split_holds_out_a_share_of_every_user() {
        let x = data();
        let a = assign(&x, &opts(SplitMode::PerUser)).unwrap();
        for rows in Pairs::of(&x).by_user(x.users.len()) {
            let held = rows.iter().filter(|&&k| a[k]).count();
            assert_eq!(held, held_out(rows.len(), 0.2));
            assert!(held < rows.len());
        }
    }

    #[test]
    fn time_split_holds_out_each_users_latest() {
        let x = data();
        let a = assign(&x, &opts(SplitMode::Time)).unwrap();
        for rows in Pairs::of(&x).by_user(x.users.len()) {
            let latest_train = rows.iter().filter(|&&k| !a[k]).map(|&k| x.timestamp[k]).fold(f64::MIN, f64::max);
            let earliest_test = rows.iter().filter(|&&k| a[k]).map(|&k| x.timestamp[k]).fold(f64::MAX, f64::min);
            assert!(earliest_test >= latest_train, "a test interaction is older than a training one");
        }
        let no_time = Interactions { timestamp: vec![], ..subset(&x, |_| true) };
        assert!(assign(&no_time, &opts(SplitMode::Time)).unwrap_err().to_string().contains("timestamp"));
    }

    #[test]
    fn folds_partition_the_data_evenly() {
        let x = data();
        for mode in [SplitMode::Random, SplitMode::PerUser] {
            let f = folds(&x, 5, mode, 3).unwrap();
            let mut sizes = [0usize; 5];
            for &k in &f {
                sizes[k as usize] += 1;
            }
            assert_eq!(sizes.iter().sum::<usize>(), x.len(), "every interaction is in exactly one fold");
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(max - min <= if mode == SplitMode::Random { 1 } else { 20 }, "{mode:?}: {sizes:?}");
        }
        assert!(folds(&x, 1, SplitMode::Random, 0).is_err());
    }

    #[test]
    fn written_parts_keep_the_layout_and_partition_the_lines() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("ratings.csv");
        let text = "user,item,rating\na,x,1\nb,y,2\na,z,3\nc,x,4\nb,z,5\n";
        std::fs::write(&input, text).unwrap();
        let opts = LoadOptions { record_lines: true, ..Default::default() };
        let x = load::load(&input, &opts).unwrap();
        let test = vec![false, true, false, false, true];
        let out = write_split(&input, &x, &test, &dir.path().join("split"), &opts).unwrap();
        assert_eq!(std::fs::read_to_string(&out.train).unwrap(), "user,item,rating\na,x,1\na,z,3\nc,x,4\n");
        assert_eq!(std::fs::read_to_string(&out.test).unwrap(), "user,item,rating\nb,y,2\nb,z,5\n");
        assert_eq!((out.train_count, out.test_count), (3, 2));

        let gz_input = dir.path().join("ratings.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz_input, enc.finish().unwrap()).unwrap();
        let x = load::load(&gz_input, &opts).unwrap();
        let out = write_split(&gz_input, &x, &test, &dir.path().join("gz"), &opts).unwrap();
        assert!(out.test.to_string_lossy().ends_with("test.csv.gz"));
        assert_eq!(load::load(&out.train, &LoadOptions::default()).unwrap().len(), 3);
        assert_eq!(load::load(&out.test, &LoadOptions::default()).unwrap().len(), 2);
    }
}
