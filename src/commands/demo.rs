//! `gramrec demo`: the whole job on built-in synthetic data, nothing to download.

use std::path::Path;

use anyhow::Result;
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_engine::load::{load, LoadOptions};
use gramrec_engine::{
    check_defaults, fit, load_model, DatasetOptions, DetailTable, Error, FitEvent, FitOptions, ModelKind, Open,
    SaveOptions, TrainConfig,
};
use gramrec_eval::evaluate;
use gramrec_store::{write_atomic, ITEMS_FILE};
use rand::{Rng, SeedableRng};

use super::evaluate::report;
use super::generate::write_csv;
use crate::cli::DemoArgs;
use crate::output::emit;
use crate::progress::Progress;

pub fn run(a: DemoArgs) -> Result<()> {
    let out = &a.out;
    if let Some(web) = &a.web {
        refuse_foreign_page(web)?;
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let log = Progress::lines(false);
    // Clicks of 5,000 visitors on 1,000 items, power-law popular, with planted tastes.
    let syn = Synthetic::generate(SynthSpec::new(5_000, 1_000, 150_000, ModelKind::Implicit, a.seed));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed);
    let test: Vec<bool> = (0..syn.len()).map(|_| rng.random::<f64>() < 0.2).collect();
    let write_part = |name: &str, part: bool| -> Result<std::path::PathBuf> {
        let path = out.join(name);
        let mut subset = syn.clone();
        let keep: Vec<usize> = (0..syn.len()).filter(|&k| test[k] == part).collect();
        subset.user = keep.iter().map(|&k| syn.user[k]).collect();
        subset.item = keep.iter().map(|&k| syn.item[k]).collect();
        subset.value = keep.iter().map(|&k| syn.value[k]).collect();
        write_atomic(&path, |w| write_csv(&subset, w))?;
        Ok(path)
    };
    let train_path = write_part("train.csv", false)?;
    let test_path = write_part("test.csv", true)?;
    log.log(format!("wrote synthetic clicks: {} and {}", train_path.display(), test_path.display()));

    let mut config =
        TrainConfig { seed: a.seed, gpu: crate::env::gpu_options()?, ..TrainConfig::for_kind(ModelKind::Implicit) };
    let (factors, iterations) = (config.params.factors, config.iterations);
    let mut progress = Progress::lines(true);
    let x = load(&train_path, &LoadOptions::default())?;
    // As `train` does: the default λ, α and factors checked on validation.
    let open = Open { reg: true, alpha: true, factors: true };
    let data = DatasetOptions::for_kind(ModelKind::Implicit);
    if let Some((check, choices)) = check_defaults(
        &x,
        &mut config,
        open,
        &data,
        &mut |s| {
            log.log(s);
            Ok(())
        },
        &mut || Ok(()),
    )? {
        for c in choices {
            log.log(format!("--{} {}: {}", c.parameter, c.value, c.reason));
        }
        if let Some(cost) = check.cost() {
            log.log(cost);
        }
    }
    let fitted = fit(x, &config, &FitOptions::default(), &mut |event| {
        match event {
            FitEvent::Built(data) => log.log(format!(
                "training implicit ALS on {} users × {} items, {} interactions: {factors} factors, {iterations} iterations",
                data.users.len(),
                data.items.len(),
                data.nnz()
            )),
            FitEvent::Training => progress = Progress::bar(iterations as u64, "training", false),
            FitEvent::Device(notice) => progress.log(notice.to_string()),
            FitEvent::Iteration { report: r, .. } => {
                progress.log(format!(
                    "iteration {:>2}/{iterations}  loss {:.6e}  {:.3} s",
                    r.iteration,
                    r.loss.total(),
                    r.seconds
                ));
                progress.step();
            }
            FitEvent::Resumed(_) => {}
        }
        Ok(())
    })?;
    progress.finish();
    let model_dir = out.join("model");
    // Readable names in the model itself, so every list (and the page) shows them.
    let names = DetailTable::from_names(fitted.data.items.iter().map(|id| (id.clone(), item_name(id))));
    fitted.save(&model_dir, &SaveOptions { details: Some(&names), ..Default::default() })?;
    let loaded = load_model(&model_dir)?;
    let train = load(&train_path, &LoadOptions::default())?;
    let test = load(&test_path, &LoadOptions::default())?;
    let ev = evaluate(&loaded, Some(&train), &test, 10)?;
    if let Some(web) = &a.web {
        write_web(web, &model_dir)?;
        log.log(format!(
            "wrote a web page to {0}/: serve it with `python3 -m http.server -d {0} 8000` and open http://127.0.0.1:8000",
            web.display()
        ));
    }
    let user = fitted.data.users.first().cloned().unwrap_or_default();
    let item = loaded.items.popular(1).first().map(|r| r.item.clone()).unwrap_or_default();
    let m = model_dir.display();
    emit(&format!(
        "{}\nmodel written to {m}/ (items.gramrec, users.gramrec)\n\nNext:\n  \
         gramrec recommend --model {m} --user {user}\n  \
         gramrec recommend --model {m} --history {item},i7,i42 --json\n  \
         gramrec similar --model {m} --item {item}\n  \
         gramrec evaluate --model {m} --test {s}\n  \
         gramrec recommend --model {m} --all --k 10 --out {o}/top10.jsonl\n  \
         gramrec tune --input {t} --factors 16,32,64 --reg 10,30 --folds 3 --out {o}/tuned\n  \
         gramrec inspect {m}/items.gramrec\n  \
         gramrec train --input {t} --validate {s} --out {o}/model2 --factors 32\n{serve}",
        report(&ev),
        t = train_path.display(),
        s = test_path.display(),
        o = display(out),
        serve = if cfg!(feature = "serve") {
            format!("  gramrec serve --model {m}   # then: curl 'http://127.0.0.1:8080/v1/users/{user}/recommendations?k=5'\n")
        } else {
            String::new()
        },
    ))
}

/// The browser module's source folder (web/ in this repository).
const WEB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web");

/// Refuses a `--web` folder whose `index.html` is not gramrec's demo page:
/// the page's files replace their earlier copies, never a page of the user's.
fn refuse_foreign_page(dir: &Path) -> Result<()> {
    let page = dir.join("index.html");
    let ours = match std::fs::read(&page) {
        Ok(html) => html.windows(PAGE_MARK.len()).any(|w| w == PAGE_MARK.as_bytes()),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    };
    if !ours {
        return Err(Error::Conflict(format!(
            "{} exists and is not gramrec's demo page; nothing was written (choose another --web folder)",
            page.display()
        ))
        .into());
    }
    Ok(())
}

/// What tells gramrec's demo page (web/index.html) from another page.
const PAGE_MARK: &str = "<gramrec-recommendations";

/// A ready-to-serve folder: the page, the JS and wasm module, and the model
/// (which names its items). Other files in `dir` are left as they are.
fn write_web(dir: &Path, model_dir: &Path) -> Result<()> {
    let web = Path::new(WEB);
    let pkg = web.join("pkg");
    if !pkg.join("gramrec_wasm_bg.wasm").exists() {
        return Err(Error::Argument(format!(
            "the browser module is not built yet: run `bash {}/build.sh` once, then `gramrec demo --web {}` again",
            web.display(),
            dir.display()
        ))
        .into());
    }
    std::fs::create_dir_all(dir.join("pkg")).map_err(|e| Error::io(dir, e))?;
    for name in ["index.html", "gramrec.js", "webgpu.js", "gramrec-element.js"] {
        copy(&web.join(name), &dir.join(name))?;
    }
    for entry in std::fs::read_dir(&pkg).map_err(|e| Error::io(&pkg, e))? {
        let path = entry.map_err(|e| Error::io(&pkg, e))?.path();
        if path.is_file() {
            copy(&path, &dir.join("pkg").join(path.file_name().expect("a file")))?;
        }
    }
    copy(&model_dir.join(ITEMS_FILE), &dir.join(ITEMS_FILE))?;
    Ok(())
}

/// Copies a file, atomically.
fn copy(from: &Path, to: &Path) -> Result<()> {
    let bytes = std::fs::read(from).map_err(|e| Error::io(from, e))?;
    write_atomic(to, |w| w.write_all(&bytes))?;
    Ok(())
}

/// A readable, stable name for a synthetic item ID.
fn item_name(id: &str) -> String {
    const ADJECTIVES: [&str; 16] = [
        "Amber", "Brave", "Crimson", "Distant", "Electric", "Frozen", "Golden", "Hidden", "Iron", "Jade", "Quiet",
        "Lunar", "Midnight", "Northern", "Silver", "Wild",
    ];
    const NOUNS: [&str; 16] = [
        "Harbor", "Falcon", "Garden", "Signal", "River", "Lantern", "Orchard", "Voyage", "Canyon", "Echo", "Meadow",
        "Tide", "Comet", "Forest", "Summit", "Atlas",
    ];
    let n: usize = id.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().unwrap_or(0);
    format!("{} {} #{n}", ADJECTIVES[n % 16], NOUNS[(n / 16) % 16])
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
