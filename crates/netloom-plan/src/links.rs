//! How each link is realised: a kernel veth pair, or two TAP devices joined
//! by netloom's wire with the effective impairments of each direction, and
//! where each effective value came from.

use crate::geo;
use crate::PlanError;
use netloom_model::{Impairments, Link, LinkMode, Loss, Ppm, QueueLimit, Topology};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The fully resolved properties of one direction of an emulated link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireProps {
    pub delay_ns: u64,
    pub jitter_ns: u64,
    pub reorder: bool,
    pub loss: Option<Loss>,
    pub duplicate: Ppm,
    pub corrupt: Ppm,
    pub rate_bps: Option<u64>,
    pub queue: Option<QueueLimit>,
    /// This direction drops everything (a one-way failure).
    #[serde(default)]
    pub down: bool,
    /// Where each value that is not a default came from, by field name
    /// (`delay` -> `sites tokyo-london: model 9559 km`).
    pub sources: BTreeMap<String, String>,
}

impl WireProps {
    /// No impairment at all.
    pub fn is_clear(&self) -> bool {
        self.delay_ns == 0
            && self.jitter_ns == 0
            && self.loss.is_none()
            && self.duplicate == Ppm::ZERO
            && self.corrupt == Ppm::ZERO
            && self.rate_bps.is_none()
    }

    /// Applies what `imp` says, recording `origin` for each value it sets.
    pub fn apply(&mut self, imp: &Impairments, origin: &str) {
        let mut src = |field: &str| {
            self.sources.insert(field.to_string(), origin.to_string());
        };
        if let Some(v) = imp.delay_ns {
            src("delay");
            self.delay_ns = v;
        }
        if let Some(v) = imp.jitter_ns {
            src("jitter");
            self.jitter_ns = v;
        }
        if let Some(v) = imp.reorder {
            src("reorder");
            self.reorder = v;
        }
        if let Some(v) = imp.loss {
            src("loss");
            self.loss = match v {
                Loss::Random { p } if p == Ppm::ZERO => None,
                other => Some(other),
            };
        }
        if let Some(v) = imp.duplicate {
            src("duplicate");
            self.duplicate = v;
        }
        if let Some(v) = imp.corrupt {
            src("corrupt");
            self.corrupt = v;
        }
        if let Some(v) = imp.rate_bps {
            src("rate");
            self.rate_bps = (v > 0).then_some(v);
        }
        if let Some(v) = imp.queue {
            src("queue");
            self.queue = Some(v);
        }
    }
}

/// How a link is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
// Plans hold tens to thousands of these, built once: size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Realisation {
    Veth,
    Emulated {
        a_to_b: WireProps,
        b_to_a: WireProps,
    },
}

impl Realisation {
    pub fn mode(&self) -> LinkMode {
        match self {
            Realisation::Veth => LinkMode::Veth,
            Realisation::Emulated { .. } => LinkMode::Emulated,
        }
    }

    /// The same packets would see the same link (where each value came
    /// from is not compared).
    pub fn same_effect(&self, other: &Realisation) -> bool {
        let strip = |r: &Realisation| match r {
            Realisation::Veth => Realisation::Veth,
            Realisation::Emulated { a_to_b, b_to_a } => Realisation::Emulated {
                a_to_b: WireProps {
                    sources: BTreeMap::new(),
                    ..a_to_b.clone()
                },
                b_to_a: WireProps {
                    sources: BTreeMap::new(),
                    ..b_to_a.clone()
                },
            },
        };
        strip(self) == strip(other)
    }
}

/// Decides the realisation of link `index` of `topo`.
pub fn realise(topo: &Topology, index: usize, link: &Link) -> Result<Realisation, PlanError> {
    let defaults = &topo.link_defaults;
    let mut a_to_b = WireProps::default();
    let mut b_to_a = WireProps::default();
    // Widest scope first; narrower scopes overwrite.
    if let Some((delay_ns, origin)) = geo::link_delay(topo, link) {
        for dir in [&mut a_to_b, &mut b_to_a] {
            dir.delay_ns = delay_ns;
            dir.sources.insert("delay".into(), origin.clone());
        }
    }
    for dir in [&mut a_to_b, &mut b_to_a] {
        dir.apply(&defaults.impairments, "link_defaults");
        dir.apply(&link.both, "link");
    }
    a_to_b.apply(&link.a_to_b, "link a_to_b");
    b_to_a.apply(&link.b_to_a, "link b_to_a");

    // `mode: veth` written on the link itself wins over what the lab's
    // defaults and the sites would add; impairments written on the same
    // link are a contradiction.
    if link.mode == Some(LinkMode::Veth) {
        let own = [&link.both, &link.a_to_b, &link.b_to_a];
        if own.iter().all(|i| i.is_empty()) && link.up {
            return Ok(Realisation::Veth);
        }
        for dir in [&mut a_to_b, &mut b_to_a] {
            *dir = WireProps::default();
            dir.apply(&link.both, "link");
        }
        a_to_b.apply(&link.a_to_b, "link a_to_b");
        b_to_a.apply(&link.b_to_a, "link b_to_a");
    }
    let mode = link.mode.or(defaults.mode);
    let impaired = !a_to_b.is_clear() || !b_to_a.is_clear();
    match mode {
        Some(LinkMode::Veth) if impaired => {
            let what: Vec<&str> = a_to_b
                .sources
                .keys()
                .chain(b_to_a.sources.keys())
                .map(String::as_str)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            Err(PlanError::VethImpaired {
                index,
                link: format!("{} <-> {}", link.a, link.b),
                what: what.join(", "),
            })
        }
        Some(LinkMode::Veth) if !link.up => Err(PlanError::VethDown {
            index,
            link: format!("{} <-> {}", link.a, link.b),
        }),
        Some(LinkMode::Veth) => Ok(Realisation::Veth),
        Some(LinkMode::Emulated) => Ok(Realisation::Emulated { a_to_b, b_to_a }),
        // A link that starts down is emulated: its wire holds the carrier
        // down until `netloom link up`.
        None if impaired || !link.up => Ok(Realisation::Emulated { a_to_b, b_to_a }),
        None => Ok(Realisation::Veth),
    }
}

/// Longest delay or jitter netloom accepts.
pub const MAX_DELAY_NS: u64 = 60_000_000_000;

/// Checks impairment values that did not come through the file parser
/// (live changes from the CLI or the API). The message names the value.
pub fn check_impairments(imp: &Impairments) -> Result<(), String> {
    let pct = |what: &str, v: Ppm| {
        if v > Ppm::ONE {
            Err(format!("{what} {v} is more than 100%"))
        } else {
            Ok(())
        }
    };
    for (what, v) in [("delay", imp.delay_ns), ("jitter", imp.jitter_ns)] {
        if let Some(ns) = v.filter(|ns| *ns > MAX_DELAY_NS) {
            return Err(format!("{what} {} ms is longer than 60 s", ns / 1_000_000));
        }
    }
    match imp.loss {
        Some(Loss::Random { p }) => pct("loss", p)?,
        Some(Loss::Gilbert { p, r, h, k }) => {
            pct("gilbert p", p)?;
            pct("gilbert r", r)?;
            pct("gilbert h", h)?;
            pct("gilbert k", k)?;
            if r == Ppm::ZERO {
                return Err("gilbert r 0% would never leave the bad state".into());
            }
        }
        None => {}
    }
    if let Some(v) = imp.duplicate {
        pct("duplicate", v)?;
    }
    if let Some(v) = imp.corrupt {
        pct("corrupt", v)?;
    }
    match imp.queue {
        Some(QueueLimit::Packets(0)) | Some(QueueLimit::Bytes(0)) => {
            Err("queue limit 0 would drop every packet".into())
        }
        _ => Ok(()),
    }
}
