import { describe, expect, it } from "vitest";
import { followFingerprint, routingStatus, whyNotReady } from "../../src/routing";
import type { LabRouting, RouterRouting } from "../../src/types";

const router = (extra: Partial<RouterRouting> = {}): RouterRouting => ({
  node: "leaf3",
  ready: false,
  expected: 0,
  missing: 0,
  routes: 0,
  ecmp_routes: 0,
  ...extra,
});

const report = (extra: Partial<LabRouting> = {}): LabRouting => ({
  lab: "clos",
  converged: true,
  ready: 2,
  routers_total: 2,
  fingerprint: "9e4e96a916799fec",
  settle_s: 2,
  routers: [],
  ...extra,
});

describe("why a router is not ready", () => {
  it("names the BGP sessions that are down", () => {
    expect(whyNotReady(router({ bgp: { up: 1, total: 2, down: ["10.0.0.4 Active"] } }))).toBe("leaf3: BGP 1/2 up (10.0.0.4 Active)");
    expect(whyNotReady(router({ bgp: { up: 0, total: 0, down: ["no peer known yet"] } }))).toBe("leaf3: BGP 0/0 up (no peer known yet)");
  });
  it("leaves out protocols whose sessions are all up", () => {
    const r = router({ bgp: { up: 2, total: 2 }, ospf: { up: 1, total: 2 } });
    expect(whyNotReady(r)).toBe("leaf3: OSPF 1/2 up");
  });
  it("counts missing prefixes, with ... when it lists only some", () => {
    const r = router({
      bgp: { up: 1, total: 2, down: ["10.0.0.4 Active"] },
      expected: 9,
      missing: 3,
      missing_first: ["10.255.0.7/32"],
    });
    expect(whyNotReady(r)).toBe("leaf3: BGP 1/2 up (10.0.0.4 Active); 3 of 9 prefixes missing (10.255.0.7/32, ...)");
    const all = router({ expected: 9, missing: 2, missing_first: ["10.255.0.7/32", "10.1.0.0/24"] });
    expect(whyNotReady(all)).toBe("leaf3: 2 of 9 prefixes missing (10.255.0.7/32, 10.1.0.0/24)");
  });
  it("puts the error first", () => {
    const r = router({ error: "bgpd does not answer `show bgp summary json`: timed out", expected: 4, missing: 1, missing_first: ["10.255.0.2/32"] });
    expect(whyNotReady(r)).toBe("leaf3: bgpd does not answer `show bgp summary json`: timed out; 1 of 4 prefixes missing (10.255.0.2/32)");
  });
  it("says not checked yet when nothing else is known", () => {
    expect(whyNotReady(router())).toBe("leaf3: not checked yet");
  });
});

describe("routing status", () => {
  it("settles once the fingerprint stays the same for settle_s", () => {
    const r = report();
    let steady = followFingerprint(null, r, 1000);
    expect(routingStatus(r, steady, 1000)).toEqual({ state: "settling", text: "Settling" });
    steady = followFingerprint(steady, r, 2500);
    expect(routingStatus(r, steady, 2500).state).toBe("settling");
    steady = followFingerprint(steady, r, 3000);
    expect(steady?.since).toBe(1000);
    expect(routingStatus(r, steady, 3000)).toEqual({ state: "converged", text: "Converged" });
  });
  it("starts again when the routes change or a router stops being ready", () => {
    const r = report();
    let steady = followFingerprint(null, r, 0);
    const changed = report({ fingerprint: "0123456789abcdef" });
    steady = followFingerprint(steady, changed, 5000);
    expect(routingStatus(changed, steady, 5000).state).toBe("settling");
    const notReady = report({ converged: false, ready: 1 });
    steady = followFingerprint(steady, notReady, 6000);
    expect(steady).toBeNull();
    expect(routingStatus(notReady, steady, 6000)).toEqual({ state: "converging", text: "Converging: 1/2 routers ready" });
    steady = followFingerprint(steady, r, 7000);
    expect(routingStatus(r, steady, 8000).state).toBe("settling");
    expect(routingStatus(r, steady, 9000).state).toBe("converged");
  });
  it("says when a lab has no routers", () => {
    const r = report({ routers_total: 0, ready: 0 });
    expect(routingStatus(r, followFingerprint(null, r, 0), 10000)).toEqual({ state: "none", text: "No routers" });
  });
});
