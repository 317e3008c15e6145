//! The patch panel in the kernel (see `netloom_plan::patch`): a twin's
//! ports, the end of what is left of a failed router's FRR, and the
//! takeover's flip.

use crate::error::{netlink_err, ExecError};
use crate::netlink::{self, Netlink, VethEnd};
use crate::ns;
use netloom_plan::{patch, Plan};
use std::os::fd::AsRawFd;

/// A port of a bridge in the patch namespace.
struct Port {
    name: String,
    index: u32,
    /// Administratively up.
    up: bool,
}

/// Bridge `bridge`'s index and ports; `None` when there is no such bridge.
fn bridge_ports(nl: &mut Netlink, bridge: &str) -> Result<Option<(u32, Vec<Port>)>, ExecError> {
    let Some(index) = nl
        .link_index(bridge)
        .map_err(netlink_err(format!("look up bridge {bridge}")))?
    else {
        return Ok(None);
    };
    let ports = nl
        .links_of(index)
        .map_err(netlink_err(format!("list the ports of {bridge}")))?
        .iter()
        .filter_map(|l| {
            Some(Port {
                name: netlink::name_and_master(l).0?.to_string(),
                index: l.header.index,
                up: l
                    .header
                    .flags
                    .contains(netlink_packet_route::link::LinkFlags::Up),
            })
        })
        .collect();
    Ok(Some((index, ports)))
}

/// A bridge port that forwards nothing.
const BR_STATE_DISABLED: u8 = 0;

/// A node's patched link in the patch namespace: the bridge, the ports
/// of the node's own end in it (the planned one, or an earlier twin's:
/// `p{k}a…`), and twin `n`'s port (name and index; in the bridge or not).
struct Bridged {
    bridge: u32,
    own: Vec<Port>,
    twin: (String, u32),
}

fn bridged(nl: &mut Netlink, plan: &Plan, node: &str, n: u64) -> Result<Vec<Bridged>, ExecError> {
    let mut out = Vec::new();
    for (l, end) in plan.patched_links_of(node) {
        let Some((bridge, ports)) = bridge_ports(nl, &patch::bridge(l))? else {
            continue;
        };
        let name = patch::port(l, end, Some(n)).to_string();
        let Some(index) = nl
            .link_index(&name)
            .map_err(netlink_err(format!("look up port {name}")))?
        else {
            return Err(ExecError::Inject(format!(
                "the twin has no port {name} in the patch namespace"
            )));
        };
        let planned = patch::port(l, end, None).to_string();
        let own = ports
            .into_iter()
            .filter(|p| p.name.starts_with(&planned) && p.name != name)
            .collect();
        out.push(Bridged {
            bridge,
            own,
            twin: (name, index),
        });
    }
    Ok(out)
}

impl crate::Executor {
    /// Gives twin `twin` (number `n`) of `node` a pair for every patched
    /// link of the node: the node's interface name (and MAC address) in
    /// the twin's namespace (up, without carrier) and port `p{k}{a|b}t{n}`
    /// in the patch namespace, in the link's bridge but down.
    pub(crate) fn create_twin_ports(
        &self,
        plan: &Plan,
        node: &str,
        twin: &str,
        n: u64,
    ) -> Result<(), ExecError> {
        let links: Vec<_> = plan.patched_links_of(node).collect();
        if links.is_empty() {
            return Ok(());
        }
        let patch_ns = ns::open_handle(&plan.patch_netns())?;
        let twin_ns = ns::open_handle(twin)?;
        let mut nl = crate::lock(&patch_ns.netlink);
        for (l, end) in links {
            let iface = if end == 0 { &l.a.iface } else { &l.b.iface };
            let port = patch::port(l, end, Some(n));
            // A twin of that number may have been removed a moment ago:
            // its port then still vanishes.
            nl.delete_link(port.as_str())
                .map_err(netlink_err(format!("delete the old port {port}")))?;
            nl.create_veth(
                &VethEnd {
                    name: iface.as_str(),
                    netns_fd: twin_ns.file.as_raw_fd(),
                },
                &VethEnd {
                    name: port.as_str(),
                    netns_fd: patch_ns.file.as_raw_fd(),
                },
                l.mtu,
                Some(patch::mac(plan.lab.as_str(), node, iface.as_str())),
            )
            .map_err(netlink_err(format!(
                "create veth {twin}:{iface} <-> patch:{port}"
            )))?;
            // In the bridge already, down: a takeover only sets it up.
            crate::attach_port(
                &mut nl,
                &plan.patch_netns(),
                &patch::bridge(l),
                port.as_str(),
            )?;
        }
        Ok(())
    }

    /// The takeover's flip in the patch namespace: for every patched link
    /// of `node`, the old router's ports stop forwarding and twin `n`'s
    /// comes up. The neighbours see nothing but their session with the
    /// old router closed ([`Executor::end_frr`], before) and a new one
    /// from the twin, which has the router's addresses, MAC ones included.
    pub(crate) fn flip_to_twin(&self, plan: &Plan, node: &str, n: u64) -> Result<(), ExecError> {
        if plan.patched_links_of(node).next().is_none() {
            return Ok(());
        }
        // Ahead of the FRR daemons that wake up at every port it flips.
        std::thread::scope(|s| {
            s.spawn(|| {
                crate::hurry_this_thread();
                flip(plan, node, n)
            })
            .join()
            .unwrap_or(Err(ExecError::Panicked))
        })
    }

    /// Ends what is left of the FRR of the router in namespace `netns` at
    /// once (SIGKILL) and waits until it is gone: its TCP sessions close
    /// while its links still carry their FIN, so a neighbour drops its
    /// session with it at once (it keeps its link, which goes through
    /// the patch panel).
    pub fn end_frr(&self, netns: &str) -> Result<(), ExecError> {
        let pids = crate::teardown::frr_pids(&crate::frr::frr_pathspace(netns));
        crate::procs::terminate(&pids, std::time::Duration::ZERO)
    }
}

/// [`Executor::flip_to_twin`]'s work.
fn flip(plan: &Plan, node: &str, n: u64) -> Result<(), ExecError> {
    let t0 = std::time::Instant::now();
    let ms = |t: std::time::Instant| t.elapsed().as_secs_f64() * 1e3;
    let h = ns::open_handle(&plan.patch_netns())?;
    let mut nl = crate::lock(&h.netlink);
    let links = bridged(&mut nl, plan, node, n)?;
    let listed = ms(t0);
    // The old router's ports stop forwarding (its namespace, which still
    // answers for the router's addresses, goes later), then the twin's
    // come up (in the bridge: a no-op but for a bridge made again since
    // the twin was built).
    // (A port may be gone already: with its FRR ended, nothing holds the
    // old router's namespace any more, and its links go with it.)
    for p in links.iter().flat_map(|b| &b.own).filter(|p| p.up) {
        match nl.set_port_state(p.index, BR_STATE_DISABLED) {
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {}
            other => other.map_err(netlink_err(format!("disable the old port {}", p.name)))?,
        }
    }
    let disabled = ms(t0);
    for b in &links {
        let (name, index) = &b.twin;
        nl.set_state(*index, Some(b.bridge), true)
            .map_err(netlink_err(format!("set the twin's port {name} up")))?;
    }
    tracing::debug!(
        %node,
        links = links.len(),
        listed,
        disabled,
        ms = ms(t0),
        "patch panel flipped to the twin"
    );
    Ok(())
}
