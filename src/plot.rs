//! A learning-curve chart as a standalone SVG file: one panel per series
//! (the loss, a validation metric), iterations on the x axis.
//!
//! Written by hand: a line chart with axes and ticks is a page of code, while
//! a plotting crate would bring a font stack to lay out its labels.

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const PANEL_HEIGHT: f64 = 220.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 40.0;

/// "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^n.
fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(f64::EPSILON * hi.abs().max(1.0));
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| span / s <= target as f64).unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    (0..).map(|n| first + n as f64 * step).take_while(|v| *v <= hi + step * 1e-9).collect()
}

fn label(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        format!("{v:.2e}")
    } else {
        format!("{}", (v * 1e4).round() / 1e4)
    }
}

/// The chart: `series` are (name, value per iteration) pairs, drawn one
/// under the other.
pub fn learning_curve(title: &str, series: &[(String, Vec<f64>)]) -> String {
    let height = TOP + series.len() as f64 * (PANEL_HEIGHT + BOTTOM);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ =
        writeln!(s, r#"<text x="{}" y="24" font-size="15" text-anchor="middle">{}</text>"#, WIDTH / 2.0, escape(title));
    for (p, (name, values)) in series.iter().enumerate() {
        let y0 = TOP + p as f64 * (PANEL_HEIGHT + BOTTOM);
        let (x_lo, x_hi) = (1.0, values.len().max(2) as f64);
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() { (lo, if hi > lo { hi } else { lo + 1.0 }) } else { (0.0, 1.0) };
        let pad = (hi - lo) * 0.05;
        let (lo, hi) = (lo - pad, hi + pad);
        let px = |x: f64| LEFT + (x - x_lo) / (x_hi - x_lo) * (WIDTH - LEFT - RIGHT);
        let py = |y: f64| y0 + PANEL_HEIGHT - (y - lo) / (hi - lo) * PANEL_HEIGHT;
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{y0}" width="{}" height="{PANEL_HEIGHT}" fill="none" stroke="#888"/>"##,
            WIDTH - LEFT - RIGHT
        );
        for t in ticks(lo, hi, 5) {
            let y = py(t);
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                WIDTH - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                label(t)
            );
        }
        for t in ticks(x_lo, x_hi, 10).into_iter().filter(|t| t.fract() == 0.0) {
            let x = px(t);
            let _ =
                writeln!(s, r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{t}</text>"#, y0 + PANEL_HEIGHT + 16.0);
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="middle">iteration</text>"#,
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
            y0 + PANEL_HEIGHT + 32.0
        );
        let _ =
            writeln!(s, r#"<text x="{}" y="{:.1}" font-weight="bold">{}</text>"#, LEFT + 8.0, y0 + 16.0, escape(name));
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, &v)| format!("{:.1},{:.1}", px(i as f64 + 1.0), py(v)))
            .collect();
        let _ =
            writeln!(s, r##"<polyline fill="none" stroke="#1f6fb2" stroke-width="2" points="{}"/>"##, points.join(" "));
        for pt in &points {
            let (x, y) = pt.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(s, r##"<circle cx="{x}" cy="{y}" r="3" fill="#1f6fb2"/>"##);
        }
    }
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        let t = ticks(0.913, 0.958, 5);
        assert!(t.len() >= 3 && t[0] >= 0.913 && *t.last().unwrap() <= 0.958);
    }

    #[test]
    fn chart_has_one_polyline_per_series_with_one_point_per_iteration() {
        let svg =
            learning_curve("t <1>", &[("loss".into(), vec![3.0, 2.0, 1.5]), ("NDCG@10".into(), vec![0.1, 0.2, 0.25])]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 6);
        assert!(svg.contains("t &lt;1&gt;"));
    }
}
