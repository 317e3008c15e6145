//! Hot standby twins: a router's twin is a namespace of its own with the
//! router's sysctls and FRR running on the router's configuration, but no
//! links. When the router fails, the twin takes over: what is left of the
//! router goes, the twin's namespace and FRR directories take the router's
//! names, and the router's links come up in it (with the hosts on them,
//! which only their exec commands give addresses). zebra sees the
//! interfaces appear and applies the configuration's addresses at once: no
//! daemon has to start.

use crate::error::{io_err, ApplyError, ExecError};
use crate::frr::{conf_dir, frr_pathspace, run_dir};
use crate::Executor;
use netloom_plan::{NodePlan, Phase, Plan, Step};

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
    /// Builds a twin of router `node` in namespace `twin`: sysctls and FRR
    /// with `config` (or the planned configuration). On failure nothing of
    /// it is left.
    #[allow(clippy::result_large_err)]
    pub fn create_twin(
        &self,
        node: &NodePlan,
        twin: &str,
        config: Option<&str>,
    ) -> Result<(), ApplyError> {
        let Some(frr) = &node.frr else {
            return Err(failed(
                "create standby twin",
                node.name.as_str(),
                ExecError::Inject(format!("node {} is not a router", node.name)),
            ));
        };
        let mut frr = frr.clone();
        frr.pathspace = twin.to_string();
        if let Some(c) = config {
            frr.config = c.to_string();
        }
        let phase = |name: &str, steps: Vec<Step>| Phase {
            name: name.to_string(),
            steps,
        };
        let phases = vec![
            phase(
                "namespaces",
                vec![Step::CreateNetns {
                    node: node.name.clone(),
                    netns: twin.to_string(),
                }],
            ),
            phase(
                "sysctls",
                node.sysctls
                    .iter()
                    .map(|(key, value)| Step::Sysctl {
                        node: node.name.clone(),
                        netns: twin.to_string(),
                        key: key.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            ),
            phase(
                "routers",
                vec![Step::StartFrr {
                    node: node.name.clone(),
                    netns: twin.to_string(),
                    frr,
                }],
            ),
        ];
        self.apply_phases(&phases, &|_| {})
    }

    /// Removes a twin (its FRR and namespace).
    pub fn remove_twin(&self, twin: &str) -> Result<(), ExecError> {
        let mut namespaces = std::collections::BTreeSet::new();
        namespaces.insert(twin.to_string());
        let mut pathspaces = std::collections::BTreeSet::new();
        pathspaces.insert(frr_pathspace(twin));
        crate::teardown::purge(&namespaces, &pathspaces).map(|_| ())
    }

    /// Twin `twin` takes over router `node` of `plan` (see the module).
    #[allow(clippy::result_large_err)]
    pub fn take_over(&self, plan: &Plan, node: &str, twin: &str) -> Result<(), ApplyError> {
        let Some(n) = plan.node(node) else {
            return Err(failed(
                "take over",
                node,
                ExecError::Inject(format!("no node {node}")),
            ));
        };
        let t = netloom_plan::rebuild(plan, node);
        // What is left of the router (and of the hosts on its links),
        // killed at once: it failed, and its FRR would otherwise take its
        // time to shut down.
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
        // Its links (and the hosts on them) come up; the router's own
        // namespace, sysctls and FRR are the twin's already.
        let phases: Vec<Phase> = t
            .phases
            .into_iter()
            .map(|p| Phase {
                name: p.name,
                steps: p
                    .steps
                    .into_iter()
                    .filter(|s| {
                        s.node().as_str() != node
                            || !matches!(
                                s,
                                Step::CreateNetns { .. }
                                    | Step::Sysctl { .. }
                                    | Step::StartFrr { .. }
                                    | Step::RunExec { .. }
                            )
                    })
                    .collect(),
            })
            .filter(|p| !p.steps.is_empty())
            .collect();
        self.apply_repair_phases(&phases, vanishing)
    }
}
