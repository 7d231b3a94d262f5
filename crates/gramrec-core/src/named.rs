//! Values chosen by name — what users type (`--solver cg`) and factor files
//! store (`kind=implicit`) — parsed one way everywhere, with one error form:
//! `` unknown `solver` 'x' (expected cg or cholesky) ``, the setting named as
//! [`crate::setting`] marks it (the CLI prints `unknown --solver 'x' …`).
//!
//! A type becomes [`Named`] through [`named_enum!`](crate::named_enum), which
//! also gives it `name()`, `Display`, `FromStr` and `Serialize` (as its name).

use crate::setting::setting;
use crate::text::excerpt;

/// An enum whose values have names.
pub trait Named: Sized + Copy + 'static {
    /// The setting that takes these values (`solver`): errors name it.
    const SETTING: &'static str;
    /// Every value, in the order help texts list them.
    const ALL: &'static [Self];

    /// The canonical name.
    fn name(self) -> &'static str;

    /// Other spellings accepted when parsing.
    fn aliases(self) -> &'static [&'static str];

    /// The value called `s` (its name or an alias).
    fn from_name(s: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s || v.aliases().contains(&s))
            .ok_or_else(|| UnknownName::new(Self::SETTING, s, Self::ALL.iter().map(|v| v.name()).collect()))
    }
}

/// A name that none of a type's values has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {} '{}' (expected {})", setting(*setting_name), excerpt(given, 40), or_list(expected))]
pub struct UnknownName {
    /// The setting (or metadata key) that was given the name.
    pub setting_name: &'static str,
    /// What was given.
    pub given: String,
    /// The names that would have been accepted.
    pub expected: Vec<&'static str>,
}

impl UnknownName {
    /// The error for `given` among `expected`.
    pub fn new(setting_name: &'static str, given: &str, expected: Vec<&'static str>) -> Self {
        Self { setting_name, given: given.to_string(), expected }
    }
}

/// `a`, `a or b`, `a, b or c`.
pub fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Implements [`Named`], an inherent `name()`, `Display`, `FromStr` and
/// `Serialize` for a field-less enum:
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// pub enum Fruit { Apple, Pear }
/// gramrec_core::named_enum!(Fruit, "fruit" { Apple => "apple" | "pomme", Pear => "pear" });
/// assert_eq!("pomme".parse::<Fruit>(), Ok(Fruit::Apple));
/// assert_eq!("fig".parse::<Fruit>().unwrap_err().to_string(), "unknown `fruit` 'fig' (expected apple or pear)");
/// ```
#[macro_export]
macro_rules! named_enum {
    ($ty:ident, $setting:literal { $($variant:ident => $name:literal $(| $alias:literal)*),+ $(,)? }) => {
        impl $ty {
            /// The name used on the command line, in files and in JSON.
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }
        impl $crate::named::Named for $ty {
            const SETTING: &'static str = $setting;
            const ALL: &'static [Self] = &[$($ty::$variant),+];
            fn name(self) -> &'static str {
                $ty::name(self)
            }
            fn aliases(self) -> &'static [&'static str] {
                match self { $($ty::$variant => &[$($alias),*]),+ }
            }
        }
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($ty::name(*self))
            }
        }
        impl ::std::str::FromStr for $ty {
            type Err = $crate::named::UnknownName;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                <Self as $crate::named::Named>::from_name(s)
            }
        }
        impl $crate::serde::Serialize for $ty {
            fn serialize<S: $crate::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str($ty::name(*self))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Solver;

    #[test]
    fn lists_read_as_english() {
        assert_eq!(or_list(&["a"]), "a");
        assert_eq!(or_list(&["a", "b"]), "a or b");
        assert_eq!(or_list(&["a", "b", "c"]), "a, b or c");
    }

    #[test]
    fn one_error_form_naming_the_setting() {
        assert_eq!("cg".parse::<Solver>(), Ok(Solver::Cg));
        let e = "x".parse::<Solver>().unwrap_err();
        assert_eq!(e.to_string(), "unknown `solver` 'x' (expected cg or cholesky)");
        let long = "y".repeat(500);
        assert!(long.parse::<Solver>().unwrap_err().to_string().len() < 120, "the given text is shortened");
    }
}
