//! Holding out interactions for evaluation: train/test splits and k folds.
//!
//! Three ways, as users of Spark notebooks build them by hand:
//! * `random`: a share of all interactions, drawn uniformly;
//! * `per-user`: the same share of each user's interactions (users with too
//!   few interactions stay entirely in training);
//! * `time`: each user's latest interactions (needs a timestamp per interaction).
//!
//! [`write_split`] writes the two parts in the input's own layout (same
//! columns, header, IDs and compression), by copying the input's lines.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use gramrec_core::{named_enum, Error, Result};
use gramrec_store::write_atomic_many;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::load::{self, Interactions};

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

named_enum!(SplitMode, "--mode" { Random => "random", PerUser => "per-user" | "user", Time => "time" });

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
            return Err(Error::Argument(format!(
                "--test-fraction must be between 0 and 1, not {}",
                self.test_fraction
            )));
        }
        Ok(())
    }
}

/// Each user's interaction indices, in file order.
fn by_user(x: &Interactions) -> Vec<Vec<usize>> {
    let mut rows = vec![Vec::new(); x.users.len()];
    for (k, &u) in x.user.iter().enumerate() {
        rows[u as usize].push(k);
    }
    rows
}

/// How many of `n` interactions a user holds out: the share, rounded, at
/// least one and never all.
fn held_out(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).round() as usize).clamp(1, n - 1)
}

/// For each interaction, in file order: whether it goes to the test part.
pub fn assign(x: &Interactions, opts: &SplitOptions) -> Result<Vec<bool>> {
    opts.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut test = vec![false; x.len()];
    match opts.mode {
        SplitMode::Random => {
            let mut idx: Vec<usize> = (0..x.len()).collect();
            idx.shuffle(&mut rng);
            let n = (x.len() as f64 * opts.test_fraction).round() as usize;
            for &k in &idx[..n] {
                test[k] = true;
            }
        }
        SplitMode::PerUser | SplitMode::Time => {
            if opts.mode == SplitMode::Time && x.timestamp.len() != x.len() {
                return Err(Error::Argument("--mode time needs a timestamp column (--timestamp-col)".into()));
            }
            for mut rows in by_user(x) {
                if rows.len() < opts.min_user_interactions.max(2) {
                    continue;
                }
                let n = held_out(rows.len(), opts.test_fraction);
                if opts.mode == SplitMode::PerUser {
                    rows.shuffle(&mut rng);
                } else {
                    // Stable: equal timestamps keep file order.
                    rows.sort_by(|&a, &b| x.timestamp[a].total_cmp(&x.timestamp[b]));
                    rows.reverse();
                }
                for &k in &rows[..n] {
                    test[k] = true;
                }
            }
        }
    }
    Ok(test)
}

/// Assigns every interaction to one of `k` folds the way [`assign`] holds
/// out: uniformly (`Random`) or evenly within each user (`PerUser`).
pub fn folds(x: &Interactions, k: usize, mode: SplitMode, seed: u64) -> Result<Vec<u32>> {
    if k < 2 {
        return Err(Error::Argument(format!("--folds must be at least 2, not {k}")));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold = vec![0u32; x.len()];
    let mut deal = |rows: &mut Vec<usize>, rng: &mut ChaCha8Rng, start: usize| {
        rows.shuffle(rng);
        for (n, &r) in rows.iter().enumerate() {
            fold[r] = ((start + n) % k) as u32;
        }
    };
    match mode {
        SplitMode::Random => deal(&mut (0..x.len()).collect(), &mut rng, 0),
        SplitMode::PerUser => {
            for (u, mut rows) in by_user(x).into_iter().enumerate() {
                deal(&mut rows, &mut rng, u % k);
            }
        }
        SplitMode::Time => {
            return Err(Error::Argument("cross-validation folds are random or per-user, not time".into()))
        }
    }
    Ok(fold)
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

/// Where a split was written, and how many interactions went where.
#[derive(Debug, Clone)]
pub struct SplitFiles {
    /// The training part.
    pub train: PathBuf,
    /// The test part.
    pub test: PathBuf,
    /// Interactions in training.
    pub train_count: usize,
    /// Interactions in test.
    pub test_count: usize,
}

/// Writes `DIR/train.EXT` and `DIR/test.EXT` (EXT as the input's, `.gz`
/// included) by copying the input's lines: lines before the first record (a
/// header) go to both, every other line follows the record it belongs to.
/// A Parquet input gives `train.parquet` and `test.parquet`. Both files
/// appear together, once complete. `x` must have been loaded with
/// `record_lines`.
pub fn write_split(input: &Path, x: &Interactions, test: &[bool], dir: &Path) -> Result<SplitFiles> {
    assert_eq!(x.line.len(), x.len(), "interactions were loaded without line numbers");
    if input.as_os_str() == "-" {
        return Err(Error::Argument("split copies its input's lines, so it needs a file, not standard input".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    if load::is_parquet(input) {
        return write_parquet_split(input, x, test, dir);
    }
    let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = name.split_once('.').map(|(_, e)| format!(".{e}")).unwrap_or_default();
    let gz = ext.ends_with(".gz");
    let (train_path, test_path) = (dir.join(format!("train{ext}")), dir.join(format!("test{ext}")));
    gramrec_store::refuse_overwriting(&[train_path.clone(), test_path.clone()], &[input.to_path_buf()])?;
    let reader = load::open(input)?;
    write_atomic_many(&[train_path.clone(), test_path.clone()], |outs| {
        let [train_out, test_out] = outs else { unreachable!("two outputs") };
        let (mut train_out, mut test_out) = (compressor(*train_out, gz), compressor(*test_out, gz));
        copy_lines(reader, x, test, &mut *train_out, &mut *test_out)
            .and_then(|()| train_out.flush())
            .and_then(|()| test_out.flush())
            .map_err(|e| Error::io(dir, e))
    })?;
    let test_count = test.iter().filter(|&&t| t).count();
    Ok(SplitFiles { train: train_path, test: test_path, train_count: x.len() - test_count, test_count })
}

/// [`write_split`] of a Parquet file or folder: `train.parquet` and
/// `test.parquet` (snappy-compressed, as Spark writes), every row of the
/// input (its partition values as columns) in the part its interaction went
/// to; rows that were skipped go to neither.
fn write_parquet_split(input: &Path, x: &Interactions, test: &[bool], dir: &Path) -> Result<SplitFiles> {
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;

    let (train_path, test_path) = (dir.join("train.parquet"), dir.join("test.parquet"));
    gramrec_store::refuse_overwriting(&[train_path.clone(), test_path.clone()], &load::parquet_files(input)?)?;
    // Global row number → output (0 train, 1 test).
    let part: std::collections::HashMap<u64, usize> =
        x.line.iter().zip(test).map(|(&row, &t)| (row, usize::from(t))).collect();
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let paths = [train_path.clone(), test_path.clone()];
    let failed = |k: usize, e: parquet::errors::ParquetError| Error::io(&paths[k], std::io::Error::other(e));
    write_atomic_many(&[train_path.clone(), test_path.clone()], |outs| {
        let [train_out, test_out] = outs else { unreachable!("two outputs") };
        let mut outs = [Some(&mut **train_out), Some(&mut **test_out)];
        let mut writers: [Option<ArrowWriter<&mut (dyn Write + Send)>>; 2] = [None, None];
        let schema = load::write_parts(
            input,
            &mut |k, batch| {
                if writers[k].is_none() {
                    let out = outs[k].take().expect("an output per writer");
                    writers[k] =
                        Some(ArrowWriter::try_new(out, batch.schema(), Some(props.clone())).map_err(|e| failed(k, e))?);
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
    })?;
    let test_count = test.iter().filter(|&&t| t).count();
    Ok(SplitFiles { train: train_path, test: test_path, train_count: x.len() - test_count, test_count })
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

fn copy_lines(
    mut reader: Box<dyn BufRead>,
    x: &Interactions,
    test: &[bool],
    train_out: &mut dyn Write,
    test_out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let (mut line, mut next) = (0u64, 0usize);
    let mut current: Option<bool> = None;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        line += 1;
        if next < x.line.len() && x.line[next] == line {
            current = Some(test[next]);
            next += 1;
        }
        match current {
            None => {
                train_out.write_all(&buf)?;
                test_out.write_all(&buf)?;
            }
            Some(true) => test_out.write_all(&buf)?,
            Some(false) => train_out.write_all(&buf)?,
        }
    }
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
        for rows in by_user(&x) {
            let held = rows.iter().filter(|&&k| a[k]).count();
            assert_eq!(held, held_out(rows.len(), 0.2));
            assert!(held < rows.len());
        }
    }

    #[test]
    fn time_split_holds_out_each_users_latest() {
        let x = data();
        let a = assign(&x, &opts(SplitMode::Time)).unwrap();
        for rows in by_user(&x) {
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
        let x = load::load(&input, &LoadOptions { record_lines: true, ..Default::default() }).unwrap();
        let test = vec![false, true, false, false, true];
        let out = write_split(&input, &x, &test, &dir.path().join("split")).unwrap();
        assert_eq!(std::fs::read_to_string(&out.train).unwrap(), "user,item,rating\na,x,1\na,z,3\nc,x,4\n");
        assert_eq!(std::fs::read_to_string(&out.test).unwrap(), "user,item,rating\nb,y,2\nb,z,5\n");
        assert_eq!((out.train_count, out.test_count), (3, 2));

        let gz_input = dir.path().join("ratings.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz_input, enc.finish().unwrap()).unwrap();
        let x = load::load(&gz_input, &LoadOptions { record_lines: true, ..Default::default() }).unwrap();
        let out = write_split(&gz_input, &x, &test, &dir.path().join("gz")).unwrap();
        assert!(out.test.to_string_lossy().ends_with("test.csv.gz"));
        assert_eq!(load::load(&out.train, &LoadOptions::default()).unwrap().len(), 3);
        assert_eq!(load::load(&out.test, &LoadOptions::default()).unwrap().len(), 2);
    }
}
