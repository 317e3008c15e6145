// LabView -> the canvas's elements (pure; tests/unit covers it).

import type { LabView, LinkView, NodeView, Position, WireProps } from "./types";
import { formatDuration, formatPpm, formatRate, splitEndpoint } from "./units";

export const nodeId = (name: string) => `node:${name}`;
export const siteId = (name: string) => `site:${name}`;
export const linkId = (l: Pick<LinkView, "a" | "b">) => `link:${l.a}|${l.b}`;

export interface NodeData {
  id: string;
  name: string;
  kind: NodeView["kind"] | "site";
  status: string;
  label: string;
  parent?: string;
  /** The position the daemon has saved (`undefined`: none). */
  saved?: Position;
}

export interface EdgeData {
  id: string;
  source: string;
  target: string;
  a: string;
  b: string;
  aif: string;
  bif: string;
  mode: string;
  up: boolean;
  label: string;
  /** Another link joins the same two nodes (drawn curved, apart). */
  parallel: boolean;
}

export interface Elements {
  nodes: NodeData[];
  edges: EdgeData[];
}

/** The status a node is drawn with: an event's word wins over the observation. */
export function effectiveStatus(node: NodeView, override?: string): string {
  return override ?? node.status;
}

export function labElements(lab: LabView, overrides: Map<string, string> = new Map()): Elements {
  const nodes: NodeData[] = [];
  const sites = new Set<string>();
  for (const n of lab.nodes) {
    if (n.site) sites.add(n.site);
    const d: NodeData = {
      id: nodeId(n.name),
      name: n.name,
      kind: n.kind,
      status: effectiveStatus(n, overrides.get(n.name)),
      label: n.name,
    };
    if (n.site) d.parent = siteId(n.site);
    if (n.position) d.saved = { x: n.position.x, y: n.position.y };
    nodes.push(d);
  }
  for (const s of [...sites].sort())
    nodes.push({ id: siteId(s), name: s, kind: "site", status: "", label: s });
  const names = new Set(lab.nodes.map((n) => n.name));
  const edges: EdgeData[] = [];
  const pairs = new Map<string, number>();
  const pairOf = (x: string, y: string) => (x < y ? `${x}\n${y}` : `${y}\n${x}`);
  for (const l of lab.links) {
    const k = pairOf(splitEndpoint(l.a)[0], splitEndpoint(l.b)[0]);
    pairs.set(k, (pairs.get(k) ?? 0) + 1);
  }
  for (const l of lab.links) {
    const [an, aif] = splitEndpoint(l.a);
    const [bn, bif] = splitEndpoint(l.b);
    if (!names.has(an) || !names.has(bn)) continue;
    edges.push({
      id: linkId(l),
      source: nodeId(an),
      target: nodeId(bn),
      a: l.a,
      b: l.b,
      aif,
      bif,
      mode: l.mode,
      up: l.up,
      label: linkLabel(l),
      parallel: (pairs.get(pairOf(an, bn)) ?? 0) > 1 || an === bn,
    });
  }
  return { nodes, edges };
}

/** A short summary of a link's impairments for its label: `20 ms · 1% loss`. */
export function linkLabel(l: LinkView): string {
  if (l.mode !== "emulated") return "";
  const parts: string[] = [];
  const a = l.a_to_b;
  const b = l.b_to_a;
  const same = (f: (w: WireProps) => string) => {
    const x = a ? f(a) : "";
    const y = b ? f(b) : "";
    if (x === y) return x;
    return [x || "-", y || "-"].join(" / ");
  };
  const delay = same((w) => (w.delay_ns ? formatDuration(w.delay_ns) : ""));
  if (delay) parts.push(delay);
  const jitter = same((w) => (w.jitter_ns ? `±${formatDuration(w.jitter_ns)}` : ""));
  if (jitter) parts.push(jitter);
  const loss = same((w) =>
    w.loss ? (w.loss.model === "random" ? `${formatPpm(w.loss.p)} loss` : "bursty loss") : "",
  );
  if (loss) parts.push(loss);
  const rate = same((w) => (w.rate_bps != null ? formatRate(w.rate_bps) : ""));
  if (rate) parts.push(rate);
  return parts.join(" · ");
}

/**
 * What a node event says about the node's status: `failed`, `recovering`,
 * null (back to what the daemon observes) or undefined (nothing).
 * Kinds may carry a `node-` or `daemon-` prefix (`node-failed`).
 */
export function statusFromEvent(kind: string): string | null | undefined {
  const k = kind.toLowerCase().replace(/^(node|daemon|frr)-/, "");
  if (/^(failed|crashed|died|exited|killed)$/.test(k)) return "failed";
  if (/^(recovering|restarting)$/.test(k)) return "recovering";
  if (/^(recovered|restarted|started|running|created|added|moved|healthy)$/.test(k)) return null;
  return undefined;
}
