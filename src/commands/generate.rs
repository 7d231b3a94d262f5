//! `gramrec generate`: a synthetic interaction file to try gramrec on.

use std::io::Write;

use anyhow::Result;
use flate2::write::GzEncoder;
use gramrec_core::ModelKind;
use gramrec_train::fsutil::write_atomic;
use gramrec_train::synth::{SynthSpec, Synthetic};

use crate::cli::GenerateArgs;

pub fn run(a: GenerateArgs) -> Result<()> {
    let kind: ModelKind = a.kind.into();
    let syn = Synthetic::generate(SynthSpec::new(a.users, a.items, a.nnz, kind, a.seed));
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
    crate::progress::stderr_line(&format!("wrote {} {kind} interactions to {}", syn.len(), a.out.display()));
    Ok(())
}

/// `user,item,rating` lines with a header; ratings rounded to 2 decimals.
pub fn write_csv(syn: &Synthetic, w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(w, "user,item,rating")?;
    for k in 0..syn.len() {
        writeln!(w, "u{},i{},{}", syn.user[k], syn.item[k], (syn.value[k] * 100.0).round() / 100.0)?;
    }
    Ok(())
}
