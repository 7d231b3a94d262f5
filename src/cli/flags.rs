//! The libraries' setting names as this command line spells them: a
//! message's `` `min_user_count` `` mark (see `gramrec_core::setting`) is
//! printed as `--min-user-count`, `` `device=cpu` `` as `--device cpu`.

use std::collections::HashMap;
use std::sync::OnceLock;

use clap::{ArgAction, CommandFactory};

use super::Cli;

/// Settings the command line takes from the environment rather than a flag.
const FROM_ENVIRONMENT: [(&str, &str); 2] =
    [("memory_limit", "GRAMREC_MEMORY_LIMIT"), ("gpu_memory_limit", "GRAMREC_GPU_MEMORY_LIMIT")];

/// Every long flag of every command, and whether it takes a value.
fn flags() -> &'static HashMap<String, bool> {
    static FLAGS: OnceLock<HashMap<String, bool>> = OnceLock::new();
    FLAGS.get_or_init(|| {
        let cli = Cli::command();
        let mut all = HashMap::new();
        for cmd in std::iter::once(&cli).chain(cli.get_subcommands()) {
            for arg in cmd.get_arguments() {
                if let Some(long) = arg.get_long() {
                    let switch = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
                    all.insert(long.to_string(), !switch);
                }
            }
        }
        all
    })
}

/// The setting `name` (given `value`) as typed on this command line, or
/// `None` when no command takes it.
pub fn spell(name: &str, value: Option<&str>) -> Option<String> {
    if let Some((_, var)) = FROM_ENVIRONMENT.iter().find(|(n, _)| *n == name) {
        return Some(var.to_string());
    }
    let long = name.replace('_', "-");
    let takes_value = *flags().get(&long)?;
    Some(match value {
        Some(v) if takes_value => format!("--{long} {v}"),
        _ => format!("--{long}"),
    })
}

/// A library message as the command line prints it: every setting it names
/// spelled as a flag.
pub fn render(message: &str) -> String {
    gramrec_core::setting::render(message, spell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_the_flags_that_set_them() {
        assert_eq!(spell("min_user_count", None).as_deref(), Some("--min-user-count"));
        assert_eq!(spell("device", Some("cpu")).as_deref(), Some("--device cpu"));
        assert_eq!(spell("skip_invalid", Some("true")).as_deref(), Some("--skip-invalid"));
        assert_eq!(spell("memory_limit", None).as_deref(), Some("GRAMREC_MEMORY_LIMIT"));
        assert_eq!(spell("no_such_setting", None), None);
        assert_eq!(render("raise `reg`, or see `gramrec --help`"), "raise --reg, or see `gramrec --help`");
    }

    /// Every setting a library message names is a flag of some command (or
    /// an environment variable): read from the libraries' sources, so a mark
    /// the CLI cannot spell fails here rather than reaching a user as
    /// `` `name` ``.
    #[test]
    fn every_setting_the_libraries_name_is_a_flag() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
        let mut unknown = Vec::new();
        let mut marks = 0;
        for file in rust_files(&root) {
            let text = std::fs::read_to_string(&file).expect("readable source");
            for name in named_settings(&text) {
                marks += 1;
                if spell(&name, None).is_none() {
                    unknown.push(format!("{}: {name}", file.display()));
                }
            }
        }
        assert!(marks > 40, "the libraries name settings through setting()/set() ({marks} found)");
        assert!(unknown.is_empty(), "settings no command takes: {unknown:#?}");
    }

    fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("a folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }

    /// The literal setting names in the calls that take one first —
    /// `setting("…")`, `set("…", …)`, `ParamError::new("…", …)`,
    /// `UnknownName::new("…", …)`, the range checks' `bad("…", …)` — and in
    /// `named_enum!(T, "…" …)`, outside comments.
    fn named_settings(text: &str) -> Vec<String> {
        let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        let is_name = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        let mut names = Vec::new();
        for opener in ["setting(", "set(", "ParamError::new(", "UnknownName::new(", "bad(", "named_enum!("] {
            for (at, _) in code.match_indices(opener) {
                let mut rest = &code[at + opener.len()..];
                if opener == "named_enum!(" {
                    match rest.split_once(", ") {
                        Some((_, r)) => rest = r,
                        None => continue,
                    }
                }
                let Some(quoted) = rest.trim_start().strip_prefix('"') else { continue };
                let Some((name, after)) = quoted.split_once('"') else { continue };
                // `setting("reg")` stands alone; the others take more arguments.
                let closes = if opener == "setting(" { after.starts_with(')') } else { !after.starts_with(')') };
                if is_name(name) && closes {
                    names.push(name.to_string());
                }
            }
        }
        names
    }
}
