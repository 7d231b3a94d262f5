//! One module per subcommand, and what they share: reading input files and
//! turning flags into the libraries' option values (with the per-kind
//! defaults of gramrec-core, never numbers of their own).

mod auto;
mod bench;
mod demo;
mod evaluate;
mod export;
mod generate;
mod import;
mod inspect;
mod recommend;
mod rules;
#[cfg(feature = "serve")]
mod serve;
mod similar;
mod split;
mod train;
mod tune;

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use gramrec_als::{check_given, BayesOptions, Method, TrainConfig};
use gramrec_core::params::DEFAULT_ITERATIONS;
use gramrec_core::text::escape_controls;
use gramrec_core::{Error, ModelKind, ModelParams, Recommendation};
use gramrec_data::load::{self, Format, Header, Interactions, ItemField, LoadOptions, RatingColumn};
use gramrec_data::{DatasetOptions, DetailColumns, DetailTable};
use gramrec_engine::Asked;

use crate::cli::{AlsArgs, Command, DataArgs, DetailArgs, InputArgs, TrainingArgs};

/// Runs a subcommand.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Train(a) => train::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Recommend(a) => recommend::run(a),
        Command::Similar(a) => similar::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Split(a) => split::run(a),
        Command::Export(a) => export::run(a),
        Command::Import(a) => import::run(a),
        Command::Rules(a) => rules::run(a),
        Command::Tune(a) => tune::run(a),
        #[cfg(feature = "serve")]
        Command::Serve(a) => serve::run(a),
    }
}

impl InputArgs {
    /// The loader's options for these flags.
    fn options(&self) -> LoadOptions {
        LoadOptions {
            format: self.format,
            delimiter: self.delimiter.clone(),
            header: self.header,
            encoding: self.encoding,
            basket: self.basket_col.clone(),
            user: self.user_col.clone(),
            item: self.item_col.clone(),
            rating: self.rating_col.clone(),
            value_map: self.value_map.clone(),
            timestamp: self.timestamp_col.clone(),
            time_format: self.time_format.clone(),
            item_alias: self.item_alias.clone(),
            skip_invalid: self.skip_invalid,
            ..Default::default()
        }
    }

    /// Whether any flag describes the file's columns or layout (and so
    /// would not fit a file of another shape).
    fn describes_columns(&self) -> bool {
        self.format != Format::Auto
            || self.delimiter.is_some()
            || self.header != Header::Auto
            || self.basket_col.is_some()
            || self.user_col.is_some()
            || self.item_col.is_some()
            || self.rating_col != RatingColumn::Auto
            || self.timestamp_col.is_some()
            || self.time_format.is_some()
            || self.value_map.is_some()
    }

    /// Reads an interaction file; returns it with the seconds it took. How
    /// it was read (a detected delimiter, an encoding) is logged unless `quiet`.
    fn load(&self, path: &Path, quiet: bool) -> Result<(Interactions, f64)> {
        self.load_with(path, self.options(), quiet)
    }

    /// [`load`](Self::load) with adjusted options.
    fn load_with(&self, path: &Path, opts: LoadOptions, quiet: bool) -> Result<(Interactions, f64)> {
        let start = Instant::now();
        let x = load::load(path, &opts)?;
        if !quiet {
            for note in &x.notes {
                crate::progress::stderr_line(&format!("{}: {note}", path.display()));
            }
        }
        if !x.skipped.is_empty() {
            let total: u64 = x.skipped.values().sum();
            let kinds: Vec<String> = x.skipped.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
            crate::progress::stderr_line(&format!(
                "{}: skipped {total} bad lines ({})",
                path.display(),
                kinds.join(", ")
            ));
        }
        Ok((x, start.elapsed().as_secs_f64()))
    }
}

impl DetailArgs {
    fn columns(&self) -> DetailColumns {
        DetailColumns {
            name: self.item_name_col.clone(),
            url: self.item_url_col.clone(),
            image: self.item_image_col.clone(),
        }
    }

    /// The detail columns to read with the interactions: those named, when
    /// no --items file is given (none otherwise, so loading costs nothing).
    fn interaction_fields(&self) -> Vec<ItemField> {
        let columns = self.columns();
        if self.items.is_some() || !columns.any() {
            return Vec::new();
        }
        columns.fields(false)
    }

    /// The details to store: from --items, or from the interaction file's
    /// own columns (`x`, loaded with [`interaction_fields`](Self::interaction_fields));
    /// `None` when neither is asked for. `base` gives the item file's
    /// encoding and bad-line handling.
    fn table(&self, x: Option<&Interactions>, base: &LoadOptions) -> Result<Option<DetailTable>> {
        Ok(match &self.items {
            Some(path) => {
                // The ID column is found by its header (item, itemId, movieId, asin…), else the first.
                let opts =
                    LoadOptions { encoding: base.encoding, skip_invalid: base.skip_invalid, ..Default::default() };
                Some(DetailTable::load(path, &opts, &self.columns())?)
            }
            None if self.columns().any() => x.map(DetailTable::from_interactions),
            None => None,
        })
    }
}

impl TrainingArgs {
    /// Reads the training input (with the detail columns asked for), with
    /// the seconds it took and the item details to store in the model.
    fn load(&self) -> Result<(Interactions, f64, Option<DetailTable>)> {
        let base = self.input_args.options();
        let opts = LoadOptions { item_fields: self.details.interaction_fields(), ..base.clone() };
        let (first, rest) = self.input.split_first().expect("clap requires --input");
        let (mut x, mut seconds) = self.input_args.load_with(first, opts.clone(), self.quiet)?;
        for path in rest {
            // An event log (serve's events.jsonl) describes itself: the
            // first file's column flags would not find its fields.
            let opts = if self.input_args.describes_columns() && load::is_event_log(path) {
                if !self.quiet {
                    crate::progress::stderr_line(&format!(
                        "{}: an event log: read by its own fields (user, item, weight, time), not the column flags",
                        path.display()
                    ));
                }
                LoadOptions {
                    encoding: opts.encoding,
                    skip_invalid: opts.skip_invalid,
                    timestamps: opts.timestamps,
                    item_alias: opts.item_alias.clone(),
                    ..Default::default()
                }
            } else {
                opts.clone()
            };
            let (more, s) = self.input_args.load_with(path, opts, self.quiet)?;
            x.append(more)?;
            seconds += s;
        }
        let details = self.details.table(Some(&x), &base)?;
        Ok((x, seconds, details))
    }
}

/// Now, in Unix seconds: when a training command starts reading its data.
fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Says how many of a model's items an item-detail table describes.
fn log_details(table: &DetailTable, described: usize, ids: &[String], quiet: bool) {
    if !quiet {
        let unmatched = match table.unmatched(ids) {
            0 => String::new(),
            n => format!("; {n} of the table's items are not in the model (left out)"),
        };
        crate::progress::stderr_line(&format!(
            "item details ({}): {described} of {} items described{unmatched}",
            table.found().join(", "),
            ids.len()
        ));
    }
}

impl AlsArgs {
    /// What the flags fix of the choices [`read_defaults`](gramrec_engine::read_defaults)
    /// otherwise makes from the data.
    fn asked(&self) -> Asked {
        // Bayesian PMF models ratings: asking for it asks for an explicit model.
        let kind = if self.explicit || self.method == Method::Bayes && !self.implicit {
            Some(ModelKind::Explicit)
        } else if self.implicit {
            Some(ModelKind::Implicit)
        } else {
            None
        };
        Asked { kind, confidence: self.confidence }
    }

    /// The training configuration for `kind`: core's defaults, with these
    /// flags and the searchable parameters given (`factors`, `reg`, `alpha`
    /// None: the kind's default).
    /// `iterations` None: the default, or the sampler's sweeps with
    /// `--method bayes` (which refuses the ALS-only `--iterations` and `--reg`).
    fn config(
        &self,
        kind: ModelKind,
        factors: Option<usize>,
        iterations: Option<usize>,
        reg: Option<f32>,
        alpha: Option<f32>,
    ) -> Result<TrainConfig> {
        let bayes = BayesOptions {
            samples: self.samples.unwrap_or(BayesOptions::DEFAULT.samples),
            burn_in: self.burn_in.unwrap_or(BayesOptions::DEFAULT.burn_in),
        };
        let given = [
            ("samples", self.samples.is_some()),
            ("burn_in", self.burn_in.is_some()),
            ("iterations", iterations.is_some()),
            ("reg", reg.is_some()),
            ("reg_scaling", self.reg_scaling.is_some()),
            ("solver", self.solver.solver.is_some()),
            ("cg_steps", self.solver.cg_steps.is_some()),
        ];
        check_given(self.method, &given.iter().filter(|(_, g)| *g).map(|(name, _)| *name).collect::<Vec<_>>())
            .map_err(Error::from)?;
        let iterations = match self.method {
            Method::Als => iterations.unwrap_or(DEFAULT_ITERATIONS),
            Method::Bayes => bayes.sweeps(),
        };
        let defaults = ModelParams::for_kind(kind);
        let params = ModelParams {
            kind,
            factors: factors.unwrap_or(defaults.factors),
            reg: reg.unwrap_or(defaults.reg),
            reg_scaling: self.reg_scaling.unwrap_or(defaults.reg_scaling),
            reg_exponent: self.reg_exponent,
            unobserved: self.unobserved,
            alpha: alpha.unwrap_or(defaults.alpha),
            confidence: self.confidence.unwrap_or(defaults.confidence),
            epsilon: self.epsilon,
            biases: !self.no_biases,
        };
        Ok(TrainConfig {
            params,
            method: self.method,
            iterations,
            bayes,
            solver: self.solver.options(),
            seed: self.seed,
            threads: self.device.threads,
            device: self.device.device,
            gpu: self.device.gpu_options()?,
        })
    }
}

impl DataArgs {
    /// Dataset options, with the duplicate policy's per-kind default.
    fn options(&self, kind: ModelKind) -> DatasetOptions {
        let defaults = DatasetOptions::for_kind(kind);
        DatasetOptions {
            duplicates: self.duplicates.unwrap_or(defaults.duplicates),
            nonpositive: defaults.nonpositive.map(|_| self.nonpositive),
            min_user_count: self.min_user_count,
            min_item_count: self.min_item_count,
            k_core: self.k_core,
        }
    }
}

/// The flag that sets `parameter` to `value`: `--explicit` for the kind
/// (its flags are its values), `--confidence log` otherwise.
fn flag_for(parameter: &str, value: &str) -> String {
    match parameter {
        "kind" => format!("--{value}"),
        _ => format!("--{} {value}", parameter.replace('_', "-")),
    }
}

/// Refuses 0 for a count flag such as `--k` (0 would silently do nothing).
fn at_least_one(flag: &str, n: usize) -> Result<(), gramrec_core::Error> {
    if n == 0 {
        return Err(gramrec_core::Error::Argument(format!("{flag} must be at least 1")));
    }
    Ok(())
}

/// Items as a numbered table, IDs (and names, when the model has them)
/// escaped for the terminal.
fn items_table(items: &[Recommendation], score: &str) -> String {
    let ids: Vec<String> = items.iter().map(|r| escape_controls(&r.item).into_owned()).collect();
    // Names are shortened to 60 characters (IDs are shown whole).
    let names: Option<Vec<String>> = items.iter().any(|r| r.details.name.is_some()).then(|| {
        items.iter().map(|r| gramrec_core::text::excerpt(r.details.name.as_deref().unwrap_or(""), 60)).collect()
    });
    let width = |v: &[String]| v.iter().map(|s| s.chars().count()).max().unwrap_or(4).clamp(4, 61);
    let iw = width(&ids);
    let nw = names.as_deref().map_or(0, width);
    let mut s = format!("{:>4}  {:<iw$}  ", "rank", "item");
    if names.is_some() {
        s.push_str(&format!("{:<nw$}  ", "name"));
    }
    s.push_str(&format!("{score}\n"));
    for (n, (r, id)) in items.iter().zip(&ids).enumerate() {
        s.push_str(&format!("{:>4}  {id:<iw$}  ", n + 1));
        if let Some(names) = &names {
            s.push_str(&format!("{:<nw$}  ", names[n]));
        }
        s.push_str(&format!("{:.4}\n", r.score));
    }
    s
}
