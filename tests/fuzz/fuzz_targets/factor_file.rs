//! The factor-file reader, and scoring with whatever it accepts: no input may
//! panic, hang or allocate beyond its size.
#![no_main]

use gramrec_core::{FactorFile, ItemModel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = FactorFile::from_bytes(data) else { return };
    let _ = file.to_bytes();
    if let Ok(model) = ItemModel::new(file) {
        let ids = model.ids().to_vec();
        let history: Vec<(String, f32)> = ids.iter().take(3).map(|id| (id.clone(), 1.0)).collect();
        let _ = model.recommend_history(&history, 5);
        if !model.is_empty() {
            let _ = model.similar(0, 5);
        }
    }
});
