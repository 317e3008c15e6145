//! The operations the API exposes, as blocking functions: deploy, destroy,
//! cleanup, inspect. They tie the planner, the executor and the store
//! together; the HTTP layer only translates.

use crate::store::{LabRecord, LabState, Store, StoreError};
use netloom_linux::Executor;
use netloom_model::{NodeKind, Topology};
use netloom_plan::{Plan, PlanOptions, Realisation};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Mutex;

/// Errors of the daemon's operations. Each maps to a stable API code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("lab `{0}` not found")]
    NotFound(String),
    #[error("lab `{0}` is already deployed; destroy it first")]
    AlreadyDeployed(String),
    #[error("lab `{0}` is busy with another operation")]
    Busy(String),
    #[error(
        "leftovers of lab `{0}` exist on this machine (a crashed deploy or daemon?); run `netloom destroy --cleanup` first"
    )]
    Leftovers(String),
    #[error("invalid topology: {0}")]
    Invalid(String),
    #[error("{0}")]
    BadLink(String),
    #[error("node `{node}` not found in lab `{lab}`")]
    NodeNotFound { lab: String, node: String },
    #[error("deploy of lab `{lab}` failed")]
    Deploy {
        lab: String,
        #[source]
        source: Box<netloom_linux::ApplyError>,
    },
    #[error("destroy of lab `{lab}` failed")]
    Destroy {
        lab: String,
        #[source]
        source: netloom_linux::ExecError,
    },
    #[error("change of lab `{lab}` failed; it runs as before")]
    Update {
        lab: String,
        #[source]
        source: Box<netloom_linux::ApplyError>,
    },
    #[error("{0}")]
    BadEdit(String),
    #[error("cleanup failed")]
    Cleanup(#[source] netloom_linux::ExecError),
    #[error("state store failed")]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// Stable machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::NotFound(_) => "lab_not_found",
            ServiceError::AlreadyDeployed(_) => "lab_exists",
            ServiceError::Busy(_) => "lab_busy",
            ServiceError::Leftovers(_) => "leftovers",
            ServiceError::Invalid(_) => "invalid_topology",
            ServiceError::NodeNotFound { .. } => "node_not_found",
            ServiceError::BadLink(_) => "bad_link_change",
            ServiceError::Deploy { .. } => "deploy_failed",
            ServiceError::Destroy { .. } => "destroy_failed",
            ServiceError::Cleanup(_) => "cleanup_failed",
            ServiceError::Update { .. } => "change_failed",
            ServiceError::BadEdit(_) => "bad_change",
            ServiceError::Store(_) => "store_failed",
        }
    }

    /// The full message with its chain of causes.
    pub fn chain(&self) -> String {
        chain(self)
    }
}

/// Progress of a deploy, streamed to the client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployProgress {
    pub phase: String,
    pub done: usize,
    pub total: usize,
    pub step: String,
    pub node: String,
}

impl From<netloom_linux::Progress> for DeployProgress {
    fn from(p: netloom_linux::Progress) -> DeployProgress {
        DeployProgress {
            phase: p.phase,
            done: p.done,
            total: p.total,
            step: p.step,
            node: p.node,
        }
    }
}

/// A lab as `inspect` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabView {
    pub name: String,
    pub state: LabState,
    pub prefix: String,
    pub source: Option<String>,
    pub created_at: i64,
    pub nodes: Vec<NodeView>,
    pub links: Vec<LinkView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeView {
    pub name: String,
    pub kind: NodeKind,
    pub image: Option<String>,
    pub netns: String,
    /// `running`, `degraded` (some process or interface missing) or
    /// `missing` (the namespace is gone).
    pub status: String,
    pub interfaces: Vec<InterfaceView>,
    /// Routers: FRR daemons and whether each is alive.
    pub daemons: Vec<DaemonView>,
    pub labels: std::collections::BTreeMap<String, String>,
    /// Where the node sits on the web page's canvas.
    #[serde(default)]
    pub position: Option<netloom_model::Position>,
    /// The site (`sites:` key) it stands in.
    #[serde(default)]
    pub site: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InterfaceView {
    pub name: String,
    /// Administratively up.
    pub up: bool,
    /// Carrier up.
    pub running: bool,
    /// The bridge it is a port of.
    pub master: Option<String>,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonView {
    pub name: String,
    pub pid: Option<u32>,
    pub alive: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkView {
    pub a: String,
    pub b: String,
    pub mtu: Option<u32>,
    pub mode: netloom_model::LinkMode,
    /// Carrier up (as netloom set it).
    pub up: bool,
    /// Emulated links: effective properties per direction, with where
    /// each value came from.
    pub a_to_b: Option<netloom_plan::WireProps>,
    pub b_to_a: Option<netloom_plan::WireProps>,
    /// Emulated links: the wire's counters (`None` when it is not running).
    pub counters: Option<netloom_linux::WireCounters>,
}

/// A live change of one link (`netloom link set|up|down`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LinkChange {
    /// Impairments to set (what is not given stays as it is).
    #[serde(default)]
    pub set: netloom_model::Impairments,
    /// Carrier / forwarding state to set.
    #[serde(default)]
    pub up: Option<bool>,
    /// Only the direction leaving the named endpoint.
    #[serde(default)]
    pub one_way: bool,
}

use netloom_linux::error_chain as chain;

/// What `cleanup` removed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CleanupView {
    /// Labs whose unfinished deploy or destroy was undone.
    pub labs: Vec<String>,
    /// Kernel objects and files removed by their ownership mark.
    pub removed: Vec<String>,
}

/// The daemon's operations.
pub struct Service {
    pub(crate) prefix: String,
    pub(crate) store: Store,
    pub(crate) exec: Executor,
    busy: Mutex<HashSet<String>>,
    /// Self-healing state: injected faults, recovery figures.
    pub(crate) heal: crate::heal::HealState,
    /// Per lab, the last observation of its kernel state and when it was
    /// made: concurrent readers share one (see [`Service::observed`]).
    observations: Mutex<std::collections::HashMap<String, ObservationSlot>>,
    /// The service itself, for work it hands to threads of its own
    /// (set by [`Service::into_arc`]).
    pub(crate) me: std::sync::OnceLock<std::sync::Weak<Service>>,
    /// Chaos runs by lab.
    pub(crate) chaos:
        Mutex<std::collections::HashMap<String, std::sync::Arc<crate::chaos::ChaosRun>>>,
    /// Signalled whenever a lab stops being busy.
    freed: std::sync::Condvar,
    /// Routers found with every session up, by `lab/node`: the hash of
    /// their routes then, and when (see [`Service::routing`]).
    pub(crate) sessions_seen: Mutex<crate::routing::SessionsSeen>,
}

/// How long one observation of a lab serves readers.
const OBSERVATION_TTL: std::time::Duration = std::time::Duration::from_millis(250);

type ObservationSlot = std::sync::Arc<
    Mutex<
        Option<(
            std::time::Instant,
            std::sync::Arc<netloom_linux::LabObserved>,
        )>,
    >,
>;

/// Marks a lab busy for the lifetime of the guard.
pub(crate) struct BusyGuard<'a> {
    set: &'a Mutex<HashSet<String>>,
    freed: &'a std::sync::Condvar,
    observations: &'a Mutex<std::collections::HashMap<String, ObservationSlot>>,
    lab: String,
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        // Readers after an operation see what it did.
        let slot = self
            .observations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.lab)
            .cloned();
        if let Some(slot) = slot {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.lab);
        self.freed.notify_all();
    }
}

/// How long a short operation (a link change, a live edit, a repair)
/// waits for another operation on the same lab before it gives up.
pub(crate) const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Service {
    pub fn new(prefix: String, store: Store, exec: Executor) -> Service {
        Service {
            prefix,
            store,
            exec,
            busy: Mutex::new(HashSet::new()),
            heal: crate::heal::HealState::default(),
            observations: Mutex::new(std::collections::HashMap::new()),
            chaos: Mutex::new(std::collections::HashMap::new()),
            me: std::sync::OnceLock::new(),
            freed: std::sync::Condvar::new(),
            sessions_seen: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// The service, shared, knowing itself (what background work such as
    /// building standby twins needs).
    pub fn into_arc(self) -> std::sync::Arc<Service> {
        let arc = std::sync::Arc::new(self);
        let _ = arc.me.set(std::sync::Arc::downgrade(&arc));
        arc
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Recovery figures in Prometheus text format.
    pub fn metrics(&self) -> String {
        self.heal.prometheus()
    }

    /// The kernel state of a lab's nodes. Readers arriving together share
    /// one observation (one at a time per lab; a result younger than
    /// 250 ms is reused), so 200 clients reading a 200-node lab cost a
    /// few observations a second, not 200. Every change of the lab
    /// forgets it ([`Service::forget_observation`]).
    pub(crate) fn observed(&self, plan: &Plan) -> std::sync::Arc<netloom_linux::LabObserved> {
        let slot = self
            .observations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(plan.lab.to_string())
            .or_default()
            .clone();
        let mut last = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, obs)) = &*last {
            if at.elapsed() < OBSERVATION_TTL && obs.nodes.len() == plan.nodes.len() {
                return obs.clone();
            }
        }
        let obs = std::sync::Arc::new(self.exec.observe(plan));
        *last = Some((std::time::Instant::now(), obs.clone()));
        obs
    }

    /// Drops a lab's shared observation (it changed).
    pub(crate) fn forget_observation(&self, lab: &str) {
        let slot = self
            .observations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(lab)
            .cloned();
        if let Some(slot) = slot {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Whether an operation (deploy, destroy, change, repair) runs on a lab.
    pub fn is_busy(&self, lab: &str) -> bool {
        self.busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(lab)
    }

    pub(crate) fn claim(&self, lab: &str) -> Result<BusyGuard<'_>, ServiceError> {
        self.claim_within(lab, std::time::Duration::ZERO)
    }

    /// Claims a lab, waiting up to `wait` for an operation on it to end
    /// (operations on one lab run one after the other).
    pub(crate) fn claim_within(
        &self,
        lab: &str,
        wait: std::time::Duration,
    ) -> Result<BusyGuard<'_>, ServiceError> {
        // Whatever the operation changes, readers after it look afresh.
        self.forget_observation(lab);
        let deadline = std::time::Instant::now() + wait;
        let mut set = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        while set.contains(lab) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(ServiceError::Busy(lab.to_string()));
            }
            set = self
                .freed
                .wait_timeout(set, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        set.insert(lab.to_string());
        Ok(BusyGuard {
            set: &self.busy,
            freed: &self.freed,
            observations: &self.observations,
            lab: lab.to_string(),
        })
    }

    /// Plans a topology with this daemon's options.
    pub fn plan(&self, topo: &Topology) -> Result<Plan, ServiceError> {
        netloom_plan::plan(
            topo,
            &PlanOptions {
                prefix: self.prefix.clone(),
            },
        )
        .map_err(|e| ServiceError::Invalid(e.to_string()))
    }

    /// Deploys a lab. On failure nothing of it remains and no record is kept.
    pub fn deploy(
        &self,
        topo: &Topology,
        progress: &(dyn Fn(DeployProgress) + Sync),
    ) -> Result<LabView, ServiceError> {
        let lab = topo.name.to_string();
        let t0 = std::time::Instant::now();
        let _guard = self.claim(&lab)?;
        if self.store.get_lab(&lab)?.is_some() {
            return Err(ServiceError::AlreadyDeployed(lab));
        }
        if self.exec.labs_present(&self.prefix).contains(&lab) {
            return Err(ServiceError::Leftovers(lab));
        }
        let plan = self.plan(topo)?;
        // Recorded before anything is created, so a crash mid-deploy leaves
        // a record that `cleanup` finds.
        self.store.insert_lab(topo, &plan)?;
        let t_recorded = t0.elapsed();
        let result = self
            .exec
            .apply(&plan, &|p: netloom_linux::Progress| progress(p.into()));
        let t_applied = t0.elapsed();
        match result {
            Ok(()) => {
                self.store.set_state(&lab, LabState::Running)?;
                self.changed(&plan);
                let nodes = plan.nodes.len();
                self.store.add_event(
                    &lab,
                    None,
                    "deployed",
                    &format!("{nodes} nodes, {} links", plan.links.len()),
                )?;
                let record = self
                    .store
                    .get_lab(&lab)?
                    .ok_or_else(|| ServiceError::NotFound(lab.clone()))?;
                let view = self.view(&record);
                tracing::debug!(
                    lab = %lab,
                    recorded_ms = t_recorded.as_secs_f64() * 1e3,
                    applied_ms = t_applied.as_secs_f64() * 1e3,
                    total_ms = t0.elapsed().as_secs_f64() * 1e3,
                    "deployed"
                );
                Ok(view)
            }
            Err(source) => {
                self.store.delete_lab(&lab)?;
                let err = ServiceError::Deploy {
                    lab,
                    source: Box::new(source),
                };
                let _ =
                    self.store
                        .add_event(topo.name.as_str(), None, "deploy-failed", &err.chain());
                Err(err)
            }
        }
    }

    /// Destroys a lab and forgets it. Its chaos run, if any, ends first.
    pub fn destroy(&self, lab: &str) -> Result<(), ServiceError> {
        let _guard = self.claim(lab)?;
        let record = self
            .store
            .get_lab(lab)?
            .ok_or_else(|| ServiceError::NotFound(lab.to_string()))?;
        // Marked before its chaos run ends: no new run starts after that.
        self.store.set_state(lab, LabState::Destroying)?;
        self.end_chaos(lab);
        self.exec
            .destroy(&record.plan)
            .map_err(|source| ServiceError::Destroy {
                lab: lab.to_string(),
                source,
            })?;
        self.drop_twins(lab);
        self.store.delete_lab(lab)?;
        self.store.add_event(lab, None, "destroyed", "")?;
        Ok(())
    }

    /// Names of all labs the daemon knows.
    pub fn lab_names(&self) -> Result<Vec<String>, ServiceError> {
        Ok(self
            .store
            .list_labs()?
            .into_iter()
            .map(|r| r.name)
            .collect())
    }

    /// Removes leftovers: labs whose deploy or destroy never finished (the
    /// daemon died), and any kernel object or file carrying this daemon's
    /// mark that belongs to no running lab. With `lab`, only that lab's
    /// leftovers, running or not.
    pub fn cleanup(&self, lab: Option<&str>) -> Result<CleanupView, ServiceError> {
        let mut view = CleanupView::default();
        // Records no version of this daemon can read: their kernel objects
        // are found by mark below (they are not kept).
        for name in self.store.unreadable_labs()? {
            if lab.is_none_or(|l| l == name) {
                self.store.delete_lab(&name)?;
                view.labs.push(name);
            }
        }
        let records = self.store.list_labs()?;
        let mut keep = Vec::new();
        for record in records {
            let selected = lab.is_none_or(|l| l == record.name);
            let unfinished = record.state != LabState::Running;
            if selected && (unfinished || lab.is_some()) {
                let Ok(_guard) = self.claim(&record.name) else {
                    // An operation is in progress right now: not a leftover.
                    keep.push(record.name.clone());
                    continue;
                };
                // As in `destroy`: marked, then its chaos run ended.
                self.store.set_state(&record.name, LabState::Destroying)?;
                self.end_chaos(&record.name);
                self.exec
                    .destroy(&record.plan)
                    .map_err(ServiceError::Cleanup)?;
                self.store.delete_lab(&record.name)?;
                self.store
                    .add_event(&record.name, None, "cleaned-up", "leftover lab removed")?;
                view.labs.push(record.name);
            } else {
                keep.push(record.name);
            }
        }
        // Labs being deployed or destroyed this moment are not leftovers.
        keep.extend(
            self.busy
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        if let Some(l) = lab {
            // Only this lab's objects: keep every other lab present.
            keep.extend(
                self.exec
                    .labs_present(&self.prefix)
                    .into_iter()
                    .filter(|p| p != l),
            );
        }
        let report = self
            .exec
            .cleanup(&self.prefix, &keep)
            .map_err(ServiceError::Cleanup)?;
        view.removed = report.removed;
        Ok(view)
    }

    /// The labs the daemon knows, observed now.
    pub fn list(&self) -> Result<Vec<LabView>, ServiceError> {
        Ok(self
            .store
            .list_labs()?
            .iter()
            .map(|r| self.view(r))
            .collect())
    }

    /// The stored plan of a lab.
    pub fn plan_of(&self, lab: &str) -> Result<Plan, ServiceError> {
        Ok(self
            .store
            .get_lab(lab)?
            .ok_or_else(|| ServiceError::NotFound(lab.to_string()))?
            .plan)
    }

    /// The topology a lab runs (live changes included).
    pub fn topology_of(&self, lab: &str) -> Result<Topology, ServiceError> {
        Ok(self
            .store
            .get_lab(lab)?
            .ok_or_else(|| ServiceError::NotFound(lab.to_string()))?
            .topology)
    }

    pub fn inspect(&self, lab: &str) -> Result<LabView, ServiceError> {
        let record = self
            .store
            .get_lab(lab)?
            .ok_or_else(|| ServiceError::NotFound(lab.to_string()))?;
        Ok(self.view(&record))
    }

    /// Records what the daemon finds at start: labs that were mid-deploy or
    /// mid-destroy when it died stay recorded for `cleanup`.
    pub fn adopt(&self) -> Result<Vec<String>, ServiceError> {
        let mut adopted = Vec::new();
        for record in self.store.list_labs()? {
            match record.state {
                LabState::Running => {
                    // Twins of the daemon before are unknown to this one:
                    // new ones replace them.
                    self.drop_twins(&record.name);
                    self.ensure_twins(&record.plan);
                    // Emulated links kept their TAPs (without carrier)
                    // while no daemon ran: join them again.
                    let message = match self.exec.resume_wires(&record.plan) {
                        Ok(()) => "seen again after daemon start".to_string(),
                        Err(e) => format!(
                            "seen again after daemon start; emulated links could not resume: {}",
                            chain(&e)
                        ),
                    };
                    self.store
                        .add_event(&record.name, None, "adopted", &message)?;
                    adopted.push(record.name);
                }
                LabState::Deploying | LabState::Destroying => {
                    self.store.add_event(
                        &record.name,
                        None,
                        "interrupted",
                        &format!(
                            "{} was interrupted; `netloom destroy --cleanup` removes it",
                            record.state.as_str()
                        ),
                    )?;
                }
            }
        }
        Ok(adopted)
    }

    pub(crate) fn link_view(&self, l: &netloom_plan::LinkPlan) -> LinkView {
        let (a_to_b, b_to_a) = match &l.realisation {
            Realisation::Emulated { a_to_b, b_to_a } => {
                (Some(a_to_b.clone()), Some(b_to_a.clone()))
            }
            Realisation::Veth => (None, None),
        };
        LinkView {
            a: format!("{}:{}", l.a.node, l.a.iface),
            b: format!("{}:{}", l.b.node, l.b.iface),
            mtu: l.mtu,
            mode: l.realisation.mode(),
            up: l.up,
            a_to_b,
            b_to_a,
            counters: self.exec.wire_counters(&l.id),
        }
    }

    /// Changes a running link: impairments and/or state, both ways or
    /// one way (leaving `endpoint`). Applied to the network, then recorded.
    pub fn change_link(
        &self,
        lab: &str,
        endpoint: &str,
        change: &LinkChange,
    ) -> Result<LinkView, ServiceError> {
        let _guard = self.claim_within(lab, CLAIM_WAIT)?;
        let mut record = self
            .store
            .get_lab(lab)?
            .ok_or_else(|| ServiceError::NotFound(lab.to_string()))?;
        let (node, iface) = endpoint
            .split_once(':')
            .ok_or_else(|| ServiceError::BadLink(format!("`{endpoint}` is not NODE:INTERFACE")))?;
        let index = record
            .plan
            .links
            .iter()
            .position(|l| {
                [&l.a, &l.b]
                    .iter()
                    .any(|e| e.node.as_str() == node && e.iface.as_str() == iface)
            })
            .ok_or_else(|| {
                ServiceError::BadLink(format!("lab `{lab}` has no link at `{endpoint}`"))
            })?;
        netloom_plan::check_impairments(&change.set).map_err(ServiceError::BadLink)?;
        let link = &mut record.plan.links[index];
        let from_a = link.a.node.as_str() == node && link.a.iface.as_str() == iface;
        let dir = match (change.one_way, from_a) {
            (false, _) => netloom_linux::Direction::Both,
            (true, true) => netloom_linux::Direction::AtoB,
            (true, false) => netloom_linux::Direction::BtoA,
        };
        let what = format!(
            "link {}:{} <-> {}:{}",
            link.a.node, link.a.iface, link.b.node, link.b.iface
        );
        match &mut link.realisation {
            Realisation::Veth => {
                if !change.set.is_empty() {
                    return Err(ServiceError::BadLink(format!(
                        "{what} is a kernel veth pair, which cannot delay, drop or shape packets; give it `mode: emulated` (or any impairment) in the topology file and redeploy to get netloom's wire"
                    )));
                }
                if let Some(up) = change.up {
                    if change.one_way {
                        return Err(ServiceError::BadLink(format!(
                            "{what} is a kernel veth pair: it can only go down both ways; use `mode: emulated` for one-way failures"
                        )));
                    }
                    for end in [&link.a, &link.b] {
                        self.exec
                            .set_iface_up(&end.netns, end.iface.as_str(), up)
                            .map_err(|e| {
                                ServiceError::BadLink(format!(
                                    "cannot change {what}: {}",
                                    chain(&e)
                                ))
                            })?;
                    }
                    link.up = up;
                }
            }
            Realisation::Emulated { a_to_b, b_to_a } => {
                let (ab, ba) = match dir {
                    netloom_linux::Direction::Both => (true, true),
                    netloom_linux::Direction::AtoB => (true, false),
                    netloom_linux::Direction::BtoA => (false, true),
                };
                for (selected, props) in [(ab, &mut *a_to_b), (ba, &mut *b_to_a)] {
                    if selected {
                        props.apply(&change.set, "live change");
                        if let (Some(up), true) = (change.up, change.one_way) {
                            props.down = !up;
                        }
                    }
                }
                if let (Some(up), false) = (change.up, change.one_way) {
                    link.up = up;
                }
                let fail = |e: netloom_linux::ExecError| {
                    ServiceError::BadLink(format!("cannot change {what}: {}", chain(&e)))
                };
                // Carrier first: it sets both directions; then each
                // direction's own properties and one-way state.
                self.exec.set_wire_up(&link.id, link.up).map_err(fail)?;
                for (d, props) in [
                    (netloom_linux::Direction::AtoB, &*a_to_b),
                    (netloom_linux::Direction::BtoA, &*b_to_a),
                ] {
                    self.exec
                        .set_wire_props(&link.id, d, props, link.up && !props.down)
                        .map_err(fail)?;
                }
            }
        }
        let view = self.link_view(&record.plan.links[index]);
        // The topology says it too, so that an export or a later live
        // change of the lab keeps it.
        crate::edit::record_link_change(&mut record.topology, node, iface, change);
        self.store.update_lab(&record.topology, &record.plan)?;
        self.store.add_event(
            lab,
            Some(node),
            "link-changed",
            &format!(
                "{endpoint}: {}",
                serde_json::to_string(change).unwrap_or_default()
            ),
        )?;
        Ok(view)
    }

    pub(crate) fn view(&self, record: &LabRecord) -> LabView {
        let observed = self.observed(&record.plan);
        let nodes = record
            .plan
            .nodes
            .iter()
            .map(|n| {
                let node = record.topology.nodes.get(&n.name);
                let obs = observed.node(n.name.as_str());
                let interfaces: Vec<InterfaceView> = obs
                    .map(|o| {
                        o.interfaces
                            .iter()
                            .map(|i| InterfaceView {
                                name: i.name.clone(),
                                up: i.up,
                                running: i.running,
                                master: i.master.clone(),
                                mac: i.mac.clone(),
                                mtu: i.mtu,
                                addresses: i.addresses.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let daemons: Vec<DaemonView> = obs
                    .map(|o| {
                        o.daemons
                            .iter()
                            .map(|d| DaemonView {
                                name: d.name.clone(),
                                pid: d.pid,
                                alive: d.alive,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let status = match obs {
                    Some(o) if o.netns_present => {
                        let links_ok = n
                            .interfaces
                            .iter()
                            .all(|want| interfaces.iter().any(|i| i.name == want.as_str()));
                        if daemons.iter().all(|d| d.alive) && links_ok {
                            "running"
                        } else {
                            "degraded"
                        }
                    }
                    _ => "missing",
                };
                NodeView {
                    name: n.name.to_string(),
                    kind: n.kind,
                    image: node.and_then(|n| n.image.clone()),
                    netns: n.netns.clone(),
                    status: status.to_string(),
                    interfaces,
                    daemons,
                    labels: node.map(|n| n.labels.clone()).unwrap_or_default(),
                    position: node.and_then(|n| n.position),
                    site: node.and_then(|n| n.site.clone()),
                }
            })
            .collect();
        LabView {
            name: record.name.clone(),
            state: record.state,
            prefix: record.plan.prefix.clone(),
            source: record.topology.source.clone(),
            created_at: record.created_at,
            nodes,
            links: record
                .plan
                .links
                .iter()
                .map(|l| self.link_view(l))
                .collect(),
        }
    }
}
