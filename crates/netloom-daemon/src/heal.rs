//! Self-healing: repairing a failed node, saving routers' running
//! configurations (what a repair restores), breaking nodes on purpose, and
//! the recovery figures (`/metrics`).
//!
//! A repair of a node whose namespace is gone, or of a host whose exec
//! processes died, rebuilds the node ([`netloom_plan::rebuild`]: namespace,
//! links on both ends, addresses, FRR with its saved configuration, exec
//! commands). A router whose FRR daemons died or hang gets its FRR
//! restarted with the saved configuration. Each repair records when the
//! failure was detected, when the data plane was back (namespace, links,
//! addresses, processes) and when routing was back (every BGP session
//! Established, every OSPF neighbour Full), as events and histograms.

use crate::service::{Service, ServiceError};
use netloom_linux::health::{self, FailMode};
use netloom_model::{NodeKind, RestartPolicy};
use netloom_plan::{NodePlan, Plan};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A failure the supervisor saw.
#[derive(Debug, Clone)]
pub struct Failure {
    pub lab: String,
    pub node: String,
    /// What was seen (`bgpd (pid 123) died`, `namespace deleted`).
    pub cause: String,
    pub detected: Instant,
    /// The process whose death was seen, if that was the failure.
    pub pid: Option<i32>,
    /// The lab's generation when the failed thing was watched: a failure
    /// of something an later change replaced is stale.
    pub generation: Option<u64>,
    /// A repair a daemon began and did not end (it died): redo it whole.
    pub unfinished: bool,
}

/// A process to watch, handed from an operation to the supervisor.
pub struct NewWatch {
    pub lab: String,
    pub node: String,
    pub what: String,
    pub pid: i32,
    pub fd: std::os::fd::OwnedFd,
    pub generation: u64,
}

/// Upper bounds of the recovery histograms, seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    total: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.total += 1;
        self.sum += secs;
    }
}

/// State of self-healing kept by the service.
#[derive(Default)]
pub struct HealState {
    /// Per lab: how many changes it went through (deploy, live change,
    /// repair).
    generations: Mutex<HashMap<String, u64>>,
    /// Watches opened by operations, for the supervisor to take.
    pub(crate) pending: Mutex<Vec<NewWatch>>,
    /// Wakes the supervisor (set when it runs).
    pub(crate) wake: Mutex<Option<std::sync::Arc<nix::sys::eventfd::EventFd>>>,
    /// Ready standby twins: (lab, node) -> (twin namespace, the
    /// configuration it runs).
    twins: Mutex<HashMap<(String, String), (String, String)>>,
    /// Twins being built: (lab, node).
    building: Mutex<std::collections::HashSet<(String, String)>>,
    twin_seq: std::sync::atomic::AtomicU64,
    /// When `netloom fail` broke a node: (lab, node) -> instant.
    injected: Mutex<HashMap<(String, String), Instant>>,
    /// Phase -> histogram.
    histograms: Mutex<HashMap<&'static str, Histogram>>,
    counters: Mutex<HashMap<&'static str, u64>>,
}

impl HealState {
    pub fn generation(&self, lab: &str) -> u64 {
        crate::lock(&self.generations)
            .get(lab)
            .copied()
            .unwrap_or(0)
    }

    fn observe(&self, phase: &'static str, d: Duration) {
        crate::lock(&self.histograms)
            .entry(phase)
            .or_default()
            .observe(d.as_secs_f64());
    }

    pub(crate) fn count(&self, what: &'static str) {
        *crate::lock(&self.counters).entry(what).or_default() += 1;
    }

    /// Prometheus text exposition of the recovery figures.
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP netloom_recovery_seconds Time from a node's failure to the end of each recovery phase (detection: failure seen; data_plane: namespace, links, addresses and processes back; routing: sessions Established).\n# TYPE netloom_recovery_seconds histogram\n");
        let hist = crate::lock(&self.histograms);
        for phase in ["detection", "data_plane", "data_plane_standby", "routing"] {
            let h = hist.get(phase).cloned().unwrap_or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "netloom_recovery_seconds_bucket{{phase=\"{phase}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "netloom_recovery_seconds_bucket{{phase=\"{phase}\",le=\"+Inf\"}} {}",
                h.total
            );
            let _ = writeln!(
                out,
                "netloom_recovery_seconds_sum{{phase=\"{phase}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "netloom_recovery_seconds_count{{phase=\"{phase}\"}} {}",
                h.total
            );
        }
        drop(hist);
        out.push_str("# HELP netloom_supervisor_events_total Failures seen, repairs done and failed, crash loops.\n# TYPE netloom_supervisor_events_total counter\n");
        let counters = crate::lock(&self.counters);
        for what in [
            "failure",
            "repaired",
            "repair_failed",
            "crash_loop",
            "not_repaired",
        ] {
            let _ = writeln!(
                out,
                "netloom_supervisor_events_total{{event=\"{what}\"}} {}",
                counters.get(what).copied().unwrap_or(0)
            );
        }
        out
    }
}

/// What a repair did, phase by phase (milliseconds from the failure).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repair {
    pub lab: String,
    pub node: String,
    pub cause: String,
    /// `rebuild` (namespace and links again) or `restart-frr`.
    pub action: String,
    /// From the injected failure to its detection, when netloom caused it.
    pub detection_ms: Option<f64>,
    /// From detection to the data plane back.
    pub data_plane_ms: f64,
}

/// `netloom save`: what was saved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Saved {
    pub lab: String,
    /// Routers whose running configuration was saved.
    pub nodes: Vec<String>,
    /// Where the files were written (next to the topology file), if any.
    pub dir: Option<String>,
    /// Routers that could not be saved, with why.
    pub failed: Vec<String>,
}

/// Body of `POST .../nodes/{node}/fail`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailRequest {
    /// `kill`, `freeze` or `netns`.
    pub mode: String,
}

/// What `fail` did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failed {
    pub lab: String,
    pub node: String,
    pub mode: String,
    pub done: String,
}

/// What is wrong with a node, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Healthy,
    NetnsGone,
    /// Processes it needs are gone (names).
    Dead(Vec<String>),
}

/// How a node is doing now.
pub fn health_of(node: &NodePlan) -> Health {
    if !netloom_linux::ns_exists(&node.netns) {
        return Health::NetnsGone;
    }
    let (_, dead) = health::vitals(node);
    if dead.is_empty() {
        Health::Healthy
    } else {
        Health::Dead(dead)
    }
}

fn parse_mode(mode: &str) -> Result<FailMode, ServiceError> {
    match mode {
        "kill" => Ok(FailMode::Kill),
        "freeze" => Ok(FailMode::Freeze),
        "netns" => Ok(FailMode::Netns),
        other => Err(ServiceError::BadEdit(format!(
            "unknown failure mode `{other}`; expected `kill`, `freeze` or `netns`"
        ))),
    }
}

impl Service {
    /// Called at the end of every operation that changed a lab, while it
    /// still holds the lab: a new generation, and every vital process of
    /// the lab opened as a pidfd now, so that a process dying the moment
    /// after is still seen.
    pub(crate) fn changed(&self, plan: &Plan) {
        let lab = plan.lab.to_string();
        let generation = {
            let mut g = crate::lock(&self.heal.generations);
            let e = g.entry(lab.clone()).or_default();
            *e += 1;
            *e
        };
        let mut new = Vec::new();
        let all = health::vitals_all(&plan.nodes);
        for (node, (alive, _)) in plan.nodes.iter().zip(all) {
            for v in alive {
                if let Ok(fd) = health::pidfd(v.pid) {
                    new.push(NewWatch {
                        lab: lab.clone(),
                        node: node.name.to_string(),
                        what: v.what,
                        pid: v.pid,
                        fd,
                        generation,
                    });
                }
            }
        }
        crate::lock(&self.heal.pending).extend(new);
        if let Some(w) = crate::lock(&self.heal.wake).as_ref() {
            let _ = w.write(1);
        }
        self.ensure_twins(plan);
    }

    /// The configuration a router restarts with: its last saved one, else
    /// the planned one.
    fn config_for(&self, lab: &str, node: &NodePlan) -> Option<String> {
        self.store
            .saved_config(lab, node.name.as_str())
            .ok()
            .flatten()
            .or_else(|| node.frr.as_ref().map(|f| f.config.clone()))
    }

    /// Builds, in the background, a standby twin for every `standby`
    /// router of the lab that has none ready (or whose twin runs another
    /// configuration than the one a repair would restore).
    pub(crate) fn ensure_twins(&self, plan: &Plan) {
        let lab = plan.lab.to_string();
        // Twins of routers that are gone or no longer want one.
        let orphans: Vec<String> = {
            let mut twins = crate::lock(&self.heal.twins);
            let keys: Vec<_> = twins
                .keys()
                .filter(|(l, n)| {
                    *l == lab && !plan.node(n).is_some_and(|p| p.standby && p.frr.is_some())
                })
                .cloned()
                .collect();
            keys.into_iter()
                .filter_map(|k| twins.remove(&k).map(|(t, _)| t))
                .collect()
        };
        for t in orphans {
            let _ = self.exec.remove_twin(&t);
        }
        for node in plan.nodes.iter().filter(|n| n.standby && n.frr.is_some()) {
            let key = (lab.clone(), node.name.to_string());
            let config = self.config_for(&lab, node).unwrap_or_default();
            // A twin fits while the configuration and the patched links it
            // was built for are the router's.
            let want = twin_fit(plan, node, &config);
            let stale = {
                let twins = crate::lock(&self.heal.twins);
                match twins.get(&key) {
                    Some((netns, config)) => {
                        if *config == want && netloom_linux::ns_exists(netns) {
                            continue;
                        }
                        Some(netns.clone())
                    }
                    None => None,
                }
            };
            if !crate::lock(&self.heal.building).insert(key.clone()) {
                continue;
            }
            let n = self
                .heal
                .twin_seq
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (twin, used) = netloom_linux::free_twin_netns(&node.netns, n);
            self.heal
                .twin_seq
                .fetch_max(used + 1, std::sync::atomic::Ordering::Relaxed);
            // Runs on a thread of its own, holding the service.
            let Some(this) = self.me.get().and_then(std::sync::Weak::upgrade) else {
                crate::lock(&self.heal.building).remove(&key);
                return;
            };
            let name = node.name.to_string();
            let plan = plan.clone();
            let _ = std::thread::Builder::new()
                .name(format!("twin-{name}"))
                .spawn(move || {
                    let built = this.exec.create_twin(&plan, &name, &twin, Some(&config));
                    crate::lock(&this.heal.building).remove(&key);
                    match built {
                        Ok(()) => {
                            let old = crate::lock(&this.heal.twins)
                                .insert(key.clone(), (twin.clone(), want));
                            if let Some((old, _)) = old.or(stale.map(|s| (s, String::new()))) {
                                let _ = this.exec.remove_twin(&old);
                            }
                            // The lab may have gone meanwhile.
                            if this.store.get_lab(&key.0).ok().flatten().is_none() {
                                crate::lock(&this.heal.twins).remove(&key);
                                let _ = this.exec.remove_twin(&twin);
                            }
                        }
                        // (A lab destroyed meanwhile took the namespace.)
                        Err(_) if this.store.get_lab(&key.0).ok().flatten().is_none() => {}
                        Err(e) => {
                            let _ = this.store.add_event(
                                &key.0,
                                Some(&key.1),
                                "standby-failed",
                                &format!(
                                    "cannot build the standby twin: {}",
                                    netloom_linux::error_chain(&e)
                                ),
                            );
                        }
                    }
                });
        }
    }

    /// Forgets (and removes) a lab's twins.
    pub(crate) fn drop_twins(&self, lab: &str) {
        let gone: Vec<String> = {
            let mut twins = crate::lock(&self.heal.twins);
            let keys: Vec<_> = twins.keys().filter(|k| k.0 == lab).cloned().collect();
            keys.into_iter()
                .filter_map(|k| twins.remove(&k).map(|(n, _)| n))
                .collect()
        };
        for t in gone
            .into_iter()
            .chain(netloom_linux::twins_present(&self.prefix, lab))
        {
            let _ = self.exec.remove_twin(&t);
        }
    }

    /// Saves the running configuration of every router of a lab in the
    /// store (what a repair restores) and, when the lab came from a file,
    /// as `<dir>/<lab>.saved/<router>.conf` next to it.
    pub fn save(&self, lab: &str) -> Result<Saved, ServiceError> {
        self.save_configs(lab, true)
    }

    /// Saves running configurations in the store only (the periodic save).
    pub fn save_quietly(&self, lab: &str) -> Result<Saved, ServiceError> {
        self.save_configs(lab, false)
    }

    fn save_configs(&self, lab: &str, files: bool) -> Result<Saved, ServiceError> {
        let record = self
            .store
            .get_lab(lab)?
            .ok_or_else(|| ServiceError::NotFound(lab.to_string()))?;
        let dir = record
            .topology
            .source
            .as_deref()
            .filter(|_| files)
            .and_then(|s| std::path::Path::new(s).parent())
            .map(|d| d.join(format!("{lab}.saved")));
        let mut saved = Saved {
            lab: lab.to_string(),
            ..Saved::default()
        };
        let mut wrote_dir = false;
        for n in &record.plan.nodes {
            if n.frr.is_none() {
                continue;
            }
            match self.exec.running_config(n) {
                Ok(text) => {
                    self.store.save_config(lab, n.name.as_str(), &text)?;
                    if let Some(d) = &dir {
                        let file = d.join(format!("{}.conf", n.name));
                        let written =
                            std::fs::create_dir_all(d).and_then(|()| std::fs::write(&file, &text));
                        match written {
                            Ok(()) => wrote_dir = true,
                            Err(e) => saved.failed.push(format!(
                                "{}: cannot write {}: {e}",
                                n.name,
                                file.display()
                            )),
                        }
                    }
                    saved.nodes.push(n.name.to_string());
                }
                Err(e) => {
                    saved
                        .failed
                        .push(format!("{}: {}", n.name, netloom_linux::error_chain(&e)))
                }
            }
        }
        if wrote_dir {
            saved.dir = dir.map(|d| d.display().to_string());
        }
        if files || !saved.failed.is_empty() {
            self.store.add_event(
                lab,
                None,
                "saved",
                &format!(
                    "{} router configurations{}",
                    saved.nodes.len(),
                    if saved.failed.is_empty() {
                        String::new()
                    } else {
                        format!("; not saved: {}", saved.failed.join("; "))
                    }
                ),
            )?;
        }
        Ok(saved)
    }

    /// Breaks a node on purpose (tests, chaos runs).
    pub fn fail(&self, lab: &str, node: &str, mode: &str) -> Result<Failed, ServiceError> {
        let fail_mode = parse_mode(mode)?;
        let plan = self.plan_of(lab)?;
        let n = plan.node(node).ok_or_else(|| ServiceError::NodeNotFound {
            lab: lab.to_string(),
            node: node.to_string(),
        })?;
        // Recorded before the fault: the supervisor may see it at once.
        let key = (lab.to_string(), node.to_string());
        crate::lock(&self.heal.injected).insert(key.clone(), Instant::now());
        let done = health::inject(n, fail_mode).map_err(|e| {
            crate::lock(&self.heal.injected).remove(&key);
            ServiceError::BadEdit(format!(
                "cannot fail node {node}: {}",
                netloom_linux::error_chain(&e)
            ))
        })?;
        self.store.add_event(
            lab,
            Some(node),
            "fault-injected",
            &format!("{mode}: {done}"),
        )?;
        Ok(Failed {
            lab: lab.to_string(),
            node: node.to_string(),
            mode: mode.to_string(),
            done,
        })
    }

    /// Whether a failure is still one (the lab runs, the node is in the
    /// plan of that generation and still broken) — without repairing.
    pub fn still_failed(&self, f: &Failure) -> bool {
        let Ok(Some(record)) = self.store.get_lab(&f.lab) else {
            return false;
        };
        if record.state != crate::store::LabState::Running
            || f.generation
                .is_some_and(|g| g < self.heal.generation(&f.lab))
        {
            return false;
        }
        let Some(node) = record.plan.node(&f.node) else {
            return false;
        };
        f.cause.contains("does not answer")
            || health_of(node) != Health::Healthy
            || f.pid.is_some_and(|p| !health::alive(p))
    }

    /// Repairs a failed node. `Ok(None)`: nothing to repair (the node is
    /// healthy again, the lab is gone or changing, or its policy is
    /// `never`).
    pub fn repair(&self, f: &Failure) -> Result<Option<Repair>, ServiceError> {
        let _guard = self.claim_within(&f.lab, crate::service::CLAIM_WAIT)?;
        tracing::debug!(node = %f.node, ms = ms_since(f.detected), "repair: lab claimed");
        let Some(record) = self.store.get_lab(&f.lab)? else {
            return Ok(None);
        };
        if record.state != crate::store::LabState::Running {
            return Ok(None);
        }
        if f.node == netloom_plan::PATCH_NODE {
            return self.repair_patch(f, &record);
        }
        let Some(node) = record.plan.node(&f.node).cloned() else {
            return Ok(None);
        };
        if f.generation
            .is_some_and(|g| g < self.heal.generation(&f.lab))
        {
            // The lab changed since: what failed was replaced on purpose.
            return Ok(None);
        }
        let injected = crate::lock(&self.heal.injected).remove(&(f.lab.clone(), f.node.clone()));
        let detection = injected.map(|at| f.detected.saturating_duration_since(at));
        // Frozen daemons look alive: the cause says they hang.
        let hung = f.cause.contains("does not answer");
        let mut health = health_of(&node);
        // A watched process (an exec process of a host, say) that is gone
        // is a failure even when nothing else is missing.
        if let (Health::Healthy, Some(pid)) = (&health, f.pid) {
            if !health::alive(pid) {
                health = Health::Dead(vec![f.cause.clone()]);
            }
        }
        if f.unfinished {
            // Half of a rebuild may be in place and look healthy (a host
            // with its interface but not its address): rebuild again.
            health = Health::NetnsGone;
        }
        if health == Health::Healthy && !hung {
            return Ok(None);
        }
        self.heal.count("failure");
        if let Some(d) = detection {
            self.heal.observe("detection", d);
        }
        self.store
            .add_event(&f.lab, Some(&f.node), "node-failed", &f.cause)?;
        let policy = record
            .topology
            .nodes
            .values()
            .find(|n| n.name.as_str() == f.node)
            .map(|n| n.restart)
            .unwrap_or_default();
        if policy == RestartPolicy::Never {
            self.heal.count("not_repaired");
            self.store.add_event(
                &f.lab,
                Some(&f.node),
                "not-repaired",
                "restart: never; the node stays as it is",
            )?;
            return Ok(None);
        }
        self.store
            .add_event(&f.lab, Some(&f.node), "recovering", &format!("{health:?}"))?;
        self.store.repair_started(&f.lab, &f.node)?;
        tracing::debug!(node = %f.node, ms = ms_since(f.detected), "repair: recorded as started");
        let result = self.repair_now(f, &record, &node, health, detection);
        self.store.repair_ended(&f.lab, &f.node)?;
        result
    }

    /// Rebuilds a lab's patch namespace, every link through it and the
    /// hosts on those links; the standby twins, whose ports went with it,
    /// are built again.
    fn repair_patch(
        &self,
        f: &Failure,
        record: &crate::store::LabRecord,
    ) -> Result<Option<Repair>, ServiceError> {
        let plan = &record.plan;
        if !plan.has_patch() || netloom_linux::ns_exists(&plan.patch_netns()) {
            return Ok(None);
        }
        self.heal.count("failure");
        self.store.add_event(
            &f.lab,
            None,
            "node-failed",
            &format!("patch namespace of the standby routers' links: {}", f.cause),
        )?;
        self.drop_twins(&f.lab);
        let t = netloom_plan::rebuild_patch(plan);
        let result = self.exec.repair_transition(plan, &t);
        let data_plane = f.detected.elapsed();
        if let Err(e) = result {
            self.heal.count("repair_failed");
            let msg = netloom_linux::error_chain(&e);
            self.store.add_event(&f.lab, None, "repair-failed", &msg)?;
            return Err(ServiceError::BadEdit(format!(
                "repair of the patch namespace failed: {msg}"
            )));
        }
        self.heal.count("repaired");
        self.heal.observe("data_plane", data_plane);
        self.changed(plan);
        self.store.add_event(
            &f.lab,
            None,
            "recovered",
            &format!(
                "rebuild of the patch namespace, its {} links and {} hosts; data plane back {:.1} ms after detection",
                plan.links.iter().filter(|l| plan.patched(l)).count(),
                t.rebuilt.len(),
                data_plane.as_secs_f64() * 1e3
            ),
        )?;
        Ok(Some(Repair {
            lab: f.lab.clone(),
            node: f.node.clone(),
            cause: f.cause.clone(),
            action: "rebuild".to_string(),
            detection_ms: None,
            data_plane_ms: data_plane.as_secs_f64() * 1e3,
        }))
    }

    fn repair_now(
        &self,
        f: &Failure,
        record: &crate::store::LabRecord,
        node: &NodePlan,
        health: Health,
        detection: Option<Duration>,
    ) -> Result<Option<Repair>, ServiceError> {
        let saved = self.store.saved_config(&f.lab, &f.node)?;
        // A twin takes over whatever failed when every link of the router
        // goes through the patch panel (a flip of ports, 9 ms p50 in
        // bench/recovery, against 84 ms for an FRR restart); with
        // emulated links too, only when the namespace is gone (they must
        // be made again anyway, and an FRR restart keeps them).
        let all_patched = record
            .plan
            .links
            .iter()
            .filter(|l| l.a.node.as_str() == f.node || l.b.node.as_str() == f.node)
            .all(|l| record.plan.patched(l));
        let taken = if node.standby && !f.unfinished && (health == Health::NetnsGone || all_patched)
        {
            crate::lock(&self.heal.twins)
                .remove(&(f.lab.clone(), f.node.clone()))
                .map(|(netns, _)| netns)
        } else {
            None
        };
        // A twin whose namespace is gone cannot take over; what is left of
        // it (its FRR keeps the namespace alive) goes after the repair.
        let (twin, lost_twin) = match taken {
            Some(t) if netloom_linux::ns_exists(&t) => (Some(t), None),
            other => (None, other),
        };
        let rebuild = health == Health::NetnsGone || node.kind == NodeKind::Host;
        #[allow(clippy::result_large_err)]
        let cold = || {
            let mut plan: Plan = record.plan.clone();
            if let (Some(text), Some(n)) = (
                &saved,
                plan.nodes.iter_mut().find(|n| n.name.as_str() == f.node),
            ) {
                if let Some(frr) = &mut n.frr {
                    frr.config = text.clone();
                }
            }
            let t = netloom_plan::rebuild(&plan, &f.node);
            tracing::debug!(node = %f.node, ms = ms_since(f.detected), "repair: rebuild planned");
            // Neighbours through the patch panel keep their links: what is
            // left of the node's FRR ends first, while its links still
            // carry the close of its sessions.
            if plan.patched_links_of(&f.node).next().is_some() {
                let _ = self.exec.end_frr(&node.netns);
            }
            self.exec.repair_transition(&plan, &t).map(|()| None)
        };
        let mut took_over = twin.is_some();
        let result = if let Some(twin) = &twin {
            match self.exec.take_over(&record.plan, &f.node, twin) {
                Ok(flowing) => Ok(Some(flowing)),
                // A twin that cannot take over (say, built before a link
                // was added) goes, and the router is rebuilt.
                Err(e) => {
                    took_over = false;
                    self.store.add_event(
                        &f.lab,
                        Some(&f.node),
                        "standby-failed",
                        &format!(
                            "the twin could not take over, rebuilding instead: {}",
                            netloom_linux::error_chain(&e)
                        ),
                    )?;
                    let _ = self.exec.remove_twin(twin);
                    cold()
                }
            }
        } else if rebuild {
            cold()
        } else {
            self.exec.restart_frr(node, saved.as_deref()).map(|()| None)
        };
        let data_plane = match &result {
            Ok(Some(flowing)) => flowing.saturating_duration_since(f.detected),
            _ => f.detected.elapsed(),
        };
        if let Some(t) = lost_twin {
            let _ = self.exec.remove_twin(&t);
        }
        if let Err(e) = result {
            self.heal.count("repair_failed");
            let msg = netloom_linux::error_chain(&e);
            self.store
                .add_event(&f.lab, Some(&f.node), "repair-failed", &msg)?;
            return Err(ServiceError::BadEdit(format!(
                "repair of {} failed: {msg}",
                f.node
            )));
        }
        self.heal.count("repaired");
        if let Ok(Some(r)) = self.store.get_lab(&f.lab) {
            self.changed(&r.plan);
        }
        self.heal.observe(
            if took_over {
                "data_plane_standby"
            } else {
                "data_plane"
            },
            data_plane + detection.unwrap_or_default(),
        );
        let action = if took_over {
            "standby-takeover"
        } else if rebuild {
            "rebuild"
        } else {
            "restart-frr"
        };
        self.store.add_event(
            &f.lab,
            Some(&f.node),
            "recovered",
            &format!(
                "{action} ({}); data plane back {:.1} ms after detection{}",
                f.cause,
                data_plane.as_secs_f64() * 1e3,
                detection
                    .map(|d| format!(", detected {:.1} ms after the fault", d.as_secs_f64() * 1e3))
                    .unwrap_or_default()
            ),
        )?;
        Ok(Some(Repair {
            lab: f.lab.clone(),
            node: f.node.clone(),
            cause: f.cause.clone(),
            action: action.to_string(),
            detection_ms: detection.map(|d| d.as_secs_f64() * 1e3),
            data_plane_ms: data_plane.as_secs_f64() * 1e3,
        }))
    }

    /// Waits (up to `limit`) until a repaired router's routing is back:
    /// its sessions up, as [`crate::routing::sessions_up`] counts them.
    /// Records the time as the `routing` phase and an event.
    pub fn await_routing(&self, f: &Failure, limit: Duration) {
        let Ok(plan) = self.plan_of(&f.lab) else {
            return;
        };
        let Some(frr) = plan.node(&f.node).and_then(|n| n.frr.clone()) else {
            return;
        };
        let facing = crate::routing::ospf_facing(&plan, &f.node);
        let end = Instant::now() + limit;
        while Instant::now() < end {
            // Stop once the lab is gone; while it changes (another repair,
            // a destroy starting), ask nothing and look again.
            let running = self
                .store
                .get_lab(&f.lab)
                .ok()
                .flatten()
                .is_some_and(|r| r.state == crate::store::LabState::Running);
            if !running {
                return;
            }
            if self.is_busy(&f.lab) {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            let up = crate::routing::sessions(&frr, &facing)
                .is_ok_and(|s| crate::routing::sessions_up(&s));
            if up {
                let d = f.detected.elapsed();
                self.heal.observe("routing", d);
                let _ = self.store.add_event(
                    &f.lab,
                    Some(&f.node),
                    "routing-restored",
                    &format!(
                        "sessions up {:.0} ms after detection",
                        d.as_secs_f64() * 1e3
                    ),
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.store.add_event(
            &f.lab,
            Some(&f.node),
            "routing-not-restored",
            &format!("sessions not all up after {} s", limit.as_secs()),
        );
    }
}

/// Milliseconds since `t`, for the repair's debug log.
fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// What a router's twin is built for: its configuration and the patched
/// links it has ports for (the twin of a router whose links changed has
/// no port for a new one).
fn twin_fit(plan: &Plan, node: &NodePlan, config: &str) -> String {
    let mut fit = config.to_string();
    for (l, end) in plan.patched_links_of(node.name.as_str()) {
        let iface = if end == 0 { &l.a.iface } else { &l.b.iface };
        fit.push_str(&format!("\n#patched {} {end} {iface} {:?}", l.id, l.mtu));
    }
    fit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_prometheus_text() {
        let h = HealState::default();
        h.observe("detection", Duration::from_millis(3));
        h.observe("detection", Duration::from_millis(30));
        h.count("failure");
        let text = h.prometheus();
        assert!(
            text.contains("netloom_recovery_seconds_bucket{phase=\"detection\",le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("netloom_recovery_seconds_bucket{phase=\"detection\",le=\"0.05\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("netloom_recovery_seconds_count{phase=\"detection\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("netloom_recovery_seconds_count{phase=\"routing\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("netloom_supervisor_events_total{event=\"failure\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn failure_modes_are_named() {
        assert!(parse_mode("kill").is_ok());
        let e = parse_mode("explode").unwrap_err().to_string();
        assert!(e.contains("explode") && e.contains("netns"), "{e}");
    }
}
