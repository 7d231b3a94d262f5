//! Refusing work that would not fit in memory, before starting it, with a
//! message that names the estimate and the limit (instead of being killed by
//! the operating system half-way). The limit is the caller's to find (the CLI
//! reads the system's available memory, or `GRAMREC_MEMORY_LIMIT`).

use gramrec_core::normal_eq::BLOCK_ROWS;
use gramrec_core::text::bytes;
use gramrec_core::{setting, Error, Method, ModelParams, Result};
use gramrec_data::Dataset;

/// Bytes training needs beyond the loaded data: both factor matrices twice
/// (the backend's and the copy taken for the output), each thread's scratch
/// (a block of rows gathered — at most the longest rows — a Gram matrix, CG
/// vectors), YᵀY, and the factor files built in memory before writing.
/// Bayesian PMF (`method = bayes`) holds more: the kept sums of both sides'
/// rows in f64, the copy of both sides the chain reads each half-iteration,
/// and the partial sums of a side's moments (docs/ALGORITHM.md).
pub fn training_estimate(data: &Dataset, params: &ModelParams, method: Method, threads: usize) -> u64 {
    let d = params.dim() as u64;
    let rows = (data.users.len() + data.items.len()) as u64;
    let block = BLOCK_ROWS;
    let longest = data.by_user.largest_degrees(block).max(data.by_item.largest_degrees(block)) as u64;
    let factors = rows * d * 4;
    let scratch = (longest * (d + 2) + d * d + 3 * block as u64 * d) * 4;
    let files = rows * d * 4 + d * d * 4 + rows * 24;
    let bayes = match method {
        Method::Als => 0,
        Method::Bayes => 2 * factors + factors + (64 << 20).min(rows.div_ceil(1024) * d * d * 8),
    };
    2 * factors + threads.max(1) as u64 * scratch + d * d * 4 + files + bayes
}

/// Fails when `needed` bytes exceed `limit`, saying what to change.
pub fn check(what: &str, needed: u64, limit: Option<u64>) -> Result<()> {
    match limit {
        Some(limit) if needed > limit => Err(Error::TooLarge(format!(
            "{what} needs about {} but only {} is available; use fewer {}, filter rare users and items ({}, {}), \
             or raise {}",
            bytes(needed),
            bytes(limit),
            setting("factors"),
            setting("min_user_count"),
            setting("min_item_count"),
            setting("memory_limit")
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_names_estimate_and_limit() {
        assert!(check("training", 10, Some(100)).is_ok());
        assert!(check("training", 10, None).is_ok());
        let e = check("training", 3 << 30, Some(1 << 30)).unwrap_err().to_string();
        assert!(e.contains("needs about 3.0 GiB but only 1.0 GiB is available"), "{e}");
    }
}
