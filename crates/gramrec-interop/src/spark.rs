//! Spark MLlib's `ALSModel` folder, as `ALSModel.save` writes it and
//! `ALSModel.load` reads it:
//!
//! ```text
//! DIR/metadata/part-00000     one JSON line: class, sparkVersion, uid, paramMap, defaultParamMap, rank
//! DIR/userFactors/part-*.parquet   id: int, features: array<float>
//! DIR/itemFactors/part-*.parquet
//! ```
//!
//! Spark records neither the objective (implicitPrefs, alpha and regParam
//! are the estimator's parameters, not the model's) nor biases. An export
//! adds a `gramrec` key with them (Spark ignores keys it does not know at the
//! top level), so an import of gramrec's own export is exact; a model Spark
//! trained needs `--kind`. IDs that are not all `int` are written as dense
//! indices with `userIds/` and `itemIds/` tables (`id`, `label`) inside the
//! folder; an import uses those tables when present.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float32Builder, ListBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use gramrec_core::{set, Error, ModelKind, ModelParams, Named, RegScaling, Result, TrainingFacts};
use serde_json::{json, Value};

use crate::dense::DenseModel;
use crate::ids::{self, IdMap};
use crate::parquet_io;

/// The class name of a saved ALS model.
pub const ALS_MODEL_CLASS: &str = "org.apache.spark.ml.recommendation.ALSModel";
/// The Spark version whose layout an export follows (and the tests load with).
pub const SPARK_VERSION: &str = "4.0.1";

/// What an import needs to know that Spark's folder may not say.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Explicit or implicit (Spark's `implicitPrefs`): required unless the
    /// folder is gramrec's own export.
    pub kind: Option<ModelKind>,
    /// Spark's `regParam` (default 0.1), for folding new users in.
    pub reg: Option<f32>,
    /// Spark's `alpha` (default 1.0), for folding new users in.
    pub alpha: Option<f32>,
    /// Labels of the user IDs (e.g. a `StringIndexerModel`'s).
    pub user_ids: Option<IdMap>,
    /// Labels of the item IDs.
    pub item_ids: Option<IdMap>,
}

/// Reads a saved `ALSModel` folder. Returns the model and what to record
/// about where it came from.
pub fn read(dir: &Path, opts: ImportOptions) -> Result<(DenseModel, TrainingFacts)> {
    let meta = parquet_io::metadata(dir)?;
    check_class(dir, &meta)?;
    let rank = meta.get("rank").and_then(Value::as_u64).ok_or_else(|| {
        Error::input(
            &dir.join("metadata"),
            None,
            "the metadata has no integer 'rank'; was it written by ALSModel.save?",
        )
    })? as usize;
    let ours = meta.get("gramrec");
    let kind = match (opts.kind, ours.and_then(|g| g.get("kind")).and_then(Value::as_str)) {
        (Some(k), _) => k,
        (None, Some(k)) => named(k)?,
        (None, None) => {
            return Err(Error::Argument(format!(
                "{}: a Spark ALSModel does not record whether it was trained with implicitPrefs; \
                 pass {} or {}",
                dir.display(),
                set("kind", "explicit"),
                set("kind", "implicit")
            )))
        }
    };
    let mut params = ModelParams {
        factors: rank,
        reg: 0.1,
        reg_scaling: RegScaling::Count,
        alpha: 1.0,
        biases: false,
        ..ModelParams::for_kind(kind)
    };
    let num = |key: &str| ours.and_then(|g| g.get(key)).and_then(Value::as_f64).map(|v| v as f32);
    let mut bias_columns = false;
    if let Some(g) = ours {
        params.reg = num("reg").unwrap_or(params.reg);
        params.alpha = num("alpha").unwrap_or(params.alpha);
        params.epsilon = num("epsilon").unwrap_or(params.epsilon);
        params.reg_exponent = num("regExponent").unwrap_or(params.reg_exponent);
        params.unobserved = num("unobservedWeight").unwrap_or(params.unobserved);
        if let Some(s) = g.get("regScaling").and_then(Value::as_str) {
            params.reg_scaling = named(s)?;
        }
        if let Some(c) = g.get("confidence").and_then(Value::as_str) {
            params.confidence = named(c)?;
        }
        bias_columns = g.get("biasColumns").and_then(Value::as_bool).unwrap_or(false);
    }
    params.reg = opts.reg.unwrap_or(params.reg);
    params.alpha = opts.alpha.unwrap_or(params.alpha);
    let table = |name: &str| dir.join(name).is_dir().then(|| ids::read(&dir.join(name))).transpose();
    let user_map = opts.user_ids.map_or_else(|| table("userIds"), |m| Ok(Some(m)))?;
    let item_map = opts.item_ids.map_or_else(|| table("itemIds"), |m| Ok(Some(m)))?;
    let (user_keys, users) = factors(&dir.join("userFactors"), rank)?;
    let (item_keys, items) = factors(&dir.join("itemFactors"), rank)?;
    let model = DenseModel {
        params,
        rank,
        user_ids: ids::resolve(&user_keys, user_map.as_ref(), "user", dir)?,
        users,
        item_ids: ids::resolve(&item_keys, item_map.as_ref(), "item", dir)?,
        items,
        bias_columns,
        global_mean: num("globalMean").unwrap_or(0.0),
        rating_range: (num("ratingMin").unwrap_or(f32::MIN), num("ratingMax").unwrap_or(f32::MAX)),
    };
    model.check(&dir.display().to_string())?;
    let version = meta.get("sparkVersion").and_then(Value::as_str).unwrap_or("?");
    let uid = meta.get("uid").and_then(Value::as_str).unwrap_or("?");
    let facts =
        TrainingFacts { other: vec![("imported".into(), format!("spark {version} {uid}"))], ..Default::default() };
    Ok((model, facts))
}

/// An `ALSModel.save` folder, as an output: replaced only when it is one
/// (its metadata names the class) and holds nothing else.
pub const FOLDER: gramrec_store::FolderKind = gramrec_store::FolderKind {
    name: "Spark ALSModel folder",
    entries: &["metadata", "userFactors", "itemFactors", "userIds", "itemIds"],
    is_one: |dir| {
        parquet_io::metadata(dir).is_ok_and(|m| m.get("class").and_then(Value::as_str) == Some(ALS_MODEL_CLASS))
    },
};

/// A value of the `gramrec` metadata key.
fn named<T: Named>(s: &str) -> Result<T> {
    T::from_name(s).map_err(|e| Error::Data(format!("the metadata's gramrec key: {e}")))
}

/// Refuses what is not an ALSModel, pointing at the ALS stage of a pipeline.
fn check_class(dir: &Path, meta: &Value) -> Result<()> {
    let class = meta.get("class").and_then(Value::as_str).unwrap_or("(no class)");
    if class == ALS_MODEL_CLASS {
        return Ok(());
    }
    let mut hint = String::new();
    if class.ends_with("PipelineModel") {
        let stages = std::fs::read_dir(dir.join("stages")).into_iter().flatten().flatten().map(|e| e.path());
        let mut als: Vec<_> = stages
            .filter(|s| {
                parquet_io::metadata(s).is_ok_and(|m| m.get("class").and_then(Value::as_str) == Some(ALS_MODEL_CLASS))
            })
            .collect();
        als.sort();
        hint = match als.first() {
            Some(stage) => format!("; import its ALS stage: {}", stage.display()),
            None => "; it has no ALSModel stage".into(),
        };
    }
    Err(Error::input(dir, None, format!("this is a Spark {class}, not an ALSModel{hint}")))
}

/// The (id, features) rows of a factor folder, in id order.
fn factors(dir: &Path, rank: usize) -> Result<(Vec<i64>, Vec<f32>)> {
    if !dir.is_dir() {
        return Err(Error::input(dir, None, "missing: an ALSModel folder holds userFactors/ and itemFactors/"));
    }
    let mut rows: Vec<(i64, Vec<f32>)> = Vec::new();
    for part in gramrec_data::load::parquet_files(dir)? {
        for batch in parquet_io::batches(&part)? {
            let keys = ids::integers(ids::column(&batch, "id", &part)?, &part, "id")?;
            let features = ids::column(&batch, "features", &part)?;
            let list = features.as_list_opt::<i32>().ok_or_else(|| {
                Error::input(
                    &part,
                    None,
                    format!("column 'features' is {}, expected array<float> as ALSModel writes", features.data_type()),
                )
            })?;
            for (r, key) in keys.into_iter().enumerate() {
                if list.is_null(r) {
                    return Err(Error::input(&part, None, format!("the features of id {key} are null")));
                }
                let values = floats(&list.value(r), &part)?;
                if values.len() != rank {
                    return Err(Error::input(
                        &part,
                        None,
                        format!("id {key} has {} features; the metadata says rank {rank}", values.len()),
                    ));
                }
                rows.push((key, values));
            }
        }
    }
    rows.sort_unstable_by_key(|r| r.0);
    if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::input(dir, None, format!("id {} appears twice", w[0].0)));
    }
    let keys = rows.iter().map(|r| r.0).collect();
    Ok((keys, rows.into_iter().flat_map(|r| r.1).collect()))
}

fn floats(values: &ArrayRef, part: &Path) -> Result<Vec<f32>> {
    if values.null_count() > 0 {
        return Err(Error::input(part, None, "a features array holds nulls"));
    }
    match values.data_type() {
        DataType::Float32 => Ok(values.as_primitive::<Float32Type>().values().to_vec()),
        DataType::Float64 => Ok(values.as_primitive::<Float64Type>().values().iter().map(|&v| v as f32).collect()),
        other => Err(Error::input(part, None, format!("features are {other}, expected float"))),
    }
}

/// What an export did with the IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    /// The user IDs were not all `int`: dense indices and `userIds/` were written.
    pub mapped_users: bool,
    /// The same for items (`itemIds/`).
    pub mapped_items: bool,
}

/// Writes `model` as an `ALSModel` folder into `dir` (an empty folder the
/// caller renames into place).
pub fn write(dir: &Path, model: &DenseModel) -> Result<Exported> {
    let p = model.params;
    let ours = json!({
        "kind": p.kind.name(),
        "reg": short(p.reg),
        "regScaling": p.reg_scaling.name(),
        "regExponent": short(p.reg_exponent),
        "unobservedWeight": short(p.unobserved_weight()),
        "alpha": short(p.alpha),
        "confidence": p.confidence.name(),
        "epsilon": short(p.epsilon),
        "biasColumns": model.bias_columns,
        "globalMean": short(model.global_mean),
        "ratingMin": short(model.rating_range.0),
        "ratingMax": short(model.rating_range.1),
        "version": env!("CARGO_PKG_VERSION"),
    });
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let meta = json!({
        "class": ALS_MODEL_CLASS,
        "timestamp": millis as u64,
        "sparkVersion": SPARK_VERSION,
        "uid": format!("ALS_gramrec{millis:x}"),
        "paramMap": {},
        "defaultParamMap": {
            "blockSize": 4096,
            "coldStartStrategy": "nan",
            "itemCol": "item",
            "predictionCol": "prediction",
            "userCol": "user",
        },
        "rank": model.rank,
        "gramrec": ours,
    });
    parquet_io::write_text_folder(&dir.join("metadata"), &format!("{meta}\n"))?;
    let mut mapped = [false; 2];
    for (k, (name, ids, values)) in
        [("user", &model.user_ids, &model.users), ("item", &model.item_ids, &model.items)].into_iter().enumerate()
    {
        let keys: Option<Vec<i32>> =
            ids.iter().map(|id| id.parse::<i32>().ok().filter(|v| v.to_string() == *id)).collect();
        let keys = keys.unwrap_or_else(|| {
            mapped[k] = true;
            (0..ids.len() as i32).collect()
        });
        let groups = || keys.chunks(parquet_io::ROWS_PER_GROUP).enumerate();
        if mapped[k] {
            let tables = groups().map(|(g, keys)| {
                let labels = &ids[g * parquet_io::ROWS_PER_GROUP..][..keys.len()];
                RecordBatch::try_from_iter([
                    ("id", Arc::new(Int32Array::from(keys.to_vec())) as ArrayRef),
                    ("label", Arc::new(StringArray::from_iter_values(labels)) as ArrayRef),
                ])
                .map_err(|e| Error::Data(e.to_string()))
            });
            parquet_io::write_folder(&dir.join(format!("{name}Ids")), tables)?;
        }
        let rank = model.rank;
        let batches = groups().map(|(g, keys)| {
            factor_batch(keys, &values[g * parquet_io::ROWS_PER_GROUP * rank..][..keys.len() * rank], rank)
        });
        parquet_io::write_folder(&dir.join(format!("{name}Factors")), batches)?;
    }
    Ok(Exported { mapped_users: mapped[0], mapped_items: mapped[1] })
}

/// An f32 as JSON in its shortest form (0.1, not 0.10000000149011612).
fn short(v: f32) -> Value {
    v.to_string().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number)
}

/// `id: int, features: array<float>`, as Spark writes factors.
fn factor_batch(keys: &[i32], values: &[f32], rank: usize) -> Result<RecordBatch> {
    let element = Arc::new(Field::new("element", DataType::Float32, false));
    let mut lists =
        ListBuilder::with_capacity(Float32Builder::with_capacity(values.len()), keys.len()).with_field(element.clone());
    for row in values.chunks_exact(rank) {
        lists.values().append_slice(row);
        lists.append(true);
    }
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("features", DataType::List(element), true),
    ]);
    RecordBatch::try_new(Arc::new(schema), vec![Arc::new(Int32Array::from(keys.to_vec())), Arc::new(lists.finish())])
        .map_err(|e| Error::Data(e.to_string()))
}
