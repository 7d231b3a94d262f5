//! Every GPU pipeline the backend creates, as JSON on stdout, for a second
//! WGSL implementation to compile: `web/test/webgpu.test.mjs` hands them to
//! Chromium's WebGPU (Dawn, whose compiler is Tint), where naga and lavapipe
//! are the only ones the Rust tests reach. One entry per pipeline and model
//! shape: `{"model", "label", "entry", "source", "constants": {name: value}}`.
//!
//! `cargo run -p gramrec-als --example wgsl_pipelines > pipelines.json`
use gramrec_als::backend::gpu::{top_k_pipeline, training_pipelines, KernelOptions, PipelineSource};
use gramrec_core::{Confidence, ModelKind, ModelParams, RegScaling};
use serde_json::{json, Map, Value};

fn main() {
    let implicit = ModelParams::for_kind(ModelKind::Implicit);
    let explicit = ModelParams::for_kind(ModelKind::Explicit);
    // The shapes whose constants take the kernels down different paths:
    // both kinds, biases, f16 storage, the log confidence, frequency-scaled
    // λ, factor counts past each of the kernels' thresholds (64, 128, 256),
    // and Bayesian PMF's draws.
    let options = KernelOptions { global_mean: 3.5, cg_steps: 3, half: false, bayes: false };
    let (half, bayes) = (KernelOptions { half: true, ..options }, KernelOptions { bayes: true, ..options });
    let models = [
        ("implicit, 64 factors, f32", implicit, options),
        ("explicit with biases, 64 factors, f16", explicit, half),
        (
            "implicit, 130 factors, log confidence, frequency-scaled λ",
            ModelParams { factors: 130, confidence: Confidence::Log, reg_scaling: RegScaling::Frequency, ..implicit },
            options,
        ),
        ("explicit with biases, 256 factors, f32", ModelParams { factors: 256, ..explicit }, options),
        ("Bayesian PMF with biases, 64 factors, f32", explicit, bayes),
    ];
    let mut out: Vec<Value> = Vec::new();
    for (name, params, options) in models {
        for p in training_pipelines(&params, options) {
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
