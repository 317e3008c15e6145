//! Golden tests of the fabric planner: each directory under
//! `tests/golden/` holds a `topology.json` (the model's serde form) and
//! what planning it must give: `<router>.conf` per router, `hosts.txt`
//! (each host's exec), `addresses.txt` (every node's fabric decisions), or
//! `error.txt` when planning must fail. `UPDATE_GOLDEN=1 cargo test -p
//! netloom-plan --test golden` rewrites them.

use netloom_model::{NodeKind, Topology};
use netloom_plan::{plan, PlanOptions};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

fn render(topo: &Topology) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let p = match plan(topo, &PlanOptions::default()) {
        Ok(p) => p,
        Err(e) => {
            files.insert("error.txt".to_string(), format!("{e}\n"));
            return files;
        }
    };
    let mut hosts = String::new();
    let mut addresses = String::new();
    for n in &p.nodes {
        if let Some(frr) = &n.frr {
            let mut text = frr.config.clone();
            let _ = writeln!(text, "! daemons: {}", frr.daemons.join(" "));
            files.insert(format!("{}.conf", n.name), text);
        }
        if n.kind == NodeKind::Host {
            let _ = writeln!(hosts, "{}:", n.name);
            for cmd in &n.exec {
                let _ = writeln!(hosts, "  {cmd}");
            }
        }
        let Some(f) = &n.fabric else { continue };
        let _ = write!(addresses, "{}", n.name);
        if let Some(asn) = f.asn {
            let _ = write!(addresses, " asn={asn}");
        }
        if let Some(id) = f.router_id {
            let _ = write!(addresses, " router-id={id}");
        }
        if let Some(lo) = f.loopback {
            let _ = write!(addresses, " loopback={lo}");
        }
        if let Some(lo) = f.loopback6 {
            let _ = write!(addresses, " loopback6={lo}");
        }
        if let Some(gw) = f.gateway {
            let _ = write!(addresses, " gateway={gw}");
        }
        addresses.push('\n');
        for (iface, list) in &f.addresses {
            let list: Vec<String> = list.iter().map(|p| p.to_string()).collect();
            let _ = writeln!(addresses, "  {iface}: {}", list.join(" "));
        }
        if let Some(note) = &f.note {
            let _ = writeln!(addresses, "  note: {note}");
        }
    }
    files.insert("hosts.txt".into(), hosts);
    files.insert("addresses.txt".into(), addresses);
    files
}

fn check(dir: &Path) -> Result<(), String> {
    let input = std::fs::read_to_string(dir.join("topology.json")).map_err(|e| e.to_string())?;
    let topo: Topology =
        serde_json::from_str(&input).map_err(|e| format!("{}: {e}", dir.display()))?;
    let got = render(&topo);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut problems = Vec::new();
    if update {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name != "topology.json" && !got.contains_key(&name) {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
    for (name, text) in &got {
        let path = dir.join(name);
        if update {
            std::fs::write(&path, text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == *text => {}
            Ok(want) => problems.push(format!(
                "{}: differs\n--- want\n{want}\n--- got\n{text}",
                path.display()
            )),
            Err(_) => problems.push(format!("{}: missing; got\n{text}", path.display())),
        }
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name != "topology.json" && !got.contains_key(&name) && !update {
            problems.push(format!(
                "{}/{name}: expected but not produced",
                dir.display()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn golden() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 5,
        "golden cases missing in {}",
        root.display()
    );
    let failures: Vec<String> = dirs.iter().filter_map(|d| check(d).err()).collect();
    assert!(
        failures.is_empty(),
        "{}\n(UPDATE_GOLDEN=1 regenerates)",
        failures.join("\n\n")
    );
}
