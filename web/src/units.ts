// Pure helpers: units the side panel reads and writes, names the page
// proposes. No DOM here (tests/unit covers this file).

import type { LabView, Loss } from "./types";

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  ms: 1e6,
  s: 1e9,
};

/** `"100"` (in `defaultUnit`), `"2.5ms"`, `"300 us"`, `"1s"` -> nanoseconds. */
export function parseDuration(text: string, defaultUnit = "ms"): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zµ]*)\s*$/i.exec(text);
  if (!m) throw new Error(`\`${text}\` is not a duration (e.g. 20, 2.5ms, 300us)`);
  const unit = (m[2] || defaultUnit).toLowerCase();
  const mult = DURATION_UNITS[unit];
  if (mult === undefined) throw new Error(`unknown time unit \`${m[2]}\` (us, ms, s)`);
  const ns = Math.round(parseFloat(m[1]) * mult);
  if (ns > 60e9) throw new Error("at most 60 s");
  return ns;
}

/** Nanoseconds as the shortest readable value: `100 ms`, `250 µs`, `1.5 s`. */
export function formatDuration(ns: number): string {
  if (ns === 0) return "0";
  if (ns >= 1e9) return `${trim(ns / 1e9)} s`;
  if (ns >= 1e6) return `${trim(ns / 1e6)} ms`;
  if (ns >= 1e3) return `${trim(ns / 1e3)} µs`;
  return `${ns} ns`;
}

/** Nanoseconds as a number of milliseconds for an input field. */
export function nsToMsField(ns: number): string {
  return ns === 0 ? "0" : trim(ns / 1e6);
}

const RATE_UNITS: Record<string, number> = {
  bit: 1,
  bps: 1,
  kbit: 1e3,
  kbps: 1e3,
  mbit: 1e6,
  gbit: 1e9,
};

/** `"100"` (in `defaultUnit`), `"10mbit"`, `"1 gbit"` -> bits per second. */
export function parseRate(text: string, defaultUnit = "mbit"): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z/]*)\s*$/i.exec(text);
  if (!m) throw new Error(`\`${text}\` is not a rate (e.g. 100, 10mbit, 1gbit)`);
  const unit = (m[2] || defaultUnit).toLowerCase().replace("/s", "");
  if (unit === "mbps" || unit === "gbps")
    throw new Error(`\`${m[2]}\` is ambiguous: write mbit or gbit`);
  const mult = RATE_UNITS[unit];
  if (mult === undefined) throw new Error(`unknown rate unit \`${m[2]}\` (kbit, mbit, gbit)`);
  const bps = Math.round(parseFloat(m[1]) * mult);
  if (bps < 1) throw new Error("a rate must be at least 1 bit/s");
  return bps;
}

export function formatRate(bps: number | null | undefined): string {
  if (bps == null) return "unlimited";
  if (bps >= 1e9) return `${trim(bps / 1e9)} Gbit/s`;
  if (bps >= 1e6) return `${trim(bps / 1e6)} Mbit/s`;
  if (bps >= 1e3) return `${trim(bps / 1e3)} kbit/s`;
  return `${bps} bit/s`;
}

/** Bits per second as Mbit/s for an input field (empty: unlimited). */
export function bpsToMbitField(bps: number | null | undefined): string {
  return bps == null ? "" : trim(bps / 1e6);
}

/** `"1.5"` or `"1.5%"` -> millionths. */
export function parsePercent(text: string): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*%?\s*$/.exec(text);
  if (!m) throw new Error(`\`${text}\` is not a percentage (e.g. 0.5)`);
  const v = parseFloat(m[1]);
  if (v > 100) throw new Error("at most 100%");
  return Math.round(v * 1e4);
}

export function formatPpm(ppm: number): string {
  return `${trim(ppm / 1e4)}%`;
}

/** The random-loss percentage of a loss model, for an input field. */
export function lossField(loss: Loss | null | undefined): string {
  if (!loss) return "0";
  if (loss.model === "random") return trim(loss.p / 1e4);
  return "";
}

export function formatLoss(loss: Loss | null | undefined): string {
  if (!loss) return "none";
  if (loss.model === "random") return formatPpm(loss.p);
  return `gilbert p=${formatPpm(loss.p)} r=${formatPpm(loss.r)} h=${formatPpm(loss.h)} k=${formatPpm(loss.k)}`;
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${trim(n / (1 << 30))} GiB`;
  if (n >= 1 << 20) return `${trim(n / (1 << 20))} MiB`;
  if (n >= 1 << 10) return `${trim(n / (1 << 10))} KiB`;
  return `${n} B`;
}

function trim(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

/** `"r1:eth1"` -> `["r1", "eth1"]`. */
export function splitEndpoint(ep: string): [string, string] {
  const i = ep.indexOf(":");
  return i < 0 ? [ep, ""] : [ep.slice(0, i), ep.slice(i + 1)];
}

/** Interface names a node uses: observed ones and link endpoints. */
export function usedInterfaces(lab: LabView, node: string): Set<string> {
  const used = new Set<string>();
  for (const n of lab.nodes) if (n.name === node) for (const i of n.interfaces) used.add(i.name);
  for (const l of lab.links)
    for (const ep of [l.a, l.b]) {
      const [n, i] = splitEndpoint(ep);
      if (n === node) used.add(i);
    }
  return used;
}

/**
 * The interface name the daemon will choose when none is given: the lowest
 * free `ethN`, N from 1. `extra` are names already promised in the same
 * dialog (a link from a node to itself).
 */
export function nextInterface(lab: LabView, node: string, extra: string[] = []): string {
  const used = usedInterfaces(lab, node);
  for (const e of extra) used.add(e);
  for (let n = 1; ; n++) if (!used.has(`eth${n}`)) return `eth${n}`;
}

/** Interface names are kernel names: 1 to 15 characters, no `/`, `:` or whitespace. */
export function checkInterfaceName(name: string): string | null {
  if (!name) return "an interface name is needed";
  if (name.length > 15) return "at most 15 characters";
  if (/[\s/:]/.test(name) || name === "." || name === "..") return "no spaces, `/` or `:`";
  return null;
}

/** Lab names: letters, digits, `-` and `_`, at most 32. */
export function checkLabName(name: string): string | null {
  if (!name) return "a name is needed";
  if (name.length > 32) return "at most 32 characters";
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return "letters, digits, - and _ only";
  return null;
}

/** A free lab name like `lab1`, `lab2`. */
export function proposeLabName(existing: string[]): string {
  const taken = new Set(existing);
  for (let n = 1; ; n++) if (!taken.has(`lab${n}`)) return `lab${n}`;
}

/** The topology file of an empty lab (nodes and links are added live). */
export function emptyLabYaml(name: string): string {
  return `name: ${name}\ntopology:\n  nodes: {}\n`;
}

/**
 * A seeded pseudo-random generator (mulberry32): the automatic layout uses
 * it so the same lab is drawn the same way every time it is opened.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit hash of a string (FNV-1a), to seed the layout. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
