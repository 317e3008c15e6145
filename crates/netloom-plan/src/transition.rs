//! Live changes: what to take away and what to bring up to turn a running
//! plan into a new one without touching what stays.
//!
//! Nodes are compared without their interface and port lists (a node that
//! only gains or loses links stays as it is). A node whose anything else
//! changed (kind, FRR configuration, exec, addresses, HA) is rebuilt: its
//! namespace goes and comes back with all its links. Links are matched by
//! their two endpoints; a matched emulated link whose properties or state
//! changed is retuned in place, any other change rebuilds the link. A
//! one-way failure set live (`netloom link down --one-way`) stays.

use crate::{
    build_phases, patch, LinkEnd, LinkPlan, NodePlan, Part, Phase, Plan, Realisation, Step,
};
use netloom_model::NodeName;
use std::collections::BTreeSet;

/// How to get from a running plan to a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Steps that take away what goes, for the executor's teardown (wires
    /// stopped, link ends in surviving namespaces deleted, FRR stopped,
    /// namespaces deleted).
    pub teardown: Vec<Step>,
    /// Phases that bring up what comes.
    pub phases: Vec<Phase>,
    /// Emulated links that stay but get new properties or carrier state
    /// (the new version of each).
    pub retune: Vec<LinkPlan>,
    /// Phases that put back what `teardown` took, should `phases` fail.
    pub restore: Vec<Phase>,
    /// Nodes rebuilt (changed), added and removed, for messages.
    pub rebuilt: Vec<NodeName>,
    pub added: Vec<NodeName>,
    pub removed: Vec<NodeName>,
}

impl Transition {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.teardown.is_empty() && self.phases.is_empty() && self.retune.is_empty()
    }
}

fn link_key(l: &LinkPlan) -> (String, String, String, String) {
    (
        l.a.node.to_string(),
        l.a.iface.to_string(),
        l.b.node.to_string(),
        l.b.iface.to_string(),
    )
}

/// The node without what links alone change.
fn essence(n: &NodePlan) -> NodePlan {
    NodePlan {
        interfaces: Vec::new(),
        ports: Vec::new(),
        ..n.clone()
    }
}

/// Whether a link can stay: same ends, same MTU, same realisation kind.
fn same_wiring(old: &LinkPlan, new: &LinkPlan) -> bool {
    old.a == new.a
        && old.b == new.b
        && old.mtu == new.mtu
        && matches!(
            (&old.realisation, &new.realisation),
            (Realisation::Veth, Realisation::Veth)
                | (Realisation::Emulated { .. }, Realisation::Emulated { .. })
        )
        && (matches!(old.realisation, Realisation::Emulated { .. }) || old.up == new.up)
}

/// Plans the change from `old` (running) to `new`. Links that stay keep
/// their running ids in `new` (wires are known by id); added links get ids
/// no kept link uses.
pub fn transition(old: &Plan, new: &mut Plan) -> Transition {
    let mut rebuilt = Vec::new();
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for n in &new.nodes {
        match old.node(n.name.as_str()) {
            None => added.push(n.name.clone()),
            Some(o) if essence(o) != essence(n) => rebuilt.push(n.name.clone()),
            Some(_) => {}
        }
    }
    for o in &old.nodes {
        if new.node(o.name.as_str()).is_none() {
            removed.push(o.name.clone());
        }
    }
    let gone: BTreeSet<&str> = removed
        .iter()
        .chain(&rebuilt)
        .map(NodeName::as_str)
        .collect();
    let fresh: BTreeSet<&str> = added.iter().chain(&rebuilt).map(NodeName::as_str).collect();

    // Links: kept (maybe retuned), or taken away / brought up.
    let mut kept_ids = BTreeSet::new();
    let mut take = Vec::new();
    let mut bring = Vec::new();
    let mut retune = Vec::new();
    // Whether a link goes through the patch panel depends on its ends.
    let patched_new: Vec<bool> = new.links.iter().map(|l| new.patched(l)).collect();
    for (i, l) in new.links.iter_mut().enumerate() {
        let matched = old.links.iter().find(|o| link_key(o) == link_key(l));
        match matched {
            Some(o)
                if same_wiring(o, l)
                    && old.patched(o) == patched_new[i]
                    && !gone.contains(o.a.node.as_str())
                    && !gone.contains(o.b.node.as_str()) =>
            {
                l.id = o.id.clone();
                kept_ids.insert(o.id.clone());
                // A one-way failure is runtime state (no file key says
                // it): it outlives edits of the lab.
                if let (
                    Realisation::Emulated {
                        a_to_b: oa,
                        b_to_a: ob,
                    },
                    Realisation::Emulated { a_to_b, b_to_a },
                ) = (&o.realisation, &mut l.realisation)
                {
                    a_to_b.down |= oa.down;
                    b_to_a.down |= ob.down;
                }
                if !o.realisation.same_effect(&l.realisation) || o.up != l.up {
                    retune.push(l.clone());
                }
            }
            _ => bring.push(i),
        }
    }
    for o in &old.links {
        if !kept_ids.contains(&o.id) {
            take.push(o.clone());
        }
    }
    // Fresh ids for links brought up: `{lab}#{n}`, n past every kept one.
    let mut next = 0usize;
    for &i in &bring {
        loop {
            let id = format!("{}#{next}", new.lab);
            next += 1;
            if !kept_ids.contains(&id) {
                new.links[i].id = id;
                break;
            }
        }
    }
    let brought: Vec<LinkPlan> = bring.iter().map(|&i| new.links[i].clone()).collect();

    let whole = |ls: &[LinkPlan]| -> Vec<(LinkPlan, Part)> {
        ls.iter().map(|l| (l.clone(), Part::Whole)).collect()
    };
    let mut teardown = take_away(old, &gone, &whole(&take));
    // The patch namespace comes with the first patched link and goes
    // with the last.
    let (had_patch, has_patch) = (old.has_patch(), new.has_patch());
    if had_patch && !has_patch {
        teardown.extend(old.delete_patch_step());
    }

    let phases = bring_up(new, &fresh, &whole(&brought), has_patch && !had_patch);
    let restore = bring_up(old, &gone, &whole(&take), had_patch && !has_patch);
    Transition {
        teardown,
        phases,
        retune,
        restore,
        rebuilt,
        added,
        removed,
    }
}

/// The steps that take away nodes `gone` of `plan` and links `take`:
/// wires stopped first, link ends in namespaces that stay deleted, FRR
/// stopped, namespaces deleted.
fn take_away(plan: &Plan, gone: &BTreeSet<&str>, take: &[(LinkPlan, Part)]) -> Vec<Step> {
    let old = plan;
    let mut teardown = Vec::new();
    for (l, _) in take {
        if matches!(l.realisation, Realisation::Emulated { .. }) {
            teardown.push(Step::StopWire {
                id: l.id.clone(),
                a: l.a.clone(),
            });
        }
    }
    for (l, part) in take {
        let survivors: Vec<&LinkEnd> = [&l.a, &l.b]
            .into_iter()
            .filter(|e| !gone.contains(e.node.as_str()))
            .collect();
        if plan.patched(l) {
            match part {
                // One end's pair goes with its namespace; its planned
                // port may still be there (from before a takeover, say).
                Part::Half(end) => teardown.push(Step::DeleteVeth {
                    a: plan.patch_end(l, *end),
                }),
                // Each surviving end is a pair of its own.
                Part::Whole => {
                    for end in &survivors {
                        teardown.push(Step::DeleteVeth { a: (*end).clone() });
                    }
                    teardown.push(Step::DeleteBridge {
                        node: l.a.node.clone(),
                        netns: plan.patch_netns(),
                        bridge: patch::bridge(l),
                    });
                }
            }
            continue;
        }
        match l.realisation {
            Realisation::Veth => {
                // Deleting one end of a pair deletes both.
                if let Some(end) = survivors.first() {
                    teardown.push(Step::DeleteVeth { a: (*end).clone() });
                }
            }
            Realisation::Emulated { .. } => {
                for end in survivors {
                    teardown.push(Step::DeleteTap { end: end.clone() });
                }
            }
        }
    }
    for o in old.nodes.iter().filter(|o| gone.contains(o.name.as_str())) {
        if let Some(f) = &o.frr {
            teardown.push(Step::StopFrr {
                node: o.name.clone(),
                netns: o.netns.clone(),
                pathspace: f.pathspace.clone(),
            });
        }
    }
    for o in old.nodes.iter().filter(|o| gone.contains(o.name.as_str())) {
        teardown.push(Step::DeleteNetns {
            node: o.name.clone(),
            netns: o.netns.clone(),
        });
    }

    teardown
}

/// Rebuilding one node of a running plan as it is (a repair): its
/// namespace, processes and links go (whatever is left of them) and come
/// back with the same names and link ids. Hosts linked to it are rebuilt
/// too: their ends of its links are new interfaces, and a host's addresses
/// and routes come from its exec commands, which only a rebuild runs
/// again (routers get theirs back from zebra, switches their ports). A
/// link through the patch panel keeps its other end: only the node's own
/// pair into the patch namespace is made again.
pub fn rebuild(plan: &Plan, node: &str) -> Transition {
    let mut gone: BTreeSet<&str> = BTreeSet::new();
    if plan.node(node).is_some() {
        gone.insert(node);
        for l in plan.links.iter().filter(|l| !plan.patched(l)) {
            for (here, there) in [(&l.a, &l.b), (&l.b, &l.a)] {
                if here.node.as_str() == node && is_host(plan, there.node.as_str()) {
                    gone.insert(there.node.as_str());
                }
            }
        }
    }
    let links: Vec<(LinkPlan, Part)> = plan
        .links
        .iter()
        .filter_map(|l| {
            let (a, b) = (
                gone.contains(l.a.node.as_str()),
                gone.contains(l.b.node.as_str()),
            );
            let part = match (a, b) {
                (false, false) => return None,
                (true, false) if plan.patched(l) => Part::Half(0),
                (false, true) if plan.patched(l) => Part::Half(1),
                _ => Part::Whole,
            };
            Some((l.clone(), part))
        })
        .collect();
    repair(plan, &gone, &links, false)
}

/// Rebuilding a lab's patch namespace (it was deleted, and every link
/// through it with it): the namespace, every patched link whole, and the
/// hosts on those links (whose addresses went with their interfaces).
pub fn rebuild_patch(plan: &Plan) -> Transition {
    let gone: BTreeSet<&str> = plan
        .links
        .iter()
        .filter(|l| plan.patched(l))
        .flat_map(|l| [l.a.node.as_str(), l.b.node.as_str()])
        .filter(|n| is_host(plan, n))
        .collect();
    let links: Vec<(LinkPlan, Part)> = plan
        .links
        .iter()
        .filter(|l| {
            plan.patched(l) || gone.contains(l.a.node.as_str()) || gone.contains(l.b.node.as_str())
        })
        .map(|l| (l.clone(), Part::Whole))
        .collect();
    repair(plan, &gone, &links, plan.has_patch())
}

fn is_host(plan: &Plan, node: &str) -> bool {
    plan.node(node)
        .is_some_and(|n| n.kind == netloom_model::NodeKind::Host)
}

/// A repair of `plan` as it is: nodes `gone` and `links` go (with the
/// patch namespace when `patch_ns`) and come back; what comes back is
/// also what restores them.
fn repair(
    plan: &Plan,
    gone: &BTreeSet<&str>,
    links: &[(LinkPlan, Part)],
    patch_ns: bool,
) -> Transition {
    let mut teardown = take_away(plan, gone, links);
    if patch_ns {
        teardown.extend(plan.delete_patch_step());
    }
    let phases = bring_up(plan, gone, links, patch_ns);
    Transition {
        teardown,
        restore: phases.clone(),
        phases,
        retune: Vec::new(),
        rebuilt: gone.iter().filter_map(|n| NodeName::new(*n).ok()).collect(),
        added: Vec::new(),
        removed: Vec::new(),
    }
}

/// The phases that create `nodes` of `plan` and `links` (whose other ends
/// may be nodes that already run; switch ports of those get attached),
/// and the patch namespace when `patch_ns`.
fn bring_up(
    plan: &Plan,
    nodes: &BTreeSet<&str>,
    links: &[(LinkPlan, Part)],
    patch_ns: bool,
) -> Vec<Phase> {
    let members: Vec<&NodePlan> = plan
        .nodes
        .iter()
        .filter(|n| nodes.contains(n.name.as_str()))
        .collect();
    let wanted: Vec<(&LinkPlan, Part)> = links.iter().map(|(l, p)| (l, *p)).collect();
    // Ports of switches that stay, whose links come back or are new.
    let mut extra_ports = Vec::new();
    for (l, part) in links {
        // Half a patched link is the rebuilt node's own end.
        if *part != Part::Whole {
            continue;
        }
        for end in [&l.a, &l.b] {
            if nodes.contains(end.node.as_str()) {
                continue;
            }
            let Some(n) = plan.node(end.node.as_str()) else {
                continue;
            };
            if let Some(bridge) = &n.bridge {
                extra_ports.push(Step::AttachPort {
                    node: n.name.clone(),
                    netns: n.netns.clone(),
                    bridge: bridge.clone(),
                    port: end.iface.clone(),
                });
            }
        }
    }
    let mut phases = build_phases(plan, &members, &wanted, patch_ns);
    if !extra_ports.is_empty() {
        match phases.iter_mut().find(|p| p.name == "ports") {
            Some(p) => p.steps.extend(extra_ports),
            None => {
                // Right after links (or the bridges, or first).
                let at = ["links", "bridges", "namespaces"]
                    .iter()
                    .find_map(|name| phases.iter().position(|p| p.name == *name))
                    .map_or(0, |i| i + 1);
                phases.insert(
                    at,
                    Phase {
                        name: "ports".to_string(),
                        steps: extra_ports,
                    },
                );
            }
        }
    }
    phases
}
