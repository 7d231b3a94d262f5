//! Settings named inside messages. The libraries speak of a setting by its
//! own name — the options field, the factor-file key, the Python keyword
//! (`min_user_count`, `device`) — never by a front end's spelling of it; each
//! front end renders the names its own way: the CLI as flags
//! (`--min-user-count`, `--device cpu`), Python as keywords
//! (`device='cpu'`).
//!
//! In a message a setting stands as a *mark*: `` `name` `` or
//! `` `name=value` `` (what [`Setting`] displays), so a Rust caller reading
//! the plain text sees the options field, and [`render`] finds every mark
//! without guessing at words.

use std::fmt;

/// A setting a message names, with the value it suggests where it suggests
/// one: `setting("reg")` in "raise `reg`", `set("device", "cpu")` in "use
/// `device=cpu`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The setting's library name, in snake case.
    pub name: String,
    /// The value the message suggests or quotes, if any.
    pub value: Option<String>,
}

/// The setting `name`, as a message names it.
pub fn setting(name: impl Into<String>) -> Setting {
    Setting { name: name.into(), value: None }
}

/// The setting `name` given `value` (`set("device", "cpu")`, a switch as
/// `set("skip_invalid", true)`).
pub fn set(name: impl Into<String>, value: impl fmt::Display) -> Setting {
    Setting { name: name.into(), value: Some(value.to_string()) }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "`{}={v}`", self.name),
            None => write!(f, "`{}`", self.name),
        }
    }
}

/// The message with each setting mark replaced by `spell(name, value)`;
/// a mark `spell` does not know (`None`), and backticked text that is not a
/// mark (a command, a file name), stay as they are.
pub fn render(message: &str, spell: impl Fn(&str, Option<&str>) -> Option<String>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('`') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else {
            rest = &rest[open..];
            break;
        };
        let inner = &after[..close];
        match parse_mark(inner).and_then(|(name, value)| spell(name, value)) {
            Some(spelled) => out.push_str(&spelled),
            None => {
                out.push('`');
                out.push_str(inner);
                out.push('`');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// `name` or `name=value` when `inner` is a mark: a snake-case name, and a
/// value without line breaks.
fn parse_mark(inner: &str) -> Option<(&str, Option<&str>)> {
    let (name, value) = match inner.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (inner, None),
    };
    let is_name = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (is_name && !value.is_some_and(|v| v.is_empty() || v.contains('\n'))).then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(name: &str, value: Option<&str>) -> Option<String> {
        let flag = format!("--{}", name.replace('_', "-"));
        (name != "unknown").then(|| value.map_or(flag.clone(), |v| format!("{flag} {v}")))
    }

    #[test]
    fn marks_display_the_library_names() {
        assert_eq!(setting("reg").to_string(), "`reg`");
        assert_eq!(set("device", "cpu").to_string(), "`device=cpu`");
        assert_eq!(set("skip_invalid", true).to_string(), "`skip_invalid=true`");
    }

    #[test]
    fn a_front_end_spells_every_mark_and_nothing_else() {
        let message = format!(
            "use fewer {}, {} or {}; see `gramrec import --from spark` and `unknown`, not `Model`",
            setting("min_user_count"),
            set("device", "cpu"),
            set("rating_col", 2)
        );
        assert_eq!(
            render(&message, flags),
            "use fewer --min-user-count, --device cpu or --rating-col 2; \
             see `gramrec import --from spark` and `unknown`, not `Model`"
        );
        assert_eq!(render("a lone ` stays", flags), "a lone ` stays");
        assert_eq!(render("`reg` then `", flags), "--reg then `");
        assert_eq!(render("`x=`", flags), "`x=`", "an empty value is not a mark");
    }
}
