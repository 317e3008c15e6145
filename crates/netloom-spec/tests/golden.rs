//! Golden tests: every `tests/golden/bad/*.yml` renders to exactly its
//! `.expected` diagnostics (files named `warn-*.yml` must load, with the
//! warnings rendered), and every `tests/golden/good/*.yml` loads without
//! warnings to exactly its `.json` topology.
//!
//! `UPDATE_GOLDEN=1 cargo test -p netloom-spec` rewrites the expected files.
//! Absolute paths are written as `$DIR` (the golden directory) so the files
//! do not depend on where the repository is checked out.

use std::fs;
use std::path::{Path, PathBuf};

fn golden_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(sub)
}

fn cases(sub: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(golden_dir(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .to_path_buf()
}

fn scrub(text: &str, sub: &str) -> String {
    let dir = fs::canonicalize(golden_dir(sub)).unwrap();
    text.replace(&dir.display().to_string(), "$DIR")
}

/// Compares `actual` with the file at `expected`, or rewrites it.
fn compare(expected: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(expected, actual).unwrap();
        return;
    }
    match fs::read_to_string(expected) {
        Ok(want) if want == actual => {}
        Ok(want) => failures.push(format!(
            "{} differs\n--- expected\n{want}\n--- actual\n{actual}",
            expected.display()
        )),
        Err(_) => failures.push(format!(
            "{} is missing (UPDATE_GOLDEN=1 writes it)\n--- actual\n{actual}",
            expected.display()
        )),
    }
}

#[test]
fn check() {
    // Relative file names in diagnostics: run from the crate directory.
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let mut failures = Vec::new();

    let bad = cases("bad");
    assert!(bad.len() >= 18, "only {} bad cases", bad.len());
    for path in &bad {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let should_load = name.starts_with("warn-");
        let rendered = match netloom_spec::load_file(&relative(path)) {
            Ok(loaded) => {
                if !should_load {
                    failures.push(format!("{name} loaded but should fail"));
                }
                if loaded.warnings.is_empty() {
                    failures.push(format!("{name} loaded without warnings"));
                }
                let all: Vec<String> = loaded.warnings.iter().map(|d| d.render()).collect();
                format!(
                    "# loads with {} warning(s)\n{}",
                    loaded.warnings.len(),
                    all.join("\n")
                )
            }
            Err(diags) => {
                if should_load {
                    failures.push(format!("{name} failed but should load:\n{diags}"));
                }
                assert!(diags.errors().count() > 0);
                diags.to_string()
            }
        };
        compare(
            &path.with_extension("expected"),
            &scrub(&rendered, "bad"),
            &mut failures,
        );
    }

    let good = cases("good");
    assert!(!good.is_empty());
    for path in &good {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match netloom_spec::load_file(&relative(path)) {
            Ok(loaded) => {
                if !loaded.warnings.is_empty() {
                    let all: Vec<String> = loaded.warnings.iter().map(|d| d.render()).collect();
                    failures.push(format!("{name} has warnings:\n{}", all.join("\n")));
                }
                let mut topo = loaded.topology;
                let source = topo.source.take().expect("load_file sets source");
                assert!(Path::new(&source).is_absolute());
                assert!(source.ends_with(&name));
                let json = serde_json::to_string_pretty(&topo).unwrap() + "\n";
                compare(
                    &path.with_extension("json"),
                    &scrub(&json, "good"),
                    &mut failures,
                );
            }
            Err(diags) => failures.push(format!("{name} does not load:\n{diags}")),
        }
    }

    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
