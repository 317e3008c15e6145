// Pure helpers for the lab panel's routing section: why a router is not
// ready (worded as `netloom wait` words it), and whether the lab's routes
// have settled. No DOM, no clock: times are passed in (tests/unit covers
// this file).

import type { LabRouting, RouterRouting } from "./types";

/**
 * What keeps a router from being ready: `leaf3: BGP 1/2 up (10.0.0.4
 * Active); 3 of 9 prefixes missing (10.255.0.7/32, ...)` (the daemon's
 * `RouterRouting::why_not`).
 */
export function whyNotReady(r: RouterRouting): string {
  const parts: string[] = [];
  if (r.error) parts.push(r.error);
  for (const [name, s] of [
    ["BGP", r.bgp],
    ["OSPF", r.ospf],
  ] as const) {
    const down = s?.down ?? [];
    if (s && (s.up < s.total || down.length)) parts.push(`${name} ${s.up}/${s.total} up${down.length ? ` (${down.join(", ")})` : ""}`);
  }
  if (r.missing > 0) {
    const first = r.missing_first ?? [];
    const more = r.missing > first.length ? ", ..." : "";
    parts.push(`${r.missing} of ${r.expected} prefixes missing (${first.join(", ")}${more})`);
  }
  if (!parts.length) parts.push("not checked yet");
  return `${r.node}: ${parts.join("; ")}`;
}

/** The fingerprint seen in reports where every router was ready, and since when (ms). */
export interface Steady {
  fingerprint: string;
  since: number;
}

/**
 * Follows the fingerprint across reports, as `netloom wait` does: a report
 * at `now` (ms) that is not converged forgets it; a new fingerprint starts
 * the clock again.
 */
export function followFingerprint(prev: Steady | null, report: LabRouting, now: number): Steady | null {
  if (!report.converged) return null;
  if (prev && prev.fingerprint === report.fingerprint) return prev;
  return { fingerprint: report.fingerprint, since: now };
}

export type RoutingState = "none" | "converging" | "settling" | "converged";

/**
 * The lab's routing as of a report received at `at` (ms): converged once
 * every router is ready and the routes have not changed for `settle_s`.
 */
export function routingStatus(report: LabRouting, steady: Steady | null, at: number): { state: RoutingState; text: string } {
  if (report.routers_total === 0) return { state: "none", text: "No routers" };
  if (!report.converged) return { state: "converging", text: `Converging: ${report.ready}/${report.routers_total} routers ready` };
  const settled = steady !== null && steady.fingerprint === report.fingerprint && at - steady.since >= report.settle_s * 1000;
  return settled ? { state: "converged", text: "Converged" } : { state: "settling", text: "Settling" };
}
