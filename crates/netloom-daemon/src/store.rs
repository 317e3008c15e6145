//! The daemon's state in SQLite: one row per lab (its topology and plan as
//! JSON, its state) and an append-only event log.

use netloom_model::Topology;
use netloom_plan::Plan;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored json of lab `{lab}` is unreadable")]
    Json {
        lab: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Where a lab is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabState {
    /// A deploy is in progress (or was, when the daemon died).
    Deploying,
    /// Deployed.
    Running,
    /// A destroy is in progress (or was, when the daemon died).
    Destroying,
}

impl LabState {
    pub fn as_str(self) -> &'static str {
        match self {
            LabState::Deploying => "deploying",
            LabState::Running => "running",
            LabState::Destroying => "destroying",
        }
    }

    fn parse(s: &str) -> LabState {
        match s {
            "running" => LabState::Running,
            "destroying" => LabState::Destroying,
            _ => LabState::Deploying,
        }
    }
}

/// One lab as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabRecord {
    pub name: String,
    pub state: LabState,
    pub topology: Topology,
    pub plan: Plan,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// One thing that happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: i64,
    /// Unix milliseconds.
    pub ts_ms: i64,
    pub lab: String,
    pub node: Option<String>,
    pub kind: String,
    pub message: String,
}

const SCHEMA: &[&str] = &[
    // version 1
    "CREATE TABLE labs (
        name TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        topology TEXT NOT NULL,
        plan TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
     );
     CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts_ms INTEGER NOT NULL,
        lab TEXT NOT NULL,
        node TEXT,
        kind TEXT NOT NULL,
        message TEXT NOT NULL
     );",
    // version 2: saved running configurations of routers
    "CREATE TABLE configs (
        lab TEXT NOT NULL,
        node TEXT NOT NULL,
        config TEXT NOT NULL,
        saved_at INTEGER NOT NULL,
        PRIMARY KEY (lab, node)
     );",
    // version 3: repairs under way (a daemon that dies mid-repair leaves
    // the row; the next one redoes the repair whole)
    "CREATE TABLE repairs (
        lab TEXT NOT NULL,
        node TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        PRIMARY KEY (lab, node)
     );",
];

/// The SQLite store. One connection behind a mutex: the daemon's writes
/// are few and small.
pub struct Store {
    conn: Mutex<Connection>,
    /// Every event recorded, as it is recorded (the API's event stream).
    feed: tokio::sync::broadcast::Sender<Event>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// An in-memory store, for tests.
    pub fn in_memory() -> Result<Store, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Store, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in SCHEMA.iter().enumerate().skip(version as usize) {
            conn.execute_batch(sql)?;
            conn.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
            feed: tokio::sync::broadcast::channel(1024).0,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert_lab(&self, topology: &Topology, plan: &Plan) -> Result<(), StoreError> {
        let now = now_ms() / 1000;
        let topo = serde_json::to_string(topology).map_err(|source| StoreError::Json {
            lab: plan.lab.to_string(),
            source,
        })?;
        let plan_json = serde_json::to_string(plan).map_err(|source| StoreError::Json {
            lab: plan.lab.to_string(),
            source,
        })?;
        self.conn().execute(
            "INSERT INTO labs (name, state, topology, plan, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![
                plan.lab.as_str(),
                LabState::Deploying.as_str(),
                topo,
                plan_json,
                now
            ],
        )?;
        Ok(())
    }

    pub fn set_state(&self, lab: &str, state: LabState) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE labs SET state = ?2, updated_at = ?3 WHERE name = ?1",
            params![lab, state.as_str(), now_ms() / 1000],
        )?;
        Ok(())
    }

    /// Replaces a lab's plan (after a live change).
    pub fn update_plan(&self, lab: &str, plan: &Plan) -> Result<(), StoreError> {
        let json = serde_json::to_string(plan).map_err(|source| StoreError::Json {
            lab: lab.to_string(),
            source,
        })?;
        self.conn().execute(
            "UPDATE labs SET plan = ?2, updated_at = ?3 WHERE name = ?1",
            params![lab, json, now_ms() / 1000],
        )?;
        Ok(())
    }

    /// Replaces a running lab's topology and plan (a live change).
    pub fn update_lab(&self, topology: &Topology, plan: &Plan) -> Result<(), StoreError> {
        let lab = plan.lab.to_string();
        let json = |v: serde_json::Result<String>| {
            v.map_err(|source| StoreError::Json {
                lab: lab.clone(),
                source,
            })
        };
        let topo = json(serde_json::to_string(topology))?;
        let plan_json = json(serde_json::to_string(plan))?;
        self.conn().execute(
            "UPDATE labs SET topology = ?2, plan = ?3, updated_at = ?4 WHERE name = ?1",
            params![lab, topo, plan_json, now_ms() / 1000],
        )?;
        Ok(())
    }

    pub fn delete_lab(&self, lab: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute("DELETE FROM labs WHERE name = ?1", params![lab])?;
        conn.execute("DELETE FROM configs WHERE lab = ?1", params![lab])?;
        conn.execute("DELETE FROM repairs WHERE lab = ?1", params![lab])?;
        Ok(())
    }

    /// Records a router's running configuration (`netloom save`).
    pub fn save_config(&self, lab: &str, node: &str, config: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO configs (lab, node, config, saved_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (lab, node) DO UPDATE SET config = ?3, saved_at = ?4",
            params![lab, node, config, now_ms()],
        )?;
        Ok(())
    }

    /// The last saved configuration of a router, if any.
    pub fn saved_config(&self, lab: &str, node: &str) -> Result<Option<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT config FROM configs WHERE lab = ?1 AND node = ?2")?;
        let mut rows = stmt.query(params![lab, node])?;
        match rows.next()? {
            Some(row) => Ok(Some(row.get(0)?)),
            None => Ok(None),
        }
    }

    /// Records that a repair of a node starts.
    pub fn repair_started(&self, lab: &str, node: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO repairs (lab, node, started_ms) VALUES (?1, ?2, ?3)",
            params![lab, node, now_ms()],
        )?;
        Ok(())
    }

    /// Records that a repair ended (well or not).
    pub fn repair_ended(&self, lab: &str, node: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM repairs WHERE lab = ?1 AND node = ?2",
            params![lab, node],
        )?;
        Ok(())
    }

    /// Repairs that never ended (their daemon died): (lab, node).
    pub fn unfinished_repairs(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT lab, node FROM repairs ORDER BY started_ms")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets a node's saved configuration (the node was removed).
    pub fn forget_config(&self, lab: &str, node: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM configs WHERE lab = ?1 AND node = ?2",
            params![lab, node],
        )?;
        Ok(())
    }

    pub fn get_lab(&self, lab: &str) -> Result<Option<LabRecord>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT name, state, topology, plan, created_at, updated_at FROM labs WHERE name = ?1",
                params![lab],
                raw_row,
            )
            .optional()?;
        row.map(decode).transpose()
    }

    fn raw_rows(&self) -> Result<Vec<RawRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT name, state, topology, plan, created_at, updated_at FROM labs ORDER BY name",
        )?;
        let rows = stmt.query_map([], raw_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn list_labs(&self) -> Result<Vec<LabRecord>, StoreError> {
        let rows = self.raw_rows()?;
        // One unreadable record (written by an incompatible version) must
        // not hide the others or stop the daemon: it is reported and left
        // for `unreadable_labs` / cleanup.
        Ok(rows
            .into_iter()
            .filter_map(|r| match decode(r) {
                Ok(rec) => Some(rec),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping unreadable lab record");
                    None
                }
            })
            .collect())
    }

    /// Names of lab records that cannot be decoded.
    pub fn unreadable_labs(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .raw_rows()?
            .into_iter()
            .filter_map(|r| {
                let name = r.0.clone();
                decode(r).is_err().then_some(name)
            })
            .collect())
    }

    pub fn add_event(
        &self,
        lab: &str,
        node: Option<&str>,
        kind: &str,
        message: &str,
    ) -> Result<Event, StoreError> {
        let ts_ms = now_ms();
        let conn = self.conn();
        conn.execute(
            "INSERT INTO events (ts_ms, lab, node, kind, message) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![ts_ms, lab, node, kind, message],
        )?;
        let event = Event {
            id: conn.last_insert_rowid(),
            ts_ms,
            lab: lab.to_string(),
            node: node.map(str::to_string),
            kind: kind.to_string(),
            message: message.to_string(),
        };
        drop(conn);
        // Nobody listening is fine.
        let _ = self.feed.send(event.clone());
        Ok(event)
    }

    /// Events as they are recorded from now on. A subscriber that falls
    /// more than 1024 events behind is told how many it missed.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.feed.subscribe()
    }

    /// Events after `after_id`, oldest first, optionally for one lab.
    pub fn events(
        &self,
        lab: Option<&str>,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, ts_ms, lab, node, kind, message FROM events
             WHERE id > ?1 AND (?2 IS NULL OR lab = ?2) ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![after_id, lab, limit as i64], |r| {
            Ok(Event {
                id: r.get(0)?,
                ts_ms: r.get(1)?,
                lab: r.get(2)?,
                node: r.get(3)?,
                kind: r.get(4)?,
                message: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

type RawRow = (String, String, String, String, i64, i64);

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn decode(row: RawRow) -> Result<LabRecord, StoreError> {
    let (name, state, topo, plan, created_at, updated_at) = row;
    let json_err = |source| StoreError::Json {
        lab: name.clone(),
        source,
    };
    Ok(LabRecord {
        state: LabState::parse(&state),
        topology: serde_json::from_str(&topo).map_err(json_err)?,
        plan: serde_json::from_str(&plan).map_err(json_err)?,
        created_at,
        updated_at,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use netloom_model::LabName;

    fn sample() -> (Topology, Plan) {
        let topo = Topology::new(LabName::new("s1").unwrap(), [], vec![]);
        let plan = netloom_plan::plan(&topo, &Default::default()).unwrap();
        (topo, plan)
    }

    #[test]
    fn labs_roundtrip_and_change_state() {
        let store = Store::in_memory().unwrap();
        let (topo, plan) = sample();
        store.insert_lab(&topo, &plan).unwrap();
        assert!(store.insert_lab(&topo, &plan).is_err(), "duplicate lab");
        let rec = store.get_lab("s1").unwrap().unwrap();
        assert_eq!(rec.state, LabState::Deploying);
        assert_eq!(rec.plan, plan);
        store.set_state("s1", LabState::Running).unwrap();
        assert_eq!(store.list_labs().unwrap()[0].state, LabState::Running);
        store.delete_lab("s1").unwrap();
        assert!(store.get_lab("s1").unwrap().is_none());
    }

    #[test]
    fn events_are_ordered_and_filtered() {
        let store = Store::in_memory().unwrap();
        store.add_event("a", None, "deployed", "x").unwrap();
        let e2 = store.add_event("b", Some("r1"), "deployed", "y").unwrap();
        store.add_event("a", None, "destroyed", "z").unwrap();
        let all = store.events(None, 0, 10).unwrap();
        assert_eq!(all.len(), 3);
        let a = store.events(Some("a"), 0, 10).unwrap();
        assert_eq!(
            a.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            ["deployed", "destroyed"]
        );
        assert_eq!(store.events(None, e2.id, 10).unwrap().len(), 1);
    }

    #[test]
    fn an_unreadable_record_hides_nothing_else() {
        let store = Store::in_memory().unwrap();
        let (topo, plan) = sample();
        store.insert_lab(&topo, &plan).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO labs VALUES ('old', 'running', '{}', '{\"from\": \"v0\"}', 0, 0)",
                [],
            )
            .unwrap();
        let labs = store.list_labs().unwrap();
        assert_eq!(labs.len(), 1);
        assert_eq!(labs[0].name, "s1");
        assert_eq!(store.unreadable_labs().unwrap(), ["old"]);
    }

    #[test]
    fn reopening_keeps_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (topo, plan) = sample();
        Store::open(&path)
            .unwrap()
            .insert_lab(&topo, &plan)
            .unwrap();
        let again = Store::open(&path).unwrap();
        assert_eq!(again.list_labs().unwrap().len(), 1);
    }
}
