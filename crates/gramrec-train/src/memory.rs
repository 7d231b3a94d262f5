//! Refusing work that would not fit in memory, before starting it, with a
//! message that names the estimate and the limit (instead of being killed by
//! the operating system half-way).

use crate::als::TrainConfig;
use crate::dataset::Dataset;
use crate::error::{Error, Result};

/// Bytes training needs beyond the loaded data: both factor matrices twice
/// (the backend's and the copy taken for the output), each thread's scratch
/// (the longest row gathered, its Gram matrix, CG vectors), YᵀY, and the
/// factor files built in memory before writing.
pub fn training_estimate(data: &Dataset, config: &TrainConfig, threads: usize) -> u64 {
    let d = config.params.dim() as u64;
    let rows = (data.users.len() + data.items.len()) as u64;
    let longest = data.by_user.max_degree().max(data.by_item.max_degree()) as u64;
    let factors = rows * d * 4;
    let scratch = (longest * (d + 2) + d * d + 4 * d) * 4;
    let files = rows * d * 4 + d * d * 4 + rows * 24;
    2 * factors + threads.max(1) as u64 * scratch + d * d * 4 + files
}

/// The memory this process may use: `GRAMREC_MEMORY_LIMIT` (bytes) when set,
/// else the system's available memory where it can be read (Linux).
pub fn limit() -> Option<u64> {
    if let Some(v) = std::env::var_os("GRAMREC_MEMORY_LIMIT") {
        return v.to_str().and_then(|s| s.trim().parse().ok());
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
}

/// Fails when `needed` bytes exceed the limit, saying what to change.
pub fn check(what: &str, needed: u64, limit: Option<u64>) -> Result<()> {
    match limit {
        Some(limit) if needed > limit => Err(Error::Usage(format!(
            "{what} needs about {} but only {} is available; use fewer --factors, filter rare users and items \
             (--min-user-count, --min-item-count), or raise GRAMREC_MEMORY_LIMIT",
            human(needed),
            human(limit)
        ))),
        _ => Ok(()),
    }
}

/// Bytes in binary units, e.g. `1.5 GiB`.
pub fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units_and_the_check() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3 << 29), "1.5 GiB");
        assert!(check("training", 10, Some(100)).is_ok());
        assert!(check("training", 10, None).is_ok());
        let e = check("training", 3 << 30, Some(1 << 30)).unwrap_err().to_string();
        assert!(e.contains("needs about 3.0 GiB but only 1.0 GiB is available"), "{e}");
    }
}
