// The lab canvas: cytoscape.js (one WebGL/canvas drawing for every node,
// so 500 nodes stay smooth), fcose for nodes without a saved position.

import cytoscape from "cytoscape";
import type { Core, ElementDefinition, EventObject, NodeCollection, NodeSingular, StylesheetJson } from "cytoscape";
import fcose from "cytoscape-fcose";
import { labElements, nodeId, type EdgeData, type NodeData } from "./elements";
import { iconUrl, KIND_COLOR, STATUS_COLOR } from "./icons";
import type { LabView, NodeKind, Position } from "./types";
import { hashString, seededRandom } from "./units";

cytoscape.use(fcose);

/** How long the last full render of a lab took (for the benchmark):
 * `renderMs` from asking the daemon for the lab to the first painted frame. */
export interface RenderStats {
  lab: string;
  nodes: number;
  edges: number;
  layoutMs: number;
  renderMs: number;
}

export interface CanvasHandlers {
  nodeTap(name: string): void;
  nodeDoubleTap(name: string): void;
  linkTap(a: string): void;
  backgroundTap(): void;
  moved(positions: { name: string; position: Position }[]): void;
}

const LARGE = 250;

function style(): StylesheetJson {
  const s: StylesheetJson = [
    {
      selector: "node",
      style: {
        label: "data(label)",
        "font-family": "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
        "font-size": 11,
        color: "#1f2733",
        "text-valign": "bottom",
        "text-halign": "center",
        "text-margin-y": 5,
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.75,
        "text-background-padding": "1px",
        "text-background-shape": "roundrectangle",
        "min-zoomed-font-size": 7,
        width: 42,
        height: 42,
        "border-width": 3,
        "border-color": STATUS_COLOR.running,
        "background-fit": "contain",
        "background-clip": "none",
        "background-width": "78%",
        "background-height": "78%",
        "overlay-padding": 5,
      },
    },
  ];
  for (const kind of ["router", "switch", "host"] as NodeKind[]) {
    s.push({
      selector: `node[kind="${kind}"]`,
      style: {
        "background-color": KIND_COLOR[kind],
        "background-image": iconUrl(kind),
        shape: kind === "router" ? "ellipse" : kind === "switch" ? "round-rectangle" : "round-rectangle",
        ...(kind === "host" ? { width: 40, height: 34 } : {}),
      },
    });
  }
  for (const [status, color] of Object.entries(STATUS_COLOR)) {
    s.push({ selector: `node[status="${status}"]`, style: { "border-color": color } });
  }
  s.push(
    { selector: 'node[status="missing"]', style: { opacity: 0.55, "border-style": "dashed" } },
    { selector: 'node[status="creating"]', style: { opacity: 0.6, "border-style": "dashed" } },
    { selector: 'node[status="failed"]', style: { "border-width": 4 } },
    { selector: 'node[status="recovering"]', style: { "border-style": "double", "border-width": 5 } },
    {
      selector: 'node[kind="site"]',
      style: {
        shape: "round-rectangle",
        "background-color": "#eef2f8",
        "background-opacity": 0.7,
        "background-image": "none",
        "border-width": 1.5,
        "border-color": "#b6c2d4",
        "border-style": "dashed",
        label: "data(label)",
        "text-valign": "top",
        "text-halign": "center",
        "text-margin-y": -4,
        "font-size": 16,
        "min-zoomed-font-size": 4,
        "font-weight": "bold",
        color: "#4a5568",
        "text-background-opacity": 0,
        padding: "22px",
      },
    },
    {
      selector: "edge",
      style: {
        width: 2,
        "line-color": "#9aa5b5",
        // Straight lines draw fastest; links sharing two nodes curve apart.
        "curve-style": "straight",
        "control-point-step-size": 26,
        label: "data(label)",
        "font-size": 9,
        color: "#3d4656",
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.9,
        "text-background-padding": "2px",
        "text-background-shape": "roundrectangle",
        "text-rotation": "autorotate",
        "min-zoomed-font-size": 8,
        "source-label": "data(aif)",
        "target-label": "data(bif)",
        "source-text-offset": 26,
        "target-text-offset": 26,
        "source-text-margin-y": -7,
        "target-text-margin-y": -7,
        "overlay-padding": 4,
      },
    },
    { selector: "edge[?parallel]", style: { "curve-style": "bezier" } },
    { selector: 'edge[mode="emulated"]', style: { "line-color": "#6d7fd6" } },
    {
      selector: "edge[!up]",
      style: { "line-style": "dashed", "line-color": "#dc3b3b", "line-dash-pattern": [6, 4] },
    },
    { selector: "edge.pending", style: { "line-style": "dotted", opacity: 0.6 } },
    {
      selector: ":selected",
      style: { "overlay-color": "#f5a524", "overlay-opacity": 0.28 },
    },
    {
      selector: "edge:selected",
      style: { width: 4, "line-color": "#f5a524" },
    },
    { selector: "node.link-source", style: { "overlay-color": "#2f6fde", "overlay-opacity": 0.3 } },
    { selector: "node.found", style: { "overlay-color": "#22a55a", "overlay-opacity": 0.35 } },
    { selector: ".faded", style: { opacity: 0.25 } },
  );
  return s;
}

export class Canvas {
  readonly cy: Core;
  private labName = "";
  /** The saved position each node had when last seen, to notice moves by others. */
  private savedSeen = new Map<string, string>();
  lastRender: RenderStats | null = null;

  constructor(container: HTMLElement, handlers: CanvasHandlers) {
    this.cy = cytoscape({
      container,
      style: style(),
      minZoom: 0.05,
      maxZoom: 4,
      wheelSensitivity: 0.3,
      boxSelectionEnabled: true,
      selectionType: "single",
    });
    const cy = this.cy;
    // The nodes of the last two taps: cytoscape reports a double tap for
    // two quick taps anywhere, so the link tool's source-then-target
    // clicks opened the target's console. A double tap is two on one node.
    let taps: [string | null, string | null] = [null, null];
    cy.on("tap", (e: EventObject) => {
      const t = e.target;
      const name = t !== cy && t.isNode && t.isNode() ? (t.data("name") as string) : null;
      taps = [taps[1], name];
    });
    cy.on("tap", "node", (e: EventObject) => {
      const n = e.target as NodeSingular;
      if (n.data("kind") === "site") return;
      handlers.nodeTap(n.data("name"));
    });
    cy.on("dbltap", "node", (e: EventObject) => {
      const n = e.target as NodeSingular;
      const name = n.data("name") as string;
      if (n.data("kind") !== "site" && taps[0] === name && taps[1] === name) {
        handlers.nodeDoubleTap(name);
      }
    });
    cy.on("tap", "edge", (e: EventObject) => handlers.linkTap(e.target.data("a")));
    cy.on("tap", (e: EventObject) => {
      if (e.target === cy) handlers.backgroundTap();
    });
    cy.on("dragfree", "node", (e: EventObject) => {
      const n = e.target as NodeSingular;
      const moved = (n.data("kind") === "site" ? n.children() : n) as NodeCollection;
      const positions = moved
        .filter((m: NodeSingular) => m.data("kind") !== "site" && m.data("status") !== "creating")
        .map((m: NodeSingular) => {
          const p = m.position();
          const position = { x: Math.round(p.x), y: Math.round(p.y) };
          this.savedSeen.set(m.data("name"), key(position));
          return { name: m.data("name") as string, position };
        });
      if (positions.length) handlers.moved(positions);
    });
  }

  get lab(): string {
    return this.labName;
  }

  /** Shows a lab, keeping what is already drawn where it is. */
  show(lab: LabView, overrides: Map<string, string>, startedAt?: number): void {
    const t0 = startedAt ?? performance.now();
    const cy = this.cy;
    const fresh = lab.name !== this.labName;
    if (fresh) {
      cy.elements().remove();
      this.savedSeen.clear();
      this.labName = lab.name;
    }
    const { nodes, edges } = labElements(lab, overrides);
    const large = nodes.length > LARGE;
    // Cheaper interaction on large labs: a bitmap while panning and
    // zooming, edges hidden meanwhile (renderer fields cytoscape reads
    // on every frame).
    const r = (cy as unknown as { renderer(): unknown }).renderer() as { textureOnViewport: boolean; hideEdgesOnViewport: boolean };
    r.textureOnViewport = large;
    r.hideEdgesOnViewport = large;

    const unplaced: string[] = [];
    cy.batch(() => {
      const want = new Set<string>([...nodes.map((n) => n.id), ...edges.map((e) => e.id)]);
      cy.elements().forEach((el) => {
        if (!want.has(el.id()) && !el.hasClass("pending")) el.remove();
      });
      // Sites (parents) first.
      const ordered = [...nodes].sort((x, y) => Number(y.kind === "site") - Number(x.kind === "site"));
      const adds: ElementDefinition[] = [];
      for (const n of ordered) {
        const el = cy.getElementById(n.id) as unknown as NodeSingular;
        const saved = n.saved;
        const { saved: _s, ...data } = n;
        if (el.nonempty()) {
          const parent = el.parent() as NodeCollection;
          const parentNow = parent.nonempty() ? parent[0].id() : undefined;
          if (n.kind !== "site" && parentNow !== n.parent) {
            // Parent changed (a site was assigned): re-create.
            const pos = el.position();
            el.remove();
            adds.push({ group: "nodes", data: data as NodeData, position: { ...pos } });
            continue;
          }
          el.data(data);
          if (saved && this.savedSeen.get(n.name) !== key(saved)) el.position(saved);
        } else {
          const def: ElementDefinition = { group: "nodes", data: data as NodeData };
          if (saved) def.position = { ...saved };
          else if (n.kind !== "site") unplaced.push(n.id);
          adds.push(def);
        }
        if (saved) this.savedSeen.set(n.name, key(saved));
      }
      for (const e of edges) {
        const el = cy.getElementById(e.id);
        if (el.nonempty()) el.data(e);
        else adds.push({ group: "edges", data: e as EdgeData });
      }
      if (adds.length) cy.add(adds);
    });

    const t1 = performance.now();
    if (unplaced.length) this.place(unplaced, lab.name);
    const t2 = performance.now();
    if (fresh) this.fit();
    if (fresh) {
      const stats: RenderStats = {
        lab: lab.name,
        nodes: lab.nodes.length,
        edges: edges.length,
        layoutMs: Math.round(t2 - t1),
        renderMs: 0,
      };
      this.lastRender = null;
      // Drawn once cytoscape has painted the frame after these changes.
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          stats.renderMs = Math.round(performance.now() - t0);
          this.lastRender = stats;
        }),
      );
    }
  }

  /** Positions for nodes the daemon has none for. */
  private place(ids: string[], labName: string): void {
    const cy = this.cy;
    const placed = cy.nodes().filter((n) => n.data("kind") !== "site" && !ids.includes(n.id()));
    if (placed.empty() || ids.length > placed.length) {
      // Mostly new: lay the whole lab out (deterministic: seeded by its name).
      const random = Math.random;
      Math.random = seededRandom(hashString(labName));
      try {
        const fixed = (placed as NodeCollection).map((n: NodeSingular) => ({ nodeId: n.id(), position: { ...n.position() } }));
        cy.layout({
          name: "fcose",
          animate: false,
          randomize: true,
          quality: "default",
          nodeDimensionsIncludeLabels: true,
          idealEdgeLength: () => 110,
          nodeRepulsion: () => 9000,
          nodeSeparation: 90,
          packComponents: true,
          tile: true,
          fixedNodeConstraint: fixed.length ? fixed : undefined,
        } as cytoscape.LayoutOptions).run();
      } finally {
        Math.random = random;
      }
      return;
    }
    // A few new nodes among placed ones: next to their neighbours, or to
    // the right of everything.
    const bb = placed.boundingBox({});
    let column = 0;
    for (const id of ids) {
      const n = cy.getElementById(id) as unknown as NodeSingular;
      const nbrs = n.neighborhood("node").filter((m: NodeSingular) => !ids.includes(m.id())) as NodeCollection;
      if (nbrs.nonempty()) {
        const c = nbrs.reduce((acc: Position, m: NodeSingular) => ({ x: acc.x + m.position().x, y: acc.y + m.position().y }), { x: 0, y: 0 });
        const angle = (hashString(id) % 360) * (Math.PI / 180);
        n.position({ x: c.x / nbrs.length + 90 * Math.cos(angle), y: c.y / nbrs.length + 90 * Math.sin(angle) });
      } else {
        n.position({ x: bb.x2 + 120, y: bb.y1 + column * 90 });
        column++;
      }
    }
  }

  fit(): void {
    const cy = this.cy;
    if (cy.elements().empty()) {
      cy.zoom(1);
      cy.center();
      return;
    }
    cy.fit(undefined, 50);
    if (cy.zoom() > 1.4) {
      cy.zoom(1.4);
      cy.center();
    }
  }

  /** A model position for a point on the page (clientX/Y), or null outside the canvas. */
  modelPosition(clientX: number, clientY: number): Position | null {
    const rect = this.cy.container()!.getBoundingClientRect();
    const x = clientX - rect.left;
    const y = clientY - rect.top;
    if (x < 0 || y < 0 || x > rect.width || y > rect.height) return null;
    const pan = this.cy.pan();
    const zoom = this.cy.zoom();
    return { x: Math.round((x - pan.x) / zoom), y: Math.round((y - pan.y) / zoom) };
  }

  /** Where a node is drawn on the page (for tests and popups). */
  clientPosition(name: string): Position | null {
    const n = this.cy.getElementById(nodeId(name));
    if (n.empty()) return null;
    const rect = this.cy.container()!.getBoundingClientRect();
    const p = n.renderedPosition();
    return { x: rect.left + p.x, y: rect.top + p.y };
  }

  /** A placeholder drawn while the daemon creates a node. */
  addPendingNode(kind: NodeKind, position: Position): string {
    const id = `pending:${Math.random().toString(36).slice(2)}`;
    this.cy.add({
      group: "nodes",
      data: { id, name: "", kind, status: "creating", label: "creating…" },
      position,
      classes: "pending",
    });
    return id;
  }

  addPendingLink(a: string, b: string): string {
    const id = `pending:${Math.random().toString(36).slice(2)}`;
    this.cy.add({
      group: "edges",
      data: { id, source: nodeId(a), target: nodeId(b), label: "creating…", mode: "emulated", up: true, parallel: true },
      classes: "pending",
    });
    return id;
  }

  remove(id: string): void {
    this.cy.getElementById(id).remove();
  }

  /** Adds a node the daemon just created (before the next lab refresh). */
  addNode(name: string, kind: NodeKind, status: string, position: Position): void {
    if (this.cy.getElementById(nodeId(name)).nonempty()) return;
    this.savedSeen.set(name, key(position));
    this.cy.add({ group: "nodes", data: { id: nodeId(name), name, kind, status, label: name }, position });
  }

  select(id: string | null): void {
    this.cy.elements(":selected").unselect();
    if (id) this.cy.getElementById(id).select();
  }

  markLinkSource(name: string | null): void {
    this.cy.nodes(".link-source").removeClass("link-source");
    if (name) this.cy.getElementById(nodeId(name)).addClass("link-source");
  }

  /** Highlights nodes whose name contains `text`; centres on the first. */
  find(text: string): number {
    const cy = this.cy;
    cy.nodes(".found").removeClass("found");
    if (!text) return 0;
    const t = text.toLowerCase();
    const hits = cy.nodes().filter((n) => n.data("kind") !== "site" && String(n.data("name")).toLowerCase().includes(t));
    hits.addClass("found");
    if (hits.nonempty()) cy.animate({ center: { eles: hits[0] }, duration: 250 });
    return hits.length;
  }

  resize(): void {
    this.cy.resize();
  }
}

function key(p: Position): string {
  return `${Math.round(p.x)},${Math.round(p.y)}`;
}
