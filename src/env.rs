//! Everything gramrec takes from its environment, read here and nowhere else:
//! the libraries receive these as values.
//!
//! | variable | effect |
//! | --- | --- |
//! | `GRAMREC_MEMORY_LIMIT` | bytes training may use (default: the system's available memory) |
//! | `GRAMREC_GPU_MEMORY_LIMIT` | bytes of GPU memory a run may use |
//! | `GRAMREC_GPU_ALLOW_SOFTWARE` | let `--device auto` use a software GPU adapter (lavapipe) |
//! | `GRAMREC_GPU_FAULT` | tests only: `lose-device:N` or `shader` injects a GPU failure |
//! | `GRAMREC_ADMIN_TOKEN` | `serve`: the token `POST /v1/admin/reload` needs (unset: that route is off) |
//! | `WGPU_BACKEND` | the graphics APIs searched (`vulkan`, `metal`, `dx12`), as in wgpu |
//! | `XDG_RUNTIME_DIR` | set to the temporary directory when missing (see [`quiet_gpu_drivers`]) |

use std::ffi::OsString;

use gramrec_als::config::GpuApis;
use gramrec_als::{Fault, GpuOptions};
use gramrec_core::{Error, Result};

/// Vulkan drivers load the Wayland client library, which prints `error:
/// XDG_RUNTIME_DIR is invalid or not set in the environment.` on machines
/// without a desktop session (servers, CI) each time a GPU is looked for. When
/// the variable is missing it is set to the temporary directory, where no
/// Wayland compositor listens, so only gramrec's own line about the GPU
/// appears. Called first thing in `main`, before any thread starts.
pub fn quiet_gpu_drivers() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
}

/// A variable's value, if set.
fn var(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// A variable holding a number of bytes; an unreadable value is an error
/// rather than silently no limit.
fn bytes(name: &str) -> Result<Option<u64>> {
    match var(name) {
        None => Ok(None),
        Some(v) => {
            v.to_str().and_then(|s| s.trim().parse().ok()).map(Some).ok_or_else(|| {
                Error::Argument(format!("{name} must be a number of bytes, not '{}'", v.to_string_lossy()))
            })
        }
    }
}

/// `serve`'s admin token, kept out of the command line (where `ps` shows
/// it); an empty value is refused rather than taken as "any token".
#[cfg(feature = "serve")]
pub fn admin_token() -> Result<Option<String>> {
    match var("GRAMREC_ADMIN_TOKEN") {
        None => Ok(None),
        Some(v) => match v.into_string() {
            Ok(t) if t.len() >= 16 => Ok(Some(t)),
            _ => Err(Error::Argument("GRAMREC_ADMIN_TOKEN must be text of at least 16 characters".into())),
        },
    }
}

/// How to open the GPU: from the environment, for `--device auto` (a
/// software adapter only when `GRAMREC_GPU_ALLOW_SOFTWARE` is set).
pub fn gpu_options() -> Result<GpuOptions> {
    let fault = match var("GRAMREC_GPU_FAULT") {
        None => None,
        Some(v) => Some(Fault::parse(&v.to_string_lossy()).ok_or_else(|| {
            Error::Argument(format!("GRAMREC_GPU_FAULT must be lose-device:N or shader, not '{}'", v.to_string_lossy()))
        })?),
    };
    Ok(GpuOptions {
        allow_software: var("GRAMREC_GPU_ALLOW_SOFTWARE").is_some(),
        memory_limit: bytes("GRAMREC_GPU_MEMORY_LIMIT")?,
        fault,
        apis: var("WGPU_BACKEND").map_or(GpuApis::ALL, |v| GpuApis::from_list(&v.to_string_lossy())),
        ..GpuOptions::default()
    })
}

/// The memory this process may use: `GRAMREC_MEMORY_LIMIT` (bytes) when set,
/// else the system's available memory where it can be read (Linux).
pub fn memory_limit() -> Result<Option<u64>> {
    if let Some(limit) = bytes("GRAMREC_MEMORY_LIMIT")? {
        return Ok(Some(limit));
    }
    let available = || -> Option<u64> {
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
    };
    Ok(available())
}
