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
