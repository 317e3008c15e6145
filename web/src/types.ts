// The daemon's JSON, as the web page uses it (see crates/netloom-daemon/src/service.rs).

export type NodeKind = "router" | "switch" | "host";

/** What the page shows; the daemon reports the first three, events the last two. */
export type NodeStatus = "running" | "degraded" | "missing" | "failed" | "recovering";

export interface Position {
  x: number;
  y: number;
}

export interface InterfaceView {
  name: string;
  up: boolean;
  running: boolean;
  master: string | null;
  mac: string | null;
  mtu: number | null;
  addresses: string[];
}

export interface DaemonView {
  name: string;
  pid: number | null;
  alive: boolean;
}

export interface NodeView {
  name: string;
  kind: NodeKind;
  image: string | null;
  netns: string;
  status: string;
  interfaces: InterfaceView[];
  daemons: DaemonView[];
  labels: Record<string, string>;
  position?: Position | null;
  site?: string | null;
}

/** Millionths: 1% is 10000. */
export type Ppm = number;

export type Loss =
  | { model: "random"; p: Ppm }
  | { model: "gilbert"; p: Ppm; r: Ppm; h: Ppm; k: Ppm };

export type QueueLimit = { packets: number } | { bytes: number };

export interface WireProps {
  delay_ns: number;
  jitter_ns: number;
  reorder: boolean;
  loss: Loss | null;
  duplicate: Ppm;
  corrupt: Ppm;
  rate_bps: number | null;
  queue: QueueLimit | null;
  down: boolean;
  sources: Record<string, string>;
}

export interface DirCounters {
  packets: number;
  bytes: number;
  drop_loss: number;
  drop_queue: number;
  drop_down: number;
  drop_mtu: number;
  duplicated: number;
  corrupted: number;
}

export interface WireCounters {
  running: boolean;
  a_to_b: DirCounters;
  b_to_a: DirCounters;
}

export interface LinkView {
  a: string;
  b: string;
  mtu: number | null;
  mode: "veth" | "emulated";
  up: boolean;
  a_to_b: WireProps | null;
  b_to_a: WireProps | null;
  counters: WireCounters | null;
}

export interface LabView {
  name: string;
  state: string;
  prefix: string;
  source: string | null;
  created_at: number;
  nodes: NodeView[];
  links: LinkView[];
}

export interface NetloomEvent {
  id: number;
  ts_ms: number;
  lab: string;
  node: string | null;
  kind: string;
  message: string;
}

/** Impairments to set on a link (what is not given stays). */
export interface Impairments {
  delay_ns?: number;
  jitter_ns?: number;
  reorder?: boolean;
  loss?: Loss;
  duplicate?: Ppm;
  corrupt?: Ppm;
  rate_bps?: number;
  queue?: QueueLimit;
}

export interface LinkChange {
  set?: Impairments;
  up?: boolean;
  one_way?: boolean;
}

export interface NodeConfig {
  node: string;
  daemons: string[];
  config: string;
}

export interface ExecResult {
  exit_code: number | null;
  stdout: string;
  stderr: string;
  timed_out: boolean;
}

/** Sessions of one protocol on one router. */
export interface Sessions {
  /** Established (BGP) or Full / 2-Way (OSPF). */
  up: number;
  /** Configured peers (BGP, not counting those shut down) or neighbours seen (OSPF). */
  total: number;
  /** The others: `10.0.0.1 Active`. */
  down?: string[];
  /** OSPF: the least time between two originations of one of the router's LSAs. */
  lsa_min_interval_ms?: number;
  /** BGP, while a session came up lately: how long after a session comes up the router sends the peer its first updates. */
  coalesce_ms?: number;
}

/** One router's routing. */
export interface RouterRouting {
  node: string;
  /** Sessions all up and no expected prefix missing. */
  ready: boolean;
  bgp?: Sessions;
  ospf?: Sessions;
  /** Prefixes planned elsewhere in the fabric this router should reach (0: no planned fabric). */
  expected: number;
  /** How many of those the kernel has no route to. */
  missing: number;
  /** The first few of them. */
  missing_first?: string[];
  /** Routes in the kernel's main table. */
  routes: number;
  /** Routes with more than one next hop. */
  ecmp_routes: number;
  /** Why the router could not be checked completely. */
  error?: string;
}

/** A lab's routing (`GET /api/v1/labs/{lab}/routing`). */
export interface LabRouting {
  lab: string;
  /** Every router ready. */
  converged: boolean;
  ready: number;
  routers_total: number;
  /** A hash of every router's kernel routes: unchanged between two reports, no route changed. */
  fingerprint: string;
  /** How long the fingerprint should stay the same before the routes count as settled. */
  settle_s: number;
  routers: RouterRouting[];
}
