//! Smaller item files rank almost like f32 ones: top-10 overlap through
//! fold-in (what the browser does) on a model trained on synthetic data.

use gramrec_als::{Device, TrainConfig, Trained};
use gramrec_core::{Dtype, ItemModel, ModelKind};
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_data::Dataset;

/// Mean overlap of the top 10 of `dtype` with the f32 top 10, over users'
/// histories (their training interactions) folded in.
fn overlap(syn: &Synthetic, model: &Trained, data: &Dataset, dtype: Dtype) -> f64 {
    let f32_items = model.files(data, Dtype::F32).items;
    let small_items = model.files(data, dtype).items;
    let (exact, small) = (ItemModel::new(f32_items).unwrap(), ItemModel::new(small_items).unwrap());
    let mut total = 0.0;
    let users = 300;
    for u in 0..users {
        let history: Vec<(String, f32)> =
            (0..syn.len()).filter(|&k| syn.user[k] as usize == u).map(|k| (format!("i{}", syn.item[k]), 1.0)).collect();
        let a = exact.recommend_history(&history, 10).unwrap();
        let b = small.recommend_history(&history, 10).unwrap();
        let hits = b.items.iter().filter(|r| a.items.iter().any(|x| x.item == r.item)).count();
        total += hits as f64 / a.items.len().max(1) as f64;
    }
    total / users as f64
}

#[test]
fn i8_and_f16_top_10_overlap_the_f32_top_10() {
    let syn = Synthetic::generate(SynthSpec::new(2_000, 1_000, 60_000, ModelKind::Implicit, 17));
    let data = syn.dataset(|_| true).unwrap();
    let config = TrainConfig {
        iterations: 10,
        seed: 1,
        threads: 2,
        device: Device::Cpu,
        ..TrainConfig::for_kind(ModelKind::Implicit)
    };
    let model = gramrec_als::train(&data, &config, &mut |_| Ok(())).unwrap();
    let i8 = overlap(&syn, &model, &data, Dtype::I8);
    let f16 = overlap(&syn, &model, &data, Dtype::F16);
    eprintln!("top-10 overlap with f32: i8 {i8:.4}, f16 {f16:.4}");
    assert!(i8 >= 0.97, "i8 top-10 overlap {i8:.4} < 0.97");
    assert!(f16 >= 0.99, "f16 top-10 overlap {f16:.4} < 0.99");
}
