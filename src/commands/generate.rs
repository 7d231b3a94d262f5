//! `gramrec generate`: a synthetic interaction file to try gramrec on.

use std::io::Write;

use anyhow::Result;
use flate2::write::GzEncoder;
use gramrec_als::memory;
use gramrec_core::ModelKind;
use gramrec_data::synth::{SynthSpec, Synthetic};
use gramrec_store::write_atomic;

use crate::cli::GenerateArgs;

pub fn run(a: GenerateArgs) -> Result<()> {
    let kind = a.kind;
    if a.counts && kind != ModelKind::Implicit {
        return Err(gramrec_core::Error::Argument("--counts needs --kind implicit".into()).into());
    }
    let spec = SynthSpec { counts: a.counts, ..SynthSpec::new(a.users, a.items, a.nnz, kind, a.seed) };
    spec.validate()?;
    memory::check("generating the data", spec.memory_estimate(), crate::env::memory_limit()?)?;
    let syn = Synthetic::generate(spec);
    let gz = a.out.extension().is_some_and(|e| e == "gz");
    write_atomic(&a.out, |w| {
        if gz {
            let mut enc = GzEncoder::new(w, flate2::Compression::fast());
            write_csv(&syn, &mut enc)?;
            enc.finish().map(|_| ())
        } else {
            write_csv(&syn, w)
        }
    })?;
    let mut said = format!("wrote {} {kind} interactions to {}", syn.len(), a.out.display());
    let rounded = "each user's share is rounded to whole interactions";
    if syn.len() > a.nnz {
        said += &format!(", {} more than --nnz {}: {rounded}", syn.len() - a.nnz, a.nnz);
    } else if syn.len() < a.nnz {
        said += &format!(
            ", {} fewer than --nnz {}: {rounded} and drawn from the popularity curve, an item drawn twice \
             counting once{}, for at most 20 draws an interaction; more items (--items) come closer",
            a.nnz - syn.len(),
            a.nnz,
            if kind == ModelKind::Implicit { " and passed over when the user would not keep it" } else { "" }
        );
    }
    crate::progress::stderr_line(&said);
    Ok(())
}

/// CSV with a header: `user,item,rating` for explicit data (ratings rounded
/// to 2 decimals), `user,item` for implicit data, `user,item,plays` for play
/// counts, so that training the file picks the model kind it was generated for.
pub fn write_csv(syn: &Synthetic, w: &mut dyn Write) -> std::io::Result<()> {
    if syn.spec.counts {
        writeln!(w, "user,item,plays")?;
        for k in 0..syn.len() {
            writeln!(w, "u{},i{},{}", syn.user[k], syn.item[k], syn.value[k])?;
        }
        return Ok(());
    }
    match syn.spec.kind {
        ModelKind::Explicit => {
            writeln!(w, "user,item,rating")?;
            for k in 0..syn.len() {
                writeln!(w, "u{},i{},{}", syn.user[k], syn.item[k], (syn.value[k] * 100.0).round() / 100.0)?;
            }
        }
        ModelKind::Implicit => {
            writeln!(w, "user,item")?;
            for k in 0..syn.len() {
                writeln!(w, "u{},i{}", syn.user[k], syn.item[k])?;
            }
        }
    }
    Ok(())
}
