//! Compiles frrpoll/frrpoll.rs into the shared library that
//! src/frrpoll.rs embeds (see there for what it is for).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "frrpoll/frrpoll.rs";
    println!("cargo:rerun-if-changed={src}");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("libnetloom_frrpoll.so");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let status = Command::new(rustc)
        .args([
            "--crate-type=cdylib",
            "--crate-name=netloom_frrpoll",
            "--edition=2021",
            "-Copt-level=2",
            "-Cpanic=abort",
            "-Cstrip=symbols",
            "-o",
        ])
        .arg(&out)
        .arg(src)
        .status()
        .expect("run rustc for frrpoll/frrpoll.rs");
    assert!(status.success(), "rustc failed on {src}");
}
