//! A [`Topology`] written back as a netloom topology file.
//!
//! [`to_yaml`] is the inverse of [`crate::load_str`]: the text it returns
//! loads back to an equal topology, apart from what is only recorded about
//! where a file came from ([`Topology::source`], [`FrrConfig::config_origin`]).
//! The file is self-contained: what the model holds but a file usually names
//! by path is written inline (an FRR configuration as a `startup-config`
//! block scalar, measured RTTs as an inline `sites_latency` CSV), binds keep
//! their absolute host paths.
//!
//! Values are written in the user's units (`20ms`, `1.5%`, `100mbit`,
//! `64kb`), each in the largest unit that states it exactly. Strings are
//! plain when YAML cannot misread them, else double-quoted (`"yes"`,
//! `"1e3"`, `""`), and multi-line strings are literal block scalars (`|`).
//! Nodes and maps come out in the model's (sorted) order, indented by two
//! spaces, with a blank line between top-level sections.
//!
//! [`FrrConfig::config_origin`]: netloom_model::FrrConfig::config_origin

use netloom_model::{
    Impairments, LinkDefaults, LinkMode, Loss, Node, NodeKind, Ppm, QueueLimit, Routing,
    RoutingProtocol, Topology,
};

/// Writes `topology` as a netloom topology file (see the module docs).
pub fn to_yaml(topology: &Topology) -> String {
    let mut sections: Vec<(Key, Y)> = vec![("name".into(), text(topology.name.as_str()))];
    if !topology.sites.is_empty() {
        let sites = topology
            .sites
            .values()
            .map(|s| {
                let v = match &s.city {
                    Some(city) => Y::Flow(vec![("city".into(), text(city))]),
                    None => Y::Flow(vec![
                        ("lat".into(), Y::Raw(micro(s.lat_udeg))),
                        ("lon".into(), Y::Raw(micro(s.lon_udeg))),
                    ]),
                };
                (Key::User(s.name.clone()), v)
            })
            .collect();
        sections.push(("sites".into(), Y::Map(sites)));
    }
    if !topology.sites_latency.is_empty() {
        let mut csv = String::from("site_a,site_b,rtt_ms\n");
        for l in &topology.sites_latency {
            csv.push_str(&format!(
                "{},{},{}\n",
                l.a,
                l.b,
                micro_of(l.rtt_ns, 1_000_000)
            ));
        }
        sections.push(("sites_latency".into(), Y::Block(csv)));
    }
    if topology.link_defaults != LinkDefaults::default() {
        let d = &topology.link_defaults;
        let mut entries = Vec::new();
        if let Some(mode) = d.mode {
            entries.push(("mode".into(), Y::Raw(mode_word(mode).into())));
        }
        entries.extend(impairments(&d.impairments));
        sections.push(("link_defaults".into(), Y::Map(entries)));
    }
    if let Some(a) = &topology.addressing {
        let mut entries = Vec::new();
        let pools = [
            ("p2p", a.p2p),
            ("loopback", a.loopback),
            ("lan", a.lan),
            ("lan_len", None),
            ("p2p6", a.p2p6),
            ("loopback6", a.loopback6),
        ];
        for (key, pool) in pools {
            if key == "lan_len" {
                if let Some(len) = a.lan_len {
                    entries.push((key.into(), Y::Raw(len.to_string())));
                }
            } else if let Some(p) = pool {
                entries.push((key.into(), text(&p.to_string())));
            }
        }
        sections.push(("addressing".into(), Y::Map(entries)));
    }
    if let Some(r) = &topology.routing {
        sections.push(("routing".into(), routing(r)));
    }
    let mut topo = Vec::new();
    let nodes = topology
        .nodes
        .values()
        .map(|n| (Key::User(n.name.to_string()), node(n)))
        .collect();
    topo.push(("nodes".into(), Y::Map(nodes)));
    if !topology.links.is_empty() {
        let links = topology.links.iter().map(link).collect();
        topo.push(("links".into(), Y::Seq(links)));
    }
    sections.push(("topology".into(), Y::Map(topo)));

    let mut out = String::new();
    for (i, (key, value)) in sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        entry(&mut out, 0, key, value);
    }
    out
}

/// A value to write. The layout (block or flow) is chosen when the tree is
/// built; how a string is quoted is decided when it is written.
#[derive(Debug, Clone)]
enum Y {
    /// Written as is: numbers, booleans, words and quantities that YAML
    /// reads as plain strings (`20ms`, `1.5%`).
    Raw(String),
    /// A string: plain, double-quoted or a block scalar as needed.
    Str(String),
    /// A string that must be a literal block scalar (inline file content).
    Block(String),
    /// A block mapping (`{}` when empty).
    Map(Vec<(Key, Y)>),
    /// A flow mapping on one line: `{x: 1, y: 2}`.
    Flow(Vec<(Key, Y)>),
    /// A block sequence (`[]` when empty).
    Seq(Vec<Y>),
    /// A flow sequence on one line: `[a, b]`.
    FlowSeq(Vec<Y>),
}

/// A mapping key: a key of the file format, written as is, or a name the
/// user chose (a node, a label), quoted when needed.
#[derive(Debug, Clone)]
enum Key {
    Word(&'static str),
    User(String),
}

impl From<&'static str> for Key {
    fn from(word: &'static str) -> Key {
        Key::Word(word)
    }
}

impl Key {
    fn write(&self, flow: bool) -> String {
        match self {
            Key::Word(w) => w.to_string(),
            Key::User(s) => scalar(s, flow),
        }
    }
}

fn text(s: &str) -> Y {
    Y::Str(s.to_string())
}

fn node(n: &Node) -> Y {
    let mut e: Vec<(Key, Y)> = Vec::new();
    let mut put = |k: &'static str, v: Y| e.push((k.into(), v));
    put("kind", Y::Raw(n.kind.as_str().into()));
    if let Some(image) = &n.image {
        put("image", text(image));
    }
    if let Some(site) = &n.site {
        put("site", text(site));
    }
    if n.restart != netloom_model::RestartPolicy::OnFailure {
        put("restart", Y::Raw(n.restart.as_str().into()));
    }
    if n.standby {
        put("standby", Y::Raw("true".into()));
    }
    if let Some(p) = n.position {
        put(
            "position",
            Y::Flow(vec![
                ("x".into(), Y::Raw(p.x.to_string())),
                ("y".into(), Y::Raw(p.y.to_string())),
            ]),
        );
    }
    // Only routers have an FRR configuration in a file.
    if let Some(frr) = n.frr.as_ref().filter(|_| n.kind == NodeKind::Router) {
        if let Some(config) = &frr.config {
            put("startup-config", Y::Block(config.clone()));
        }
        if let Some(daemons) = &frr.daemons {
            let list = daemons.iter().map(|d| text(d)).collect();
            let frr = Y::Map(vec![("daemons".into(), Y::FlowSeq(list))]);
            put("extras", Y::Map(vec![("frr".into(), frr)]));
        }
    }
    if !n.exec.is_empty() {
        put("exec", Y::Seq(n.exec.iter().map(|c| text(c)).collect()));
    }
    for (key, map) in [("env", &n.env), ("labels", &n.labels)] {
        if !map.is_empty() {
            let entries = map
                .iter()
                .map(|(k, v)| (Key::User(k.clone()), text(v)))
                .collect();
            put(key, Y::Map(entries));
        }
    }
    if !n.binds.is_empty() {
        let binds = n
            .binds
            .iter()
            .map(|b| {
                let mut s = format!("{}:{}", b.host, b.container);
                if let Some(mode) = &b.mode {
                    s.push(':');
                    s.push_str(mode);
                }
                Y::Str(s)
            })
            .collect();
        put("binds", Y::Seq(binds));
    }
    if let Some(r) = &n.routing {
        let mut f = Vec::new();
        if let Some(p) = r.protocol {
            f.push(("protocol".into(), Y::Raw(protocol_word(p).into())));
        }
        if let Some(asn) = r.asn {
            f.push(("asn".into(), Y::Raw(asn.to_string())));
        }
        if r.hub {
            f.push(("hub".into(), Y::Raw("true".into())));
        }
        if r.originate_default {
            f.push(("originate_default".into(), Y::Raw("true".into())));
        }
        if r.stub {
            f.push(("stub".into(), Y::Raw("true".into())));
        }
        put("routing", Y::Flow(f));
    }
    if let Some(ha) = &n.ha {
        let mut f = vec![
            ("peer".into(), text(ha.peer.as_str())),
            ("vip".into(), text(&ha.vip.to_string())),
        ];
        if let Some(p) = ha.priority {
            f.push(("priority".into(), Y::Raw(p.to_string())));
        }
        if let Some(ms) = ha.advert_ms {
            f.push(("advert".into(), Y::Raw(duration(u64::from(ms) * 1_000_000))));
        }
        put("ha", Y::Flow(f));
    }
    if !n.addresses.is_empty() {
        let entries = n
            .addresses
            .iter()
            .map(|(iface, list)| {
                let list = list.iter().map(|p| text(&p.to_string())).collect();
                (Key::User(iface.clone()), Y::FlowSeq(list))
            })
            .collect();
        put("addresses", Y::Map(entries));
    }
    if let Some(extra) = &n.config_extra {
        put("config_extra", text(extra));
    }
    Y::Map(e)
}

fn link(l: &netloom_model::Link) -> Y {
    let mut e: Vec<(Key, Y)> = vec![(
        "endpoints".into(),
        Y::FlowSeq(vec![text(&l.a.to_string()), text(&l.b.to_string())]),
    )];
    if let Some(mtu) = l.mtu {
        e.push(("mtu".into(), Y::Raw(mtu.to_string())));
    }
    if let Some(mode) = l.mode {
        e.push(("mode".into(), Y::Raw(mode_word(mode).into())));
    }
    if !l.up {
        e.push(("state".into(), Y::Raw("down".into())));
    }
    e.extend(impairments(&l.both));
    for (key, dir) in [("a_to_b", &l.a_to_b), ("b_to_a", &l.b_to_a)] {
        if !dir.is_empty() {
            let entries = impairments(dir);
            let v = if entries.len() <= 3 {
                Y::Flow(entries)
            } else {
                Y::Map(entries)
            };
            e.push((key.into(), v));
        }
    }
    Y::Map(e)
}

/// The impairment keys that are set, in the file format's order.
fn impairments(i: &Impairments) -> Vec<(Key, Y)> {
    let mut e: Vec<(Key, Y)> = Vec::new();
    let mut put = |k: &'static str, v: String| e.push((k.into(), Y::Raw(v)));
    if let Some(d) = i.delay_ns {
        put("delay", duration(d));
    }
    if let Some(d) = i.jitter_ns {
        put("jitter", duration(d));
    }
    if let Some(r) = i.reorder {
        put("reorder", r.to_string());
    }
    let loss = i.loss.map(|loss| match loss {
        Loss::Random { p } => Y::Raw(percent(p)),
        Loss::Gilbert { p, r, h, k } => {
            let mut f = vec![
                ("model".into(), Y::Raw("gilbert".into())),
                ("p".into(), Y::Raw(percent(p))),
                ("r".into(), Y::Raw(percent(r))),
            ];
            if h != Ppm::ONE {
                f.push(("h".into(), Y::Raw(percent(h))));
            }
            if k != Ppm::ZERO {
                f.push(("k".into(), Y::Raw(percent(k))));
            }
            Y::Flow(f)
        }
    });
    if let Some(p) = i.duplicate {
        put("duplicate", percent(p));
    }
    if let Some(p) = i.corrupt {
        put("corrupt", percent(p));
    }
    if let Some(r) = i.rate_bps {
        put("rate", rate(r));
    }
    if let Some(q) = i.queue {
        put("queue", queue(q));
    }
    if let Some(loss) = loss {
        let at = e
            .iter()
            .position(|(k, _)| !matches!(k, Key::Word("delay" | "jitter" | "reorder")))
            .unwrap_or(e.len());
        e.insert(at, ("loss".into(), loss));
    }
    e
}

fn routing(r: &Routing) -> Y {
    let d = Routing::default();
    let mut e: Vec<(Key, Y)> = vec![("protocol".into(), Y::Raw(protocol_word(r.protocol).into()))];
    if r.min_prefix_len != d.min_prefix_len {
        e.push((
            "min_prefix_len".into(),
            Y::Raw(r.min_prefix_len.to_string()),
        ));
    }
    if r.maximum_paths != d.maximum_paths {
        e.push(("maximum_paths".into(), Y::Raw(r.maximum_paths.to_string())));
    }
    if let Some((keepalive, hold)) = r.timers {
        e.push((
            "timers".into(),
            Y::Flow(vec![
                ("keepalive".into(), Y::Raw(keepalive.to_string())),
                ("hold".into(), Y::Raw(hold.to_string())),
            ]),
        ));
    }
    if r.update_delay != d.update_delay {
        let e2 = match r.update_delay {
            None => vec![("max".into(), Y::Raw("0".into()))],
            Some(u) => vec![
                ("max".into(), Y::Raw(u.max.to_string())),
                (
                    "establish_wait".into(),
                    Y::Raw(u.establish_wait.to_string()),
                ),
            ],
        };
        e.push(("update_delay".into(), Y::Flow(e2)));
    }
    if r.peering != d.peering {
        let word = match r.peering {
            netloom_model::BgpPeering::Numbered => "numbered",
            netloom_model::BgpPeering::Interface => "interface",
        };
        e.push(("peering".into(), Y::Raw(word.into())));
    }
    if r.router_id != d.router_id {
        let word = match r.router_id {
            netloom_model::RouterIdFrom::Id => "id",
            netloom_model::RouterIdFrom::Loopback => "loopback",
        };
        e.push(("router_id".into(), Y::Raw(word.into())));
    }
    Y::Map(e)
}

fn protocol_word(p: RoutingProtocol) -> &'static str {
    match p {
        RoutingProtocol::Bgp => "bgp",
        RoutingProtocol::Ospf => "ospf",
        RoutingProtocol::None => "none",
    }
}

fn mode_word(m: LinkMode) -> &'static str {
    match m {
        LinkMode::Veth => "veth",
        LinkMode::Emulated => "emulated",
    }
}

// ---- quantities -----------------------------------------------------------

/// `value / unit` as a decimal with at most `max_decimals` digits after the
/// point, if that is exact.
fn exact(value: u64, unit: u64, max_decimals: u32) -> Option<String> {
    let int = value / unit;
    let rest = value % unit;
    if rest == 0 {
        return Some(int.to_string());
    }
    // Digits of the fraction: unit is a power of ten.
    let digits = unit.ilog10();
    let frac = format!("{rest:0width$}", width = digits as usize);
    let frac = frac.trim_end_matches('0');
    (frac.len() as u32 <= max_decimals).then(|| format!("{int}.{frac}"))
}

/// The largest unit (of `units`, largest first) in which `value` is at least
/// 1 and exact with at most 3 decimals; else the smallest, exactly.
fn with_unit(value: u64, units: &[(u64, &str)]) -> String {
    for (unit, name) in units {
        if value >= *unit {
            if let Some(n) = exact(value, *unit, 3) {
                return format!("{n}{name}");
            }
        }
    }
    let (unit, name) = units[units.len() - 1];
    format!("{}{name}", exact(value, unit, 18).unwrap_or_default())
}

/// Nanoseconds as `1.5s`, `20ms`, `500us`, `0.001us`.
fn duration(ns: u64) -> String {
    if ns == 0 {
        return "0ms".to_string();
    }
    with_unit(
        ns,
        &[(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us")],
    )
}

/// Bits per second as `1.5gbit`, `100mbit`, `64kbit`, `9600bit`.
fn rate(bps: u64) -> String {
    with_unit(
        bps,
        &[
            (1_000_000_000, "gbit"),
            (1_000_000, "mbit"),
            (1_000, "kbit"),
            (1, "bit"),
        ],
    )
}

/// Parts per million as `0.0001%` .. `100%`.
fn percent(p: Ppm) -> String {
    format!("{}%", micro_of(u64::from(p.0), 10_000))
}

fn queue(q: QueueLimit) -> String {
    match q {
        QueueLimit::Packets(n) => n.to_string(),
        QueueLimit::Bytes(b) if b % (1 << 20) == 0 => format!("{}mb", b >> 20),
        QueueLimit::Bytes(b) if b % 1024 == 0 => format!("{}kb", b >> 10),
        QueueLimit::Bytes(b) => format!("{b}b"),
    }
}

/// `value / unit` exactly (unit a power of ten).
fn micro_of(value: u64, unit: u64) -> String {
    exact(value, unit, 18).unwrap_or_default()
}

/// Millionths as a signed decimal: `48856600` → `48.8566`.
fn micro(v: i64) -> String {
    let s = micro_of(v.unsigned_abs(), 1_000_000);
    if v < 0 {
        format!("-{s}")
    } else {
        s
    }
}

// ---- writing ---------------------------------------------------------------

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// `key: value` at `indent`, and the value's nested lines.
fn entry(out: &mut String, indent: usize, key: &Key, value: &Y) {
    pad(out, indent);
    out.push_str(&key.write(false));
    out.push(':');
    after_indicator(out, indent, value);
}

/// What follows `key:` or `-`: the value on the same line, or its nested
/// lines indented below `indent`.
fn after_indicator(out: &mut String, indent: usize, value: &Y) {
    match value {
        Y::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            for (k, v) in entries {
                entry(out, indent + 2, k, v);
            }
        }
        Y::Seq(items) if !items.is_empty() => {
            out.push('\n');
            for item in items {
                seq_item(out, indent + 2, item);
            }
        }
        Y::Block(s) => block(out, indent, s),
        Y::Str(s) if s.contains('\n') && blockable(s) => block(out, indent, s),
        Y::Str(s) => {
            out.push(' ');
            out.push_str(&scalar(s, false));
            out.push('\n');
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn seq_item(out: &mut String, indent: usize, item: &Y) {
    pad(out, indent);
    out.push('-');
    match item {
        Y::Map(entries) if !entries.is_empty() => {
            for (i, (k, v)) in entries.iter().enumerate() {
                if i == 0 {
                    out.push(' ');
                    out.push_str(&k.write(false));
                    out.push(':');
                    after_indicator(out, indent + 2, v);
                } else {
                    entry(out, indent + 2, k, v);
                }
            }
        }
        other => after_indicator(out, indent, other),
    }
}

/// A value on one line.
fn inline(value: &Y) -> String {
    match value {
        Y::Raw(s) => s.clone(),
        Y::Str(s) | Y::Block(s) => scalar(s, true),
        Y::Map(entries) | Y::Flow(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", k.write(true), inline(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Y::Seq(items) | Y::FlowSeq(items) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

/// A literal block scalar for `s` after `key:` at `indent`, or a
/// double-quoted string when a block cannot hold `s` exactly.
fn block(out: &mut String, indent: usize, s: &str) {
    if !blockable(s) {
        out.push(' ');
        out.push_str(&quoted(s));
        out.push('\n');
        return;
    }
    out.push_str(" |");
    // The first line with text sets the indentation, unless told.
    if s.split('\n')
        .find(|l| !l.is_empty())
        .is_some_and(|l| l.starts_with(' '))
    {
        out.push('2');
    }
    let body = match s.strip_suffix('\n') {
        None => {
            out.push('-');
            s
        }
        Some(rest) if rest.ends_with('\n') || rest.is_empty() => {
            out.push('+');
            rest
        }
        Some(rest) => rest,
    };
    out.push('\n');
    if body.is_empty() && s.is_empty() {
        return;
    }
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent + 2);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Whether a literal block scalar holds `s` exactly: only printable
/// characters, tabs and line feeds.
fn blockable(s: &str) -> bool {
    s.chars().all(|c| {
        c == '\n'
            || c == '\t'
            || !(c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
    })
}

/// `s` as a plain scalar when YAML reads it back as this very string, else
/// double-quoted. `flow`: inside `{...}` or `[...]`.
fn scalar(s: &str, flow: bool) -> String {
    if plain_ok(s, flow) {
        s.to_string()
    } else {
        quoted(s)
    }
}

fn plain_ok(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || first == '/' || first == '_') || s.ends_with(' ') {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    let allowed = chars.iter().enumerate().all(|(i, &c)| {
        c.is_ascii_alphanumeric()
            || matches!(c, '_' | '-' | '.' | '/' | '+' | '@' | '%' | '=' | ' ')
            || (c == ':' && !flow && chars.get(i + 1).is_some_and(|n| *n != ' '))
    });
    if !allowed {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    // YAML 1.1 and 1.2 booleans and nulls.
    if matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
    ) {
        return false;
    }
    !(looks_numeric(s) || s.parse::<f64>().is_ok())
}

/// Whether a YAML library could take `s` for a number, a date or a time
/// (YAML 1.1 and 1.2: `12`, `1_000`, `0x1F`, `0o17`, `1.5`, `1e3`, `12:30`,
/// `2001-12-14`); IP addresses (`10.0.0.1`) are not.
fn looks_numeric(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = t.to_ascii_lowercase();
    let all = |f: fn(char) -> bool| t.chars().all(f);
    let dots = t.matches('.').count();
    lower.starts_with("0x")
        || lower.starts_with("0o")
        || lower.starts_with("0b")
        || all(|c| c.is_ascii_digit() || c == '_')
        || (dots <= 1
            && all(|c| c.is_ascii_digit() || matches!(c, '_' | '.' | 'e' | 'E' | '+' | '-')))
        || (t.contains(':') && all(|c| c.is_ascii_digit() || matches!(c, '_' | ':' | '.')))
        || (t.len() >= 5 && t[..4].chars().all(|c| c.is_ascii_digit()) && t[4..].starts_with('-'))
}

/// A double-quoted scalar with every character that needs it escaped.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_exact_in_the_largest_unit() {
        assert_eq!(duration(20_000_000), "20ms");
        assert_eq!(duration(1_500_000_000), "1.5s");
        assert_eq!(duration(500_000), "500us");
        assert_eq!(duration(1_234_567), "1234.567us");
        assert_eq!(duration(1), "0.001us");
        assert_eq!(duration(0), "0ms");
        assert_eq!(rate(1_500_000_000), "1.5gbit");
        assert_eq!(rate(9_600), "9.6kbit");
        assert_eq!(rate(1_234_567), "1234.567kbit");
        assert_eq!(rate(7), "7bit");
        assert_eq!(percent(Ppm(1)), "0.0001%");
        assert_eq!(percent(Ppm(15_000)), "1.5%");
        assert_eq!(percent(Ppm::ONE), "100%");
        assert_eq!(queue(QueueLimit::Bytes(65_536)), "64kb");
        assert_eq!(queue(QueueLimit::Bytes(1_500)), "1500b");
        assert_eq!(micro(-500_000), "-0.5");
        assert_eq!(micro(48_856_600), "48.8566");
    }

    #[test]
    fn strings_are_quoted_when_yaml_would_misread_them() {
        for s in [
            "yes",
            "On",
            "1e3",
            "0x1F",
            "12:30",
            "2001-12-14",
            "",
            " a",
            "a ",
            "a: b",
            "#x",
            "-x",
            "~",
            "null",
            "1.5",
            "inf",
            "a#b",
            "[x]",
            "é",
            "1_000",
            "-12",
            "a:",
            "1:20:30",
        ] {
            assert!(scalar(s, false).starts_with('"'), "{s}");
        }
        for s in [
            "r1",
            "frrouting/frr:v8.4.1",
            "ip link set eth1 up",
            "10.0.0.0/16",
            "192.168.1.254",
            "fd00::/48",
        ] {
            assert_eq!(scalar(s, false), s);
        }
        assert_eq!(scalar("r1:eth1", true), "\"r1:eth1\"");
        assert_eq!(quoted("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
