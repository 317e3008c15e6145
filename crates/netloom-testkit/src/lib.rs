//! Test-only helpers for tests that touch the kernel.
//!
//! [`TestPrefix`] gives each test its own ownership prefix (`nlt` + 5 base36
//! characters) and removes everything carrying it when dropped, also while
//! a failing test unwinds. [`leftovers`] lists what is still present for a
//! prefix (namespaces, their mounts, processes in them, FRR directories);
//! [`assert_no_leftovers`] fails a test on any. [`require_root`] decides
//! whether a kernel test can run: it skips for a non-root developer and
//! panics under CI.

use netloom_linux::{
    netns_of_pathspace, Executor, FRR_CONF_DIR, FRR_RUN_DIR, NETNS_ENV_MARK, NETNS_RUN_DIR,
};
use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The common start of every test prefix; `leftovers("nlt")` means all of
/// them.
pub const TEST_PREFIX_ROOT: &str = "nlt";

/// A unique ownership prefix for one test, cleaned up on drop.
#[derive(Debug)]
pub struct TestPrefix {
    prefix: String,
}

impl TestPrefix {
    /// A fresh prefix no namespace on the machine uses yet.
    pub fn new() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            let mut x = nanos
                ^ (u64::from(std::process::id()) << 20)
                ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            // splitmix64 finaliser, so that close inputs give far outputs.
            x ^= x >> 30;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x ^= x >> 27;
            x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^= x >> 31;
            let mut suffix = String::new();
            for _ in 0..5 {
                let d = (x % 36) as u32;
                suffix.push(char::from_digit(d, 36).expect("digit below 36"));
                x /= 36;
            }
            let prefix = format!("{TEST_PREFIX_ROOT}{suffix}");
            debug_assert!(netloom_plan::check_prefix(&prefix).is_ok());
            if leftovers(&prefix).is_empty() {
                return Self { prefix };
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.prefix
    }

    /// Plan options using this prefix.
    pub fn options(&self) -> netloom_plan::PlanOptions {
        netloom_plan::PlanOptions {
            prefix: self.prefix.clone(),
        }
    }
}

impl Default for TestPrefix {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for TestPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.prefix)
    }
}

impl Drop for TestPrefix {
    fn drop(&mut self) {
        if let Err(e) = Executor::new().cleanup(&self.prefix, &[]) {
            eprintln!("cleanup of test prefix {} failed: {e}", self.prefix);
        }
    }
}

/// Whether a namespace or pathspace name carries `prefix`; `"nlt"` matches
/// every test prefix.
fn owned(prefix: &str, name: &str) -> bool {
    if netloom_plan::parse_netns_name(prefix, name).is_some() {
        return true;
    }
    if prefix == TEST_PREFIX_ROOT {
        if let Some((p, _)) = name.split_once('-') {
            return p.len() == TEST_PREFIX_ROOT.len() + 5
                && p.starts_with(TEST_PREFIX_ROOT)
                && netloom_plan::parse_netns_name(p, name).is_some();
        }
    }
    false
}

fn dir_names(dir: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything of ours still present for `prefix`, one line per object:
/// `/run/netns` entries, mounts under `/run/netns`, processes in such
/// namespaces or marked with them, FRR directories.
pub fn leftovers(prefix: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut inodes = BTreeSet::new();
    let mut names = BTreeSet::new();
    for name in dir_names(NETNS_RUN_DIR) {
        if owned(prefix, &name) {
            let path = format!("{NETNS_RUN_DIR}/{name}");
            if let Ok(m) = std::fs::metadata(&path) {
                inodes.insert(m.ino());
            }
            out.insert(format!("namespace file {path}"));
            names.insert(name);
        }
    }
    if let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") {
        for mp in info.lines().filter_map(|l| l.split(' ').nth(4)) {
            if let Some(name) = mp.strip_prefix(&format!("{NETNS_RUN_DIR}/")) {
                if owned(prefix, name) {
                    out.insert(format!("mount {mp}"));
                }
            }
        }
    }
    for dir in [FRR_CONF_DIR, FRR_RUN_DIR] {
        for name in dir_names(dir) {
            if owned(prefix, &netns_of_pathspace(&name)) {
                out.insert(format!("FRR directory {dir}/{name}"));
            }
        }
    }
    let me = std::process::id().to_string();
    for pid in dir_names("/proc") {
        if pid.parse::<u32>().is_err() || pid == me {
            continue;
        }
        let base = format!("/proc/{pid}");
        let comm = std::fs::read_to_string(format!("{base}/comm")).unwrap_or_default();
        let comm = comm.trim();
        let in_ns = std::fs::metadata(format!("{base}/ns/net"))
            .map(|m| inodes.contains(&m.ino()))
            .unwrap_or(false);
        let marked = std::fs::read(format!("{base}/environ"))
            .map(|env| {
                env.split(|b| *b == 0).any(|kv| {
                    kv.strip_prefix(format!("{NETNS_ENV_MARK}=").as_bytes())
                        .is_some_and(|v| owned(prefix, &String::from_utf8_lossy(v)))
                })
            })
            .unwrap_or(false);
        let frr = std::fs::read(format!("{base}/cmdline"))
            .map(|c| {
                let args: Vec<String> = c
                    .split(|b| *b == 0)
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                args.windows(2)
                    .any(|w| w[0] == "-N" && owned(prefix, &netns_of_pathspace(&w[1])))
            })
            .unwrap_or(false);
        if in_ns || marked || frr {
            out.insert(format!("process {pid} ({comm})"));
        }
    }
    out.into_iter().collect()
}

/// Panics listing every leftover of `prefix`.
pub fn assert_no_leftovers(prefix: &str) {
    let left = leftovers(prefix);
    assert!(
        left.is_empty(),
        "leftovers for prefix {prefix}:\n  {}",
        left.join("\n  ")
    );
}

/// True when running as root. Otherwise false (the test should return
/// early), except under CI (`CI` set), where not being root panics: kernel
/// tests must not skip silently there.
pub fn require_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("this test needs root, and CI is set: refusing to skip");
    }
    eprintln!("skipping: this test needs root");
    false
}

pub use netloom_linux::error_chain;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_valid_and_distinct() {
        let mut seen = BTreeSet::new();
        for _ in 0..50 {
            let p = TestPrefix::new();
            assert!(netloom_plan::check_prefix(p.as_str()).is_ok(), "{p}");
            assert_eq!(p.as_str().len(), 8);
            assert!(seen.insert(p.as_str().to_string()));
            std::mem::forget(p);
        }
    }

    #[test]
    fn ownership_matching() {
        assert!(owned("nltabcde", "nltabcde-lab.r1"));
        assert!(!owned("nltabcde", "nltabcdf-lab.r1"));
        assert!(owned("nlt", "nltabcde-lab.r1"));
        assert!(!owned("nlt", "nl-lab.r1"));
        assert!(!owned("nlt", "nltab-lab.r1"));
    }
}
