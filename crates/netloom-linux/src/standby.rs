//! Hot standby twins: a router's twin is a namespace of its own with the
//! router's sysctls, FRR running on the router's configuration, and its
//! interfaces, each a veth pair into the lab's patch namespace whose far
//! end waits there down and unattached (see [`netloom_plan::patch`]).
//! When the router fails, the twin takes over: what is left of the
//! router's FRR is killed (its sessions close), the twin's ports replace
//! the router's in the patch namespace's bridges (nothing changes in a
//! neighbour's namespace; the twin has the router's MAC addresses too),
//! what is left of the router goes, and the twin's namespace and FRR
//! directories take the router's names. zebra applied the addresses when the twin was built:
//! no daemon has to start, no link has to be made. Emulated links (TAPs
//! joined by netloom's wire) of the router are made again in the twin.

use crate::error::{io_err, ApplyError, ExecError};
use crate::frr::{conf_dir, frr_pathspace, run_dir};
use crate::Executor;
use netloom_plan::{patch, Phase, Plan, Step};

/// The namespace name of a router's `n`-th twin (`~` is in no node name).
pub fn twin_netns(netns: &str, n: u64) -> String {
    format!("{netns}~s{n}")
}

/// The first twin name of `netns` from number `from` on that nothing uses:
/// no namespace, and no FRR directories. A twin that took over keeps its
/// FRR directories under its own name (the router's are links to them),
/// so a daemon that starts counting at 0 again must not reuse that name.
/// Returns the name and its number.
pub fn free_twin_netns(netns: &str, from: u64) -> (String, u64) {
    let mut n = from;
    loop {
        let name = twin_netns(netns, n);
        let ps = frr_pathspace(&name);
        let used = std::fs::symlink_metadata(crate::ns::netns_path(&name)).is_ok()
            || conf_dir(&ps).exists()
            || run_dir(&ps).exists();
        if !used {
            return (name, n);
        }
        n += 1;
    }
}

/// Whether a namespace name is a standby twin's.
pub fn is_twin(netns: &str) -> bool {
    netns.contains("~s")
}

fn failed(step: &str, node: &str, source: ExecError) -> ApplyError {
    ApplyError {
        phase: "standby".to_string(),
        step: step.to_string(),
        node: node.to_string(),
        source,
        rollback: None,
    }
}

impl Executor {
    /// Builds a twin of router `node` of `plan` in namespace `twin`:
    /// sysctls, a pair into the patch namespace for each of its patched
    /// links (see [`netloom_plan::patch`]), and FRR with `config` (or the
    /// planned configuration). On failure nothing of it is left.
    #[allow(clippy::result_large_err)]
    pub fn create_twin(
        &self,
        plan: &Plan,
        node: &str,
        twin: &str,
        config: Option<&str>,
    ) -> Result<(), ApplyError> {
        let Some(frr) = plan.node(node).and_then(|n| n.frr.as_ref()) else {
            return Err(failed(
                "create standby twin",
                node,
                ExecError::Inject(format!("node {node} is not a router")),
            ));
        };
        let Some(number) = patch::twin_number(twin) else {
            return Err(failed(
                "create standby twin",
                node,
                ExecError::Inject(format!("{twin} is not a twin's name")),
            ));
        };
        let n = plan.node(node).expect("checked above");
        let mut frr = frr.clone();
        frr.pathspace = twin.to_string();
        if let Some(c) = config {
            frr.config = c.to_string();
        }
        let phase = |name: &str, steps: Vec<Step>| Phase {
            name: name.to_string(),
            steps,
        };
        let base = vec![
            phase(
                "namespaces",
                vec![Step::CreateNetns {
                    node: n.name.clone(),
                    netns: twin.to_string(),
                }],
            ),
            phase(
                "sysctls",
                n.sysctls
                    .iter()
                    .map(|(key, value)| Step::Sysctl {
                        node: n.name.clone(),
                        netns: twin.to_string(),
                        key: key.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            ),
        ];
        self.apply_phases(&base, &|_| {})?;
        // Its links exist before FRR starts: zebra gives them their
        // addresses at once, and they wait without carrier.
        let rest = self
            .create_twin_ports(plan, node, twin, number)
            .map_err(|e| failed("create the twin's ports", node, e))
            .and_then(|()| {
                self.apply_phases(
                    &[phase(
                        "routers",
                        vec![Step::StartFrr {
                            node: n.name.clone(),
                            netns: twin.to_string(),
                            frr,
                        }],
                    )],
                    &|_| {},
                )
            });
        if rest.is_err() {
            let _ = self.remove_twin(twin);
        }
        rest
    }

    /// Removes a twin (its FRR and namespace; its ports go with it).
    pub fn remove_twin(&self, twin: &str) -> Result<(), ExecError> {
        let mut namespaces = std::collections::BTreeSet::new();
        namespaces.insert(twin.to_string());
        let mut pathspaces = std::collections::BTreeSet::new();
        pathspaces.insert(frr_pathspace(twin));
        crate::teardown::purge(&namespaces, &pathspaces).map(|_| ())
    }

    /// Twin `twin` takes over router `node` of `plan` (see the module).
    /// Returns when the router's traffic flowed through the twin again:
    /// once its patched links were flipped, or (with other links) once
    /// those were made.
    #[allow(clippy::result_large_err)]
    pub fn take_over(
        &self,
        plan: &Plan,
        node: &str,
        twin: &str,
    ) -> Result<std::time::Instant, ApplyError> {
        let Some(n) = plan.node(node) else {
            return Err(failed(
                "take over",
                node,
                ExecError::Inject(format!("no node {node}")),
            ));
        };
        let t0 = std::time::Instant::now();
        let t = netloom_plan::rebuild(plan, node);
        tracing::debug!(%node, ms = t0.elapsed().as_secs_f64() * 1e3, "takeover planned");
        // What is left of the router's FRR ends first: its sessions close
        // while its links still carry the FIN, so its neighbours drop them
        // at once. Then, on links through the patch panel, the twin's
        // ports replace the router's in the bridges.
        if plan.patched_links_of(node).next().is_some() {
            self.end_frr(&n.netns)
                .map_err(|e| failed("end what is left of the router's FRR", node, e))?;
        }
        let number = patch::twin_number(twin).unwrap_or(u64::MAX);
        self.flip_to_twin(plan, node, number)
            .map_err(|e| failed("flip the patch panel to the twin", node, e))?;
        let flipped = std::time::Instant::now();
        // What is left of the router (and of the hosts on its other
        // links), killed at once: it failed, and its FRR would otherwise
        // take its time to shut down.
        let vanishing = self
            .teardown_steps(&t.teardown, std::time::Duration::ZERO, true)
            .map_err(|e| failed("remove what is left", node, e))?;
        // The twin becomes the router: its namespace and FRR directories
        // under the router's names.
        crate::ns::rename(twin, &n.netns).map_err(|e| failed("rename the twin", node, e))?;
        let (from, to) = (frr_pathspace(twin), frr_pathspace(&n.netns));
        for (src, dst) in [
            (conf_dir(&from), conf_dir(&to)),
            (run_dir(&from), run_dir(&to)),
        ] {
            std::os::unix::fs::symlink(&src, &dst)
                .map_err(io_err(format!(
                    "link {} to {}",
                    dst.display(),
                    src.display()
                )))
                .map_err(|e| failed("link the twin's FRR files", node, e))?;
        }
        // Its other links (and the hosts on them) come up; the router's
        // own namespace, sysctls, FRR and patched links are the twin's
        // already.
        let patch_ns = plan.patch_netns();
        let phases: Vec<Phase> = t
            .phases
            .into_iter()
            .map(|p| Phase {
                name: p.name,
                steps: p
                    .steps
                    .into_iter()
                    .filter(|s| match s {
                        Step::CreateVeth { b, .. } => b.netns != patch_ns,
                        Step::AttachPort { netns, .. } => *netns != patch_ns,
                        _ => {
                            s.node().as_str() != node
                                || !matches!(
                                    s,
                                    Step::CreateNetns { .. }
                                        | Step::Sysctl { .. }
                                        | Step::StartFrr { .. }
                                        | Step::RunExec { .. }
                                )
                        }
                    })
                    .collect(),
            })
            .filter(|p| !p.steps.is_empty())
            .collect();
        tracing::debug!(
            %node,
            flipped_ms = flipped.duration_since(t0).as_secs_f64() * 1e3,
            ms = t0.elapsed().as_secs_f64() * 1e3,
            other_phases = phases.len(),
            "twin in place"
        );
        if phases.is_empty() {
            return Ok(flipped);
        }
        self.apply_repair_phases(&phases, vanishing)?;
        Ok(std::time::Instant::now())
    }
}
