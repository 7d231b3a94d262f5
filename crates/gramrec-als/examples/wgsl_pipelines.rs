//! Every GPU pipeline the backend creates, as JSON on stdout, for a second
//! WGSL implementation to compile: `web/test/webgpu.test.mjs` hands them to
//! Chromium's WebGPU (Dawn, whose compiler is Tint), where naga and lavapipe
//! are the only ones the Rust tests reach. One entry per pipeline and model
//! shape: `{"model", "label", "entry", "source", "constants": {name: value}}`.
//!
//! `cargo run -p gramrec-als --example wgsl_pipelines > pipelines.json`
use gramrec_als::backend::gpu::{top_k_pipeline, training_pipelines, PipelineSource};
use gramrec_core::{Confidence, ModelKind, ModelParams, RegScaling};
use serde_json::{json, Map, Value};

fn main() {
    let implicit = ModelParams::for_kind(ModelKind::Implicit);
    let explicit = ModelParams::for_kind(ModelKind::Explicit);
    // The shapes whose constants take the kernels down different paths:
    // both kinds, biases, f16 storage, the log confidence, frequency-scaled
    // λ, and factor counts past each of the kernels' thresholds (64, 128, 256).
    let models = [
        ("implicit, 64 factors, f32", implicit, false),
        ("explicit with biases, 64 factors, f16", explicit, true),
        (
            "implicit, 130 factors, log confidence, frequency-scaled λ",
            ModelParams { factors: 130, confidence: Confidence::Log, reg_scaling: RegScaling::Frequency, ..implicit },
            false,
        ),
        ("explicit with biases, 256 factors, f32", ModelParams { factors: 256, ..explicit }, false),
    ];
    let mut out: Vec<Value> = Vec::new();
    for (name, params, half) in models {
        for p in training_pipelines(&params, 3.5, 3, half) {
            out.push(entry(name, &p));
        }
    }
    for (factors, k) in [(64, 10), (256, 128)] {
        out.push(entry(&format!("top {k} over {factors} factors"), &top_k_pipeline(factors, k)));
    }
    println!("{}", Value::Array(out));
}

/// One pipeline as JSON.
fn entry(model: &str, p: &PipelineSource) -> Value {
    let constants: Map<String, Value> = p.constants.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({ "model": model, "label": p.label, "entry": p.entry, "source": p.source, "constants": constants })
}
