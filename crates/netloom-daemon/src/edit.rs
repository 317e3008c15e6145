//! Live changes of a running lab: nodes and links added and removed, or a
//! whole new topology applied. Every change edits the lab's topology,
//! plans it, and lets [`netloom_plan::transition`] decide the smallest set
//! of steps; what stays is not touched. A change that cannot be planned
//! changes nothing; one that fails while applied is undone (the lab runs
//! as before) and recorded as an event.

use crate::service::{
    DeployProgress, LabView, LinkChange, LinkView, NodeView, Service, ServiceError,
};
use netloom_model::{
    Endpoint, IfName, Impairments, Link, LinkMode, Node, NodeKind, NodeName, Topology,
};
use serde::{Deserialize, Serialize};

/// Body of `POST /api/v1/labs/{lab}/nodes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddNode {
    pub kind: NodeKind,
    /// Picked (`r3`, `s1`, `h2`: the kind's letter and the first free
    /// number) when not given.
    #[serde(default)]
    pub name: Option<String>,
    /// Where the node sits on the web page's canvas.
    #[serde(default)]
    pub position: Option<netloom_model::Position>,
}

/// One end of a link to add; the interface is picked when not given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndRequest {
    pub node: String,
    #[serde(default)]
    pub interface: Option<String>,
}

/// Body of `POST /api/v1/labs/{lab}/links`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddLink {
    pub a: EndRequest,
    pub b: EndRequest,
    /// `veth` or `emulated`; the planner decides when not given.
    #[serde(default)]
    pub mode: Option<LinkMode>,
    #[serde(default)]
    pub mtu: Option<u32>,
}

/// What a live change did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Applied {
    /// One line per difference (`+ node h2 (host)`, `- link ...`).
    pub changes: Vec<String>,
    pub lab: LabView,
}

fn bad(message: impl Into<String>) -> ServiceError {
    ServiceError::BadEdit(message.into())
}

fn node_name(lab: &str, topo: &Topology, name: &str) -> Result<NodeName, ServiceError> {
    let n = NodeName::new(name).map_err(|e| bad(format!("node name `{name}`: {e}")))?;
    if !topo.nodes.contains_key(&n) {
        return Err(ServiceError::NodeNotFound {
            lab: lab.to_string(),
            node: name.to_string(),
        });
    }
    Ok(n)
}

/// Interfaces of `node` that links use.
fn used_ifaces<'a>(topo: &'a Topology, node: &'a NodeName) -> impl Iterator<Item = &'a IfName> {
    topo.links
        .iter()
        .flat_map(|l| [&l.a, &l.b])
        .filter(move |e| &e.node == node)
        .map(|e| &e.iface)
}

/// The first `eth{n}` (n from 1) the node does not use.
fn free_iface(topo: &Topology, node: &NodeName, taken_too: Option<&IfName>) -> IfName {
    (1..)
        .map(|n| IfName::new(format!("eth{n}")).expect("ethN is a valid interface name"))
        .find(|cand| Some(cand) != taken_too && !used_ifaces(topo, node).any(|used| used == cand))
        .expect("some ethN is free")
}

fn endpoint(
    lab: &str,
    topo: &Topology,
    end: &EndRequest,
    other: Option<&Endpoint>,
) -> Result<Endpoint, ServiceError> {
    let node = node_name(lab, topo, &end.node)?;
    let taken_too = other.filter(|o| o.node == node).map(|o| &o.iface);
    let iface = match &end.interface {
        None => free_iface(topo, &node, taken_too),
        Some(i) => {
            let iface = IfName::new(i.as_str())
                .map_err(|e| bad(format!("interface `{}:{i}`: {e}", end.node)))?;
            if used_ifaces(topo, &node).any(|u| *u == iface) || taken_too == Some(&iface) {
                return Err(bad(format!(
                    "interface `{}:{i}` is already used by another link",
                    end.node
                )));
            }
            iface
        }
    };
    Ok(Endpoint { node, iface })
}

/// Finds the link with an end at `NODE:IFACE`.
fn link_at(lab: &str, topo: &Topology, at: &str) -> Result<usize, ServiceError> {
    let (node, iface) = at
        .split_once(':')
        .ok_or_else(|| ServiceError::BadLink(format!("`{at}` is not NODE:INTERFACE")))?;
    topo.links
        .iter()
        .position(|l| {
            [&l.a, &l.b]
                .iter()
                .any(|e| e.node.as_str() == node && e.iface.as_str() == iface)
        })
        .ok_or_else(|| ServiceError::BadLink(format!("lab `{lab}` has no link at `{at}`")))
}

/// Forgets in `dir` every value `given` sets.
fn clear_given(dir: &mut Impairments, given: &Impairments) {
    if given.delay_ns.is_some() {
        dir.delay_ns = None;
    }
    if given.jitter_ns.is_some() {
        dir.jitter_ns = None;
    }
    if given.reorder.is_some() {
        dir.reorder = None;
    }
    if given.loss.is_some() {
        dir.loss = None;
    }
    if given.duplicate.is_some() {
        dir.duplicate = None;
    }
    if given.corrupt.is_some() {
        dir.corrupt = None;
    }
    if given.rate_bps.is_some() {
        dir.rate_bps = None;
    }
    if given.queue.is_some() {
        dir.queue = None;
    }
}

/// Writes a live link change into the topology: both ways on the link's
/// own values (per-direction values of the same fields forgotten), one way
/// on the direction leaving `node:iface`. A one-way down stays a runtime
/// state: the file format has no such key.
pub(crate) fn record_link_change(
    topo: &mut Topology,
    node: &str,
    iface: &str,
    change: &LinkChange,
) {
    let Some(link) = topo.links.iter_mut().find(|l| {
        [&l.a, &l.b]
            .iter()
            .any(|e| e.node.as_str() == node && e.iface.as_str() == iface)
    }) else {
        return;
    };
    let from_a = link.a.node.as_str() == node && link.a.iface.as_str() == iface;
    if change.one_way {
        let dir = if from_a {
            &mut link.a_to_b
        } else {
            &mut link.b_to_a
        };
        *dir = change.set.or(dir);
    } else {
        link.both = change.set.or(&link.both);
        clear_given(&mut link.a_to_b, &change.set);
        clear_given(&mut link.b_to_a, &change.set);
        if let Some(up) = change.up {
            link.up = up;
        }
    }
}

impl Service {
    /// Applies an edit of a running lab's topology: plans the result, takes
    /// away and brings up only what differs, records the new topology.
    pub fn update(
        &self,
        lab: &str,
        edit: impl FnOnce(&mut Topology) -> Result<(), ServiceError>,
        progress: &(dyn Fn(DeployProgress) + Sync),
    ) -> Result<Applied, ServiceError> {
        let _guard = self.claim_within(lab, crate::service::CLAIM_WAIT)?;
        let record = self
            .store
            .get_lab(lab)?
            .ok_or_else(|| ServiceError::NotFound(lab.to_string()))?;
        let mut topo = record.topology.clone();
        edit(&mut topo)?;
        if topo.name != record.topology.name {
            return Err(bad(format!(
                "the topology names lab `{}`, not `{lab}`",
                topo.name
            )));
        }
        let mut new = self.plan(&topo)?;
        let t = netloom_plan::transition(&record.plan, &mut new);
        let changes = netloom_plan::changes(&record.plan, &new);
        self.exec
            .apply_transition(&new, &t, &|p: netloom_linux::Progress| progress(p.into()))
            .map_err(|source| {
                let err = ServiceError::Update {
                    lab: lab.to_string(),
                    source: Box::new(source),
                };
                let _ = self
                    .store
                    .add_event(lab, None, "change-failed", &err.chain());
                err
            })?;
        self.store.update_lab(&topo, &new)?;
        // A rebuilt or removed router's saved configuration belongs to the
        // old plan: a later repair must restore the new one.
        for n in t.rebuilt.iter().chain(&t.removed) {
            self.store.forget_config(lab, n.as_str())?;
        }
        self.changed(&new);
        if !changes.is_empty() || topo != record.topology {
            let summary = if changes.is_empty() {
                "topology updated (nothing to change on the network)".to_string()
            } else {
                changes.join("; ")
            };
            self.store.add_event(lab, None, "changed", &summary)?;
        }
        let record = self
            .store
            .get_lab(lab)?
            .ok_or_else(|| ServiceError::NotFound(lab.to_string()))?;
        Ok(Applied {
            changes,
            lab: self.view(&record),
        })
    }

    /// Replaces a running lab's topology by `topo` (same lab name).
    pub fn apply_topology(
        &self,
        topo: &Topology,
        progress: &(dyn Fn(DeployProgress) + Sync),
    ) -> Result<Applied, ServiceError> {
        let lab = topo.name.to_string();
        self.update(
            &lab,
            |t| {
                *t = topo.clone();
                Ok(())
            },
            progress,
        )
    }

    /// Adds a node (running, unlinked) to a running lab.
    pub fn add_node(&self, lab: &str, req: &AddNode) -> Result<NodeView, ServiceError> {
        let mut chosen = None;
        let applied = self.update(
            lab,
            |topo| {
                let name = match &req.name {
                    Some(n) => {
                        let name =
                            NodeName::new(n.as_str()).map_err(|e| bad(format!("name: {e}")))?;
                        if topo.nodes.contains_key(&name) {
                            return Err(bad(format!("lab `{lab}` already has a node `{n}`")));
                        }
                        name
                    }
                    None => {
                        let letter = match req.kind {
                            NodeKind::Router => 'r',
                            NodeKind::Switch => 's',
                            NodeKind::Host => 'h',
                        };
                        (1..)
                            .filter_map(|i| NodeName::new(format!("{letter}{i}")).ok())
                            .find(|n| !topo.nodes.contains_key(n))
                            .expect("some name is free")
                    }
                };
                let mut node = Node::new(name.clone(), req.kind);
                node.position = req.position;
                topo.nodes.insert(name.clone(), node);
                chosen = Some(name);
                Ok(())
            },
            &|_| {},
        )?;
        let name = chosen.expect("set by the edit");
        applied
            .lab
            .nodes
            .into_iter()
            .find(|n| n.name == name.as_str())
            .ok_or_else(|| ServiceError::NodeNotFound {
                lab: lab.to_string(),
                node: name.to_string(),
            })
    }

    /// Removes a node and its links from a running lab.
    pub fn remove_node(&self, lab: &str, node: &str) -> Result<Applied, ServiceError> {
        self.update(
            lab,
            |topo| {
                let name = node_name(lab, topo, node)?;
                topo.nodes.remove(&name);
                topo.links.retain(|l| l.a.node != name && l.b.node != name);
                Ok(())
            },
            &|_| {},
        )
    }

    /// Moves a node on the canvas (the network is not touched).
    pub fn move_node(
        &self,
        lab: &str,
        node: &str,
        position: Option<netloom_model::Position>,
    ) -> Result<NodeView, ServiceError> {
        let applied = self.update(
            lab,
            |topo| {
                let name = node_name(lab, topo, node)?;
                if let Some(n) = topo.nodes.get_mut(&name) {
                    n.position = position;
                }
                Ok(())
            },
            &|_| {},
        )?;
        applied
            .lab
            .nodes
            .into_iter()
            .find(|n| n.name == node)
            .ok_or_else(|| ServiceError::NodeNotFound {
                lab: lab.to_string(),
                node: node.to_string(),
            })
    }

    /// Links two nodes of a running lab.
    pub fn add_link(&self, lab: &str, req: &AddLink) -> Result<LinkView, ServiceError> {
        let mut made = None;
        let applied = self.update(
            lab,
            |topo| {
                let a = endpoint(lab, topo, &req.a, None)?;
                let b = endpoint(lab, topo, &req.b, Some(&a))?;
                if a.node == b.node {
                    return Err(bad(format!(
                        "a link joins two different nodes; both ends are on `{}`",
                        a.node
                    )));
                }
                let mut link = Link::new(a.clone(), b.clone());
                link.mode = req.mode;
                link.mtu = req.mtu;
                topo.links.push(link);
                made = Some(format!("{a}"));
                Ok(())
            },
            &|_| {},
        )?;
        let a = made.expect("set by the edit");
        applied
            .lab
            .links
            .into_iter()
            .find(|l| l.a == a)
            .ok_or_else(|| ServiceError::BadLink(format!("link at `{a}` vanished")))
    }

    /// Removes the link with an end at `NODE:IFACE`.
    pub fn remove_link(&self, lab: &str, at: &str) -> Result<Applied, ServiceError> {
        self.update(
            lab,
            |topo| {
                let i = link_at(lab, topo, at)?;
                topo.links.remove(i);
                Ok(())
            },
            &|_| {},
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topo() -> Topology {
        let r1 = Node::new(NodeName::new("r1").unwrap(), NodeKind::Router);
        let h1 = Node::new(NodeName::new("h1").unwrap(), NodeKind::Host);
        let link = Link::new(
            Endpoint {
                node: NodeName::new("r1").unwrap(),
                iface: IfName::new("eth1").unwrap(),
            },
            Endpoint {
                node: NodeName::new("h1").unwrap(),
                iface: IfName::new("eth1").unwrap(),
            },
        );
        Topology::new(
            netloom_model::LabName::new("t").unwrap(),
            [r1, h1],
            vec![link],
        )
    }

    fn end(node: &str, iface: Option<&str>) -> EndRequest {
        EndRequest {
            node: node.into(),
            interface: iface.map(Into::into),
        }
    }

    #[test]
    fn picks_the_first_free_interface_on_each_end() {
        let t = topo();
        let a = endpoint("t", &t, &end("r1", None), None).unwrap();
        assert_eq!(a.to_string(), "r1:eth2");
        // The same node on both ends would not get the same name twice.
        let b = endpoint("t", &t, &end("r1", None), Some(&a)).unwrap();
        assert_eq!(b.to_string(), "r1:eth3");
    }

    #[test]
    fn refuses_a_used_interface_and_unknown_nodes() {
        let t = topo();
        let e = endpoint("t", &t, &end("r1", Some("eth1")), None).unwrap_err();
        assert!(e.to_string().contains("r1:eth1` is already used"), "{e}");
        let e = endpoint("t", &t, &end("zz", None), None).unwrap_err();
        assert!(matches!(e, ServiceError::NodeNotFound { .. }), "{e}");
        let e = endpoint("t", &t, &end("r1", Some("bad name!")), None).unwrap_err();
        assert!(e.to_string().contains("bad name!"), "{e}");
    }

    #[test]
    fn finds_a_link_by_either_end() {
        let t = topo();
        assert_eq!(link_at("t", &t, "h1:eth1").unwrap(), 0);
        assert!(link_at("t", &t, "h1:eth9").is_err());
        assert!(link_at("t", &t, "h1").is_err());
    }
}
