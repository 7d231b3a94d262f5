//! Fit, save and score with the library alone (gramrec-engine):
//! `cargo run --release --example fit_save_score [interactions file]`. Without a file it writes one:
//! 1,000 users in four groups, each clicking 10 of its group's 25 items, some more than others.
use gramrec_engine::{fit, load, read_defaults, Asked, FitEvent, FitOptions, SaveOptions, TrainConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("gramrec-example");
    std::fs::create_dir_all(&dir)?;
    let input = std::env::args().nth(1).map_or_else(|| dir.join("clicks.csv"), Into::into);
    if !input.exists() {
        let rows: Vec<String> = (0..10_000)
            .map(|k| format!("u{},i{}", k / 10, k / 10 % 4 * 25 + (k / 10 + (k % 10) * (k % 10)) % 25))
            .collect();
        std::fs::write(&input, format!("user,item\n{}\n", rows.join("\n")))?;
    }
    let x = load::load(&input, &Default::default())?;
    let read = read_defaults(&x, Asked::default()); // the kind and confidence, each with its reason
    let mut config = TrainConfig { iterations: 10, ..TrainConfig::for_kind(read.kind) };
    config.params.confidence = read.confidence;
    let fitted = fit(x, &config, &FitOptions::default(), &mut |event| {
        match event {
            FitEvent::Device(notice) => eprintln!("{notice}"),
            FitEvent::Iteration { report: r, .. } => {
                eprintln!("iteration {:>2}  loss {:.4e}", r.iteration, r.loss.total())
            }
            _ => {}
        }
        Ok(())
    })?;
    fitted.save(&dir.join("model"), &SaveOptions::default())?; // what `gramrec recommend --model` reads
    let model = fitted.model()?; // the same answers, in memory
    let visitor = model.items.recommend_history(&[("i1".to_string(), 1.0), ("i2".to_string(), 1.0)], 5)?;
    eprintln!("for a visitor who clicked i1 and i2 (item, score):");
    for r in &visitor.items {
        println!("{}\t{:.3}", r.item, r.score);
    }
    Ok(())
}
