//! Factor files with valid checksums and framing, built from an arbitrary
//! structure: the model's fields (shapes that may disagree, any floats, any
//! text and links, any seen items), encoded section by section as the writer
//! encodes them, then sections dropped, replaced by arbitrary bytes, added or
//! reordered, and framed (`format::frame`) so every checksum is right. The
//! reader must refuse or accept without panicking or allocating beyond the
//! input; what it accepts must write back identically and score.
#![no_main]

use arbitrary::Arbitrary;
use gramrec_core::format::{self, ItemInfo, Metadata, SeenItems, Side, TrainingFacts};
use gramrec_core::quant::Factors;
use gramrec_core::{Dtype, FactorFile, ItemModel, Model, ModelFiles, ModelKind, ModelParams};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Change {
    /// Leave section n out.
    Drop(u8),
    /// Replace section n's payload.
    Replace(u8, Vec<u8>),
    /// Add a section.
    Add([u8; 4], Vec<u8>),
    /// Swap two sections.
    Swap(u8, u8),
    /// Replace a metadata line's value.
    Meta(u8, String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    items_side: bool,
    implicit: bool,
    factors: u8,
    dtype: u8,
    ids: Vec<String>,
    values: Vec<f32>,
    biases: Option<Vec<f32>>,
    gram: Option<Vec<f32>>,
    popularity: Option<Vec<u32>>,
    names: Vec<String>,
    urls: Vec<String>,
    images: Vec<String>,
    seen: Option<(u16, Vec<Vec<u16>>)>,
    rating: (f32, f32),
    changes: Vec<Change>,
}

fn build(input: &Input) -> FactorFile {
    let kind = if input.implicit { ModelKind::Implicit } else { ModelKind::Explicit };
    let f = (input.factors as usize % 9).max(1);
    let params = ModelParams { factors: f, ..ModelParams::for_kind(kind) };
    let dtype = [Dtype::F32, Dtype::F16, Dtype::I8][input.dtype as usize % 3];
    let mut values = input.values.clone();
    // Mostly the right length, so that deeper checks are reached.
    if input.dtype & 0x80 == 0 {
        values.resize(input.ids.len() * f, 0.5);
    }
    let factors = if values.len() % f == 0 { Factors::encode(&values, f, dtype) } else { Factors::F32(values) };
    let seen = input.seen.as_ref().map(|(items, rows)| {
        let rows: Vec<Vec<u32>> = rows
            .iter()
            .map(|r| {
                let mut r: Vec<u32> = r.iter().map(|&i| u32::from(i)).collect();
                r.sort_unstable();
                r.dedup();
                r
            })
            .collect();
        SeenItems::from_rows(usize::from(*items), rows.iter().map(Vec::as_slice))
    });
    FactorFile {
        meta: Metadata {
            side: if input.items_side { Side::Items } else { Side::Users },
            params,
            global_mean: 3.0,
            rating_min: input.rating.0,
            rating_max: input.rating.1,
            training: TrainingFacts::default(),
        },
        ids: input.ids.clone(),
        factors,
        biases: input.biases.clone(),
        gram: input.gram.clone(),
        popularity: input.popularity.clone(),
        info: Some(ItemInfo {
            names: input.names.clone().into(),
            urls: input.urls.clone().into(),
            images: input.images.clone().into(),
        }),
        seen,
    }
}

fn change(sections: &mut Vec<([u8; 4], Vec<u8>)>, c: &Change) {
    let n = sections.len().max(1);
    match c {
        Change::Drop(i) if !sections.is_empty() => {
            sections.remove(*i as usize % n);
        }
        Change::Replace(i, bytes) if !sections.is_empty() => sections[*i as usize % n].1 = bytes.clone(),
        Change::Add(tag, bytes) => sections.insert(sections.len().saturating_sub(1), (*tag, bytes.clone())),
        Change::Swap(a, b) if !sections.is_empty() => sections.swap(*a as usize % n, *b as usize % n),
        Change::Meta(line, value) => {
            if let Some((_, meta)) = sections.iter_mut().find(|(t, _)| *t == format::TAG_META) {
                let text = String::from_utf8_lossy(meta).into_owned();
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                if !lines.is_empty() {
                    let at = *line as usize % lines.len();
                    let key = lines[at].split('=').next().unwrap_or("").to_string();
                    lines[at] = format!("{key}={value}");
                }
                *meta = lines.iter().map(|l| format!("{l}\n")).collect::<String>().into_bytes();
            }
        }
        _ => {}
    }
}

fuzz_target!(|input: Input| {
    let file = build(&input);
    let mut sections = file.sections();
    for c in input.changes.iter().take(8) {
        change(&mut sections, c);
    }
    let bytes = format::frame(&sections);
    let Ok(read) = FactorFile::from_bytes(&bytes) else { return };
    // Whatever is accepted is valid: it writes, and reads back the same.
    let again = read.to_bytes().expect("an accepted file writes");
    assert_eq!(FactorFile::from_bytes(&again).expect("and reads back"), read);
    match read.meta.side {
        Side::Items => {
            if let Ok(model) = ItemModel::new(read) {
                let history: Vec<(String, f32)> = model.ids().iter().take(3).map(|id| (id.clone(), 2.0)).collect();
                let _ = model.recommend_history(&history, 5);
                if !model.is_empty() {
                    let _ = model.similar(0, 5);
                    let _ = model.details(0);
                }
            }
        }
        Side::Users => {
            // Paired with an item file of the seen items' item count.
            let items = read.seen.as_ref().map_or(3, |s| s.item_count()).min(64);
            let params = read.meta.params;
            let item_file = FactorFile {
                meta: Metadata { side: Side::Items, ..read.meta.clone() },
                ids: (0..items).map(|i| format!("i{i}")).collect(),
                factors: Factors::F32(vec![0.25; items * params.factors]),
                biases: params.uses_biases().then(|| vec![0.0; items]),
                gram: Some(vec![0.0; params.factors * params.factors]),
                popularity: None,
                info: None,
                seen: None,
                prior: None,
            };
            if let Ok(model) = Model::new(ModelFiles { users: read, items: item_file }) {
                for u in 0..model.user_count().min(4) {
                    let seen: Vec<usize> = model.seen(u).unwrap_or(&[]).iter().map(|&i| i as usize).collect();
                    if let Ok(recs) = model.items.recommend(&model.user_at(u), 5, &seen) {
                        assert!(recs.iter().all(|r| !seen.contains(&model.items.index_of(&r.item).unwrap())));
                    }
                }
            }
        }
    }
});
