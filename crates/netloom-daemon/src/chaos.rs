//! Chaos runs: failures injected into a running lab at a steady rate, for
//! a while, on nodes and with modes drawn from a seeded random stream (the
//! same seed on the same lab gives the same sequence). The supervisor
//! repairs what breaks; the run records what it did. Destroying the lab
//! ends its run first ([`Service::end_chaos`]), so no run outlives its lab.

use crate::service::{Service, ServiceError};
use crate::store::LabState;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Body of `POST /api/v1/labs/{lab}/chaos`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChaosRequest {
    /// `N/DURATION`: N failures per DURATION (`1/10s`, `6/1m`).
    pub rate: String,
    /// How long the run lasts (`10m`, `90s`, `1h`).
    pub duration: String,
    #[serde(default)]
    pub seed: u64,
    /// Only nodes with this label (`role=leaf`) or kind (`kind=router`).
    #[serde(default)]
    pub select: Option<String>,
    /// Failure modes to draw from (default `kill` and `netns`).
    #[serde(default)]
    pub modes: Vec<String>,
}

/// One injected failure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Injection {
    /// Milliseconds since the run started.
    pub at_ms: u64,
    pub node: String,
    pub mode: String,
    /// What was done, or why it could not be.
    pub result: String,
}

/// A chaos run as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChaosView {
    pub lab: String,
    pub running: bool,
    pub seed: u64,
    pub interval_ms: u64,
    pub duration_ms: u64,
    pub nodes: Vec<String>,
    pub injections: Vec<Injection>,
}

/// A running or finished chaos run.
pub struct ChaosRun {
    view: Mutex<ChaosView>,
    stop: AtomicBool,
    /// The thread that injects, until someone waits for its end.
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl ChaosRun {
    pub fn view(&self) -> ChaosView {
        crate::lock(&self.view).clone()
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Stops the run and waits for its thread to end (at most one sleep
    /// step and an injection under way): after this it injects nothing.
    pub fn stop_and_wait(&self) {
        self.stop();
        let thread = crate::lock(&self.thread).take();
        if let Some(thread) = thread {
            // A panic in the thread has ended it too.
            let _ = thread.join();
        }
    }
}

/// `90s`, `10m`, `1h`, `500ms`.
pub fn parse_span(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like `10m` or `30s`"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "" => return Err(format!("`{text}` needs a unit: `ms`, `s`, `m` or `h`")),
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use `ms`, `s`, `m` or `h`"
            ))
        }
    };
    if !(secs > 0.0 && secs <= 7.0 * 24.0 * 3600.0) {
        return Err(format!("`{text}` must be more than 0 and at most a week"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `1/10s` -> one failure every 10 s.
pub fn parse_rate(text: &str) -> Result<Duration, String> {
    let (n, per) = text
        .split_once('/')
        .ok_or_else(|| format!("rate `{text}` must be N/DURATION, like `1/10s`"))?;
    let n: u32 = n
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("rate `{text}`: `{n}` is not a positive whole number"))?;
    let per = parse_span(per)?;
    let every = per / n;
    if every < Duration::from_millis(100) {
        return Err(format!(
            "rate `{text}` is more than 10 failures a second; netloom injects at most that"
        ));
    }
    Ok(every)
}

/// The nodes a selector picks: `kind=router`, `label=value`, or all.
pub fn select(topo: &netloom_model::Topology, select: Option<&str>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let want = match select {
        None => None,
        Some(s) => Some(s.split_once('=').ok_or_else(|| {
            format!("select `{s}` must be KEY=VALUE (`role=leaf`, `kind=router`)")
        })?),
    };
    for n in topo.nodes.values() {
        let ok = match want {
            None => true,
            Some(("kind", v)) => n.kind.as_str() == v,
            Some((k, v)) => n.labels.get(k).is_some_and(|x| x == v),
        };
        if ok {
            out.push(n.name.to_string());
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(match select {
            Some(s) => format!("select `{s}` matches no node of the lab"),
            None => "the lab has no nodes".to_string(),
        });
    }
    Ok(out)
}

impl Service {
    /// Starts a chaos run on a lab (one at a time per lab).
    pub fn start_chaos(
        self: &Arc<Self>,
        lab: &str,
        req: &ChaosRequest,
    ) -> Result<ChaosView, ServiceError> {
        let bad = ServiceError::BadEdit;
        let every = parse_rate(&req.rate).map_err(bad)?;
        let duration = parse_span(&req.duration).map_err(bad)?;
        let modes: Vec<String> = if req.modes.is_empty() {
            vec!["kill".into(), "netns".into()]
        } else {
            req.modes.clone()
        };
        for m in &modes {
            if !["kill", "freeze", "netns"].contains(&m.as_str()) {
                return Err(bad(format!(
                    "unknown failure mode `{m}`; expected `kill`, `freeze` or `netns`"
                )));
            }
        }
        let topo = self.topology_of(lab)?;
        let nodes = select(&topo, req.select.as_deref()).map_err(bad)?;
        let mut runs = crate::lock(&self.chaos);
        // The lab's state is read under the chaos lock: destroy marks its
        // lab before it takes the run out of this map (`end_chaos`), so a
        // run started here is either refused or ended by that destroy.
        match self.store.get_lab(lab)?.map(|r| r.state) {
            None => return Err(ServiceError::NotFound(lab.to_string())),
            Some(LabState::Running) => {}
            Some(LabState::Deploying) => {
                return Err(ServiceError::Busy(format!("{lab} (it is being deployed)")))
            }
            Some(LabState::Destroying) => {
                return Err(ServiceError::Busy(format!("{lab} (it is being destroyed)")))
            }
        }
        if let Some(r) = runs.get(lab) {
            if r.view().running {
                return Err(ServiceError::Busy(format!(
                    "{lab} (a chaos run is going on; stop it first)"
                )));
            }
        }
        let run = Arc::new(ChaosRun {
            view: Mutex::new(ChaosView {
                lab: lab.to_string(),
                running: true,
                seed: req.seed,
                interval_ms: every.as_millis() as u64,
                duration_ms: duration.as_millis() as u64,
                nodes: nodes.clone(),
                injections: Vec::new(),
            }),
            stop: AtomicBool::new(false),
            thread: Mutex::new(None),
        });
        self.store.add_event(
            lab,
            None,
            "chaos-started",
            &format!(
                "1 failure every {:.1} s for {:.0} s on {} nodes, modes {}, seed {}",
                every.as_secs_f64(),
                duration.as_secs_f64(),
                nodes.len(),
                modes.join("/"),
                req.seed
            ),
        )?;
        let first = run.view();
        let service = self.clone();
        let thread_lab = lab.to_string();
        let seed = req.seed;
        let thread_run = run.clone();
        let thread = std::thread::Builder::new()
            .name(format!("chaos-{lab}"))
            .spawn(move || {
                let (run, lab) = (thread_run, thread_lab);
                let mut rng = StdRng::seed_from_u64(seed);
                let start = Instant::now();
                let mut i: u32 = 1;
                loop {
                    let at = every * i;
                    if at > duration {
                        break;
                    }
                    // Sleep in short steps so that a stop is quick.
                    while start.elapsed() < at {
                        if run.stop.load(Ordering::Relaxed) {
                            break;
                        }
                        std::thread::sleep((at - start.elapsed()).min(Duration::from_millis(100)));
                    }
                    if run.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let node = &nodes[rng.random_range(0..nodes.len())];
                    let mode = &modes[rng.random_range(0..modes.len())];
                    let result = match service.fail(&lab, node, mode) {
                        Ok(f) => f.done,
                        Err(e) => format!("not injected: {}", e.chain()),
                    };
                    crate::lock(&run.view).injections.push(Injection {
                        at_ms: start.elapsed().as_millis() as u64,
                        node: node.clone(),
                        mode: mode.clone(),
                        result,
                    });
                    i += 1;
                }
                let n = {
                    let mut v = crate::lock(&run.view);
                    v.running = false;
                    v.injections.len()
                };
                let _ = service.store.add_event(
                    &lab,
                    None,
                    "chaos-ended",
                    &format!("{n} failures injected"),
                );
            })
            .map_err(|e| ServiceError::BadEdit(format!("cannot start the chaos run: {e}")))?;
        *crate::lock(&run.thread) = Some(thread);
        runs.insert(lab.to_string(), run);
        Ok(first)
    }

    /// Ends a lab's chaos run, if it has one: stops it, waits until its
    /// thread is gone and forgets it. Destroy calls it before tearing the
    /// lab down, so that no failure is injected into a lab being torn
    /// down, nor later into a new lab of the same name.
    pub(crate) fn end_chaos(&self, lab: &str) {
        let run = crate::lock(&self.chaos).remove(lab);
        if let Some(run) = run {
            run.stop_and_wait();
        }
    }

    /// The lab's current or last chaos run.
    pub fn chaos_view(&self, lab: &str) -> Result<ChaosView, ServiceError> {
        let view = crate::lock(&self.chaos).get(lab).map(|r| r.view());
        view.ok_or_else(|| self.no_chaos_run(lab))
    }

    /// Stops a lab's chaos run.
    pub fn stop_chaos(&self, lab: &str) -> Result<ChaosView, ServiceError> {
        let run = crate::lock(&self.chaos).get(lab).cloned();
        let run = run.ok_or_else(|| self.no_chaos_run(lab))?;
        run.stop();
        Ok(run.view())
    }

    /// Why a lab has no chaos run to show or stop: it does not exist, or
    /// none was started.
    fn no_chaos_run(&self, lab: &str) -> ServiceError {
        match self.store.get_lab(lab) {
            Ok(Some(_)) => ServiceError::BadEdit(format!("lab `{lab}` has had no chaos run")),
            Ok(None) => ServiceError::NotFound(lab.to_string()),
            Err(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_spans() {
        assert_eq!(parse_rate("1/10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_rate("6/1m").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_span("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_span("1.5s").unwrap(), Duration::from_millis(1500));
        for bad in ["10", "x/10s", "0/10s", "1/10", "100/1s", "1/-1s"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert!(parse_span("10d").unwrap_err().contains("unknown unit"));
    }

    /// A destroyed lab's chaos run is over before the teardown: stopped,
    /// its thread gone, forgotten; a new lab of the same name gets no
    /// failure from it and can have a run of its own. Nothing is created
    /// in the kernel: the lab's one host has no namespace and runs no
    /// process (each injection is "not injected"). Its teardown finds
    /// nothing to remove as root and fails for another user (it may not
    /// look into /etc/frr): the run has ended before it, either way.
    /// A service on an in-memory store, and a lab of one host planned in
    /// it (nothing made in the kernel); the prefix lives as long as the
    /// test holds it.
    fn one_host_lab(
        lab: &str,
    ) -> (
        netloom_testkit::TestPrefix,
        Arc<Service>,
        netloom_model::Topology,
        netloom_linux::Plan,
    ) {
        use netloom_model::{LabName, Node, NodeKind, NodeName, Topology};
        let prefix = netloom_testkit::TestPrefix::new();
        let service = Service::new(
            prefix.as_str().to_string(),
            crate::store::Store::in_memory().unwrap(),
            netloom_linux::Executor::new(),
        )
        .into_arc();
        let h = Node::new(NodeName::new("h1").unwrap(), NodeKind::Host);
        let topo = Topology::new(LabName::new(lab).unwrap(), [h], vec![]);
        let plan = service.plan(&topo).unwrap();
        (prefix, service, topo, plan)
    }

    #[test]
    fn destroying_a_lab_ends_its_chaos_run() {
        let (_prefix, service, topo, plan) = one_host_lab("c1");
        let running = || {
            service.store.insert_lab(&topo, &plan).unwrap();
            service.store.set_state("c1", LabState::Running).unwrap();
        };
        let req = ChaosRequest {
            rate: "10/1s".into(),
            duration: "1h".into(),
            seed: 1,
            select: None,
            modes: vec!["kill".into()],
        };
        let destroy = || match service.destroy("c1") {
            Ok(()) => {}
            Err(ServiceError::Destroy { .. }) if !nix::unistd::geteuid().is_root() => {
                service.store.delete_lab("c1").unwrap();
            }
            Err(e) => panic!("{}", e.chain()),
        };
        let injections = |run: &ChaosRun| run.view().injections.len();
        let wait_for_injection = |run: &ChaosRun| {
            let end = Instant::now() + Duration::from_secs(10);
            while injections(run) == 0 {
                assert!(Instant::now() < end, "no injection: {:?}", run.view());
                std::thread::sleep(Duration::from_millis(20));
            }
        };

        running();
        service.start_chaos("c1", &req).unwrap();
        let run = crate::lock(&service.chaos).get("c1").cloned().unwrap();
        wait_for_injection(&run);
        destroy();
        let view = run.view();
        assert!(!view.running, "still running after destroy: {view:?}");
        assert!(crate::lock(&run.thread).is_none(), "thread not joined");
        assert!(matches!(
            service.chaos_view("c1"),
            Err(ServiceError::NotFound(_))
        ));
        let events: Vec<String> = service
            .store
            .events(Some("c1"), 0, 1000)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        let pos = |k: &str| events.iter().position(|e| e == k);
        let ended = pos("chaos-ended");
        assert!(ended.is_some(), "{events:?}");
        assert!(
            pos("destroyed").is_none_or(|d| ended < Some(d)),
            "{events:?}"
        );

        // A new lab of the same name: the old run does nothing to it.
        let before = injections(&run);
        running();
        std::thread::sleep(Duration::from_millis(350));
        assert_eq!(injections(&run), before, "{:?}", run.view());
        assert!(matches!(
            service.chaos_view("c1"),
            Err(ServiceError::BadEdit(_))
        ));
        // It may have a run of its own, which its destroy ends as well.
        service.start_chaos("c1", &req).unwrap();
        let second = crate::lock(&service.chaos).get("c1").cloned().unwrap();
        assert!(!Arc::ptr_eq(&run, &second));
        wait_for_injection(&second);
        destroy();
        assert!(!second.view().running);
        assert!(crate::lock(&second.thread).is_none());
    }

    /// No run starts on a lab that is being destroyed (or deployed): the
    /// destroy could not end it.
    #[test]
    fn no_chaos_run_starts_on_a_lab_being_destroyed() {
        let (_prefix, service, topo, plan) = one_host_lab("c2");
        service.store.insert_lab(&topo, &plan).unwrap();
        let req = ChaosRequest {
            rate: "1/10s".into(),
            duration: "1m".into(),
            seed: 0,
            select: None,
            modes: vec![],
        };
        for state in [LabState::Deploying, LabState::Destroying] {
            service.store.set_state("c2", state).unwrap();
            let err = service.start_chaos("c2", &req).unwrap_err();
            assert_eq!(err.code(), "lab_busy", "{state:?}: {err}");
            assert!(crate::lock(&service.chaos).is_empty());
        }
    }

    #[test]
    fn selectors_pick_by_kind_or_label() {
        use netloom_model::{LabName, Node, NodeKind, NodeName, Topology};
        let mut leaf = Node::new(NodeName::new("leaf1").unwrap(), NodeKind::Router);
        leaf.labels.insert("role".into(), "leaf".into());
        let h = Node::new(NodeName::new("h1").unwrap(), NodeKind::Host);
        let t = Topology::new(LabName::new("t").unwrap(), [leaf, h], vec![]);
        assert_eq!(select(&t, None).unwrap(), ["h1", "leaf1"]);
        assert_eq!(select(&t, Some("kind=host")).unwrap(), ["h1"]);
        assert_eq!(select(&t, Some("role=leaf")).unwrap(), ["leaf1"]);
        assert!(select(&t, Some("role=spine")).is_err());
        assert!(select(&t, Some("role")).is_err());
    }
}
