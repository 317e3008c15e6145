//! Finding, starting and talking to the daemon.

use anyhow::{anyhow, bail, Context, Result};
use netloom_daemon::api::{ApiErrorBody, DeployEvent};
use netloom_daemon::config::{info_path, token_path, DaemonInfo};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A connection to a running daemon.
pub struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
    pub info: DaemonInfo,
}

/// The daemon's state directory, as the daemon itself computes it.
pub fn home() -> PathBuf {
    netloom_daemon::Config::from_env().home
}

fn read_info(home: &Path) -> Option<DaemonInfo> {
    let text = std::fs::read_to_string(info_path(home)).ok()?;
    serde_json::from_str(&text).ok()
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

impl Client {
    fn connect_once(home: &Path) -> Result<Option<Client>> {
        let Some(info) = read_info(home) else {
            return Ok(None);
        };
        if !pid_alive(info.pid) {
            return Ok(None);
        }
        let token = std::fs::read_to_string(token_path(home))
            .with_context(|| {
                format!(
                    "cannot read the daemon token {} (netloom needs root)",
                    token_path(home).display()
                )
            })?
            .trim()
            .to_string();
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(2))
            .build();
        let client = Client {
            base: format!("http://{}", info.addr),
            token,
            agent,
            info,
        };
        match client.get::<serde_json::Value>("/api/v1/version") {
            Ok(_) => Ok(Some(client)),
            Err(_) => Ok(None),
        }
    }

    /// Connects to the daemon of this state directory, starting it when it
    /// is not running.
    pub fn connect_or_start() -> Result<Client> {
        let home = home();
        if let Some(c) = Self::connect_once(&home)? {
            if same_binary(c.info.pid) {
                return Ok(c);
            }
            // A daemon of another build (an upgrade, a rebuild): replace it.
            // Labs keep running; the new daemon adopts them.
            eprintln!(
                "note: restarting the netloom daemon (pid {}), which runs another build of netloom",
                c.info.pid
            );
            c.stop()?;
        }
        start_daemon(&home)?;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(c) = Self::connect_once(&home)? {
                return Ok(c);
            }
            if Instant::now() > deadline {
                bail!(
                    "the netloom daemon did not come up within 15 s; see {}",
                    home.join("daemon.log").display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Connects only if a daemon is running.
    pub fn connect_existing() -> Result<Option<Client>> {
        Self::connect_once(&home())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn decode<T: DeserializeOwned>(
        r: std::result::Result<ureq::Response, ureq::Error>,
    ) -> Result<T> {
        match r {
            Ok(resp) => Ok(resp.into_json()?),
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                match serde_json::from_str::<ApiErrorBody>(&text) {
                    Ok(body) => Err(anyhow!("{}", body.message)),
                    Err(_) => Err(anyhow!("daemon answered {code}: {text}")),
                }
            }
            Err(e) => Err(anyhow!("cannot reach the netloom daemon: {e}")),
        }
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        Self::decode(
            self.agent
                .get(&self.url(path))
                .set("Authorization", &self.auth())
                .call(),
        )
    }

    pub fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        Self::decode(
            self.agent
                .post(&self.url(path))
                .set("Authorization", &self.auth())
                .send_json(body),
        )
    }

    pub fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        Self::decode(
            self.agent
                .request("PATCH", &self.url(path))
                .set("Authorization", &self.auth())
                .send_json(body),
        )
    }

    pub fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        Self::decode(
            self.agent
                .put(&self.url(path))
                .set("Authorization", &self.auth())
                .send_json(body),
        )
    }

    /// A text answer (not JSON), e.g. an exported topology file.
    pub fn get_text(&self, path: &str) -> Result<String> {
        let resp = self
            .agent
            .get(&self.url(path))
            .set("Authorization", &self.auth())
            .call();
        match resp {
            Ok(r) => r.into_string().context("cannot read the daemon's answer"),
            Err(e) => Self::decode::<serde_json::Value>(Err(e)).map(|_| String::new()),
        }
    }

    pub fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        Self::decode(
            self.agent
                .delete(&self.url(path))
                .set("Authorization", &self.auth())
                .call(),
        )
    }

    /// Posts a deploy and calls `on_event` for every line of the answer.
    pub fn deploy_stream(
        &self,
        body: &serde_json::Value,
        mut on_event: impl FnMut(DeployEvent),
    ) -> Result<()> {
        let resp = self
            .agent
            .post(&self.url("/api/v1/labs"))
            .set("Authorization", &self.auth())
            .send_json(body);
        let resp = match resp {
            Ok(r) => r,
            Err(e) => return Self::decode::<serde_json::Value>(Err(e)).map(|_| ()),
        };
        let reader = std::io::BufReader::new(resp.into_reader());
        for line in reader.lines() {
            let line = line.context("deploy stream broke off (did the daemon die?)")?;
            if line.trim().is_empty() {
                continue;
            }
            let ev: DeployEvent = serde_json::from_str(&line)
                .with_context(|| format!("unreadable deploy event: {line}"))?;
            on_event(ev);
        }
        Ok(())
    }

    /// The lab a command is about: `name` when given (it must have `what`),
    /// else the only deployed lab for which `has` holds. `what` names the
    /// thing looked for in messages (``node `r1` ``).
    pub fn pick_lab(
        &self,
        name: Option<&str>,
        what: &str,
        has: impl Fn(&netloom_daemon::service::LabView) -> bool,
    ) -> Result<netloom_daemon::service::LabView> {
        use netloom_daemon::service::LabView;
        if let Some(n) = name {
            let lab: LabView = self.get(&format!("/api/v1/labs/{n}"))?;
            if !has(&lab) {
                bail!("lab `{n}` has no {what}");
            }
            return Ok(lab);
        }
        let labs: Vec<LabView> = self.get("/api/v1/labs")?;
        if labs.is_empty() {
            bail!("no labs are deployed");
        }
        let mut hits: Vec<LabView> = labs.into_iter().filter(|l| has(l)).collect();
        match hits.len() {
            1 => Ok(hits.remove(0)),
            0 => bail!("no deployed lab has a {what}"),
            _ => bail!(
                "{what} is in several labs ({}); say which with --name",
                hits.iter()
                    .map(|l| l.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Asks the daemon to stop and waits until it has.
    pub fn stop(&self) -> Result<()> {
        let pid = nix::unistd::Pid::from_raw(self.info.pid as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
            .with_context(|| format!("cannot signal daemon pid {}", self.info.pid))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while pid_alive(self.info.pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

/// Whether daemon `pid` runs this very executable (not an older build that
/// was replaced on disk).
fn same_binary(pid: u32) -> bool {
    let Ok(theirs) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
        return true; // cannot tell: assume it is fine
    };
    match std::env::current_exe() {
        Ok(ours) => theirs == ours,
        Err(_) => true,
    }
}

/// Starts `netloom serve` in the background, detached from this terminal.
fn start_daemon(home: &Path) -> Result<()> {
    std::fs::create_dir_all(home)
        .with_context(|| format!("cannot create state directory {}", home.display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.join("daemon.log"))
        .with_context(|| format!("cannot open {}", home.join("daemon.log").display()))?;
    let exe = std::env::current_exe().context("cannot find the netloom binary")?;
    Command::new(exe)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("cannot start the netloom daemon")?;
    Ok(())
}

use std::os::unix::process::CommandExt;
