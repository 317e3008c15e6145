//! User input never panics: random mutations of a valid topology, and
//! random text, only ever produce a topology or diagnostics that point
//! inside the file.

use proptest::prelude::*;
use std::path::Path;

const VALID: &str = include_str!("golden/good/inheritance.yml");
/// Sites, link impairments, `link_defaults` and a `sites_latency` file.
const PLANET: &str = include_str!("golden/good/planet.yml");
/// Addressing, routing, HA, `config_extra` and explicit addresses.
const FABRIC: &str = include_str!("golden/good/fabric.yml");

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

fn mutate(text: &str, edits: Vec<(prop::sample::Index, u8, char)>) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (at, op, c) in edits {
        if chars.is_empty() {
            chars.push(c);
            continue;
        }
        let i = at.index(chars.len());
        match op {
            0 => chars.insert(i, c),
            1 => {
                chars.remove(i);
            }
            2 => chars[i] = c,
            _ => {
                // Swap this line's start with another spot: moves indentation.
                let j = at.index(chars.len() / 2 + 1);
                chars.swap(i, j);
            }
        }
    }
    chars.into_iter().collect()
}

/// Characters that make interesting quantities.
const QUANTITY: &str = "[0-9.\\-+ %µa-z]{0,14}";

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn mutated_planet_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..4u8, prop::sample::select(ALPHABET)), 1..10)
    ) {
        check(&mutate(PLANET, edits));
    }

    #[test]
    fn any_quantity_never_panics(
        key in prop::sample::select(vec!["delay", "jitter", "loss", "duplicate", "corrupt", "rate", "queue", "reorder", "mode", "state"]),
        value in QUANTITY,
        lat in QUANTITY,
    ) {
        let text = format!(
            "name: q\nsites: {{s: {{lat: {lat}, lon: 1}}}}\ntopology:\n  nodes:\n    r1: {{kind: router, site: s}}\n    r2: {{kind: router}}\n  links:\n    - endpoints: [\"r1:e1\", \"r2:e1\"]\n      {key}: \"{value}\"\n      a_to_b: {{{key}: \"{value}\"}}\n"
        );
        check(&text);
    }

    #[test]
    fn mutated_fabric_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..4u8, prop::sample::select(ALPHABET)), 1..10)
    ) {
        check(&mutate(FABRIC, edits));
    }

    #[test]
    fn any_fabric_value_never_panics(
        key in prop::sample::select(vec!["p2p", "loopback", "lan", "lan_len", "p2p6", "loopback6"]),
        value in "[0-9a-f.:/ ]{0,20}",
        asn in "[0-9a-z\\-]{0,12}",
        vip in "[0-9a-f.:/]{0,20}",
        advert in QUANTITY,
    ) {
        let text = format!(
            "name: f\naddressing: {{{key}: \"{value}\"}}\nrouting: {{protocol: bgp, router_id: loopback, timers: {{keepalive: {asn}, hold: 9}}}}\ntopology:\n  nodes:\n    r1: {{kind: router, routing: {{asn: {asn}}}, ha: {{peer: r2, vip: \"{vip}\", advert: \"{advert}\"}}, addresses: {{eth1: \"{value}\"}}}}\n    r2: {{kind: router, ha: {{peer: r1, vip: \"{vip}\"}}, addresses: {{eth1: [\"{value}\"]}}}}\n  links:\n    - endpoints: [\"r1:eth1\", \"r2:eth1\"]\n"
        );
        check(&text);
    }

    #[test]
    fn mutated_valid_file_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..4u8, prop::sample::select(ALPHABET)), 1..10)
    ) {
        check(&mutate(VALID, edits));
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
    for text in [VALID, PLANET, FABRIC] {
        let lines: Vec<&str> = text.lines().collect();
        for i in 0..lines.len() {
            let mut copy = lines.clone();
            copy.remove(i);
            check(&copy.join("\n"));
        }
    }
}
