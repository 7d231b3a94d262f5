//! The `META` section: the model's parameters, the rating range and the
//! facts of the training run, as `key=value` lines.

use super::{corrupt, FormatError, Side};
use crate::params::{Method, ModelParams, SolverOptions};

/// What a factor file says about the model, beside the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// User or item factors.
    pub side: Side,
    /// The objective: needed to fold new users in with the training maths.
    pub params: ModelParams,
    /// μ of explicit models with biases (0 otherwise).
    pub global_mean: f32,
    /// Smallest rating seen in training: predictions are clipped to it.
    pub rating_min: f32,
    /// Largest rating seen in training.
    pub rating_max: f32,
    /// How the model was trained (`train.*` keys).
    pub training: TrainingFacts,
}

/// How a model was trained, recorded in both of its files as `train.*`
/// metadata keys: for `inspect`, for checking that a model's two files (or a
/// checkpoint and its run) belong together, and for resuming.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingFacts {
    /// Iterations asked for (a Bayesian model's: its sweeps).
    pub iterations: Option<usize>,
    /// How it was fitted (absent: ALS, as every model before Bayesian ones).
    pub method: Option<Method>,
    /// A Bayesian model's sweeps averaged into it.
    pub samples: Option<usize>,
    /// A Bayesian model's sweeps drawn before those.
    pub burn_in: Option<usize>,
    /// The solver and its CG steps.
    pub solver: Option<SolverOptions>,
    /// Seed of the initial factors.
    pub seed: Option<u64>,
    /// Training interactions.
    pub interactions: Option<u64>,
    /// What trained it ("cpu (2 threads)", "gpu NVIDIA …").
    pub device: Option<String>,
    /// The gramrec version that wrote it.
    pub version: Option<String>,
    /// One ID per training run, the same in both files of a model.
    pub run: Option<String>,
    /// Checkpoints: iterations done so far.
    pub completed_iterations: Option<usize>,
    /// Checkpoints: a checksum of the training data.
    pub data: Option<u32>,
    /// When the training data was read, in Unix seconds: `serve` re-applies
    /// the events it logged after this to a model it loads, as the model
    /// cannot hold them.
    pub read_at: Option<f64>,
    /// Any other `train.*` keys, kept as they are (written by other tools or versions).
    pub other: Vec<(String, String)>,
}

impl TrainingFacts {
    /// Every fact as (key, value) text, in a fixed order: what the file stores
    /// and `inspect` shows.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push((k.to_string(), v));
            }
        };
        put("iterations", self.iterations.map(|v| v.to_string()));
        put("method", self.method.map(|m| m.to_string()));
        put("samples", self.samples.map(|v| v.to_string()));
        put("burn_in", self.burn_in.map(|v| v.to_string()));
        put("solver", self.solver.map(|s| s.solver.to_string()));
        put("cg_steps", self.solver.map(|s| s.cg_steps.to_string()));
        put("seed", self.seed.map(|v| v.to_string()));
        put("interactions", self.interactions.map(|v| v.to_string()));
        put("device", self.device.clone());
        put("gramrec", self.version.clone());
        put("run", self.run.clone());
        put("completed_iterations", self.completed_iterations.map(|v| v.to_string()));
        put("data", self.data.map(|v| format!("{v:08x}")));
        put("read_at", self.read_at.map(|v| format!("{v:.3}")));
        out.extend(self.other.iter().cloned());
        out
    }

    /// The facts from (key, value) text, as [`pairs`](Self::pairs) writes them.
    fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, FormatError> {
        let mut facts = TrainingFacts::default();
        let (mut solver, mut cg_steps) = (None, None);
        for &(k, v) in pairs {
            let key = format!("train.{k}");
            match k {
                "iterations" => facts.iterations = Some(parse(&key, v)?),
                "method" => facts.method = Some(parse(&key, v)?),
                "samples" => facts.samples = Some(parse(&key, v)?),
                "burn_in" => facts.burn_in = Some(parse(&key, v)?),
                "solver" => solver = Some(parse(&key, v)?),
                "cg_steps" => cg_steps = Some(parse(&key, v)?),
                "seed" => facts.seed = Some(parse(&key, v)?),
                "interactions" => facts.interactions = Some(parse(&key, v)?),
                "device" => facts.device = Some(v.to_string()),
                "gramrec" => facts.version = Some(v.to_string()),
                "run" => facts.run = Some(v.to_string()),
                "completed_iterations" => facts.completed_iterations = Some(parse(&key, v)?),
                "read_at" => {
                    facts.read_at = Some(parse::<f64>(&key, v)?).filter(|t| t.is_finite());
                    if facts.read_at.is_none() {
                        return Err(invalid_value(&key, v));
                    }
                }
                "data" => {
                    facts.data = Some(u32::from_str_radix(v, 16).map_err(|_| invalid_value(&key, v))?);
                }
                _ => facts.other.push((k.to_string(), v.to_string())),
            }
        }
        facts.solver = solver.map(|solver| SolverOptions { solver, cg_steps: cg_steps.unwrap_or(0) });
        Ok(facts)
    }
}

impl Metadata {
    pub(super) fn encode(&self, rows: usize) -> String {
        let p = &self.params;
        let mut s = String::new();
        let mut kv = |k: &str, v: &dyn std::fmt::Display| s.push_str(&format!("{k}={v}\n"));
        kv("side", &self.side.name());
        kv("kind", &p.kind);
        kv("rows", &rows);
        kv("factors", &p.factors);
        kv("reg", &p.reg);
        kv("reg_scaling", &p.reg_scaling);
        kv("reg_exponent", &p.reg_exponent);
        kv("unobserved", &p.unobserved);
        kv("alpha", &p.alpha);
        kv("confidence", &p.confidence);
        kv("epsilon", &p.epsilon);
        kv("biases", &p.biases);
        kv("global_mean", &self.global_mean);
        kv("rating_min", &self.rating_min);
        kv("rating_max", &self.rating_max);
        for (k, v) in self.training.pairs() {
            kv(&format!("train.{}", k.replace(['=', '\n'], "_")), &v.replace('\n', " "));
        }
        s
    }

    pub(super) fn decode(p: &[u8]) -> Result<(Self, usize), FormatError> {
        let text = std::str::from_utf8(p).map_err(|_| corrupt("metadata is not UTF-8"))?;
        let mut pairs = Vec::new();
        for line in text.lines() {
            let (k, v) =
                line.split_once('=').ok_or_else(|| corrupt(format!("metadata line without '=': {line:.40}")))?;
            pairs.push((k, v));
        }
        let get = |key: &str| -> Result<&str, FormatError> {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .ok_or_else(|| corrupt(format!("metadata has no '{key}'")))
        };
        let side = match get("side")? {
            "users" => Side::Users,
            "items" => Side::Items,
            other => return Err(invalid_value("side", other)),
        };
        // Keys added after the first files were written: their absence means
        // what those files meant.
        let optional = |key: &str, default: f32| get(key).map_or(Ok(default), |v| parse(key, v));
        let params = ModelParams {
            kind: parse("kind", get("kind")?)?,
            factors: parse("factors", get("factors")?)?,
            reg: parse("reg", get("reg")?)?,
            reg_scaling: parse("reg_scaling", get("reg_scaling")?)?,
            reg_exponent: optional("reg_exponent", crate::params::DEFAULT_REG_EXPONENT)?,
            unobserved: optional("unobserved", crate::params::DEFAULT_UNOBSERVED)?,
            alpha: parse("alpha", get("alpha")?)?,
            confidence: parse("confidence", get("confidence")?)?,
            epsilon: parse("epsilon", get("epsilon")?)?,
            biases: parse("biases", get("biases")?)?,
        };
        let training: Vec<(&str, &str)> =
            pairs.iter().filter_map(|(k, v)| k.strip_prefix("train.").map(|k| (k, *v))).collect();
        let meta = Metadata {
            side,
            params,
            global_mean: parse("global_mean", get("global_mean")?)?,
            rating_min: parse("rating_min", get("rating_min")?)?,
            rating_max: parse("rating_max", get("rating_max")?)?,
            training: TrainingFacts::from_pairs(&training)?,
        };
        meta.check_limits()?;
        Ok((meta, parse("rows", get("rows")?)?))
    }
}

impl Metadata {
    /// Checks every field against the format's limits (docs/FORMAT.md), so
    /// that nothing is sized or computed from a value no writer produces.
    pub(super) fn check_limits(&self) -> Result<(), FormatError> {
        let e = self.params.limits_error().or_else(|| crate::params::range_error(self.rating_min, self.rating_max));
        match e {
            Some(e) => Err(corrupt(format!("metadata {e}"))),
            None if !self.global_mean.is_finite() => Err(corrupt("metadata 'global_mean' is not finite")),
            None => Ok(()),
        }
    }
}

fn invalid_value(key: &str, v: &str) -> FormatError {
    corrupt(format!("metadata '{key}' has an invalid value '{}'", crate::text::excerpt(v, 40)))
}

/// A metadata value of any type that parses from text.
fn parse<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, FormatError> {
    v.parse().map_err(|_| invalid_value(key, v))
}
