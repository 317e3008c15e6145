//! Plain-text tables for `inspect` and `events`.

use netloom_daemon::service::LabView;
use netloom_daemon::store::Event;

/// Renders rows as columns separated by two spaces, the first row a header.
pub fn render(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One row per node: lab, node, kind, status, and each interface with its
/// addresses.
pub fn labs(labs: &[LabView]) -> String {
    let mut rows = vec![vec![
        "LAB".to_string(),
        "NODE".into(),
        "KIND".into(),
        "STATUS".into(),
        "NAMESPACE".into(),
        "INTERFACES".into(),
    ]];
    for lab in labs {
        for node in &lab.nodes {
            let ifaces: Vec<String> = node
                .interfaces
                .iter()
                .filter(|i| {
                    i.name != "lo"
                        || i.addresses
                            .iter()
                            .any(|a| !a.starts_with("127.") && a != "::1/128")
                })
                .map(|i| {
                    let addrs: Vec<&str> = i
                        .addresses
                        .iter()
                        .map(String::as_str)
                        .filter(|a| {
                            !a.starts_with("fe80:") && !a.starts_with("127.") && *a != "::1/128"
                        })
                        .collect();
                    let state = if i.up { "" } else { " (down)" };
                    if addrs.is_empty() {
                        format!("{}{state}", i.name)
                    } else {
                        format!("{}={}{state}", i.name, addrs.join(","))
                    }
                })
                .collect();
            rows.push(vec![
                lab.name.clone(),
                node.name.clone(),
                node.kind.to_string(),
                node.status.clone(),
                node.netns.clone(),
                ifaces.join(" "),
            ]);
        }
    }
    render(&rows)
}

fn ms(ns: u64) -> String {
    let v = ns as f64 / 1e6;
    if v >= 10.0 {
        format!("{v:.1}ms")
    } else {
        format!("{v:.3}ms")
    }
}

/// The effective properties of one direction, compactly, with sources.
fn direction(p: &netloom_plan::WireProps) -> (String, String) {
    let mut parts = Vec::new();
    if p.down {
        parts.push("DOWN".to_string());
    }
    parts.push(format!("delay {}", ms(p.delay_ns)));
    if p.jitter_ns > 0 {
        parts.push(format!(
            "jitter {}{}",
            ms(p.jitter_ns),
            if p.reorder { " reorder" } else { "" }
        ));
    }
    match p.loss {
        Some(netloom_model::Loss::Random { p }) => parts.push(format!("loss {p}")),
        Some(netloom_model::Loss::Gilbert { p, r, h, k }) => {
            parts.push(format!("loss gilbert(p {p}, r {r}, h {h}, k {k})"))
        }
        None => {}
    }
    if p.duplicate.0 > 0 {
        parts.push(format!("dup {}", p.duplicate));
    }
    if p.corrupt.0 > 0 {
        parts.push(format!("corrupt {}", p.corrupt));
    }
    if let Some(r) = p.rate_bps {
        parts.push(format!("rate {}", rate(r)));
    }
    let sources: Vec<String> = p.sources.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    (parts.join(", "), sources.join("; "))
}

fn rate(bps: u64) -> String {
    if bps >= 1_000_000_000 {
        format!("{}gbit", bps as f64 / 1e9)
    } else if bps >= 1_000_000 {
        format!("{}mbit", bps as f64 / 1e6)
    } else {
        format!("{}kbit", bps as f64 / 1e3)
    }
}

/// One row per link and direction: mode, state, effective properties,
/// counters, and where each property came from.
pub fn links(labs: &[LabView]) -> String {
    let mut rows = vec![vec![
        "LAB".to_string(),
        "LINK".into(),
        "MODE".into(),
        "STATE".into(),
        "DIRECTION".into(),
        "PROPERTIES".into(),
        "PACKETS".into(),
        "DROPS (loss/queue/down)".into(),
        "FROM".into(),
    ]];
    for lab in labs {
        for l in &lab.links {
            let state = if l.up { "up" } else { "down" }.to_string();
            let link = format!("{} <-> {}", l.a, l.b);
            match (&l.a_to_b, &l.b_to_a) {
                (Some(ab), Some(ba)) => {
                    for (name, p, c) in [
                        (
                            format!("{} -> {}", l.a, l.b),
                            ab,
                            l.counters.map(|c| c.a_to_b),
                        ),
                        (
                            format!("{} -> {}", l.b, l.a),
                            ba,
                            l.counters.map(|c| c.b_to_a),
                        ),
                    ] {
                        let (props, from) = direction(p);
                        rows.push(vec![
                            lab.name.clone(),
                            link.clone(),
                            "emulated".into(),
                            state.clone(),
                            name,
                            props,
                            c.map_or("-".into(), |c| c.packets.to_string()),
                            c.map_or("-".into(), |c| {
                                format!("{}/{}/{}", c.drop_loss, c.drop_queue, c.drop_down)
                            }),
                            if from.is_empty() { "-".into() } else { from },
                        ]);
                    }
                }
                _ => rows.push(vec![
                    lab.name.clone(),
                    link,
                    "veth".into(),
                    state,
                    "both".into(),
                    "none (kernel pair)".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]),
            }
        }
    }
    render(&rows)
}

pub fn events(events: &[Event]) -> String {
    let mut rows = vec![vec![
        "TIME (ms)".to_string(),
        "LAB".into(),
        "NODE".into(),
        "EVENT".into(),
        "MESSAGE".into(),
    ]];
    for e in events {
        rows.push(vec![
            e.ts_ms.to_string(),
            e.lab.clone(),
            e.node.clone().unwrap_or_else(|| "-".into()),
            e.kind.clone(),
            e.message.clone(),
        ]);
    }
    render(&rows)
}

/// Events without a header, one tab-separated line each (`events -f`).
pub fn events_lines(events: &[Event]) -> String {
    events
        .iter()
        .map(|e| {
            format!(
                "{}  {}  {}  {}  {}\n",
                e.ts_ms,
                e.lab,
                e.node.as_deref().unwrap_or("-"),
                e.kind,
                e.message
            )
        })
        .collect()
}

/// What a deploy would create: one row per node, then the step counts.
pub fn plan(plan: &netloom_plan::Plan) -> String {
    let mut rows = vec![vec![
        "NODE".to_string(),
        "KIND".into(),
        "NAMESPACE".into(),
        "INTERFACES".into(),
        "FRR DAEMONS".into(),
    ]];
    for n in &plan.nodes {
        rows.push(vec![
            n.name.to_string(),
            n.kind.to_string(),
            n.netns.clone(),
            n.interfaces
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            n.frr
                .as_ref()
                .map(|f| f.daemons.join(" "))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    let mut out = render(&rows);
    let steps: Vec<String> = plan
        .phases()
        .iter()
        .map(|p| format!("{} {}", p.steps.len(), p.name))
        .collect();
    let emulated = plan
        .links
        .iter()
        .filter(|l| matches!(l.realisation, netloom_plan::Realisation::Emulated { .. }))
        .count();
    out.push_str(&format!(
        "\n{} nodes, {} links ({} emulated); steps: {}\n",
        plan.nodes.len(),
        plan.links.len(),
        emulated,
        steps.join(", ")
    ));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_aligned() {
        let rows = vec![
            vec!["A".to_string(), "BB".into(), "C".into()],
            vec!["long".to_string(), "x".into(), "end".into()],
        ];
        assert_eq!(super::render(&rows), "A     BB  C\nlong  x   end\n");
    }
}
