//! benfred/implicit's model file: the `.npz` that
//! `implicit.cpu.als.AlternatingLeastSquares.save` writes with `np.savez`
//! and `.load` reads back (implicit 0.7): `user_factors` and `item_factors`
//! (float32, one row per user and item position), `factors`,
//! `regularization`, `alpha` and the fitting options as 0-d arrays.
//!
//! implicit knows rows by position only. An export writes the IDs beside
//! the file (`NAME.user_ids.txt`, `NAME.item_ids.txt`, line n is row n); an
//! import uses those files when they are there, lists given to it, or the
//! positions as IDs.
//!
//! implicit's objective is gramrec's implicit one with λ unscaled; its
//! confidence is α·r where gramrec's is 1 + α·r, so an imported model folds
//! new users in with gramrec's curve (docs/INTEROP.md).

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use gramrec_core::{Error, ModelKind, ModelParams, RegScaling, Result, TrainingFacts};
use zip::write::SimpleFileOptions;

use crate::dense::DenseModel;
use crate::ids::{self, IdMap};
use crate::npy::{self, Array};

/// implicit's default `regularization`, used when a file has none.
const DEFAULT_REGULARIZATION: f32 = 0.01;

/// The ID files an export writes beside `path` (users, items).
pub fn id_paths(path: &Path) -> (PathBuf, PathBuf) {
    let stem = path.with_extension("");
    let beside = |side: &str| {
        let mut name = stem.clone().into_os_string();
        name.push(format!(".{side}_ids.txt"));
        PathBuf::from(name)
    };
    (beside("user"), beside("item"))
}

/// How many times its compressed size an archive entry may declare.
const MAX_EXPANSION: u64 = 100;

/// Reads an implicit `.npz` model; ID lists override the files beside it.
pub fn read(path: &Path, user_ids: Option<IdMap>, item_ids: Option<IdMap>) -> Result<(DenseModel, TrainingFacts)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: String| Error::input(path, None, m);
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| bad(format!("not a NumPy .npz archive ({e}); implicit's model.save writes one")))?;
    let mut get = |name: &str| -> Result<Option<Array>> {
        let mut entry = match archive.by_name(&format!("{name}.npy")) {
            Ok(e) => e,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(bad(format!("{name}.npy: {e}"))),
        };
        // A declared size far beyond the compressed one is a zip bomb (real
        // factors deflate to no less than half); what is read is bounded by
        // the declared size, and must match it.
        let (size, packed) = (entry.size(), entry.compressed_size());
        if size > packed.saturating_mul(MAX_EXPANSION).saturating_add(1 << 20) {
            return Err(bad(format!(
                "{name}.npy declares {size} bytes from {packed} compressed, more than {MAX_EXPANSION} times as many: \
                 a damaged or hostile archive"
            )));
        }
        let mut bytes = Vec::with_capacity(size.min(1 << 30) as usize);
        (&mut entry)
            .take(size.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{name}.npy: {e}")))?;
        if bytes.len() as u64 != size {
            return Err(bad(format!(
                "{name}.npy holds {} bytes, not the {size} its archive entry declares",
                bytes.len()
            )));
        }
        npy::decode(&bytes, &format!("{}: {name}.npy", path.display())).map(Some)
    };
    let mut matrix = |name: &str| -> Result<(usize, usize, Vec<f32>)> {
        let a = get(name)?.ok_or_else(|| {
            bad(format!("no {name} array: not an implicit matrix-factorisation model (ALS writes user_factors and item_factors)"))
        })?;
        match (a.shape.as_slice(), a.to_f32()) {
            (&[rows, cols], Some(values)) => Ok((rows, cols, values)),
            _ => Err(bad(format!("{name} is not a 2-d array of numbers (shape {:?})", a.shape))),
        }
    };
    let (n_users, rank, users) = matrix("user_factors")?;
    let (n_items, item_rank, items) = matrix("item_factors")?;
    if rank != item_rank {
        return Err(bad(format!("user_factors have {rank} columns, item_factors {item_rank}")));
    }
    let scalar = |a: Option<Array>| a.and_then(|a| a.scalar_f64()).map(|v| v as f32);
    let reg = scalar(get("regularization")?).unwrap_or(DEFAULT_REGULARIZATION);
    let alpha = scalar(get("alpha")?).unwrap_or(1.0);
    let iterations = scalar(get("iterations")?);
    let (user_file, item_file) = id_paths(path);
    let list = |given: Option<IdMap>, beside: &Path| -> Result<Option<IdMap>> {
        match given {
            Some(m) => Ok(Some(m)),
            None if beside.is_file() => ids::read(beside).map(Some),
            None => Ok(None),
        }
    };
    let (user_map, item_map) = (list(user_ids, &user_file)?, list(item_ids, &item_file)?);
    let positions = |n: usize| (0..n as i64).collect::<Vec<_>>();
    let params = ModelParams {
        factors: rank,
        reg,
        reg_scaling: RegScaling::None,
        alpha,
        ..ModelParams::for_kind(ModelKind::Implicit)
    };
    let model = DenseModel {
        params,
        rank,
        user_ids: ids::resolve(&positions(n_users), user_map.as_ref(), "user row", path)?,
        users,
        item_ids: ids::resolve(&positions(n_items), item_map.as_ref(), "item row", path)?,
        items,
        bias_columns: false,
        global_mean: 0.0,
        rating_range: (f32::MIN, f32::MAX),
    };
    model.check(&path.display().to_string())?;
    let facts = TrainingFacts {
        iterations: iterations.map(|i| i as usize),
        other: vec![("imported".into(), "implicit".into())],
        ..Default::default()
    };
    Ok((model, facts))
}

/// Writes `model` as implicit's `.npz` at `path`, and its IDs beside it.
/// Returns the ID files written.
pub fn write(path: &Path, model: &DenseModel) -> Result<(PathBuf, PathBuf)> {
    let p = model.params;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let entries: [(&str, Vec<u8>); 6] = [
        ("user_factors", npy::encode_f32(model.user_ids.len(), model.rank, &model.users)),
        ("item_factors", npy::encode_f32(model.item_ids.len(), model.rank, &model.items)),
        ("regularization", npy::encode_scalar("<f8", &f64::from(p.reg).to_le_bytes())),
        ("factors", npy::encode_scalar("<i8", &(model.rank as i64).to_le_bytes())),
        ("alpha", npy::encode_scalar("<f8", &f64::from(p.alpha).to_le_bytes())),
        ("dtype", npy::encode_str("float32")),
    ];
    let fail = |e: zip::result::ZipError| Error::io(path, std::io::Error::other(e));
    for (name, bytes) in entries {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(format!("{name}.npy"), options).map_err(fail)?;
        zip.write_all(&bytes).map_err(|e| Error::io(path, e))?;
    }
    let bytes = zip.finish().map_err(fail)?.into_inner();
    let (user_file, item_file) = id_paths(path);
    ids::write_lines(&user_file, &model.user_ids)?;
    ids::write_lines(&item_file, &model.item_ids)?;
    gramrec_store::write_atomic(path, |w| w.write_all(&bytes))?;
    Ok((user_file, item_file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_no_model_can_have_are_named_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nan.npz");
        let params = ModelParams { reg: f32::NAN, ..ModelParams::for_kind(ModelKind::Implicit) };
        let model = DenseModel {
            params,
            rank: 2,
            user_ids: vec!["u".into()],
            users: vec![0.1, 0.2],
            item_ids: vec!["i".into()],
            items: vec![0.3, 0.4],
            bias_columns: false,
            global_mean: 0.0,
            rating_range: (f32::MIN, f32::MAX),
        };
        write(&path, &model).unwrap();
        let e = read(&path, None, None).unwrap_err().to_string();
        assert!(e.contains("nan.npz: the model's settings: 'reg' must be a finite number ≥ 0, not NaN"), "{e}");
    }

    #[test]
    fn an_entry_that_expands_far_beyond_its_size_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.npz");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("user_factors.npy", options).unwrap();
        let zeros = npy::encode_f32(5_000_000, 1, &vec![0.0; 5_000_000]);
        zip.write_all(&zeros).unwrap();
        zip.finish().unwrap();
        let packed = std::fs::metadata(&path).unwrap().len();
        assert!(packed < 200_000, "20 MB of zeros deflate to {packed} bytes");
        let e = read(&path, None, None).unwrap_err().to_string();
        assert!(e.contains("user_factors.npy declares 20000128 bytes") && e.contains("hostile"), "{e}");
    }
}
