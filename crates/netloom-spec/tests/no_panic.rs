//! User input never panics: random mutations of a valid topology, and
//! random text, only ever produce a topology or diagnostics that point
//! inside the file.

use proptest::prelude::*;
use std::path::Path;

const VALID: &str = include_str!("golden/good/inheritance.yml");

fn check(text: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/good");
    let lines = text.lines().count().max(1);
    let diags = match netloom_spec::load_str(text, "fuzz.yml", &dir) {
        Ok(loaded) => loaded.warnings,
        Err(d) => {
            assert!(d.errors().count() > 0);
            let _ = d.to_string();
            d.0
        }
    };
    for d in &diags {
        assert!(d.line >= 1 && d.line <= lines + 1, "{d:?} in {lines} lines");
        assert!(d.column >= 1);
        let _ = d.render();
    }
}

const ALPHABET: &[char] = &[
    ':', '-', ' ', '\n', '[', ']', '{', '}', '"', '\'', '&', '*', '!', '|', '>', '#', 'x', '1',
    ',', '<', '\t', '?', '%', '@', '`', '\\', 'é', '\r',
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn mutated_valid_file_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..4u8, prop::sample::select(ALPHABET)), 1..10)
    ) {
        let mut chars: Vec<char> = VALID.chars().collect();
        for (at, op, c) in edits {
            if chars.is_empty() {
                chars.push(c);
                continue;
            }
            let i = at.index(chars.len());
            match op {
                0 => chars.insert(i, c),
                1 => { chars.remove(i); }
                2 => chars[i] = c,
                _ => {
                    // Swap this line's start with another spot: moves indentation.
                    let j = at.index(chars.len() / 2 + 1);
                    chars.swap(i, j);
                }
            }
        }
        check(&chars.into_iter().collect::<String>());
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn random_yamlish_text_never_panics(text in "[a-z:\\- \n\\[\\]{}\"'&*!|>#,0-9]{0,300}") {
        check(&text);
    }
}

#[test]
fn every_line_deleted_in_turn_never_panics() {
    let lines: Vec<&str> = VALID.lines().collect();
    for i in 0..lines.len() {
        let mut copy = lines.clone();
        copy.remove(i);
        check(&copy.join("\n"));
    }
}
