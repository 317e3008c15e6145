import { describe, expect, it } from "vitest";
import { labElements, linkLabel, statusFromEvent } from "../../src/elements";
import type { LabView, LinkView, NodeView, WireProps } from "../../src/types";
import {
  checkInterfaceName,
  checkLabName,
  emptyLabYaml,
  formatDuration,
  formatRate,
  hashString,
  nextInterface,
  parseDuration,
  parsePercent,
  parseRate,
  proposeLabName,
  seededRandom,
} from "../../src/units";

const node = (name: string, kind: NodeView["kind"], extra: Partial<NodeView> = {}): NodeView => ({
  name,
  kind,
  image: null,
  netns: `nl-lab.${name}`,
  status: "running",
  interfaces: [{ name: "lo", up: true, running: true, master: null, mac: null, mtu: 65536, addresses: [] }],
  daemons: [],
  labels: {},
  position: null,
  site: null,
  ...extra,
});

const wire = (w: Partial<WireProps> = {}): WireProps => ({
  delay_ns: 0,
  jitter_ns: 0,
  reorder: false,
  loss: null,
  duplicate: 0,
  corrupt: 0,
  rate_bps: null,
  queue: null,
  down: false,
  sources: {},
  ...w,
});

const link = (a: string, b: string, extra: Partial<LinkView> = {}): LinkView => ({
  a,
  b,
  mtu: null,
  mode: "veth",
  up: true,
  a_to_b: null,
  b_to_a: null,
  counters: null,
  ...extra,
});

const lab = (nodes: NodeView[], links: LinkView[]): LabView => ({
  name: "lab",
  state: "running",
  prefix: "nl",
  source: null,
  created_at: 0,
  nodes,
  links,
});

describe("durations", () => {
  it("parses with and without units", () => {
    expect(parseDuration("100")).toBe(100e6);
    expect(parseDuration("2.5ms")).toBe(2.5e6);
    expect(parseDuration("300 us")).toBe(300e3);
    expect(parseDuration("300µs")).toBe(300e3);
    expect(parseDuration("1s")).toBe(1e9);
    expect(parseDuration("0")).toBe(0);
  });
  it("refuses nonsense", () => {
    expect(() => parseDuration("fast")).toThrow(/not a duration/);
    expect(() => parseDuration("3 weeks")).toThrow();
    expect(() => parseDuration("61s")).toThrow(/60 s/);
    expect(() => parseDuration("-1")).toThrow();
  });
  it("formats readably", () => {
    expect(formatDuration(0)).toBe("0");
    expect(formatDuration(100e6)).toBe("100 ms");
    expect(formatDuration(250e3)).toBe("250 µs");
    expect(formatDuration(1.5e9)).toBe("1.5 s");
  });
});

describe("rates and percentages", () => {
  it("parses rates, refusing mbps", () => {
    expect(parseRate("100")).toBe(100e6);
    expect(parseRate("10mbit")).toBe(10e6);
    expect(parseRate("1 gbit")).toBe(1e9);
    expect(parseRate("64kbit")).toBe(64e3);
    expect(() => parseRate("10mbps")).toThrow(/ambiguous/);
    expect(() => parseRate("0")).toThrow();
    expect(formatRate(null)).toBe("unlimited");
    expect(formatRate(100e6)).toBe("100 Mbit/s");
  });
  it("parses percentages into millionths", () => {
    expect(parsePercent("1")).toBe(10000);
    expect(parsePercent("0.5%")).toBe(5000);
    expect(parsePercent("100")).toBe(1e6);
    expect(() => parsePercent("101")).toThrow();
  });
});

describe("names", () => {
  it("proposes the lowest free ethN, counting links and observed interfaces", () => {
    const l = lab(
      [node("r1", "router", { interfaces: [{ name: "eth2", up: true, running: true, master: null, mac: null, mtu: 1500, addresses: [] }] }), node("h1", "host")],
      [link("r1:eth1", "h1:eth1")],
    );
    expect(nextInterface(l, "r1")).toBe("eth3");
    expect(nextInterface(l, "h1")).toBe("eth2");
    expect(nextInterface(l, "h1", ["eth2"])).toBe("eth3");
  });
  it("checks interface and lab names", () => {
    expect(checkInterfaceName("eth1")).toBeNull();
    expect(checkInterfaceName("a-very-long-name-x")).toMatch(/15/);
    expect(checkInterfaceName("eth 1")).not.toBeNull();
    expect(checkLabName("my-lab_2")).toBeNull();
    expect(checkLabName("my lab")).not.toBeNull();
    expect(checkLabName("x".repeat(33))).not.toBeNull();
    expect(proposeLabName(["lab1", "lab3"])).toBe("lab2");
    expect(emptyLabYaml("x")).toBe("name: x\ntopology:\n  nodes: {}\n");
  });
});

describe("canvas elements", () => {
  it("draws nodes, sites as parents, saved positions and links", () => {
    const l = lab(
      [node("r1", "router", { site: "paris", position: { x: 1, y: 2 } }), node("h1", "host")],
      [link("r1:eth1", "h1:eth1"), link("r1:eth2", "h1:eth2")],
    );
    const { nodes, edges } = labElements(l, new Map([["h1", "failed"]]));
    expect(nodes.map((n) => n.id)).toEqual(["node:r1", "node:h1", "site:paris"]);
    expect(nodes[0].parent).toBe("site:paris");
    expect(nodes[0].saved).toEqual({ x: 1, y: 2 });
    expect(nodes[1].saved).toBeUndefined();
    expect(nodes[1].status).toBe("failed");
    expect(edges).toHaveLength(2);
    expect(edges[0]).toMatchObject({ source: "node:r1", target: "node:h1", aif: "eth1", bif: "eth1", parallel: true });
  });
  it("skips links to nodes it does not know", () => {
    const { edges } = labElements(lab([node("r1", "router")], [link("r1:eth1", "gone:eth1")]));
    expect(edges).toHaveLength(0);
  });
  it("labels emulated links with their impairments", () => {
    expect(linkLabel(link("a:e", "b:e"))).toBe("");
    const same = wire({ delay_ns: 20e6, loss: { model: "random", p: 10000 } });
    expect(linkLabel(link("a:e", "b:e", { mode: "emulated", a_to_b: same, b_to_a: same }))).toBe("20 ms · 1% loss");
    expect(linkLabel(link("a:e", "b:e", { mode: "emulated", a_to_b: wire({ delay_ns: 5e6 }), b_to_a: wire() }))).toBe("5 ms / -");
  });
  it("reads node status from event kinds", () => {
    expect(statusFromEvent("node-failed")).toBe("failed");
    expect(statusFromEvent("recovering")).toBe("recovering");
    expect(statusFromEvent("node-recovered")).toBeNull();
    expect(statusFromEvent("change-failed")).toBeUndefined();
    expect(statusFromEvent("deployed")).toBeUndefined();
  });
  it("seeds the layout deterministically", () => {
    const a = seededRandom(hashString("lab"));
    const b = seededRandom(hashString("lab"));
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(a()).toBeGreaterThanOrEqual(0);
  });
});
