//! `netloom`: the command line. Every lab operation goes through the daemon's
//! HTTP API (started on demand); `exec` and `console` enter the node's
//! namespaces directly so that TTYs and exit codes behave like a local
//! program's.

mod client;
use netloom_linux::enter;
mod generate;
mod link;
mod table;
mod wait;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use client::Client;
use netloom_daemon::api::{CleanupRequest, DeployEvent};
use netloom_daemon::service::{CleanupView, LabView};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "netloom",
    version,
    about = "Emulated networks of real software, on one Linux machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Bring a lab up from a topology file.
    Deploy {
        /// Topology file (netloom or containerlab format).
        #[arg(short = 't', long = "topo")]
        topo: PathBuf,
        /// Destroy the lab first if it is already deployed.
        #[arg(long)]
        reconfigure: bool,
        /// Then wait until its routing has converged (as `netloom wait`;
        /// `--timeout` and `--settle` apply).
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        wait_for: wait::WaitFor,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Wait until a lab's routing has converged: every router's BGP and
    /// OSPF sessions up, a route to every loopback and host segment of a
    /// planned fabric, and no route changing for `--settle` seconds.
    Wait {
        #[arg(long)]
        name: Option<String>,
        #[arg(short = 't', long = "topo", conflicts_with = "name")]
        topo: Option<PathBuf>,
        #[command(flatten)]
        wait_for: wait::WaitFor,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Tear labs down, leaving nothing behind.
    Destroy {
        /// The lab named in this topology file.
        #[arg(short = 't', long = "topo", conflicts_with_all = ["name", "all"])]
        topo: Option<PathBuf>,
        /// The lab with this name.
        #[arg(long, conflicts_with = "all")]
        name: Option<String>,
        /// Every lab of this daemon.
        #[arg(long)]
        all: bool,
        /// Also remove leftovers of crashed deploys or daemons, found by
        /// their ownership mark.
        #[arg(long)]
        cleanup: bool,
    },
    /// Show labs, their nodes and interfaces.
    Inspect {
        #[arg(long)]
        name: Option<String>,
        #[arg(short = 't', long = "topo", conflicts_with = "name")]
        topo: Option<PathBuf>,
        /// Show links: mode, effective properties per direction and where
        /// they came from, state, counters.
        #[arg(long)]
        links: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Run a command inside a node; its exit code becomes netloom's.
    Exec {
        /// The lab, needed when several labs have a node of this name.
        #[arg(long)]
        name: Option<String>,
        node: String,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// An interactive shell inside a node (a root shell: treat it as one).
    Console {
        #[arg(long)]
        name: Option<String>,
        node: String,
        /// Program to run instead of $SHELL (e.g. vtysh).
        #[arg(long)]
        shell: Option<String>,
    },
    /// Capture the packets of an interface to a pcapng file (both link
    /// kinds); Ctrl-C stops cleanly.
    Capture {
        #[arg(long)]
        name: Option<String>,
        /// NODE:INTERFACE
        endpoint: String,
        /// Output file; `-` writes to stdout (`| tshark -r -`, `| wireshark -k -i -`).
        #[arg(short = 'w', long = "write")]
        write: String,
        /// Stop after this many packets.
        #[arg(short = 'c', long)]
        count: Option<u64>,
        /// A capture filter in BPF syntax (`icmp`, `tcp port 179`).
        filter: Vec<String>,
    },
    /// Change a running link: impairments, up, down.
    Link {
        #[command(subcommand)]
        action: link::LinkCmd,
    },
    /// Write a topology file for a common shape (with routing intent).
    Generate {
        #[command(subcommand)]
        shape: GenerateShape,
        /// Write to this file instead of stdout.
        #[arg(short = 'o', long, global = true)]
        output: Option<PathBuf>,
    },
    /// Print a router's rendered FRR configuration: of a deployed lab, or
    /// of a topology file without deploying it (`-t`).
    Config {
        #[arg(long, conflicts_with = "topo")]
        name: Option<String>,
        #[arg(short = 't', long = "topo")]
        topo: Option<PathBuf>,
        node: String,
    },
    /// Show what a deploy of FILE would create and, when the lab is
    /// running, what would change.
    Plan {
        #[arg(short = 't', long = "topo")]
        topo: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Change a running lab to match its edited topology file: only what
    /// differs is created, removed or retuned; the rest keeps running.
    Apply {
        #[arg(short = 't', long = "topo")]
        topo: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Write a running lab (live changes included) as a topology file.
    Export {
        /// The lab (needed when several run).
        #[arg(long)]
        name: Option<String>,
        /// File to write; standard output when absent.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Print a one-time link that opens the web page logged in.
    Web,
    /// Print the JSON Schema of the topology file format.
    Schema,
    /// Print the version.
    Version,
    /// Recent events of the daemon.
    Events {
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Keep printing events as they happen (Ctrl-C stops).
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// Save every router's running configuration: in the daemon (what a
    /// repair restores) and next to the topology file.
    Save {
        #[arg(long)]
        name: Option<String>,
    },
    /// Break a node on purpose; the supervisor notices and repairs it.
    Fail {
        #[arg(long)]
        name: Option<String>,
        node: String,
        /// kill: SIGKILL its processes; freeze: SIGSTOP them (a hung
        /// device); netns: delete its namespace.
        #[arg(long, default_value = "kill", value_parser = ["kill", "freeze", "netns"])]
        mode: String,
    },
    /// Recovery figures (Prometheus text, as `/metrics` serves them).
    Metrics,
    /// Inject failures at a steady rate on seeded random nodes (the daemon
    /// runs it; this command follows it until it ends).
    Chaos {
        #[arg(long)]
        name: Option<String>,
        /// N/DURATION: N failures per DURATION.
        #[arg(long, default_value = "1/10s")]
        rate: String,
        #[arg(long, default_value = "10m")]
        duration: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Only nodes with this label (`role=leaf`) or kind (`kind=router`).
        #[arg(long)]
        select: Option<String>,
        /// Failure modes to draw from.
        #[arg(long, value_delimiter = ',', default_value = "kill,netns")]
        modes: Vec<String>,
        /// Stop the lab's chaos run instead.
        #[arg(long)]
        stop: bool,
    },
    /// Run the daemon in the foreground (deploy starts it when needed).
    Serve {
        /// Address to listen on; loopback unless you mean otherwise.
        #[arg(long, env = "NETLOOM_LISTEN")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Manage the background daemon.
    Daemon {
        #[command(subcommand)]
        action: DaemonAction,
    },
}

#[derive(Subcommand)]
enum GenerateShape {
    /// A leaf-spine fabric: every leaf linked to every spine, hosts on
    /// leaves.
    Clos(generate::Clos),
}

#[derive(Subcommand)]
enum DaemonAction {
    /// Is a daemon running? Prints its pid and address.
    Status,
    /// Stop the daemon; running labs keep running.
    Stop,
}

fn main() -> ExitCode {
    reset_sigpipe();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Let a closed stdout end us quietly, like other Unix tools.
fn reset_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    #[allow(unsafe_code)]
    // SAFETY: restoring the default disposition of SIGPIPE at start-up,
    // before any thread exists, installs no Rust handler.
    unsafe {
        let _ = signal(Signal::SIGPIPE, SigHandler::SigDfl);
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Cmd::Deploy {
            topo,
            reconfigure,
            wait,
            wait_for,
            format,
        } => {
            if !wait && wait_for.given() {
                bail!("--timeout and --settle say how to wait: add --wait");
            }
            deploy(&topo, reconfigure, wait.then_some(wait_for), format)
        }
        Cmd::Wait {
            name,
            topo,
            wait_for,
            format,
        } => {
            let name = match topo {
                Some(t) => Some(lab_name_of(&t)?),
                None => name,
            };
            wait_cmd(name, wait_for, format)
        }
        Cmd::Destroy {
            topo,
            name,
            all,
            cleanup,
        } => destroy(topo.as_deref(), name, all, cleanup),
        Cmd::Inspect {
            name,
            topo,
            links,
            format,
        } => {
            let name = match topo {
                Some(t) => Some(lab_name_of(&t)?),
                None => name,
            };
            inspect(name, links, format)
        }
        Cmd::Exec {
            name,
            node,
            command,
        } => exec(name, &node, &command),
        Cmd::Console { name, node, shell } => console(name, &node, shell),
        Cmd::Capture {
            name,
            endpoint,
            write,
            count,
            filter,
        } => capture(
            name,
            &endpoint,
            &write,
            (!filter.is_empty()).then(|| filter.join(" ")),
            count,
        ),
        Cmd::Link { action } => {
            link::run(action)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Generate { shape, output } => {
            let text = match shape {
                GenerateShape::Clos(c) => generate::clos(&c).map_err(|e| anyhow!("{e}"))?,
            };
            match output {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Config { name, topo, node } => config(name, topo.as_deref(), &node),
        Cmd::Plan { topo, format } => plan_cmd(&topo, format),
        Cmd::Apply { topo, format } => apply(&topo, format),
        Cmd::Export { name, output } => export(name, output.as_deref()),
        Cmd::Web => {
            let client = Client::connect_or_start()?;
            let link: netloom_daemon::auth::LoginLink =
                client.post("/api/v1/login-links", &serde_json::json!({}))?;
            println!("{}", link.url);
            eprintln!("(valid once, for 10 minutes)");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&netloom_spec::json_schema())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Version => {
            println!("netloom {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Events {
            name,
            format,
            follow,
        } => events(name, format, follow),
        Cmd::Save { name } => {
            let client = Client::connect_or_start()?;
            let lab = client.pick_lab(name.as_deref(), "a lab", |_| true)?.name;
            let saved: netloom_daemon::heal::Saved =
                client.post(&format!("/api/v1/labs/{lab}/save"), &serde_json::json!({}))?;
            println!(
                "saved {} router configurations of lab `{lab}`{}",
                saved.nodes.len(),
                saved
                    .dir
                    .as_ref()
                    .map(|d| format!(" (also in {d})"))
                    .unwrap_or_default()
            );
            for f in &saved.failed {
                eprintln!("not saved: {f}");
            }
            Ok(if saved.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Cmd::Fail { name, node, mode } => {
            let client = Client::connect_or_start()?;
            let lab = client
                .pick_lab(name.as_deref(), &format!("node `{node}`"), |l| {
                    l.nodes.iter().any(|n| n.name == node)
                })?
                .name;
            let done: netloom_daemon::heal::Failed = client.post(
                &format!("/api/v1/labs/{lab}/nodes/{node}/fail"),
                &serde_json::json!({ "mode": mode }),
            )?;
            println!("{node}: {}", done.done);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Chaos {
            name,
            rate,
            duration,
            seed,
            select,
            modes,
            stop,
        } => {
            let client = Client::connect_or_start()?;
            let lab = client.pick_lab(name.as_deref(), "a lab", |_| true)?.name;
            let path = format!("/api/v1/labs/{lab}/chaos");
            if stop {
                let v: netloom_daemon::chaos::ChaosView = client.delete(&path)?;
                println!(
                    "chaos run on `{lab}` stopped after {} failures",
                    v.injections.len()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let v: netloom_daemon::chaos::ChaosView = client.post(
                &path,
                &serde_json::json!({
                    "rate": rate, "duration": duration, "seed": seed,
                    "select": select, "modes": modes,
                }),
            )?;
            eprintln!(
                "chaos on `{lab}`: a failure every {:.1} s for {:.0} s among {} nodes (seed {seed}); Ctrl-C leaves it running, `netloom chaos --stop` ends it",
                v.interval_ms as f64 / 1e3,
                v.duration_ms as f64 / 1e3,
                v.nodes.len()
            );
            let mut shown = 0;
            loop {
                std::thread::sleep(std::time::Duration::from_millis(500));
                let v: netloom_daemon::chaos::ChaosView = client.get(&path)?;
                for i in &v.injections[shown..] {
                    println!(
                        "{:>8.1} s  {:<12} {:<7} {}",
                        i.at_ms as f64 / 1e3,
                        i.node,
                        i.mode,
                        i.result
                    );
                }
                shown = v.injections.len();
                if !v.running {
                    println!("{shown} failures injected");
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
        Cmd::Metrics => {
            let client = Client::connect_or_start()?;
            print!("{}", client.get_text("/metrics")?);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Serve { listen } => serve(listen),
        Cmd::Daemon { action } => daemon(action),
    }
}

fn serve(listen: Option<std::net::SocketAddr>) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NETLOOM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut cfg = netloom_daemon::Config::from_env();
    if let Some(l) = listen {
        cfg.listen = l;
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(netloom_daemon::serve(cfg))?;
    Ok(ExitCode::SUCCESS)
}

fn daemon(action: DaemonAction) -> Result<ExitCode> {
    let Some(c) = Client::connect_existing()? else {
        println!(
            "no netloom daemon is running for {}",
            client::home().display()
        );
        return Ok(ExitCode::from(match action {
            DaemonAction::Status => 3,
            DaemonAction::Stop => 0,
        }));
    };
    match action {
        DaemonAction::Status => {
            println!("netloom daemon pid {} on {}", c.info.pid, c.info.addr);
        }
        DaemonAction::Stop => {
            c.stop()?;
            println!("stopped netloom daemon pid {}", c.info.pid);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads a topology file, printing warnings; errors become one message.
fn load(path: &Path) -> Result<netloom_model::Topology> {
    match netloom_spec::load_file(path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("{}", w.render());
            }
            Ok(loaded.topology)
        }
        Err(diags) => {
            eprint!("{diags}");
            let n = diags
                .0
                .iter()
                .filter(|d| d.severity == netloom_spec::Severity::Error)
                .count();
            bail!(
                "{} has {n} error{}; nothing was deployed",
                path.display(),
                if n == 1 { "" } else { "s" }
            )
        }
    }
}

/// The lab name of a topology file, even when the rest of it is invalid.
fn lab_name_of(path: &Path) -> Result<String> {
    if let Ok(loaded) = netloom_spec::load_file(path) {
        return Ok(loaded.topology.name.to_string());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("name:"))
        .map(|n| n.trim().trim_matches(['"', '\'']).to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| anyhow!("{} has no top-level `name:`", path.display()))
}

fn wait_cmd(name: Option<String>, wait_for: wait::WaitFor, format: Format) -> Result<ExitCode> {
    let client = Client::connect_or_start()?;
    let lab = client.pick_lab(name.as_deref(), "router", |l| {
        l.nodes
            .iter()
            .any(|n| n.kind == netloom_model::NodeKind::Router)
    })?;
    let (report, took) = wait::converge(&client, &lab.name, wait_for, std::time::Instant::now())?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => println!("{}", wait::summary(&report, took, "the wait began")),
    }
    Ok(ExitCode::SUCCESS)
}

fn deploy(
    path: &Path,
    reconfigure: bool,
    wait_for: Option<wait::WaitFor>,
    format: Format,
) -> Result<ExitCode> {
    let topo = load(path)?;
    let client = Client::connect_or_start()?;
    let lab = topo.name.to_string();
    if reconfigure {
        let known: Vec<LabView> = client.get("/api/v1/labs")?;
        if known.iter().any(|l| l.name == lab) {
            client.delete::<serde_json::Value>(&format!("/api/v1/labs/{lab}"))?;
        }
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} deploying {prefix} [{bar:30}] {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(lab.clone());
    let started = std::time::Instant::now();
    let mut outcome: Option<std::result::Result<LabView, (String, String)>> = None;
    client.deploy_stream(&serde_json::json!({ "topology": topo }), |ev| match ev {
        DeployEvent::Progress(p) => {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
            bar.set_message(format!("{}: {} {}", p.phase, p.node, p.step));
        }
        DeployEvent::Done { lab } => outcome = Some(Ok(*lab)),
        DeployEvent::Error(e) => outcome = Some(Err((e.code, e.message))),
    })?;
    bar.finish_and_clear();
    match outcome {
        Some(Ok(view)) => {
            eprintln!(
                "deployed lab {} ({} nodes, {} links) in {:.2} s",
                view.name,
                view.nodes.len(),
                view.links.len(),
                started.elapsed().as_secs_f64()
            );
            if let Some(w) = wait_for {
                let (report, took) = wait::converge(&client, &view.name, w, started)?;
                eprintln!("{}", wait::summary(&report, took, "the deploy began"));
            }
            print_labs(&[view], format)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Err((code, msg))) if code == "deploy_failed" => {
            bail!("{msg}\nnothing of lab {lab} was left behind")
        }
        Some(Err((_, msg))) => bail!("{msg}"),
        None => bail!("the daemon ended the deploy stream without a result; see its log"),
    }
}

fn destroy(
    topo: Option<&Path>,
    name: Option<String>,
    all: bool,
    cleanup: bool,
) -> Result<ExitCode> {
    let name = match topo {
        Some(t) => Some(lab_name_of(t)?),
        None => name,
    };
    if name.is_none() && !all && !cleanup {
        bail!("say which lab: -t FILE, --name LAB, --all, or --cleanup for leftovers");
    }
    let client = Client::connect_or_start()?;
    let known: Vec<LabView> = client.get("/api/v1/labs")?;
    let targets: Vec<String> = match (&name, all) {
        (Some(n), _) => {
            if !known.iter().any(|l| &l.name == n) && !cleanup {
                bail!("lab `{n}` is not deployed (add --cleanup to remove its leftovers)");
            }
            known
                .iter()
                .filter(|l| &l.name == n)
                .map(|l| l.name.clone())
                .collect()
        }
        (None, true) => known.iter().map(|l| l.name.clone()).collect(),
        (None, false) => Vec::new(),
    };
    for lab in &targets {
        client.delete::<serde_json::Value>(&format!("/api/v1/labs/{lab}"))?;
        eprintln!("destroyed lab {lab}");
    }
    if cleanup {
        let report: CleanupView = client.post(
            "/api/v1/cleanup",
            &CleanupRequest {
                lab: if all { None } else { name.clone() },
            },
        )?;
        for lab in &report.labs {
            eprintln!("removed unfinished lab {lab}");
        }
        for item in &report.removed {
            eprintln!("removed leftover {item}");
        }
        if report.labs.is_empty() && report.removed.is_empty() {
            eprintln!("no leftovers found");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect(name: Option<String>, links: bool, format: Format) -> Result<ExitCode> {
    let client = Client::connect_or_start()?;
    let labs: Vec<LabView> = match name {
        Some(n) => vec![client.get(&format!("/api/v1/labs/{n}"))?],
        None => client.get("/api/v1/labs")?,
    };
    if labs.is_empty() && format == Format::Table {
        eprintln!("no labs are deployed");
        return Ok(ExitCode::SUCCESS);
    }
    if links && format == Format::Table {
        print!("{}", table::links(&labs));
    } else {
        print_labs(&labs, format)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_labs(labs: &[LabView], format: Format) -> Result<()> {
    use std::io::Write;
    let out = match format {
        Format::Json => serde_json::to_string_pretty(labs)? + "\n",
        Format::Table => table::labs(labs),
    };
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}

fn events(name: Option<String>, format: Format, follow: bool) -> Result<ExitCode> {
    let client = Client::connect_or_start()?;
    let path = |after: i64| match &name {
        Some(n) => format!("/api/v1/events?lab={n}&after={after}"),
        None => format!("/api/v1/events?after={after}"),
    };
    let events: Vec<netloom_daemon::store::Event> = client.get(&path(0))?;
    match (format, follow) {
        (Format::Json, false) => println!("{}", serde_json::to_string_pretty(&events)?),
        (Format::Json, true) => {
            for e in &events {
                println!("{}", serde_json::to_string(e)?);
            }
        }
        (Format::Table, _) => print!("{}", table::events(&events)),
    }
    if !follow {
        return Ok(ExitCode::SUCCESS);
    }
    let mut last = events.last().map_or(0, |e| e.id);
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let new: Vec<netloom_daemon::store::Event> = client.get(&path(last))?;
        for e in &new {
            last = last.max(e.id);
            match format {
                Format::Json => println!("{}", serde_json::to_string(e)?),
                Format::Table => print!("{}", table::events_lines(std::slice::from_ref(e))),
            }
        }
        use std::io::Write as _;
        std::io::stdout().flush()?;
    }
}

/// Finds the node to enter: in `lab` if given, else in the only lab that has
/// a node of that name.
fn find_target(lab: Option<String>, node: &str) -> Result<enter::Target> {
    let client = Client::connect_or_start()?;
    let what = format!("node `{node}`");
    let lab = client.pick_lab(lab.as_deref(), &what, |l| {
        l.nodes.iter().any(|n| n.name == node)
    })?;
    let n = lab
        .nodes
        .iter()
        .find(|n| n.name == node)
        .ok_or_else(|| anyhow!("lab `{}` has no {what}", lab.name))?;
    Ok(enter::Target {
        netns: n.netns.clone(),
        hostname: n.name.clone(),
        frr_pathspace: (n.kind == netloom_model::NodeKind::Router)
            .then(|| netloom_plan::frr_pathspace(&n.netns)),
    })
}

fn exec(lab: Option<String>, node: &str, command: &[String]) -> Result<ExitCode> {
    let target = find_target(lab, node)?;
    let mut cmd = std::process::Command::new(&command[0]);
    cmd.args(&command[1..]);
    enter::prepare(&mut cmd, &target)?;
    // Become the command: signals, the terminal and the exit code are its.
    let err = cmd.exec();
    Err(err).with_context(|| format!("cannot run `{}` on node {node}", command[0]))
}

fn console(lab: Option<String>, node: &str, shell: Option<String>) -> Result<ExitCode> {
    let target = find_target(lab, node)?;
    let program = shell
        .or_else(|| std::env::var("SHELL").ok())
        .unwrap_or_else(|| "/bin/bash".to_string());
    let mut cmd = std::process::Command::new(&program);
    cmd.env("NETLOOM_NODE", node);
    enter::prepare(&mut cmd, &target)?;
    eprintln!(
        "console on {node} (namespace {}); exit to leave",
        target.netns
    );
    let err = cmd.exec();
    Err(err).with_context(|| format!("cannot start `{program}` on node {node}"))
}

fn capture(
    lab: Option<String>,
    endpoint: &str,
    write: &str,
    filter: Option<String>,
    count: Option<u64>,
) -> Result<ExitCode> {
    let (node, iface) = endpoint
        .split_once(':')
        .ok_or_else(|| anyhow!("`{endpoint}` is not NODE:INTERFACE"))?;
    let target = find_target(lab, node)?;
    let dumpcap = ["/usr/bin/dumpcap", "/usr/sbin/dumpcap"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| {
            anyhow!("capture needs dumpcap (Debian package `wireshark-common`, installed with `tshark`); run `scripts/install-deps run`")
        })?;
    let mut cmd = std::process::Command::new(dumpcap);
    cmd.args(["-q", "-i", iface, "-w", write]);
    if let Some(f) = &filter {
        cmd.args(["-f", f]);
    }
    if let Some(c) = count {
        cmd.args(["-c", &c.to_string()]);
    }
    enter::prepare(&mut cmd, &target)?;
    if write != "-" {
        eprintln!("capturing on {endpoint} into {write}; Ctrl-C stops");
    }
    // dumpcap gets Ctrl-C directly and closes the file properly.
    let err = cmd.exec();
    Err(err).with_context(|| format!("cannot start dumpcap on {endpoint}"))
}

/// Plans a topology file here, as the daemon would (same ownership prefix).
fn plan_file(path: &Path) -> Result<netloom_plan::Plan> {
    let topo = load(path)?;
    let prefix = netloom_daemon::Config::from_env().prefix;
    netloom_plan::plan(&topo, &netloom_plan::PlanOptions { prefix }).map_err(|e| anyhow!("{e}"))
}

fn apply(path: &Path, format: Format) -> Result<ExitCode> {
    let topo = load(path)?;
    let client = Client::connect_or_start()?;
    let lab = topo.name.to_string();
    let applied: netloom_daemon::edit::Applied = client
        .put(
            &format!("/api/v1/labs/{lab}"),
            &serde_json::json!({ "topology": topo }),
        )
        .with_context(|| format!("cannot apply {} to lab `{lab}`", path.display()))?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&applied)?),
        Format::Table => {
            if applied.changes.is_empty() {
                println!("lab `{lab}` already matches {}", path.display());
            } else {
                for line in &applied.changes {
                    println!("{line}");
                }
                println!("lab `{lab}` updated ({} changes)", applied.changes.len());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn export(name: Option<String>, output: Option<&Path>) -> Result<ExitCode> {
    let client = Client::connect_or_start()?;
    let lab = client.pick_lab(name.as_deref(), "a lab", |_| true)?.name;
    let text = client.get_text(&format!("/api/v1/labs/{lab}/export"))?;
    match output {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("lab `{lab}` written to {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn config(lab: Option<String>, topo: Option<&Path>, node: &str) -> Result<ExitCode> {
    let (daemons, text) = match topo {
        Some(path) => {
            let plan = plan_file(path)?;
            let n = plan
                .node(node)
                .ok_or_else(|| anyhow!("{} has no node `{node}`", path.display()))?;
            let frr = n
                .frr
                .as_ref()
                .ok_or_else(|| anyhow!("node `{node}` is a {}, not a router", n.kind))?;
            (frr.daemons.clone(), frr.config.clone())
        }
        None => {
            let client = Client::connect_or_start()?;
            let lab = client
                .pick_lab(lab.as_deref(), &format!("node `{node}`"), |l| {
                    l.nodes.iter().any(|n| n.name == node)
                })?
                .name;
            let c: netloom_daemon::api::NodeConfig =
                client.get(&format!("/api/v1/labs/{lab}/nodes/{node}/config"))?;
            (c.daemons, c.config)
        }
    };
    println!("! daemons: {}", daemons.join(" "));
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn plan_cmd(path: &Path, format: Format) -> Result<ExitCode> {
    let plan = plan_file(path)?;
    let running: Option<netloom_plan::Plan> = match Client::connect_existing()? {
        Some(client) => client.get(&format!("/api/v1/labs/{}/plan", plan.lab)).ok(),
        None => None,
    };
    match format {
        Format::Json => {
            let v = serde_json::json!({
                "plan": plan,
                "changes": running.as_ref().map(|r| netloom_plan::changes(r, &plan)),
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Table => {
            print!("{}", table::plan(&plan));
            match &running {
                Some(r) => {
                    let changes = netloom_plan::changes(r, &plan);
                    if changes.is_empty() {
                        println!("\nlab {} is running and matches this file", plan.lab);
                    } else {
                        println!(
                            "\nlab {} is running; deploying this file would change:",
                            plan.lab
                        );
                        for c in changes {
                            println!("  {c}");
                        }
                    }
                }
                None => println!(
                    "\nlab {} is not running: a deploy creates all of the above",
                    plan.lab
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
