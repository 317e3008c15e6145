//! `netloom link set|up|down`: live changes of a running link.

use crate::client::Client;
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use netloom_daemon::service::{LabView, LinkChange, LinkView};
use netloom_model::{Impairments, Loss, Ppm};
use netloom_spec::units;

#[derive(Subcommand)]
pub enum LinkCmd {
    /// Change impairments of a link (emulated links only); what is not
    /// given stays as it is.
    Set(SetArgs),
    /// Bring a link up (carrier on both ends).
    Up(StateArgs),
    /// Take a link down (carrier off on both ends, or one way with
    /// `--one-way`).
    Down(StateArgs),
}

#[derive(Args)]
pub struct Target {
    /// The lab, needed when several labs are up.
    #[arg(long)]
    pub name: Option<String>,
    /// One end of the link: NODE:INTERFACE.
    pub endpoint: String,
    /// Only the direction leaving this endpoint.
    #[arg(long)]
    pub one_way: bool,
}

#[derive(Args)]
pub struct StateArgs {
    #[command(flatten)]
    pub target: Target,
}

#[derive(Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub target: Target,
    /// One-way delay (`20ms`, `500us`, `1.5s`).
    #[arg(long, allow_hyphen_values = true)]
    pub delay: Option<String>,
    /// Jitter of the delay (packets keep their order unless `--reorder`).
    #[arg(long, allow_hyphen_values = true)]
    pub jitter: Option<String>,
    /// Let jitter reorder packets (`true`/`false`).
    #[arg(long)]
    pub reorder: Option<bool>,
    /// Random loss (`1%`).
    #[arg(long, conflicts_with = "gilbert", allow_hyphen_values = true)]
    pub loss: Option<String>,
    /// Bursty Gilbert-Elliott loss: `P,R` (good->bad, bad->good), e.g.
    /// `1%,25%` (every packet in the bad state is lost).
    #[arg(long, allow_hyphen_values = true)]
    pub gilbert: Option<String>,
    /// Duplicate packets (`0.5%`).
    #[arg(long, allow_hyphen_values = true)]
    pub duplicate: Option<String>,
    /// Corrupt packets (one flipped bit) (`0.1%`).
    #[arg(long, allow_hyphen_values = true)]
    pub corrupt: Option<String>,
    /// Rate limit (`50mbit`, `1gbit`, `512kbit`).
    #[arg(long, allow_hyphen_values = true)]
    pub rate: Option<String>,
    /// Queue in front of the rate limit: packets (`100`) or bytes (`64kb`).
    #[arg(long, allow_hyphen_values = true)]
    pub queue: Option<String>,
}

fn opt<T>(v: &Option<String>, f: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>> {
    v.as_deref()
        .map(|s| f(s).map_err(|e| anyhow!("{e}")))
        .transpose()
}

impl SetArgs {
    fn impairments(&self) -> Result<Impairments> {
        let loss = match (&self.loss, &self.gilbert) {
            (Some(l), _) => Some(Loss::Random {
                p: units::percent("--loss", l).map_err(|e| anyhow!("{e}"))?,
            }),
            (None, Some(g)) => {
                let (p, r) = g
                    .split_once(',')
                    .ok_or_else(|| anyhow!("--gilbert takes `P,R`, e.g. `1%,25%`; got `{g}`"))?;
                Some(Loss::Gilbert {
                    p: units::percent("--gilbert P", p.trim()).map_err(|e| anyhow!("{e}"))?,
                    r: units::percent("--gilbert R", r.trim()).map_err(|e| anyhow!("{e}"))?,
                    h: Ppm::ONE,
                    k: Ppm::ZERO,
                })
            }
            (None, None) => None,
        };
        let imp = Impairments {
            delay_ns: opt(&self.delay, |s| units::duration("--delay", s))?,
            jitter_ns: opt(&self.jitter, |s| units::duration("--jitter", s))?,
            reorder: self.reorder,
            loss,
            duplicate: opt(&self.duplicate, |s| units::percent("--duplicate", s))?,
            corrupt: opt(&self.corrupt, |s| units::percent("--corrupt", s))?,
            rate_bps: opt(&self.rate, |s| units::rate("--rate", s))?,
            queue: opt(&self.queue, |s| units::queue("--queue", s))?,
        };
        if imp.is_empty() {
            bail!("say what to change: --delay, --jitter, --loss, --gilbert, --duplicate, --corrupt, --rate, --queue or --reorder");
        }
        netloom_plan::check_impairments(&imp).map_err(|e| anyhow!("{e}"))?;
        Ok(imp)
    }
}

pub fn run(cmd: LinkCmd) -> Result<()> {
    let (target, change) = match cmd {
        LinkCmd::Set(args) => {
            let set = args.impairments()?;
            (
                args.target,
                LinkChange {
                    set,
                    up: None,
                    one_way: false,
                },
            )
        }
        LinkCmd::Up(a) => (
            a.target,
            LinkChange {
                up: Some(true),
                ..Default::default()
            },
        ),
        LinkCmd::Down(a) => (
            a.target,
            LinkChange {
                up: Some(false),
                ..Default::default()
            },
        ),
    };
    let change = LinkChange {
        one_way: target.one_way,
        ..change
    };
    if !target.endpoint.contains(':') {
        bail!("`{}` is not NODE:INTERFACE", target.endpoint);
    }
    let client = Client::connect_or_start()?;
    let endpoint = target.endpoint.as_str();
    let lab = client
        .pick_lab(
            target.name.as_deref(),
            &format!("link at `{endpoint}`"),
            |l| l.links.iter().any(|k| k.a == endpoint || k.b == endpoint),
        )?
        .name;
    let view: LinkView = client.patch(
        &format!("/api/v1/labs/{lab}/links/{}", target.endpoint),
        &change,
    )?;
    let lab_view = LabView {
        name: lab,
        links: vec![view],
        ..empty_lab()
    };
    print!("{}", crate::table::links(&[lab_view]));
    Ok(())
}

fn empty_lab() -> LabView {
    LabView {
        name: String::new(),
        state: netloom_daemon::store::LabState::Running,
        prefix: String::new(),
        source: None,
        created_at: 0,
        nodes: Vec::new(),
        links: Vec::new(),
    }
}
