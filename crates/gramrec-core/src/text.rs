//! Text for people: IDs and values quoted in messages and tables, with
//! control characters escaped (an ID holding an escape sequence must not
//! drive the user's terminal) and long values shortened.

use std::borrow::Cow;
use std::fmt::Write;

/// `s` with control characters (C0, DEL, C1) and bidirectional-override
/// characters written as `\u{…}` escapes; unchanged when it has none.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// At most `max` characters of `s` (then `…`), control characters escaped:
/// for quoting user data in one-line messages.
pub fn excerpt(s: &str, max: usize) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max).collect();
    let more = chars.next().is_some();
    let mut out = escape_controls(&head).into_owned();
    if more {
        out.push('…');
    }
    out
}

/// Whether a page may put `url` in an `href` or `src`: `http:` and `https:`
/// links, `//host/…`, and relative paths; never `javascript:`, `data:` or
/// another scheme, and nothing with control characters or leading or
/// trailing spaces (which browsers strip, so `java\tscript:` would still
/// run). Spaces inside are allowed: browsers encode them, and real
/// catalogues (MovieLens' IMDb links) have them.
pub fn is_safe_url(url: &str) -> bool {
    if url.is_empty() || url.trim() != url || url.chars().any(needs_escape) {
        return false;
    }
    match url.find([':', '/', '?', '#']) {
        Some(at) if url.as_bytes()[at] == b':' => {
            let scheme = &url[..at];
            scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
        }
        _ => true,
    }
}

/// Bytes in binary units: `512 B`, `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_long_text_shortened() {
        assert_eq!(escape_controls("plain é"), "plain é");
        assert_eq!(escape_controls("a\x1b[31mred\x07"), "a\\u{1b}[31mred\\u{7}");
        assert_eq!(escape_controls("\u{202e}abc"), "\\u{202e}abc");
        assert_eq!(excerpt("abcdef", 3), "abc…");
        assert_eq!(excerpt("abc", 3), "abc");
        assert_eq!(excerpt("\x1b\x1b\x1b\x1b", 2), "\\u{1b}\\u{1b}…");
    }

    #[test]
    fn only_web_and_relative_links_are_safe() {
        for ok in [
            "https://a.example/p?q=1",
            "HTTP://a",
            "//cdn.example/x.png",
            "/img/1.png",
            "p/2.html",
            "?id=3",
            "http://x/a b",
        ] {
            assert!(is_safe_url(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:x",
            "java\tscript:x",
            " javascript:x",
            "javascript:x ",
            "java script:x",
            "data:text/html,x",
            "vbscript:x",
            "a:b/c",
            "",
        ] {
            assert!(!is_safe_url(bad), "{bad}");
        }
    }

    #[test]
    fn byte_sizes_in_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
    }
}
