//! The Linux executor: the only crate of netloom that touches the kernel.
//!
//! [`Executor`] carries out a [`Plan`] from `netloom-plan`:
//! [`Executor::apply`] runs its phases (steps of a phase in parallel on
//! worker threads) and undoes everything on failure, returning an
//! [`ApplyError`] that names the step, the node and the cause;
//! [`Executor::destroy`] tears a plan down idempotently;
//! [`Executor::cleanup`] finds everything carrying an ownership prefix (after
//! a crash) and removes it, returning a [`CleanupReport`];
//! [`Executor::observe`] reports what the kernel has ([`LabObserved`]).
//! [`in_netns`] makes a [`std::process::Command`] run inside a namespace.
//! Lower-level failures are [`ExecError`]s.
//!
//! How things are made: namespaces natively (`unshare` + a bind mount on
//! `/run/netns/<name>`, as iproute2 does, no `ip` processes); links, bridges
//! and ports with hand-built NETLINK_ROUTE messages (a veth pair is created
//! in one request straight into both namespaces with its final names); FRR
//! daemons and exec commands as processes entering the namespace with
//! `setns` before exec, each in its own session so they outlive netloom.
//! Ownership marks: the name prefix of namespaces and FRR pathspaces, plus
//! the `NETLOOM_NETNS` environment variable of every process started here.
//! FRR refuses `.` in a pathspace, so the pathspace FRR is given is the
//! planned one with `.` replaced by `+` ([`frr_pathspace`]); use it for
//! `vtysh -N`.

pub mod enter;
mod error;
mod frr;
pub mod frrpoll;
pub mod health;
mod standby;
pub use standby::{free_twin_netns, is_twin, twin_netns};
mod netlink;
mod ns;
mod observe;
mod patch;
mod procs;
mod run;
mod teardown;
mod wires;

pub use error::{chain as error_chain, ApplyError, ExecError};
pub use frr::{frr_pathspace, netns_of_pathspace, vty_command, FRR_CONF_DIR, FRR_RUN_DIR};
pub use netloom_plan::Plan;
pub use ns::{in_netns, netns_path, NETNS_ENV_MARK, NETNS_RUN_DIR};
pub use observe::{DaemonObserved, InterfaceObserved, KernelRoute, LabObserved, NodeObserved};
pub use teardown::{CleanupReport, RemovedProcess};
pub use wires::{wire_props, DirCounters, Direction, WireCounters};

use error::{io_err, netlink_err};
use netlink::{Netlink, VethEnd};
use netloom_plan::{parse_netns_name, NodePlan, Realisation, Step};
use ns::NsHandle;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::os::fd::AsRawFd;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Progress of an apply, reported after every step that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The phase (`namespaces`, `links`, `routers`, ...).
    pub phase: String,
    /// Steps done so far over the whole apply, and how many there are.
    pub done: usize,
    pub total: usize,
    /// The step that just finished ([`Step::describe`]).
    pub step: String,
    pub node: String,
}

/// Carries out plans on this machine. Cheap to create; holds settings only.
#[derive(Debug, Clone)]
pub struct Executor {
    /// Where the FRR daemons are (`/usr/lib/frr`).
    pub frr_bin_dir: PathBuf,
    /// The vtysh binary (`/usr/bin/vtysh`).
    pub vtysh: PathBuf,
    /// A library put in `LD_PRELOAD` of every FRR daemon started: the
    /// poll fix of [`frrpoll`] once [`frrpoll::install`] has written it.
    /// None starts FRR as it is.
    pub frr_preload: Option<PathBuf>,
    /// Time limit of one exec command (and of one vtysh call).
    pub exec_timeout: Duration,
    /// Worker threads for kernel phases (namespaces, links, ports, ...).
    pub kernel_workers: usize,
    /// Worker threads for phases that start processes (FRR, exec).
    pub process_workers: usize,
    /// Running wires of emulated links.
    wires: Arc<wires::Wires>,
}

impl Default for Executor {
    fn default() -> Self {
        Self::new()
    }
}

/// Steps that failed, with their phase.
type Failures = Vec<(String, Step, ExecError)>;

impl Executor {
    pub fn new() -> Self {
        Self {
            frr_bin_dir: PathBuf::from("/usr/lib/frr"),
            vtysh: PathBuf::from("/usr/bin/vtysh"),
            frr_preload: None,
            exec_timeout: Duration::from_secs(60),
            kernel_workers: 4,
            process_workers: 8,
            wires: Arc::default(),
        }
    }

    /// Starts the wires of a deployed plan's emulated links again (after a
    /// daemon restart: their TAPs persisted without carrier).
    pub fn resume_wires(&self, plan: &Plan) -> Result<(), ExecError> {
        for link in &plan.links {
            if let Realisation::Emulated { a_to_b, b_to_a } = &link.realisation {
                self.wires
                    .start(&link.id, &link.a, &link.b, a_to_b, b_to_a, link.up)?;
            }
        }
        Ok(())
    }

    /// Changes the properties of one or both directions of a running wire.
    pub fn set_wire_props(
        &self,
        id: &str,
        dir: Direction,
        props: &netloom_plan::WireProps,
        up: bool,
    ) -> Result<(), ExecError> {
        self.wires.set_props(id, dir, props, up)
    }

    /// Carrier and forwarding of a wire, both ways.
    pub fn set_wire_up(&self, id: &str, up: bool) -> Result<(), ExecError> {
        self.wires.set_up(id, up)
    }

    /// Counters of a running wire; `None` when it is not running here.
    pub fn wire_counters(&self, id: &str) -> Option<WireCounters> {
        self.wires.counters(id)
    }

    /// Sets an interface of a node administratively up or down (a veth
    /// end: its peer loses carrier).
    pub fn set_iface_up(&self, netns: &str, iface: &str, up: bool) -> Result<(), ExecError> {
        let what = format!("set {iface} {} in {netns}", if up { "up" } else { "down" });
        let file = ns::open_netns(netns).map_err(|_| ExecError::NetnsMissing(netns.to_string()))?;
        // A short-lived thread enters the namespace; this one stays put.
        std::thread::scope(|s| {
            s.spawn(|| {
                ns::enter(&file, netns)?;
                let mut nl = Netlink::open().map_err(io_err(what.clone()))?;
                let r = if up {
                    nl.set_up_by_name(iface)
                } else {
                    nl.set_down_by_name(iface)
                };
                r.map_err(netlink_err(what.clone()))
            })
            .join()
            .unwrap_or_else(|_| Err(ExecError::NetnsMissing(netns.to_string())))
        })
    }

    /// Applies all phases of `plan`. On any failure, undoes what was applied
    /// in reverse (namespaces gone, FRR stopped, files removed) and returns
    /// an error naming the step, the node and the cause.
    // A failed deploy is rare and slow anyway; the error stays unboxed so
    // callers can match on its fields directly.
    #[allow(clippy::result_large_err)]
    pub fn apply(
        &self,
        plan: &Plan,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(), ApplyError> {
        ensure_neighbour_room(plan);
        self.apply_phases(&plan.phases(), progress)
    }

    /// Turns a running lab into its new plan ([`netloom_plan::transition`]):
    /// takes away what goes, brings up what comes, retunes emulated links
    /// that stay. On failure what was brought up is undone and what was
    /// taken away is put back, so the lab runs as before.
    #[allow(clippy::result_large_err)]
    pub fn apply_transition(
        &self,
        new: &Plan,
        t: &netloom_plan::Transition,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(), ApplyError> {
        self.transition_within(new, t, progress, teardown::GRACE, false)
    }

    /// [`Executor::apply_transition`] for a repair: what is taken away
    /// failed already, so its processes are killed at once.
    #[allow(clippy::result_large_err)]
    pub fn repair_transition(
        &self,
        plan: &Plan,
        t: &netloom_plan::Transition,
    ) -> Result<(), ApplyError> {
        self.transition_within(plan, t, &|_| {}, Duration::ZERO, true)
    }

    #[allow(clippy::result_large_err)]
    fn transition_within(
        &self,
        new: &Plan,
        t: &netloom_plan::Transition,
        progress: &(dyn Fn(Progress) + Sync),
        grace: Duration,
        repair: bool,
    ) -> Result<(), ApplyError> {
        ensure_neighbour_room(new);
        let ctx = |vanishing: &Vanishing| Ctx {
            repair,
            vanishing: vanishing.clone(),
            ..Ctx::default()
        };
        let restore = |mut err: ApplyError, vanishing: &Vanishing| -> ApplyError {
            if let Err(e) = self.apply_phases_in(ctx(vanishing), &t.restore, &|_| {}) {
                err.rollback.get_or_insert(Box::new(e.source));
            }
            err
        };
        let vanishing = match self.teardown_steps(&t.teardown, grace, repair) {
            Ok(v) => v,
            Err(source) => {
                let step = t.teardown.first();
                let err = ApplyError {
                    phase: "teardown".to_string(),
                    step: step.map(Step::describe).unwrap_or_default(),
                    node: step.map(|s| s.node().to_string()).unwrap_or_default(),
                    source,
                    rollback: None,
                };
                return Err(restore(err, &Vanishing::new()));
            }
        };
        self.apply_phases_in(ctx(&vanishing), &t.phases, progress)
            .map_err(|e| restore(e, &vanishing))?;
        for l in &t.retune {
            if let Realisation::Emulated { a_to_b, b_to_a } = &l.realisation {
                let retuned = self.set_wire_up(&l.id, l.up).and_then(|()| {
                    self.set_wire_props(&l.id, Direction::AtoB, a_to_b, l.up && !a_to_b.down)?;
                    self.set_wire_props(&l.id, Direction::BtoA, b_to_a, l.up && !b_to_a.down)
                });
                if let Err(source) = retuned {
                    return Err(ApplyError {
                        phase: "retune".to_string(),
                        step: format!(
                            "retune link {}:{} <-> {}:{}",
                            l.a.node, l.a.iface, l.b.node, l.b.iface
                        ),
                        node: l.a.node.to_string(),
                        source,
                        rollback: None,
                    });
                }
            }
        }
        Ok(())
    }

    /// Restarts a router's FRR: every daemon stopped (what is left of
    /// them), then started again reading `config` (its last saved running
    /// configuration) or, without one, the planned configuration.
    #[allow(clippy::result_large_err)]
    pub fn restart_frr(&self, node: &NodePlan, config: Option<&str>) -> Result<(), ApplyError> {
        let Some(frr) = &node.frr else {
            return Ok(());
        };
        let stop = Step::StopFrr {
            node: node.name.clone(),
            netns: node.netns.clone(),
            pathspace: frr.pathspace.clone(),
        };
        // What is left of a failed FRR is killed at once.
        if let Err(source) = self.teardown_within(std::slice::from_ref(&stop), Duration::ZERO) {
            return Err(ApplyError {
                phase: "routers".to_string(),
                step: stop.describe(),
                node: node.name.to_string(),
                source,
                rollback: None,
            });
        }
        let mut frr = frr.clone();
        if let Some(c) = config {
            frr.config = c.to_string();
        }
        let start = netloom_plan::Phase {
            name: "routers".to_string(),
            steps: vec![Step::StartFrr {
                node: node.name.clone(),
                netns: node.netns.clone(),
                frr,
            }],
        };
        self.apply_repair_phases(&[start], Vanishing::new())
    }

    /// A router's running configuration (`show running-config`, cleaned
    /// up to be a `frr.conf`).
    pub fn running_config(&self, node: &NodePlan) -> Result<String, ExecError> {
        match &node.frr {
            Some(frr) => health::running_config(&self.vtysh, &node.netns, frr, self.exec_timeout),
            None => Err(ExecError::Vtysh {
                action: "show the running configuration".into(),
                detail: format!("node {} is not a router", node.name),
            }),
        }
    }

    /// [`Executor::apply_phases`] for a repair: configurations are
    /// trusted, and links may reuse the names of `vanishing` ones.
    #[allow(clippy::result_large_err)]
    pub(crate) fn apply_repair_phases(
        &self,
        phases: &[netloom_plan::Phase],
        vanishing: Vanishing,
    ) -> Result<(), ApplyError> {
        let ctx = Ctx {
            repair: true,
            vanishing,
            ..Ctx::default()
        };
        self.apply_phases_in(ctx, phases, &|_| {})
    }

    /// Applies phases in order (steps of a phase in parallel); on failure
    /// undoes what was applied, in reverse.
    #[allow(clippy::result_large_err)]
    pub fn apply_phases(
        &self,
        phases: &[netloom_plan::Phase],
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(), ApplyError> {
        self.apply_phases_in(Ctx::default(), phases, progress)
    }

    #[allow(clippy::result_large_err)]
    fn apply_phases_in(
        &self,
        ctx: Ctx,
        phases: &[netloom_plan::Phase],
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(), ApplyError> {
        let total: usize = phases.iter().map(|p| p.steps.len()).sum();
        let done = AtomicUsize::new(0);
        let applied: Mutex<Vec<Step>> = Mutex::new(Vec::new());
        let failures: Mutex<Failures> = Mutex::new(Vec::new());

        if let Err(e) = ns::prepare_run_dir() {
            if let Some(step) = phases.first().and_then(|p| p.steps.first()) {
                return Err(ApplyError {
                    phase: phases[0].name.clone(),
                    step: step.describe(),
                    node: step.node().to_string(),
                    source: e,
                    rollback: None,
                });
            }
        }

        for phase in phases {
            let phase_started = std::time::Instant::now();
            self.check_configs_at_once(&ctx, phase);
            let workers = match phase.name.as_str() {
                "routers" | "exec" => self.process_workers,
                _ => self.kernel_workers,
            };
            self.run_steps(&ctx, &phase.steps, workers, |step, result| match result {
                Ok(()) => {
                    lock(&applied).push(step.clone());
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(Progress {
                        phase: phase.name.clone(),
                        done: d,
                        total,
                        step: step.describe(),
                        node: step.node().to_string(),
                    });
                }
                Err(e) => lock(&failures).push((phase.name.clone(), step.clone(), e)),
            });
            tracing::debug!(
                phase = %phase.name,
                steps = phase.steps.len(),
                ms = phase_started.elapsed().as_secs_f64() * 1e3,
                "phase applied"
            );
            if !lock(&failures).is_empty() {
                break;
            }
        }
        // Our namespace handles keep namespaces alive: let go of them first.
        drop(ctx);

        let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
        if failures.is_empty() {
            return Ok(());
        }
        let (phase, step, source) = failures.remove(0);
        // Undo in reverse. A failed StartFrr may have left daemons and
        // files; other failed steps leave nothing (or are not ours).
        let mut undo: Vec<Step> = Vec::new();
        for failed in std::iter::once(&step).chain(failures.iter().map(|(_, s, _)| s)) {
            if matches!(failed, Step::StartFrr { .. }) {
                undo.extend(failed.inverse());
            }
        }
        let applied = applied.into_inner().unwrap_or_else(|e| e.into_inner());
        undo.extend(applied.iter().rev().filter_map(Step::inverse));
        let rollback = self.teardown(&undo).err().map(Box::new);
        Err(ApplyError {
            phase,
            step: step.describe(),
            node: step.node().to_string(),
            source,
            rollback,
        })
    }

    /// Tears a plan down: FRR stopped, every process in its namespaces
    /// ended, namespaces and FRR files removed. Missing objects are fine.
    pub fn destroy(&self, plan: &Plan) -> Result<(), ExecError> {
        self.teardown(&plan.teardown())
    }

    /// Finds everything carrying `prefix` (namespaces in `/run/netns` and
    /// their mounts, processes in them or marked with them, FRR pathspace
    /// directories) except the labs in `keep`, and removes it.
    pub fn cleanup(&self, prefix: &str, keep: &[String]) -> Result<CleanupReport, ExecError> {
        netloom_plan::check_prefix(prefix).map_err(ExecError::Prefix)?;
        let owned = |name: &str| {
            parse_netns_name(prefix, name).is_some_and(|(lab, _)| !keep.iter().any(|k| k == lab))
        };
        let (namespaces, pathspaces) = teardown::find_owned(&owned);
        teardown::purge(&namespaces, &pathspaces)
    }

    /// `f` for each of `nodes`, on up to `kernel_workers` threads (which
    /// `f` may move into other namespaces: each is a fresh thread); `None`
    /// where `f` panicked.
    fn each_node<T: Send>(
        &self,
        nodes: &[&NodePlan],
        f: impl Fn(&NodePlan) -> T + Sync,
    ) -> Vec<Option<T>> {
        let out: Vec<Mutex<Option<T>>> = nodes.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = self.kernel_workers.max(1).min(nodes.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(node) = nodes.get(i) else {
                        break;
                    };
                    let v = f(node);
                    *lock(&out[i]) = Some(v);
                });
            }
        });
        out.into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }

    /// The main-table routes (IPv4 and IPv6) of each of `nodes`, from the
    /// kernel, or why they could not be read.
    pub fn routes(&self, nodes: &[&NodePlan]) -> Vec<Result<Vec<KernelRoute>, String>> {
        self.each_node(nodes, observe::routes)
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("route dump failed".into())))
            .collect()
    }

    /// What the kernel says about the nodes of `plan`.
    pub fn observe(&self, plan: &Plan) -> LabObserved {
        let all: Vec<&NodePlan> = plan.nodes.iter().collect();
        LabObserved {
            lab: plan.lab.to_string(),
            nodes: self
                .each_node(&all, observe::node)
                .into_iter()
                .zip(&plan.nodes)
                .map(|(o, n)| {
                    o.unwrap_or_else(|| NodeObserved {
                        name: n.name.to_string(),
                        netns: n.netns.clone(),
                        netns_present: false,
                        daemons: Vec::new(),
                        interfaces: Vec::new(),
                        error: Some("observation failed".into()),
                    })
                })
                .collect(),
        }
    }

    /// The labs that have at least one namespace with this prefix.
    pub fn labs_present(&self, prefix: &str) -> Vec<String> {
        let labs: BTreeSet<String> = std::fs::read_dir(NETNS_RUN_DIR)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let name = e.file_name();
                        let name = name.to_str()?;
                        parse_netns_name(prefix, name).map(|(lab, _)| lab.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        labs.into_iter().collect()
    }

    /// Carries out destroy steps: the ones acting on namespaces that survive
    /// first (in order), then one batch for FRR and namespaces.
    fn teardown(&self, steps: &[Step]) -> Result<(), ExecError> {
        self.teardown_within(steps, teardown::GRACE)
    }

    /// [`Executor::teardown`] with `grace` for processes to end.
    pub(crate) fn teardown_within(&self, steps: &[Step], grace: Duration) -> Result<(), ExecError> {
        self.teardown_steps(steps, grace, false).map(|_| ())
    }

    /// [`Executor::teardown_within`]; with `detach` (a repair), the veth
    /// pairs whose other end stays are deleted in the background and their
    /// names are returned: the kernel frees a name as soon as the link is
    /// unlisted, but the deletion returns only after RCU grace periods and
    /// the link's last references (~60 ms for a leaf's four spine links),
    /// and the replacement links need only the names.
    fn teardown_steps(
        &self,
        steps: &[Step],
        grace: Duration,
        detach: bool,
    ) -> Result<Vanishing, ExecError> {
        // Wires hold TAP fds, which hold namespaces: stop them first.
        for step in steps {
            if let Step::StopWire { id, .. } = step {
                self.wires.stop(id);
            }
        }
        let mut namespaces = BTreeSet::new();
        let mut pathspaces = BTreeSet::new();
        for step in steps {
            match step {
                Step::DeleteNetns { netns, .. } => {
                    namespaces.insert(netns.clone());
                    pathspaces.insert(frr_pathspace(netns));
                }
                Step::StopFrr { pathspace, .. } => {
                    pathspaces.insert(frr_pathspace(pathspace));
                }
                _ => {}
            }
        }
        // Links, bridges and ports vanish with their namespace; only those
        // in namespaces that stay need their own step.
        let survivors: Vec<Step> = steps
            .iter()
            .filter(|s| match s {
                Step::DeleteBridge { netns, .. } | Step::DetachPort { netns, .. } => {
                    !namespaces.contains(netns)
                }
                Step::DeleteVeth { a } => !namespaces.contains(&a.netns),
                Step::DeleteTap { end } => !namespaces.contains(&end.netns),
                Step::DeleteMacvlan { netns, .. } => !namespaces.contains(netns),
                _ => false,
            })
            .cloned()
            .collect();
        // Veth pairs are deleted all at once: the kernel waits for RCU
        // grace periods after each deletion (~20 ms a pair here), and
        // those waits overlap when the deletions run side by side (10
        // pairs: 49 ms, against 220 ms one after the other). Other steps
        // run one at a time, in order.
        let (veths, others): (Vec<Step>, Vec<Step>) = survivors
            .into_iter()
            .partition(|s| matches!(s, Step::DeleteVeth { .. }));
        let mut first_error = None;
        let ctx = Ctx::default();
        for step in &others {
            self.run_steps(&ctx, std::slice::from_ref(step), 1, |_, r| {
                if let Err(e) = r {
                    first_error.get_or_insert(e);
                }
            });
        }
        let mut vanishing = Vanishing::new();
        let (veths, detached): (Vec<Step>, Vec<Step>) = if detach {
            (Vec::new(), veths)
        } else {
            (veths, Vec::new())
        };
        // A detached link is known by its index: by the time it is deleted
        // here, a new link may have its name.
        let mut doomed: Vec<(String, String, u32)> = Vec::new();
        for step in detached {
            if let Step::DeleteVeth { a } = step {
                vanishing.insert((a.netns.clone(), a.iface.to_string()));
                let index = ctx
                    .get(&a.netns)
                    .ok()
                    .and_then(|h| lock(&h.netlink).link_index(a.iface.as_str()).ok().flatten());
                if let Some(index) = index {
                    doomed.push((a.netns.clone(), a.iface.to_string(), index));
                }
            }
        }
        let started = std::time::Instant::now();
        self.run_steps(&ctx, &veths, veths.len().min(32), |_, r| {
            if let Err(e) = r {
                first_error.get_or_insert(e);
            }
        });
        if !veths.is_empty() {
            tracing::debug!(
                pairs = veths.len(),
                ms = started.elapsed().as_secs_f64() * 1e3,
                "veth pairs deleted"
            );
        }
        drop(ctx);
        if detach {
            for netns in &namespaces {
                drop_veths_at_once(netns);
            }
        }
        let purged = teardown::purge_within(&namespaces, &pathspaces, grace);
        if !doomed.is_empty() {
            std::thread::spawn(move || delete_in_background(doomed));
        }
        match (first_error, purged) {
            (Some(e), _) | (None, Err(e)) => Err(e),
            (None, Ok(_)) => Ok(vanishing),
        }
    }

    /// Before a phase that starts several routers' FRR: one `vtysh -C` for
    /// all their configurations ([`frr::check_all`]); if it passes, the
    /// routers start without checking their own.
    fn check_configs_at_once(&self, ctx: &Ctx, phase: &netloom_plan::Phase) {
        ctx.configs_checked.store(false, Ordering::Relaxed);
        if ctx.repair {
            return;
        }
        let starts: Vec<(&str, &str)> = phase
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::StartFrr { netns, frr, .. } => Some((netns.as_str(), frr.config.as_str())),
                _ => None,
            })
            .collect();
        if starts.len() < 2 {
            return;
        }
        let started = std::time::Instant::now();
        let configs: Vec<&str> = starts.iter().map(|(_, c)| *c).collect();
        let ok = frr::check_all(self, starts[0].0, &configs);
        tracing::debug!(
            routers = starts.len(),
            ok,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "FRR configurations checked at once"
        );
        ctx.configs_checked.store(ok, Ordering::Relaxed);
    }

    /// Runs steps on `workers` threads; stops handing out steps after the
    /// first failure. `done` sees every step that ran, with its result.
    fn run_steps(
        &self,
        ctx: &Ctx,
        steps: &[Step],
        workers: usize,
        mut done: impl FnMut(&Step, Result<(), ExecError>) + Send,
    ) {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let done = Mutex::new(&mut done);
        let workers = workers.max(1).min(steps.len());
        // A repair's kernel steps run ahead of the lab's FRR daemons,
        // which wake up at every link the repair makes (the 26 links of a
        // spine took 135 ms instead of 25 among them). Never for steps that
        // start processes: they would inherit it.
        let hurry = ctx.repair
            && steps
                .iter()
                .all(|s| !matches!(s, Step::StartFrr { .. } | Step::RunExec { .. }));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    if hurry {
                        hurry_this_thread();
                    }
                    let mut worker = Worker::new();
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(step) = steps.get(i) else {
                            break;
                        };
                        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            self.run_step(ctx, &mut worker, step)
                        }))
                        .unwrap_or(Err(ExecError::Panicked));
                        if result.is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                        (lock(&done))(step, result);
                    }
                });
            }
        });
    }

    /// Carries out one step on a worker thread (which it may move into the
    /// step's namespace).
    fn run_step(&self, ctx: &Ctx, worker: &mut Worker, step: &Step) -> Result<(), ExecError> {
        match step {
            Step::CreateNetns { netns, .. } => {
                let handle = ns::create(netns)?;
                ctx.insert(netns, handle);
                Ok(())
            }
            Step::CreateBridge { netns, bridge, .. } => {
                let h = ctx.get(netns)?;
                let mut nl = lock(&h.netlink);
                nl.create_bridge(bridge)
                    .map_err(netlink_err(format!("create bridge {bridge}")))
            }
            Step::CreateVeth { a, b, mtu, mac } => {
                let ha = ctx.get(&a.netns)?;
                let hb = ctx.get(&b.netns)?;
                let nl = worker.netlink()?;
                let ends = (
                    VethEnd {
                        name: a.iface.as_str(),
                        netns_fd: ha.file.as_raw_fd(),
                    },
                    VethEnd {
                        name: b.iface.as_str(),
                        netns_fd: hb.file.as_raw_fd(),
                    },
                );
                let waits = [&a, &b].iter().any(|e| {
                    ctx.vanishing
                        .contains(&(e.netns.clone(), e.iface.to_string()))
                });
                let began = std::time::Instant::now();
                let deadline = began + VANISH_WAIT;
                let mut tries = 0;
                loop {
                    tries += 1;
                    match nl.create_veth(&ends.0, &ends.1, *mtu, *mac) {
                        Err(e)
                            if waits
                                && e.raw_os_error() == Some(libc::EEXIST)
                                && std::time::Instant::now() < deadline =>
                        {
                            std::thread::sleep(Duration::from_micros(500));
                        }
                        other => {
                            if tries > 1 {
                                tracing::debug!(
                                    link = %format!("{}:{}", b.node, b.iface),
                                    tries,
                                    waited_ms = began.elapsed().as_secs_f64() * 1e3,
                                    "waited for a vanishing name"
                                );
                            }
                            break other;
                        }
                    }
                }
                .map_err(netlink_err(format!(
                    "create veth {}:{} <-> {}:{}",
                    a.node, a.iface, b.node, b.iface
                )))?;
                let mut peer_nl = lock(&hb.netlink);
                peer_nl
                    .set_up_by_name(b.iface.as_str())
                    .map_err(netlink_err(format!("set {}:{} up", b.node, b.iface)))
            }
            Step::AttachPort {
                netns,
                bridge,
                port,
                ..
            } => {
                let h = ctx.get(netns)?;
                let mut nl = lock(&h.netlink);
                attach_port(&mut nl, netns, bridge, port.as_str())
            }
            Step::CreateMacvlan {
                netns,
                lower,
                name,
                mac,
                address,
                ..
            } => {
                let h = ctx.get(netns)?;
                let mut nl = lock(&h.netlink);
                let index_of = |nl: &mut Netlink, link: &str| {
                    nl.link_index(link)
                        .map_err(netlink_err(format!("look up {link}")))?
                        .ok_or_else(|| ExecError::Io {
                            what: format!("find {link} in {netns} for macvlan {name}"),
                            source: std::io::Error::from(std::io::ErrorKind::NotFound),
                        })
                };
                let parent = index_of(&mut nl, lower.as_str())?;
                nl.create_macvlan(name, parent, *mac)
                    .map_err(netlink_err(format!("create macvlan {name} on {lower}")))?;
                let index = index_of(&mut nl, name)?;
                // The subnet's route stays on the parent: a backup's macvlan is
                // in protodown and must not capture the segment.
                nl.add_address(index, address.addr, address.len, true)
                    .map_err(netlink_err(format!("add {address} to {name}")))
            }
            Step::DeleteMacvlan { netns, name, .. } => match ctx.get(netns) {
                Err(ExecError::NetnsMissing(_)) => Ok(()),
                Err(e) => Err(e),
                Ok(h) => lock(&h.netlink)
                    .delete_link(name)
                    .map_err(netlink_err(format!("delete macvlan {name}"))),
            },
            Step::Sysctl {
                netns, key, value, ..
            } => {
                if !key.starts_with("net.") && !key.starts_with("net/") {
                    return Err(ExecError::SysctlNotNet(key.clone()));
                }
                let h = ctx.get(netns)?;
                worker.enter(netns, &h)?;
                let rel = if key.contains('/') {
                    key.clone()
                } else {
                    key.replace('.', "/")
                };
                let path = PathBuf::from("/proc/sys").join(rel);
                std::fs::write(&path, format!("{value}\n"))
                    .map_err(io_err(format!("write {} in {netns}", path.display())))
            }
            Step::StartFrr { netns, frr, .. } => {
                let checked = ctx.repair || ctx.configs_checked.load(Ordering::Relaxed);
                frr::start(self, netns, frr, !checked)
            }
            Step::RunExec {
                netns,
                commands,
                env,
                ..
            } => {
                for command in commands {
                    run::shell(netns, command, env, self.exec_timeout)?;
                }
                Ok(())
            }
            Step::DeleteBridge { netns, bridge, .. } => match ctx.get(netns) {
                Err(ExecError::NetnsMissing(_)) => Ok(()),
                Err(e) => Err(e),
                Ok(h) => lock(&h.netlink)
                    .delete_link(bridge)
                    .map_err(netlink_err(format!("delete bridge {bridge}"))),
            },
            Step::DeleteVeth { a } => match ctx.get(&a.netns) {
                Err(ExecError::NetnsMissing(_)) => Ok(()),
                Err(e) => Err(e),
                Ok(h) => match lock(&h.netlink).delete_link(a.iface.as_str()) {
                    Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
                    other => other.map_err(netlink_err(format!("delete link {}", a.iface))),
                },
            },
            Step::DetachPort { netns, port, .. } => match ctx.get(netns) {
                Err(ExecError::NetnsMissing(_)) => Ok(()),
                Err(e) => Err(e),
                Ok(h) => match lock(&h.netlink).set_master(port.as_str(), 0) {
                    Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
                    other => other.map_err(netlink_err(format!("detach {port}"))),
                },
            },
            Step::CreateTap { end, mtu } => wires::create_tap(end, *mtu),
            Step::DeleteTap { end } => match ctx.get(&end.netns) {
                Err(ExecError::NetnsMissing(_)) => Ok(()),
                Err(e) => Err(e),
                Ok(h) => match lock(&h.netlink).delete_link(end.iface.as_str()) {
                    Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
                    other => other.map_err(netlink_err(format!("delete tap {}", end.iface))),
                },
            },
            Step::StartWire {
                id,
                a,
                b,
                a_to_b,
                b_to_a,
                up,
            } => self.wires.start(id, a, b, a_to_b, b_to_a, *up),
            Step::StopWire { id, .. } => {
                self.wires.stop(id);
                Ok(())
            }
            Step::DeleteNetns { .. } | Step::StopFrr { .. } => {
                self.teardown(std::slice::from_ref(step))
            }
        }
    }
}

/// Standby twins present on the machine for a lab (namespace names).
pub fn twins_present(prefix: &str, lab: &str) -> Vec<String> {
    let start = format!("{prefix}-{lab}.");
    std::fs::read_dir(NETNS_RUN_DIR)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| n.starts_with(&start) && is_twin(n))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a namespace's file is there (and is a namespace).
pub fn ns_exists(netns: &str) -> bool {
    ns::open_netns(netns).is_ok()
}

/// The kernel's neighbour (ARP/NDP) tables are sized machine-wide
/// (`net.ipv4.neigh.default.gc_thresh3`, 1024 by default) and shared by
/// every namespace; a large lab overflows them ("neighbor table overflow",
/// routes never converge). Raise the limits, never lower them, when the
/// lab needs more: one entry per link end and family, with room to spare.
fn ensure_neighbour_room(plan: &Plan) {
    let need = (plan.links.len() as u64) * 2 * 2;
    for family in ["ipv4", "ipv6"] {
        let base = format!("/proc/sys/net/{family}/neigh/default");
        let read = |name: &str| -> Option<u64> {
            std::fs::read_to_string(format!("{base}/{name}"))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        let Some(thresh3) = read("gc_thresh3") else {
            continue;
        };
        if thresh3 >= need * 2 {
            continue;
        }
        for (name, value) in [
            ("gc_thresh3", need * 4),
            ("gc_thresh2", need * 2),
            ("gc_thresh1", need),
        ] {
            if read(name).is_some_and(|v| v < value) {
                match std::fs::write(format!("{base}/{name}"), value.to_string()) {
                    Ok(()) => {
                        tracing::info!(%family, %name, value, "raised the kernel's neighbour table limit for a large lab")
                    }
                    Err(e) => {
                        tracing::warn!(%family, %name, error = %e, "cannot raise the kernel's neighbour table limit; large labs may not converge")
                    }
                }
            }
        }
    }
}

/// Namespaces opened during one operation, by name.
#[derive(Default)]
struct Ctx {
    handles: RwLock<HashMap<String, Arc<NsHandle>>>,
    /// A repair. FRR configurations need no `vtysh -C` check: a repair
    /// starts FRR with what ran before (its saved running configuration,
    /// or the planned one, checked when the lab was deployed); the check
    /// costs 60-85 ms of a repair. Kernel steps run at a higher priority
    /// than FRR's daemons ([`hurry_this_thread`]).
    repair: bool,
    /// The configurations of the phase being applied passed one joint
    /// check ([`Executor::check_configs_at_once`]).
    configs_checked: AtomicBool,
    /// Links being deleted in the background ([`Executor::teardown_steps`]):
    /// a new link that finds one of these names still taken tries again.
    vanishing: Vanishing,
}

/// Enslaves `port` to bridge `bridge`, both in namespace `netns` (whose
/// socket `nl` is).
pub(crate) fn attach_port(
    nl: &mut netlink::Netlink,
    netns: &str,
    bridge: &str,
    port: &str,
) -> Result<(), ExecError> {
    let index = nl
        .link_index(bridge)
        .map_err(netlink_err(format!("look up bridge {bridge}")))?
        .ok_or_else(|| ExecError::BridgeMissing {
            netns: netns.to_string(),
            bridge: bridge.to_string(),
        })?;
    nl.set_master(port, index)
        .map_err(netlink_err(format!("attach {port} to {bridge}")))
}

/// Raises the calling thread's priority (nice -10; threads of a process
/// have their own nice value on Linux). Without the privilege, nothing
/// changes.
#[allow(unsafe_code)]
pub(crate) fn hurry_this_thread() {
    // SAFETY: plain system calls on the calling thread, no memory shared.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, -10);
    }
}

/// `(namespace, interface)` names of links on their way out.
type Vanishing = std::collections::HashSet<(String, String)>;

/// How long a new link waits for a vanishing link's name.
const VANISH_WAIT: Duration = Duration::from_secs(5);

/// The link group netloom puts a dying namespace's veths in to delete
/// them in one batch ("nl" in ASCII; any group but 0, lo's, would do).
const DOOMED_GROUP: u32 = 0x6e6c;

/// Deletes every veth of a namespace about to go in one batch, in the
/// background (the request returns only after the kernel's RCU waits and
/// the links' last references, but the names, which the new links need,
/// are free once the batch is unlisted: 26 links in ~15 ms here, against
/// 50-85 ms for the namespace's own end after its last process). The
/// namespace may have lost its file already (deleted under a running
/// router): its FRR daemons are still in it.
fn drop_veths_at_once(netns: &str) {
    let handle = match ns::open_handle(netns) {
        Err(ExecError::NetnsMissing(_)) => {
            let ps = frr_pathspace(netns);
            let Some(pid) = teardown::frr_netns_pid(&ps) else {
                tracing::debug!(%netns, "no FRR daemon left in the namespace to find it by");
                return;
            };
            let path = PathBuf::from(format!("/proc/{pid}/ns/net"));
            ns::open_handle_at(&path, netns)
        }
        other => other,
    };
    let handle = match handle {
        Ok(h) => h,
        Err(e) => {
            tracing::debug!(%netns, error = %error::chain(&e), "veths not deleted at once");
            return;
        }
    };
    let netns = netns.to_string();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let mut nl = lock(&handle.netlink);
        let veths: Vec<u32> = match nl.links() {
            Ok(links) => links
                .iter()
                .filter(|l| netlink::is_veth(l))
                .map(|l| l.header.index)
                .collect(),
            Err(e) => {
                tracing::debug!(%netns, error = %e, "veths not listed");
                return;
            }
        };
        if veths.is_empty() {
            tracing::debug!(%netns, "no veth to delete at once");
            return;
        }
        for index in &veths {
            let _ = nl.set_group(*index, DOOMED_GROUP);
        }
        match nl.delete_group(DOOMED_GROUP) {
            Ok(()) => tracing::debug!(
                %netns,
                links = veths.len(),
                ms = started.elapsed().as_secs_f64() * 1e3,
                "veths deleted at once"
            ),
            // The namespace's end then comes with it.
            Err(e) => tracing::debug!(%netns, error = %e, "veths not deleted at once"),
        }
    });
}

/// How long links whose other end was in a namespace just ended get to
/// vanish with it before they are deleted one by one.
const VANISH_GRACE: Duration = Duration::from_millis(25);

/// Deletes links whose names a repair is about to reuse, and nobody waits
/// for. Most have their other end in a namespace that has just ended (its
/// last process killed): the kernel then removes all of that namespace's
/// links in one batch, 26 in ~11 ms here, where deleting them one by one,
/// even side by side, takes ~60 ms and holds the lock that the new links
/// need. So this waits a moment, and deletes one by one (by index: a new
/// link may have the name by then) only what is still there, for instance
/// when something else holds the namespace open.
fn delete_in_background(doomed: Vec<(String, String, u32)>) {
    std::thread::sleep(VANISH_GRACE);
    let started = std::time::Instant::now();
    let results: Vec<Result<bool, ExecError>> = std::thread::scope(|s| {
        let handles: Vec<_> = doomed
            .iter()
            .map(|(netns, iface, index)| {
                s.spawn(move || -> Result<bool, ExecError> {
                    let h = ns::open_handle(netns)?;
                    let mut nl = lock(&h.netlink);
                    nl.delete_link_index(*index)
                        .map_err(netlink_err(format!("delete link {iface}")))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(ExecError::Panicked)))
            .collect()
    });
    let mut one_by_one = 0;
    for ((netns, iface, _), result) in doomed.iter().zip(results) {
        match result {
            Ok(true) => one_by_one += 1,
            Ok(false) | Err(ExecError::NetnsMissing(_)) => {}
            Err(e) => {
                tracing::warn!(%netns, %iface, error = %error::chain(&e), "background deletion failed")
            }
        }
    }
    tracing::debug!(
        links = doomed.len(),
        one_by_one,
        ms = started.elapsed().as_secs_f64() * 1e3,
        "links of ended namespaces gone"
    );
}

impl Ctx {
    fn insert(&self, netns: &str, handle: NsHandle) {
        self.handles
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(netns.to_string(), Arc::new(handle));
    }

    fn get(&self, netns: &str) -> Result<Arc<NsHandle>, ExecError> {
        if let Some(h) = self
            .handles
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(netns)
        {
            return Ok(h.clone());
        }
        let handle = Arc::new(ns::open_handle(netns)?);
        self.handles
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(netns.to_string(), handle.clone());
        Ok(handle)
    }
}

/// State of one worker thread: a netlink socket opened where the thread
/// started, and the namespace the thread is in now.
struct Worker {
    netlink: Option<std::io::Result<Netlink>>,
    current: Option<String>,
}

impl Worker {
    fn new() -> Self {
        Self {
            netlink: None,
            current: None,
        }
    }

    /// A socket for requests that name their namespaces explicitly.
    fn netlink(&mut self) -> Result<&mut Netlink, ExecError> {
        let slot = self.netlink.get_or_insert_with(Netlink::open);
        match slot {
            Ok(nl) => Ok(nl),
            Err(e) => Err(ExecError::Io {
                what: "open a netlink socket".into(),
                source: std::io::Error::new(e.kind(), e.to_string()),
            }),
        }
    }

    fn enter(&mut self, netns: &str, handle: &NsHandle) -> Result<(), ExecError> {
        if self.current.as_deref() != Some(netns) {
            ns::enter(&handle.file, netns)?;
            self.current = Some(netns.to_string());
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
