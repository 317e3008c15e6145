//! The supervisor: notices failed nodes of running labs and has them
//! repaired ([`Service::repair`]).
//!
//! - **Deaths are events.** Every process a node needs (its FRR daemons,
//!   the processes its exec commands left running) is watched through a
//!   pidfd in one epoll set; the namespace directory `/run/netns` through
//!   inotify. A death or a deleted namespace wakes the supervisor at once:
//!   no polling.
//! - **Hangs are probed.** A prober thread asks every FRR daemon for
//!   `show version` on its VTY socket every 3 s, 16 at a time; three
//!   unanswered probes in a row (3 s timeout each) make a failure: a
//!   frozen daemon is found in 9-18 s, and a daemon merely busy with a
//!   converging fabric is not mistaken for a hung one (FRR's own watchfrr
//!   waits 90 s).
//! - **What changes on purpose is not a failure.** Labs being deployed,
//!   changed or destroyed are skipped; every event the service records
//!   (deploy, change, repair) makes the supervisor look again; a repair
//!   first checks that the node is still broken.
//! - **Crash loops stop.** The first repair of a node runs at once; a node
//!   that fails again within 60 s is repaired after 1 s, then 2 s, 4 s...;
//!   the 5th failure within 60 s is reported as a crash loop and the node
//!   is left alone until it is changed or the lab is redeployed.

use crate::heal::Failure;
use crate::service::Service;
use netloom_plan::parse_netns_name;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failures within this window count towards a crash loop.
const LOOP_WINDOW: Duration = Duration::from_secs(60);
/// This many failures within the window is a crash loop.
const LOOP_LIMIT: usize = 5;
/// How often the prober asks each FRR daemon, and how long it waits.
const PROBE_EVERY: Duration = Duration::from_secs(3);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
const PROBE_MISSES: u32 = 3;
/// A look at every running lab even without a reason (safety net).
const RESCAN_EVERY: Duration = Duration::from_secs(5);

const KEY_WAKE: u64 = u64::MAX;
const KEY_INOTIFY: u64 = u64::MAX - 1;

struct Watch {
    lab: String,
    node: String,
    what: String,
    pid: i32,
    fd: OwnedFd,
    generation: u64,
}

#[derive(Default)]
struct Shared {
    /// (lab, node) being repaired right now.
    in_flight: HashSet<(String, String)>,
    /// Recent failures per node, for crash loops and back-off.
    history: HashMap<(String, String), VecDeque<Instant>>,
    /// Nodes in a crash loop: left alone (the value: the lab's creation
    /// time, so a redeployed lab starts afresh).
    looping: HashMap<(String, String), i64>,
    /// Routers to probe: (lab, node, frr plan).
    routers: Vec<(String, String, netloom_plan::FrrPlan)>,
    /// Failures seen while their lab was busy: looked at once it is not.
    deferred: Vec<Failure>,
}

/// Starts the supervisor threads; they run as long as the daemon.
pub fn start(service: Arc<Service>) -> std::io::Result<()> {
    let wake = Arc::new(EventFd::from_flags(
        EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK,
    )?);
    *crate::lock(&service.heal.wake) = Some(wake.clone());
    let shared = Arc::new(Mutex::new(Shared::default()));
    // Every recorded event is a reason to look again.
    {
        let mut feed = service.store().subscribe();
        let wake = wake.clone();
        std::thread::Builder::new()
            .name("supervisor-feed".into())
            .spawn(move || {
                while let Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) =
                    feed.blocking_recv()
                {
                    let _ = wake.write(1);
                }
            })?;
    }
    {
        let service = service.clone();
        let shared = shared.clone();
        let wake = wake.clone();
        std::thread::Builder::new()
            .name("supervisor-probe".into())
            .spawn(move || probe_loop(&service, &shared, &wake))?;
    }
    {
        let service = service.clone();
        std::thread::Builder::new()
            .name("supervisor-save".into())
            .spawn(move || save_loop(&service))?;
    }
    std::thread::Builder::new()
        .name("supervisor".into())
        .spawn(move || {
            if let Err(e) = watch_loop(&service, &shared, &wake) {
                tracing::error!(error = %e, "supervisor stopped");
            }
        })?;
    Ok(())
}

fn watch_loop(
    service: &Arc<Service>,
    shared: &Arc<Mutex<Shared>>,
    wake: &Arc<EventFd>,
) -> std::io::Result<()> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    epoll.add(wake.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, KEY_WAKE))?;
    let _ = std::fs::create_dir_all(netloom_linux::NETNS_RUN_DIR);
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
    inotify.add_watch(netloom_linux::NETNS_RUN_DIR, AddWatchFlags::IN_DELETE)?;
    epoll.add(
        inotify.as_fd(),
        EpollEvent::new(EpollFlags::EPOLLIN, KEY_INOTIFY),
    )?;

    // Repairs a daemon before this one began and never ended: redone
    // whole.
    for (lab, node) in service.store().unfinished_repairs().unwrap_or_default() {
        dispatch_quiet(
            service,
            shared,
            Failure {
                cause: "a repair was under way when the daemon died".to_string(),
                lab,
                node,
                detected: Instant::now(),
                pid: None,
                generation: None,
                unfinished: true,
            },
        );
    }
    let mut watches: HashMap<u64, Watch> = HashMap::new();
    let mut next_key = 0u64;
    let mut rescan_at = Instant::now();
    let mut events = vec![EpollEvent::empty(); 64];
    loop {
        if Instant::now() >= rescan_at {
            let skipped = rescan(service, shared, &epoll, &mut watches, &mut next_key);
            // A lab that was busy is looked at again as soon as it is not.
            rescan_at = Instant::now()
                + if skipped {
                    Duration::from_millis(100)
                } else {
                    RESCAN_EVERY
                };
        }
        let left = rescan_at.saturating_duration_since(Instant::now());
        let timeout = EpollTimeout::try_from(left).unwrap_or(EpollTimeout::NONE);
        let n = match epoll.wait(&mut events, timeout) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        for ev in &events[..n] {
            match ev.data() {
                KEY_WAKE => {
                    let _ = wake.read();
                    take_pending(service, &epoll, &mut watches, &mut next_key);
                    // Look again soon, once a burst of events is over.
                    rescan_at = rescan_at.min(Instant::now() + Duration::from_millis(50));
                }
                KEY_INOTIFY => {
                    let detected = Instant::now();
                    for e in inotify.read_events().unwrap_or_default() {
                        let Some(name) = e.name.as_ref().and_then(|n| n.to_str()) else {
                            continue;
                        };
                        // A standby twin's name goes when it takes over
                        // (or is replaced): not a node's failure.
                        if netloom_linux::is_twin(name) {
                            continue;
                        }
                        if let Some((lab, node)) = parse_netns_name(service.prefix(), name) {
                            dispatch(
                                service,
                                shared,
                                wake,
                                Failure {
                                    lab: lab.to_string(),
                                    node: node.to_string(),
                                    cause: format!("namespace {name} deleted"),
                                    detected,
                                    pid: None,
                                    generation: None,
                                    unfinished: false,
                                },
                            );
                        }
                    }
                }
                key => {
                    let detected = Instant::now();
                    if let Some(w) = watches.remove(&key) {
                        let _ = epoll.delete(&w.fd);
                        dispatch(service, shared, wake, death(w, detected));
                    }
                }
            }
        }
    }
}

/// The failure a watched process's death is.
fn death(w: Watch, detected: Instant) -> Failure {
    Failure {
        cause: format!("{} (pid {}) died", w.what, w.pid),
        lab: w.lab,
        node: w.node,
        detected,
        pid: Some(w.pid),
        generation: Some(w.generation),
        unfinished: false,
    }
}

/// Takes the watches operations opened (see `Service::changed`): a lab's
/// batch replaces its older watches.
fn take_pending(
    service: &Arc<Service>,
    epoll: &Epoll,
    watches: &mut HashMap<u64, Watch>,
    next_key: &mut u64,
) {
    let pending: Vec<crate::heal::NewWatch> =
        std::mem::take(&mut *crate::lock(&service.heal.pending));
    if pending.is_empty() {
        return;
    }
    let mut newest: HashMap<String, u64> = HashMap::new();
    for w in &pending {
        let g = newest.entry(w.lab.clone()).or_default();
        *g = (*g).max(w.generation);
    }
    let fresh: HashSet<(String, String, i32)> = pending
        .iter()
        .filter(|w| newest.get(&w.lab) == Some(&w.generation))
        .map(|w| (w.lab.clone(), w.node.clone(), w.pid))
        .collect();
    // Older watches of those labs: kept (with the new generation) when the
    // process is still one the lab needs, dropped otherwise.
    let mut have = HashSet::new();
    let drop_keys: Vec<u64> = watches
        .iter_mut()
        .filter_map(|(k, w)| {
            let g = newest.get(&w.lab)?;
            let id = (w.lab.clone(), w.node.clone(), w.pid);
            if fresh.contains(&id) {
                w.generation = *g;
                have.insert(id);
                None
            } else {
                Some(*k)
            }
        })
        .collect();
    for k in drop_keys {
        if let Some(w) = watches.remove(&k) {
            let _ = epoll.delete(&w.fd);
        }
    }
    for w in pending {
        let id = (w.lab.clone(), w.node.clone(), w.pid);
        if newest.get(&w.lab) != Some(&w.generation) || have.contains(&id) {
            continue;
        }
        let key = *next_key;
        *next_key += 1;
        if epoll
            .add(w.fd.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, key))
            .is_ok()
        {
            have.insert(id);
            watches.insert(
                key,
                Watch {
                    lab: w.lab,
                    node: w.node,
                    what: w.what,
                    pid: w.pid,
                    fd: w.fd,
                    generation: w.generation,
                },
            );
        }
    }
}

/// Watches every vital process of every running, idle lab; reports nodes
/// that are broken already. True when a lab was skipped (busy).
fn rescan(
    service: &Arc<Service>,
    shared: &Arc<Mutex<Shared>>,
    epoll: &Epoll,
    watches: &mut HashMap<u64, Watch>,
    next_key: &mut u64,
) -> bool {
    let Ok(labs) = service.store().list_labs() else {
        return false;
    };
    let known: HashSet<(String, String, i32)> = watches
        .values()
        .map(|w| (w.lab.clone(), w.node.clone(), w.pid))
        .collect();
    let mut wanted: HashSet<(String, String, i32)> = HashSet::new();
    let mut routers = Vec::new();
    let mut broken = Vec::new();
    let mut busy_labs = HashSet::new();
    for record in &labs {
        if record.state != crate::store::LabState::Running || service.is_busy(&record.name) {
            busy_labs.insert(record.name.clone());
            continue;
        }
        if record.plan.has_patch() && !netloom_linux::ns_exists(&record.plan.patch_netns()) {
            broken.push((
                record.name.clone(),
                netloom_plan::PATCH_NODE.to_string(),
                "patch namespace missing".to_string(),
            ));
        }
        let all = netloom_linux::health::vitals_all(&record.plan.nodes);
        for (node, (alive, dead)) in record.plan.nodes.iter().zip(all) {
            if let Some(frr) = &node.frr {
                routers.push((record.name.clone(), node.name.to_string(), frr.clone()));
            }
            if !netloom_linux::ns_exists(&node.netns) {
                broken.push((
                    record.name.clone(),
                    node.name.to_string(),
                    "namespace missing".to_string(),
                ));
                continue;
            }
            if !dead.is_empty() {
                broken.push((
                    record.name.clone(),
                    node.name.to_string(),
                    format!("{} not running", dead.join(", ")),
                ));
            }
            for v in alive {
                let id = (record.name.clone(), node.name.to_string(), v.pid);
                if !known.contains(&id) {
                    match netloom_linux::health::pidfd(v.pid) {
                        Ok(fd) => {
                            let key = *next_key;
                            *next_key += 1;
                            if epoll
                                .add(fd.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, key))
                                .is_ok()
                            {
                                watches.insert(
                                    key,
                                    Watch {
                                        lab: id.0.clone(),
                                        node: id.1.clone(),
                                        what: v.what.clone(),
                                        pid: v.pid,
                                        fd,
                                        generation: service.heal.generation(&id.0),
                                    },
                                );
                            }
                        }
                        Err(_) => broken.push((
                            id.0.clone(),
                            id.1.clone(),
                            format!("{} (pid {}) died", v.what, v.pid),
                        )),
                    }
                }
                wanted.insert(id);
            }
        }
    }
    // Forget watches of labs and nodes that are gone or changed (a busy
    // lab's watches stay: its processes are being replaced on purpose and
    // their deaths are checked against the node's health).
    let stale: Vec<u64> = watches
        .iter()
        .filter(|(_, w)| {
            !busy_labs.contains(&w.lab) && !wanted.contains(&(w.lab.clone(), w.node.clone(), w.pid))
        })
        .map(|(k, _)| *k)
        .collect();
    // A watched process that died since the last look is a failure even
    // when this scan comes before its pidfd's event (which goes with the
    // watch): dropping it lost the death for good, and an exec process
    // that is gone is not missed by anything else.
    let nodes: HashSet<(&str, &str)> = labs
        .iter()
        .filter(|r| !busy_labs.contains(&r.name))
        .flat_map(|r| {
            r.plan
                .nodes
                .iter()
                .map(move |n| (r.name.as_str(), n.name.as_str()))
        })
        .collect();
    let mut died = Vec::new();
    for k in stale {
        if let Some(w) = watches.remove(&k) {
            let _ = epoll.delete(&w.fd);
            if nodes.contains(&(w.lab.as_str(), w.node.as_str()))
                && !netloom_linux::health::alive(w.pid)
            {
                died.push(w);
            }
        }
    }
    let seen = Instant::now();
    for w in died {
        dispatch_quiet(service, shared, death(w, seen));
    }
    {
        let mut s = crate::lock(shared);
        s.routers = routers;
        // A lab destroyed or deployed anew starts without crash loops.
        let created: HashMap<&str, i64> = labs
            .iter()
            .map(|r| (r.name.as_str(), r.created_at))
            .collect();
        s.looping
            .retain(|(lab, _), at| created.get(lab.as_str()) == Some(at));
        s.history
            .retain(|(lab, _), _| created.contains_key(lab.as_str()));
    }
    let detected = Instant::now();
    let deferred: Vec<Failure> = std::mem::take(&mut crate::lock(shared).deferred);
    for f in deferred {
        dispatch_quiet(service, shared, f);
    }
    let skipped = labs
        .iter()
        .any(|r| r.state == crate::store::LabState::Running && busy_labs.contains(&r.name));
    for (lab, node, cause) in broken {
        dispatch_quiet(
            service,
            shared,
            Failure {
                lab,
                node,
                cause,
                detected,
                pid: None,
                generation: None,
                unfinished: false,
            },
        );
    }
    skipped
}

/// Like [`dispatch`], for what a rescan found (no wake-up needed: the
/// repair's events wake the supervisor).
fn dispatch_quiet(service: &Arc<Service>, shared: &Arc<Mutex<Shared>>, f: Failure) {
    start_repair(service, shared, None, f);
}

fn dispatch(service: &Arc<Service>, shared: &Arc<Mutex<Shared>>, wake: &Arc<EventFd>, f: Failure) {
    start_repair(service, shared, Some(wake.clone()), f);
}

fn start_repair(
    service: &Arc<Service>,
    shared: &Arc<Mutex<Shared>>,
    wake: Option<Arc<EventFd>>,
    f: Failure,
) {
    let key = (f.lab.clone(), f.node.clone());
    let backoff = {
        let mut s = crate::lock(shared);
        if s.looping.contains_key(&key) {
            return;
        }
        // While the lab changes, or the node is being repaired, look later
        // (a repair then checks whether the failure was the change itself).
        // A failure seen just as a repair ends (its `recovered` event is
        // written, the node is not released yet) is the next one, not
        // part of it: dropping it lost it for good.
        if s.in_flight.contains(&key) || service.is_busy(&f.lab) {
            s.deferred.push(f);
            return;
        }
        // Only repairs tried count (a failure that turns out to be a change
        // netloom made, or already mended, does not).
        let now = Instant::now();
        let history = s.history.entry(key.clone()).or_default();
        while history
            .front()
            .is_some_and(|t| now.duration_since(*t) > LOOP_WINDOW)
        {
            history.pop_front();
        }
        let prior = history.len();
        if prior + 1 >= LOOP_LIMIT && service.still_failed(&f) {
            let created = service
                .store()
                .get_lab(&f.lab)
                .ok()
                .flatten()
                .map_or(0, |r| r.created_at);
            s.looping.insert(key.clone(), created);
            service.heal.count("crash_loop");
            let _ = service.store().add_event(
                &f.lab,
                Some(&f.node),
                "crash-loop",
                &format!(
                    "{} failures within {} s (last: {}); no more repairs until the lab is redeployed",
                    prior + 1,
                    LOOP_WINDOW.as_secs(),
                    f.cause
                ),
            );
            return;
        }
        s.in_flight.insert(key.clone());
        // The first repair at once; then 1 s, 2 s, 4 s.
        if prior == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(1 << (prior - 1).min(5))
        }
    };
    let service = service.clone();
    let shared_t = shared.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("repair-{}", f.node))
        .spawn(move || {
            // No back-off for what is no failure (any more): a death the
            // last repair caused, a node already mended.
            if !backoff.is_zero() && service.still_failed(&f) {
                std::thread::sleep(backoff);
            }
            let began = Instant::now();
            let repaired = service.repair(&f);
            let again: Vec<Failure> = {
                let mut s = crate::lock(&shared_t);
                let key = (f.lab.clone(), f.node.clone());
                s.in_flight.remove(&key);
                // Repairs done and repairs that failed count; failures
                // that were none (a change, already mended) do not.
                if matches!(repaired, Ok(Some(_)) | Err(_)) {
                    s.history.entry(key).or_default().push_back(Instant::now());
                }
                // Failures of this node seen during the repair are looked
                // at now (the repair tells those it caused from new ones).
                let (mine, rest): (Vec<Failure>, Vec<Failure>) = std::mem::take(&mut s.deferred)
                    .into_iter()
                    .partition(|d| d.lab == f.lab && d.node == f.node);
                s.deferred = rest;
                // Those seen before it began are mended by it: it looked at
                // the whole node and restarted or rebuilt it. A frozen
                // router is seen once per silent daemon; repairing each
                // restarted the healthy new FRR twice more, 1 s and 2 s
                // later (bench/recovery: data plane back 1.3 s after a
                // freeze instead of 0.18 s).
                let mended = matches!(repaired, Ok(Some(_)));
                mine.into_iter()
                    .filter(|d| !(mended && d.detected < began))
                    .collect()
            };
            for d in again {
                start_repair(&service, &shared_t, wake.clone(), d);
            }
            if let Some(w) = &wake {
                let _ = w.write(1);
            }
            match repaired {
                Ok(Some(r)) => {
                    tracing::info!(lab = %r.lab, node = %r.node, action = %r.action, ms = r.data_plane_ms, "repaired");
                    service.await_routing(&f, Duration::from_secs(60));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(lab = %f.lab, node = %f.node, error = %e, "repair failed"),
            }
        });
    if spawned.is_err() {
        crate::lock(shared).in_flight.remove(&key);
    }
}

/// How often running configurations are saved in the store
/// (`NETLOOM_SAVE_EVERY` seconds; 0 turns it off).
fn save_every() -> Option<Duration> {
    let secs = std::env::var("NETLOOM_SAVE_EVERY")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(300);
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// Saves every idle running lab's router configurations now and then, so
/// that a repair restores what the routers ran shortly before, not only
/// what was saved by hand.
fn save_loop(service: &Arc<Service>) {
    let Some(every) = save_every() else {
        return;
    };
    loop {
        std::thread::sleep(every);
        let Ok(labs) = service.store().list_labs() else {
            continue;
        };
        for r in labs {
            if r.state == crate::store::LabState::Running && !service.is_busy(&r.name) {
                if let Err(e) = service.save_quietly(&r.name) {
                    tracing::warn!(lab = %r.name, error = %e, "periodic save failed");
                }
            }
        }
    }
}

/// Probes run this many at a time (a hung daemon costs its probe the
/// whole timeout).
const PROBE_WORKERS: usize = 16;

/// Asks every FRR daemon of every running router whether it answers.
fn probe_loop(service: &Arc<Service>, shared: &Arc<Mutex<Shared>>, wake: &Arc<EventFd>) {
    let mut misses: HashMap<(String, String, String), u32> = HashMap::new();
    loop {
        std::thread::sleep(PROBE_EVERY);
        let routers = crate::lock(shared).routers.clone();
        let targets: Vec<(String, String, String, netloom_plan::FrrPlan)> = routers
            .into_iter()
            .filter(|(lab, _, _)| !service.is_busy(lab))
            .flat_map(|(lab, node, frr)| {
                frr.daemons
                    .clone()
                    .into_iter()
                    .map(move |d| (lab.clone(), node.clone(), d, frr.clone()))
            })
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        // Per target: Some(true) answered, Some(false) silent, None absent.
        let answers: Vec<Mutex<Option<bool>>> = targets.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..PROBE_WORKERS.min(targets.len()) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((_, _, daemon, frr)) = targets.get(i) else {
                        break;
                    };
                    let answer = match netloom_linux::health::vty_probe(frr, daemon, PROBE_TIMEOUT)
                    {
                        Ok(()) => Some(true),
                        Err(e)
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::TimedOut =>
                        {
                            Some(false)
                        }
                        // Not there at all: the pidfd watch reports deaths.
                        Err(_) => None,
                    };
                    *crate::lock(&answers[i]) = answer;
                });
            }
        });
        let mut seen = HashSet::new();
        for ((lab, node, daemon, _), answer) in targets.iter().zip(&answers) {
            let key = (lab.clone(), node.clone(), daemon.clone());
            seen.insert(key.clone());
            match *crate::lock(answer) {
                Some(false) => {
                    let m = misses.entry(key).or_default();
                    *m += 1;
                    if *m >= PROBE_MISSES {
                        *m = 0;
                        dispatch(
                            service,
                            shared,
                            wake,
                            Failure {
                                lab: lab.clone(),
                                node: node.clone(),
                                cause: format!(
                                    "{daemon} does not answer (hung: {PROBE_MISSES} probes of {} s)",
                                    PROBE_TIMEOUT.as_secs()
                                ),
                                detected: Instant::now(),
                                pid: None,
                                generation: None,
                                unfinished: false,
                            },
                        );
                    }
                }
                _ => {
                    misses.remove(&key);
                }
            }
        }
        misses.retain(|k, _| seen.contains(k));
    }
}
