//! Emulated links: persistent TAP devices in the nodes' namespaces, and the
//! running wires (from `netloom-wire`) that join them, by link id.

use crate::error::ExecError;
use crate::ns::netns_path;
use netloom_model::{Loss as ModelLoss, QueueLimit as ModelQueue};
use netloom_plan::{LinkEnd, WireProps};
use netloom_wire::{
    Dir, Link, LinkConfig, LinkCounters, LinkHandle, Loss, Props, QueueLimit, Tap, TapConfig,
};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// One direction of a link, as the live-change API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Direction {
    AtoB,
    BtoA,
    Both,
}

impl From<Direction> for Dir {
    fn from(d: Direction) -> Dir {
        match d {
            Direction::AtoB => Dir::AtoB,
            Direction::BtoA => Dir::BtoA,
            Direction::Both => Dir::Both,
        }
    }
}

/// Counters of one direction of an emulated link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DirCounters {
    pub packets: u64,
    pub bytes: u64,
    pub drop_loss: u64,
    pub drop_queue: u64,
    pub drop_down: u64,
    pub drop_mtu: u64,
    pub duplicated: u64,
    pub corrupted: u64,
}

/// Counters of an emulated link, both ways, and whether its wire runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WireCounters {
    pub running: bool,
    pub a_to_b: DirCounters,
    pub b_to_a: DirCounters,
}

fn dir_counters(c: &netloom_wire::Counters) -> DirCounters {
    DirCounters {
        packets: c.tx_packets,
        bytes: c.tx_bytes,
        drop_loss: c.drop_loss,
        drop_queue: c.drop_queue,
        drop_down: c.drop_down,
        drop_mtu: c.drop_mtu,
        duplicated: c.duplicated,
        corrupted: c.corrupted,
    }
}

/// The wire's properties for one planned direction.
pub fn wire_props(w: &WireProps, up: bool) -> Props {
    let p = |ppm: netloom_model::Ppm| ppm.prob();
    Props {
        delay: Duration::from_nanos(w.delay_ns),
        jitter: Duration::from_nanos(w.jitter_ns),
        reorder: w.reorder,
        loss: match w.loss {
            None => Loss::None,
            Some(ModelLoss::Random { p: pr }) => Loss::Random { p: p(pr) },
            Some(ModelLoss::Gilbert { p: gp, r, h, k }) => Loss::Gilbert {
                p: p(gp),
                r: p(r),
                h: p(h),
                k: p(k),
            },
        },
        duplicate: p(w.duplicate),
        corrupt: p(w.corrupt),
        rate: w.rate_bps,
        queue: match w.queue {
            Some(ModelQueue::Packets(n)) => QueueLimit::Packets(n),
            Some(ModelQueue::Bytes(n)) => QueueLimit::Bytes(n),
            None => Props::default().queue,
        },
        // The TAPs' own MTU limits what nodes send; a wire-side MTU would
        // also turn off the offloads that carry TCP at full speed.
        mtu: None,
        up,
        ..Props::default()
    }
}

fn tap_config(end: &LinkEnd, mtu: Option<u32>) -> TapConfig {
    TapConfig {
        netns: Some(netns_path(&end.netns)),
        name: end.iface.to_string(),
        vnet_hdr: true,
        persist: true,
        mtu,
        up: true,
    }
}

fn wire_err(what: String) -> impl FnOnce(netloom_wire::WireError) -> ExecError {
    move |source| ExecError::Wire { what, source }
}

/// Creates (or re-attaches to) a persistent TAP and lets go of its fd.
pub(crate) fn create_tap(end: &LinkEnd, mtu: Option<u32>) -> Result<(), ExecError> {
    Tap::create(&tap_config(end, mtu))
        .map(drop)
        .map_err(wire_err(format!("create tap {}:{}", end.node, end.iface)))
}

/// Running wires by link id.
#[derive(Default)]
pub(crate) struct Wires {
    links: Mutex<HashMap<String, LinkHandle>>,
}

fn seed_of(id: &str) -> u64 {
    // FNV-1a: a fixed, documented function of the id, so runs repeat.
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

impl std::fmt::Debug for Wires {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.lock().keys().cloned().collect();
        f.debug_struct("Wires").field("links", &ids).finish()
    }
}

impl Wires {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LinkHandle>> {
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts (or restarts) the wire of link `id`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        &self,
        id: &str,
        a: &LinkEnd,
        b: &LinkEnd,
        a_to_b: &WireProps,
        b_to_a: &WireProps,
        up: bool,
    ) -> Result<(), ExecError> {
        self.stop(id);
        let what = |e: &LinkEnd| format!("attach to tap {}:{}", e.node, e.iface);
        let ta = Tap::create(&tap_config(a, None)).map_err(wire_err(what(a)))?;
        let tb = Tap::create(&tap_config(b, None)).map_err(wire_err(what(b)))?;
        let handle = Link::start(
            ta,
            tb,
            LinkConfig {
                a_to_b: wire_props(a_to_b, !a_to_b.down),
                b_to_a: wire_props(b_to_a, !b_to_a.down),
                seed: seed_of(id),
                ..LinkConfig::default()
            },
        )
        .map_err(wire_err(format!("start wire {id}")))?;
        if !up {
            handle
                .set_up(false)
                .map_err(wire_err(format!("set wire {id} down")))?;
        }
        self.lock().insert(id.to_string(), handle);
        Ok(())
    }

    /// Stops the wire of link `id` (its TAPs stay, without carrier).
    pub(crate) fn stop(&self, id: &str) {
        let handle = self.lock().remove(id);
        if let Some(h) = handle {
            h.stop();
        }
    }

    pub(crate) fn set_props(
        &self,
        id: &str,
        dir: Direction,
        props: &WireProps,
        up: bool,
    ) -> Result<(), ExecError> {
        let links = self.lock();
        let h = links
            .get(id)
            .ok_or_else(|| ExecError::NoWire(id.to_string()))?;
        h.set_props(dir.into(), wire_props(props, up))
            .map_err(wire_err(format!("change wire {id}")))
    }

    pub(crate) fn set_up(&self, id: &str, up: bool) -> Result<(), ExecError> {
        let links = self.lock();
        let h = links
            .get(id)
            .ok_or_else(|| ExecError::NoWire(id.to_string()))?;
        h.set_up(up).map_err(wire_err(format!(
            "set wire {id} {}",
            if up { "up" } else { "down" }
        )))
    }

    pub(crate) fn counters(&self, id: &str) -> Option<WireCounters> {
        let links = self.lock();
        let h = links.get(id)?;
        let c: LinkCounters = h.counters();
        Some(WireCounters {
            running: h.is_running(),
            a_to_b: dir_counters(&c.a_to_b),
            b_to_a: dir_counters(&c.b_to_a),
        })
    }
}
