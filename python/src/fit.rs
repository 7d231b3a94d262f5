//! `fit`: [`Interactions`] and `ALS()`'s keywords into
//! [`gramrec_engine::fit`], with its events passed to a Python callable.

use gramrec_core::{Confidence, Error, SolverOptions};
use gramrec_engine::{
    check_defaults, check_given, fit as fit_engine, read_defaults, Asked, BayesOptions, DatasetOptions, DefaultChoice,
    Device, FitEvent, FitOptions, Method, Metric, ModelKind, Open, TrainConfig,
};
use gramrec_eval::auto::{search, AutoOptions, Budget, Event};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{pythonize, to_py, unknown};
use crate::interactions::{from_columns, Ids, Interactions};
use crate::model::Model;

/// `ALS()`'s settings, as the Python class passes them (a dict).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Settings {
    kind: Option<String>,
    confidence: Option<String>,
    factors: Option<usize>,
    regularization: Option<f32>,
    alpha: Option<f32>,
    iterations: Option<usize>,
    random_state: Option<u64>,
    num_threads: usize,
    use_cg: bool,
    cg_steps: usize,
    device: String,
    method: String,
    samples: Option<usize>,
    burn_in: Option<usize>,
}

impl Settings {
    /// The training configuration for these interactions: what was asked,
    /// the rest read from the data ([`read_defaults`]) or the kind's
    /// defaults, as `gramrec train` chooses them; and the choices read from
    /// the data.
    fn config(&self, x: &gramrec_engine::Interactions) -> PyResult<(TrainConfig, Vec<DefaultChoice>)> {
        let kind = self.kind.as_deref().map(|k| k.parse::<ModelKind>().map_err(|e| unknown("kind", e))).transpose()?;
        let confidence = self
            .confidence
            .as_deref()
            .map(|c| c.parse::<Confidence>().map_err(|e| unknown("confidence", e)))
            .transpose()?;
        let device = self.device.parse::<Device>().map_err(|e| unknown("device", e))?;
        let method = self.method.parse::<Method>().map_err(|e| unknown("method", e))?;
        // The solver keywords' defaults cannot be told from values given; any other value can.
        let given = [
            ("samples", self.samples.is_some()),
            ("burn_in", self.burn_in.is_some()),
            ("iterations", self.iterations.is_some()),
            ("reg", self.regularization.is_some()),
            ("use_cg", !self.use_cg),
            ("cg_steps", self.cg_steps != SolverOptions::DEFAULT.cg_steps),
        ];
        check_given(method, &given.iter().filter(|(_, g)| *g).map(|(name, _)| *name).collect::<Vec<_>>())
            .map_err(|e| to_py(e.into()))?;
        // Bayesian PMF models ratings: asking for it asks for an explicit model.
        let kind = kind.or((method == Method::Bayes).then_some(ModelKind::Explicit));
        let read = read_defaults(x, Asked { kind, confidence });
        let mut config = TrainConfig::for_kind(read.kind);
        config.method = method;
        config.bayes = BayesOptions {
            samples: self.samples.unwrap_or(BayesOptions::DEFAULT.samples),
            burn_in: self.burn_in.unwrap_or(BayesOptions::DEFAULT.burn_in),
        };
        let p = &mut config.params;
        p.confidence = read.confidence;
        p.factors = self.factors.unwrap_or(p.factors);
        p.reg = self.regularization.unwrap_or(p.reg);
        p.alpha = self.alpha.unwrap_or(p.alpha);
        config.iterations = match method {
            Method::Als => self.iterations.unwrap_or(config.iterations),
            Method::Bayes => config.bayes.sweeps(),
        };
        config.seed = self.random_state.unwrap_or(config.seed);
        config.threads = self.num_threads;
        config.solver = if self.use_cg { SolverOptions::cg(self.cg_steps) } else { SolverOptions::cholesky() };
        config.device = device;
        Ok((config, read.choices))
    }
}

/// Fits a model to `interactions` (which stay as they are, for another fit).
/// `on_event(name, data)` hears what happens: `defaults` (the choices
/// read from the data), `built` (users, items, interactions, iterations),
/// `device` (where it trains), `iteration` (iteration, seconds, loss); an
/// exception it raises stops the run and is raised here. The GIL is
/// released while training, and Ctrl-C stops it between iterations.
#[pyfunction]
#[pyo3(signature = (interactions, settings, on_event))]
pub fn fit(py: Python<'_>, interactions: &Interactions, settings: Settings, on_event: Py<PyAny>) -> PyResult<Model> {
    run(py, interactions.inner.clone(), settings, on_event)
}

/// [`fit`] to a sparse matrix's coordinates, built for this fit alone (no
/// copy is kept). The values are strengths of feedback, as implicit's
/// `fit(user_items)` takes them, unless `kind` says otherwise.
#[pyfunction]
#[pyo3(signature = (users, items, values, settings, on_event))]
pub fn fit_columns(
    py: Python<'_>,
    users: Ids<'_>,
    items: Ids<'_>,
    values: Option<PyReadonlyArray1<'_, f32>>,
    settings: Settings,
    on_event: Py<PyAny>,
) -> PyResult<Model> {
    let mut x = from_columns(users, items, values, None)?;
    x.strengths = Some(
        "a SciPy user_items matrix, as implicit's fit takes it: strengths of feedback (counts, plays), not ratings"
            .into(),
    );
    run(py, x, settings, on_event)
}

/// Searches settings for `interactions` as `train --auto` does, around
/// `settings` (the defaults, as the keywords and the data decide them),
/// within `budget` (`10x`: ten trainings' work; `90s`; None: the CLI's
/// default) for `metric` (None: the kind's default), then fits the winner
/// on all of them. Events as [`fit`]'s, with `auto` (`started`, `bracket`
/// and `scored`: what the search did) before; an exception raised by
/// `on_event` or Ctrl-C stops the search between settings. Returns the
/// model and the search's account as JSON (`train --json`'s `auto`).
#[pyfunction]
#[pyo3(signature = (interactions, settings, budget, metric, on_event))]
pub fn auto(
    py: Python<'_>,
    interactions: &Interactions,
    settings: Settings,
    budget: Option<&str>,
    metric: Option<&str>,
    on_event: Py<PyAny>,
) -> PyResult<(Model, String)> {
    let x = &interactions.inner;
    // The arguments are checked before anything is read from the data.
    if settings.method.parse::<Method>().map_err(|e| unknown("method", e))? == Method::Bayes {
        return Err(PyValueError::new_err(
            "auto tries method='bayes' itself on ratings when its budget pays for it: pass one of them",
        ));
    }
    let budget: Budget = budget
        .map(|b| b.parse().map_err(|e: String| PyValueError::new_err(format!("budget: {e}"))))
        .transpose()?
        .unwrap_or(Budget::DEFAULT);
    let metric = metric.map(|m| m.parse::<Metric>().map_err(|e| unknown("metric", e))).transpose()?;
    let base = defaults(py, &settings, x, &on_event)?;
    let metric = metric.unwrap_or(Metric::default_for(base.params.kind));
    metric.check(base.params.kind).map_err(|e| to_py(e.into()))?;
    let opts = AutoOptions::new(budget, base.seed, metric, DatasetOptions::for_kind(base.params.kind));
    let result = detached(py, |python| {
        search(x, &base, &opts, &mut |e| {
            python(&mut |py| {
                let data = PyDict::new(py);
                match &e {
                    Event::Started { budget, race } => {
                        data.set_item("step", "started")?;
                        data.set_item("budget", budget)?;
                        data.set_item("race", race)?;
                    }
                    Event::Walk { setting, warm } => {
                        data.set_item("step", "walk")?;
                        data.set_item("setting", setting.name())?;
                        data.set_item("symbol", setting.symbol())?;
                        data.set_item("steps", setting.describe_steps())?;
                        data.set_item("warm", warm)?;
                    }
                    Event::Bracket { candidates, planned } => {
                        data.set_item("step", "bracket")?;
                        data.set_item("candidates", candidates)?;
                        data.set_item("planned", planned)?;
                    }
                    Event::Scored { trial, cost } => {
                        data.set_item("step", "scored")?;
                        data.set_item("candidate", trial.candidate)?;
                        data.set_item("rung", trial.rung)?;
                        data.set_item("setting", trial.config.describe())?;
                        data.set_item("metric", metric.to_string())?;
                        data.set_item("score", trial.score)?;
                        data.set_item("cost", cost)?;
                    }
                    Event::Confirmed { leader, fold, folds, leader_score, given_score, cost } => {
                        data.set_item("step", "confirmed")?;
                        data.set_item("candidate", leader.candidate)?;
                        data.set_item("fold", fold)?;
                        data.set_item("folds", folds)?;
                        data.set_item("metric", metric.to_string())?;
                        data.set_item("score", leader.score)?;
                        data.set_item("iterations", leader.config.iterations)?;
                        data.set_item("leader_score", leader_score)?;
                        data.set_item("given_score", given_score)?;
                        data.set_item("cost", cost)?;
                    }
                    Event::Unaffordable { config, cost, spent, budget } => {
                        data.set_item("step", "unaffordable")?;
                        data.set_item("setting", config.describe())?;
                        data.set_item("cost", cost)?;
                        data.set_item("left", budget - spent)?;
                        data.set_item("needed", (spent + cost).ceil())?;
                    }
                }
                py.check_signals()?;
                on_event.call1(py, ("auto", data)).map(|_| ())
            })
        })
    })?;
    let report =
        serde_json::to_string(&result.report(budget, metric)).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let model = train(py, x.clone(), &result.trials[result.best].config, &on_event)?;
    Ok((model, report))
}

/// The training configuration `settings` give for `x`, after telling
/// `on_event` the choices read from the data (`defaults`).
fn defaults(
    py: Python<'_>,
    settings: &Settings,
    x: &gramrec_engine::Interactions,
    on_event: &Py<PyAny>,
) -> PyResult<TrainConfig> {
    let (config, choices) = settings.config(x)?;
    let defaults = PyDict::new(py);
    for c in &choices {
        defaults.set_item(c.parameter, (&c.value, c.explain(|p, v| format!("{p}='{v}'"))))?;
    }
    on_event.call1(py, ("defaults", defaults))?;
    Ok(config)
}

fn run(py: Python<'_>, x: gramrec_engine::Interactions, settings: Settings, on_event: Py<PyAny>) -> PyResult<Model> {
    let mut config = defaults(py, &settings, &x, &on_event)?;
    // An implicit model's default λ, α and factors, checked on validation (as `gramrec train` does).
    let open = Open {
        reg: settings.regularization.is_none(),
        alpha: settings.alpha.is_none(),
        factors: settings.factors.is_none(),
    };
    let data = DatasetOptions::for_kind(config.params.kind);
    let checked = detached(py, |python| {
        // Both callbacks reach Python, one at a time.
        let python = std::cell::RefCell::new(python);
        let mut say = |text: String| {
            (python.borrow_mut())(&mut |py| {
                let data = PyDict::new(py);
                data.set_item("text", &text)?;
                on_event.call1(py, ("check", data)).map(|_| ())
            })
        };
        let mut between = || (python.borrow_mut())(&mut |py| py.check_signals());
        check_defaults(&x, &mut config, open, &data, &mut say, &mut between)
    })?;
    if let Some((check, choices)) = checked {
        let defaults = PyDict::new(py);
        for c in choices {
            let name = if c.parameter == "reg" { "regularization" } else { c.parameter };
            let reason = format!("{} ({name}= to skip the check)", c.reason);
            defaults.set_item(name, (&c.value, reason))?;
        }
        on_event.call1(py, ("defaults", defaults))?;
        if let Some(cost) = check.cost() {
            let data = PyDict::new(py);
            data.set_item("text", cost)?;
            on_event.call1(py, ("check", data))?;
        }
    }
    train(py, x, &config, &on_event)
}

/// Fits `config` to `x`, telling `on_event` what happens (see [`fit`]).
fn train(
    py: Python<'_>,
    x: gramrec_engine::Interactions,
    config: &TrainConfig,
    on_event: &Py<PyAny>,
) -> PyResult<Model> {
    let event = |name: &str, data: Bound<'_, PyDict>| on_event.call1(data.py(), (name, data)).map(|_| ());
    let options = FitOptions { data: DatasetOptions::for_kind(config.params.kind), ..FitOptions::default() };
    let fitted = detached(py, |python| {
        fit_engine(x, config, &options, &mut |e| {
            python(&mut |py| {
                let data = PyDict::new(py);
                let name = match &e {
                    FitEvent::Built(d) => {
                        data.set_item("users", d.users.len())?;
                        data.set_item("items", d.items.len())?;
                        data.set_item("interactions", d.nnz())?;
                        data.set_item("iterations", config.iterations)?;
                        data.set_item("duplicates_merged", d.stats.duplicates_merged)?;
                        data.set_item("zeros_as_interactions", d.stats.zeros_as_interactions)?;
                        data.set_item("nonpositive_dropped", d.stats.nonpositive_dropped)?;
                        "built"
                    }
                    FitEvent::Device(notice) => {
                        data.set_item("text", pythonize(&notice.to_string()))?;
                        "device"
                    }
                    FitEvent::Iteration { report, .. } => {
                        data.set_item("iteration", report.iteration)?;
                        data.set_item("iterations", config.iterations)?;
                        data.set_item("seconds", report.seconds)?;
                        data.set_item("loss", report.loss.total())?;
                        "iteration"
                    }
                    FitEvent::Training | FitEvent::Resumed(_) => return Ok(()),
                };
                py.check_signals()?;
                event(name, data)
            })
        })
    })?;
    Model::fitted(fitted)
}

/// A step run with the GIL from engine work that runs without it.
type PythonStep<'a> = &'a mut dyn FnMut(Python<'_>) -> PyResult<()>;

/// Runs `work` without the GIL. `work` calls back into Python through the
/// function it is given, which runs a step with the GIL; an exception a
/// step raises (a callback's, or KeyboardInterrupt) is kept while the
/// engine unwinds as [`Error::Interrupted`], then raised here.
fn detached<T: Send>(
    py: Python<'_>,
    work: impl Send + FnOnce(&mut dyn FnMut(PythonStep<'_>) -> gramrec_core::Result<()>) -> gramrec_core::Result<T>,
) -> PyResult<T> {
    let mut raised: Option<PyErr> = None;
    let done = py.detach(|| {
        work(&mut |step: PythonStep<'_>| {
            Python::attach(step).map_err(|err| {
                raised = Some(err);
                Error::Interrupted(0)
            })
        })
    });
    match (done, raised) {
        (_, Some(err)) => Err(err),
        (Ok(done), None) => Ok(done),
        (Err(e), None) => Err(to_py(e)),
    }
}
