//! `netloom wait` and `netloom deploy --wait`: until a lab's routing has
//! converged (every router ready, see `netloom_daemon::routing`) and its
//! routes have stopped changing.

use crate::client::Client;
use anyhow::{bail, Result};
use netloom_daemon::routing::LabRouting;
use std::time::{Duration, Instant};

/// How often the daemon is asked.
const POLL: Duration = Duration::from_millis(500);

/// How long a wait lasts unless told.
const DEFAULT_TIMEOUT_S: f64 = 120.0;

/// How many routers a timeout names.
const NAME_ON_TIMEOUT: usize = 10;

/// How long to wait, and for how long routes must stay unchanged.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct WaitFor {
    /// Give up after this many seconds [default: 120].
    #[arg(long = "timeout", value_parser = seconds)]
    pub timeout: Option<f64>,
    /// Seconds every router's routes must stay unchanged, once all are
    /// ready, before the lab counts as converged [default: 2, or a second
    /// more than the longest LSA hold-back of an OSPF router (6 with FRR's
    /// default timers) or, while a BGP session is young, than its
    /// router's coalesce time (1 s plus 50 ms per peer, at most 10 s)].
    #[arg(long = "settle", value_parser = seconds)]
    pub settle: Option<f64>,
}

impl WaitFor {
    /// Whether `--timeout` or `--settle` was given.
    pub fn given(&self) -> bool {
        self.timeout.is_some() || self.settle.is_some()
    }
}

fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim_end_matches('s')
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(0.0..=86_400.0).contains(&v) {
        return Err(format!("`{s}` is not between 0 and 86400 seconds"));
    }
    Ok(v)
}

/// Waits until `lab`'s routing has converged; returns the last report
/// and how long it took (counted from `since`). On timeout, the error
/// names the routers that are not ready and why.
pub fn converge(
    client: &Client,
    lab: &str,
    wait: WaitFor,
    since: Instant,
) -> Result<(LabRouting, Duration)> {
    let start = Instant::now();
    let timeout_s = wait.timeout.unwrap_or(DEFAULT_TIMEOUT_S);
    let timeout = Duration::from_secs_f64(timeout_s);
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} routing of {prefix}: {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_prefix(lab.to_string());
    // The fingerprint seen while every router was ready, and since when.
    let mut stable: Option<(String, Instant)> = None;
    loop {
        let asked = Instant::now();
        let report: LabRouting = client.get(&format!("/api/v1/labs/{lab}/routing"))?;
        let now = Instant::now();
        if report.routers_total == 0 {
            // Nothing routes: nothing to wait for.
            bar.finish_and_clear();
            return Ok((report, now.duration_since(since)));
        }
        let settle_s = wait.settle.unwrap_or(report.settle_s);
        let settle = Duration::from_secs_f64(settle_s);
        if report.converged {
            match &stable {
                Some((fp, t)) if *fp == report.fingerprint => {
                    if now - *t >= settle {
                        bar.finish_and_clear();
                        // Converged when the routes last changed.
                        return Ok((report, t.duration_since(since)));
                    }
                }
                _ => stable = Some((report.fingerprint.clone(), now)),
            }
            bar.set_message(format!(
                "all {} routers ready, routes settling",
                report.routers_total
            ));
        } else {
            stable = None;
            let first = report.not_ready(1).pop().unwrap_or_default();
            bar.set_message(format!(
                "{}/{} routers ready ({first})",
                report.ready, report.routers_total
            ));
        }
        if now - start >= timeout {
            bar.finish_and_clear();
            let mut msg =
                format!("the routing of lab {lab} did not converge within {timeout_s} s: ");
            if report.converged {
                msg.push_str(&format!(
                    "every router is ready but routes were still changing (wanted {settle_s} s without a change)"
                ));
            } else {
                msg.push_str(&format!(
                    "{} of {} routers not ready",
                    report.routers_total - report.ready,
                    report.routers_total
                ));
                for line in report.not_ready(NAME_ON_TIMEOUT) {
                    msg.push_str(&format!("\n  {line}"));
                }
                let unnamed = report.routers_total - report.ready;
                if unnamed > NAME_ON_TIMEOUT {
                    msg.push_str(&format!("\n  ... and {} more", unnamed - NAME_ON_TIMEOUT));
                }
            }
            bail!(msg);
        }
        // A slow answer (a large lab) means a longer pause: the daemon
        // spends at most half the time answering.
        let took = now - asked;
        std::thread::sleep(POLL.saturating_sub(took).max(took));
    }
}

/// `routing of lab clos converged 8.41 s after the deploy began: 6
/// routers, 16 BGP sessions up, 24 routes with several next hops`.
pub fn summary(report: &LabRouting, took: Duration, after: &str) -> String {
    if report.routers_total == 0 {
        return format!("lab {} has no routers: no routing to wait for", report.lab);
    }
    let sum = |f: fn(&netloom_daemon::routing::RouterRouting) -> usize| -> usize {
        report.routers.iter().map(f).sum()
    };
    let bgp = sum(|r| r.bgp.as_ref().map_or(0, |s| s.up));
    let ospf = sum(|r| r.ospf.as_ref().map_or(0, |s| s.up));
    let ecmp = sum(|r| r.ecmp_routes);
    let mut parts = vec![format!("{} routers", report.routers_total)];
    if bgp > 0 {
        parts.push(format!("{bgp} BGP sessions up"));
    }
    if ospf > 0 {
        parts.push(format!("{ospf} OSPF adjacencies up"));
    }
    parts.push(format!("{ecmp} routes with several next hops"));
    format!(
        "routing of lab {} converged {:.2} s after {after}: {}",
        report.lab,
        took.as_secs_f64(),
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_take_a_plain_number_or_a_trailing_s() {
        assert_eq!(seconds("90"), Ok(90.0));
        assert_eq!(seconds("2.5s"), Ok(2.5));
        assert!(seconds("-1").unwrap_err().contains("between 0 and"));
        assert!(seconds("soon").unwrap_err().contains("not a number"));
    }
}
