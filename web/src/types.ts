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
