// The netloom web page: lab picker, device palette, canvas, side panel,
// console tabs. State lives here; the daemon is the source of truth and the
// lab is re-read whenever an event says something changed.

import "./style.css";
import { api, ApiError, deployYaml, setUnauthorizedHandler } from "./api";
import { Canvas } from "./canvas";
import { Consoles } from "./consoles";
import { $, clear, confirmDialog, formDialog, h, toast } from "./dom";
import { linkId, nodeId, statusFromEvent } from "./elements";
import { ICON_SVG, KIND_COLOR, KIND_HINT, KIND_LABEL, STATUS_COLOR } from "./icons";
import { Live, type LiveState } from "./live";
import { Panel, type Selection } from "./panel";
import type { LabView, LinkView, NetloomEvent, NodeKind, NodeView, Position } from "./types";
import { checkInterfaceName, checkLabName, emptyLabYaml, nextInterface, proposeLabName, splitEndpoint } from "./units";

type Tool = "select" | "link";

class App {
  labs: LabView[] = [];
  lab: LabView | null = null;
  selection: Selection = null;
  tool: Tool = "select";
  linkSource: string | null = null;
  overrides = new Map<string, string>();
  events: NetloomEvent[] = [];
  canvas: Canvas;
  panel: Panel;
  consoles: Consoles;
  live: Live;
  private refreshTimer: number | undefined;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private loggedOut = false;

  constructor() {
    this.canvas = new Canvas($("#canvas"), {
      nodeTap: (name) => this.nodeTap(name),
      nodeDoubleTap: (name) => this.lab && this.consoles.open(this.lab.name, name),
      linkTap: (a) => this.select({ type: "link", a }),
      backgroundTap: () => {
        if (this.tool === "link" && this.linkSource) this.setLinkSource(null);
        else this.select(null);
      },
      moved: (positions) => this.saveMoves(positions),
    });
    this.panel = new Panel($("#panel"), {
      openConsole: (node) => this.lab && this.consoles.open(this.lab.name, node),
      deleteNode: (node) => void this.deleteNode(node),
      deleteLink: (link) => void this.deleteLink(link),
      linkChanged: (link) => this.linkChanged(link),
      selectNode: (node) => this.select({ type: "node", name: node }),
      selectLink: (a) => this.select({ type: "link", a }),
      exportLab: () => void this.exportLab(),
      destroyLab: () => void this.destroyLab(),
    });
    this.consoles = new Consoles($("#dock"), () => this.canvas.resize());
    this.live = new Live(
      (e) => this.onEvent(e),
      (s) => this.setLiveState(s),
    );
    setUnauthorizedHandler(() => this.showLogin());
    this.setupChrome();
    this.setupPalette();
    this.setupKeys();
  }

  async start(): Promise<void> {
    try {
      await this.loadLabs();
    } catch (e) {
      if (!this.loggedOut) this.showFatal(e);
      return;
    }
    window.addEventListener("hashchange", () => void this.route());
    await this.route();
    // Daemon liveness is observed, not announced: look again now and then
    // (less often for large labs, whose observation costs the daemon more).
    let ticks = 0;
    window.setInterval(() => {
      ticks++;
      const every = (this.lab?.nodes.length ?? 0) > 100 ? 4 : 1;
      if (document.visibilityState === "visible" && this.lab && ticks % every === 0) this.scheduleRefresh(0);
    }, 5000);
  }

  // ---- labs -------------------------------------------------------------

  private labFromHash(): string | null {
    const m = /^#\/lab\/(.+)$/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }

  private async route(): Promise<void> {
    const want = this.labFromHash();
    if (want) {
      if (this.lab?.name !== want) await this.openLab(want);
      return;
    }
    const newest = [...this.labs].sort((a, b) => b.created_at - a.created_at)[0];
    if (newest) location.replace(`#/lab/${encodeURIComponent(newest.name)}`);
    else this.showNoLab();
  }

  async loadLabs(): Promise<void> {
    this.labs = await api.labs();
    this.renderLabButton();
  }

  async openLab(name: string): Promise<void> {
    this.live.stop();
    this.selection = null;
    this.overrides.clear();
    this.events = [];
    this.setTool("select");
    this.panel.reset();
    $("#no-lab").hidden = true;
    $("#workspace").classList.remove("empty");
    let lab: LabView;
    const asked = performance.now();
    try {
      lab = await api.lab(name);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        toast(`There is no lab \`${name}\``, "error");
        location.replace("#/");
        return;
      }
      this.showError(e);
      return;
    }
    this.lab = lab;
    document.title = `${lab.name} · netloom`;
    this.canvas.show(lab, this.overrides, asked);
    this.render();
    this.renderLabButton();
    // Recent events for the panel, then the live stream from there on.
    let after = 0;
    try {
      const events = await api.events(name, 0);
      this.events = events.slice(-50);
      after = events.length ? events[events.length - 1].id : 0;
      for (const e of this.events) this.applyStatusEvent(e);
      if (this.events.some((e) => e.node)) this.canvas.show(lab, this.overrides);
      this.render();
    } catch {
      // the panel just shows no events
    }
    this.live.follow(name, after);
  }

  /** Re-reads the lab soon (several events in a row cause one read). */
  scheduleRefresh(delay = 250): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => void this.refresh(), delay);
  }

  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    const name = this.lab?.name;
    if (!name) return;
    this.refreshing = (async () => {
      try {
        const lab = await api.lab(name);
        if (this.lab?.name !== name) return;
        this.lab = lab;
        this.canvas.show(lab, this.overrides);
        this.render();
        this.setLiveStateIfOffline();
      } catch (e) {
        if (e instanceof ApiError && e.status === 404 && this.lab?.name === name) {
          toast(`Lab ${name} is gone`, "info");
          this.consoles.closeLab(name);
          this.lab = null;
          await this.loadLabs().catch(() => {});
          location.replace("#/");
          await this.route();
        } else if (e instanceof ApiError && e.status === 0) this.setLiveState("offline");
      }
    })();
    await this.refreshing;
    this.refreshing = null;
    if (this.refreshAgain) {
      this.refreshAgain = false;
      await this.refresh();
    }
  }

  private render(): void {
    const lab = this.lab;
    this.renderLabButton();
    this.panel.render(lab, this.selection, (n) => this.statusOf(n), this.events);
    if (lab) {
      for (const n of lab.nodes) this.consoles.setStatus(lab.name, n.name, this.statusOf(n));
      $("#canvas-hint").hidden = lab.nodes.length > 0;
    }
  }

  statusOf(n: NodeView): string {
    return this.overrides.get(n.name) ?? n.status;
  }

  private onEvent(e: NetloomEvent): void {
    if (!this.lab || e.lab !== this.lab.name) return;
    this.events.push(e);
    if (this.events.length > 200) this.events.splice(0, this.events.length - 200);
    this.applyStatusEvent(e);
    if (e.kind === "destroyed") {
      this.scheduleRefresh(0);
      return;
    }
    this.scheduleRefresh();
  }

  private applyStatusEvent(e: NetloomEvent): void {
    if (!e.node) return;
    const s = statusFromEvent(e.kind);
    if (s === undefined) return;
    if (s === null) this.overrides.delete(e.node);
    else this.overrides.set(e.node, s);
  }

  private async newLab(): Promise<void> {
    const r = await formDialog({
      title: "New lab",
      intro: "An empty lab: drag routers, switches and hosts onto it and link them.",
      fields: [
        {
          name: "name",
          label: "Name",
          value: proposeLabName(this.labs.map((l) => l.name)),
          check: (v) => checkLabName(v) ?? (this.labs.some((l) => l.name === v) ? "a lab of that name exists" : null),
        },
      ],
      submit: "Create",
    });
    if (!r) return;
    const name = r.values.name;
    await this.deploy(emptyLabYaml(name), `Creating lab ${name}…`);
  }

  private async deployFile(file: File): Promise<void> {
    const text = await file.text();
    await this.deploy(text, `Deploying ${file.name}…`);
  }

  private async deploy(yaml: string, what: string): Promise<void> {
    const busy = this.busy(what);
    try {
      const lab = await deployYaml(yaml, (e) => {
        const step = typeof e.step === "string" ? e.step : typeof e.message === "string" ? e.message : "";
        if (step) busy.update(`${what} ${step}`);
      });
      await this.loadLabs();
      toast(`Lab ${lab.name} is running`, "ok");
      location.hash = `#/lab/${encodeURIComponent(lab.name)}`;
    } catch (e) {
      this.showError(e);
    } finally {
      busy.done();
    }
  }

  private async exportLab(): Promise<void> {
    if (!this.lab) return;
    const name = this.lab.name;
    try {
      const yaml = await api.exportLab(name);
      const url = URL.createObjectURL(new Blob([yaml], { type: "text/yaml" }));
      const a = h("a", { href: url, download: `${name}.yml` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      this.showError(e);
    }
  }

  private async destroyLab(): Promise<void> {
    if (!this.lab) return;
    const name = this.lab.name;
    if (!(await confirmDialog(`Destroy ${name}?`, `Every node of ${name} is stopped and its namespaces, links and FRR files are removed.`, "Destroy")))
      return;
    const busy = this.busy(`Destroying ${name}…`);
    try {
      await api.destroyLab(name);
      this.consoles.closeLab(name);
      this.live.stop();
      this.lab = null;
      await this.loadLabs();
      toast(`Lab ${name} destroyed`, "ok");
      location.hash = "#/";
      await this.route();
    } catch (e) {
      this.showError(e);
    } finally {
      busy.done();
    }
  }

  // ---- nodes and links --------------------------------------------------

  private select(sel: Selection): void {
    // Selecting what is selected already (a tap the canvas reports after
    // its double-tap wait) must not wipe a link form being edited.
    const same = JSON.stringify(sel) === JSON.stringify(this.selection);
    this.selection = sel;
    this.canvas.select(sel ? (sel.type === "node" ? nodeId(sel.name) : this.linkElementId(sel.a)) : null);
    this.panel.render(this.lab, sel, (n) => this.statusOf(n), this.events, !same);
  }

  private linkElementId(a: string): string | null {
    const l = this.lab?.links.find((x) => x.a === a);
    return l ? linkId(l) : null;
  }

  private nodeTap(name: string): void {
    if (this.tool !== "link") {
      this.select({ type: "node", name });
      return;
    }
    if (!this.linkSource) {
      this.setLinkSource(name);
      return;
    }
    const a = this.linkSource;
    this.setLinkSource(null);
    void this.createLink(a, name);
  }

  private async createNode(kind: NodeKind, position: Position): Promise<void> {
    const lab = this.lab;
    if (!lab) {
      toast("Open or create a lab first", "error");
      return;
    }
    const pending = this.canvas.addPendingNode(kind, position);
    $("#canvas-hint").hidden = true;
    try {
      const node = await api.createNode(lab.name, kind, position);
      this.canvas.remove(pending);
      if (this.lab?.name !== lab.name) return;
      this.canvas.addNode(node.name, node.kind, node.status, node.position ?? position);
      if (!this.lab.nodes.some((n) => n.name === node.name)) this.lab.nodes.push(node);
      this.select({ type: "node", name: node.name });
      this.scheduleRefresh(0);
    } catch (e) {
      this.canvas.remove(pending);
      $("#canvas-hint").hidden = (this.lab?.nodes.length ?? 0) > 0;
      this.showError(e, `Could not add the ${kind}`);
    }
  }

  private async createLink(a: string, b: string): Promise<void> {
    const lab = this.lab;
    if (!lab) return;
    const aIf = nextInterface(lab, a);
    const bIf = nextInterface(lab, b, a === b ? [aIf] : []);
    const r = await formDialog({
      title: `Link ${a} ↔ ${b}`,
      intro: "The interface names are the next free ones; change them if you like.",
      fields: [
        { name: "a", label: `${a} interface`, value: aIf, check: checkInterfaceName },
        { name: "b", label: `${b} interface`, value: bIf, check: checkInterfaceName },
        {
          name: "mode",
          label: "Mode",
          value: "emulated",
          options: [
            { value: "emulated", label: "emulated (delay, loss, rate can be changed live)" },
            { value: "veth", label: "veth pair (fastest, no impairments)" },
          ],
        },
      ],
      submit: "Create link",
    });
    if (!r || this.lab?.name !== lab.name) return;
    // Names left as proposed are the daemon's to choose.
    const endA = { node: a, ...(r.changed.has("a") ? { interface: r.values.a } : {}) };
    const endB = { node: b, ...(r.changed.has("b") ? { interface: r.values.b } : {}) };
    const pending = this.canvas.addPendingLink(a, b);
    try {
      const link = await api.createLink(lab.name, endA, endB, r.values.mode as "emulated" | "veth");
      this.canvas.remove(pending);
      if (this.lab?.name !== lab.name) return;
      if (!this.lab.links.some((l) => l.a === link.a)) this.lab.links.push(link);
      this.canvas.show(this.lab, this.overrides);
      this.select({ type: "link", a: link.a });
      this.scheduleRefresh(0);
    } catch (e) {
      this.canvas.remove(pending);
      this.showError(e, "Could not create the link");
    }
  }

  private linkChanged(link: LinkView): void {
    if (!this.lab) return;
    const i = this.lab.links.findIndex((l) => l.a === link.a);
    if (i >= 0) this.lab.links[i] = link;
    this.canvas.show(this.lab, this.overrides);
    this.panel.render(this.lab, this.selection, (n) => this.statusOf(n), this.events, true);
    this.scheduleRefresh();
  }

  private async deleteNode(node: string): Promise<void> {
    const lab = this.lab;
    if (!lab) return;
    const links = lab.links.filter((l) => splitEndpoint(l.a)[0] === node || splitEndpoint(l.b)[0] === node).length;
    if (!(await confirmDialog(`Delete ${node}?`, `${node} is stopped and removed${links ? ` with its ${links} link${links > 1 ? "s" : ""}` : ""}.`, "Delete")))
      return;
    try {
      await api.deleteNode(lab.name, node);
      this.consoles.closeLab(lab.name, node);
      if (this.selection?.type === "node" && this.selection.name === node) this.select(null);
      await this.refresh();
    } catch (e) {
      this.showError(e, `Could not delete ${node}`);
    }
  }

  private async deleteLink(link: LinkView): Promise<void> {
    const lab = this.lab;
    if (!lab) return;
    if (!(await confirmDialog("Delete link?", `${link.a} ↔ ${link.b} is removed (both interfaces go).`, "Delete"))) return;
    try {
      await api.deleteLink(lab.name, link.a);
      if (this.selection?.type === "link" && this.selection.a === link.a) this.select(null);
      await this.refresh();
    } catch (e) {
      this.showError(e, "Could not delete the link");
    }
  }

  private saveMoves(positions: { name: string; position: Position }[]): void {
    const lab = this.lab;
    if (!lab) return;
    // A few at a time: dragging a site moves every node in it.
    const queue = [...positions];
    let failed = 0;
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        try {
          await api.moveNode(lab.name, p.name, p.position);
          const n = this.lab?.nodes.find((x) => x.name === p!.name);
          if (n) n.position = p.position;
        } catch (e) {
          if (failed++ === 0) this.showError(e, "Could not save the position");
        }
      }
    };
    void Promise.all([worker(), worker(), worker(), worker()]);
  }

  private setTool(tool: Tool): void {
    this.tool = tool;
    this.setLinkSource(null);
    for (const b of document.querySelectorAll<HTMLElement>("[data-tool]")) b.classList.toggle("active", b.dataset.tool === tool);
    $("#canvas").classList.toggle("linking", tool === "link");
    this.updateBanner();
  }

  private setLinkSource(name: string | null): void {
    this.linkSource = name;
    this.canvas.markLinkSource(name);
    this.updateBanner();
  }

  private updateBanner(): void {
    const b = $("#mode-banner");
    if (this.tool !== "link") {
      b.hidden = true;
      return;
    }
    b.hidden = false;
    b.textContent = this.linkSource
      ? `Link from ${this.linkSource}: click the other node (Esc cancels)`
      : "Link: click the first node (Esc leaves the link tool)";
  }

  // ---- page chrome --------------------------------------------------------

  private setupChrome(): void {
    $("#new-lab").addEventListener("click", () => void this.newLab());
    $("#empty-new-lab").addEventListener("click", () => void this.newLab());
    const file = $("#deploy-file") as HTMLInputElement;
    file.addEventListener("change", () => {
      const f = file.files?.[0];
      file.value = "";
      if (f) void this.deployFile(f);
    });
    for (const b of document.querySelectorAll<HTMLElement>(".open-file"))
      b.addEventListener("click", () => {
        this.closeLabMenu();
        file.click();
      });
    $("#lab-button").addEventListener("click", (e) => {
      e.stopPropagation();
      const menu = $("#lab-menu");
      if (menu.hidden) void this.openLabMenu();
      else this.closeLabMenu();
    });
    document.addEventListener("click", (e) => {
      if (!$("#lab-menu").contains(e.target as Node)) this.closeLabMenu();
    });
    $("#fit").addEventListener("click", () => this.canvas.fit());
    $("#zoom-in").addEventListener("click", () => this.zoom(1.25));
    $("#zoom-out").addEventListener("click", () => this.zoom(0.8));
    for (const b of document.querySelectorAll<HTMLElement>("[data-tool]"))
      b.addEventListener("click", () => this.setTool(b.dataset.tool as Tool));
    const find = $("#find") as HTMLInputElement;
    find.addEventListener("input", () => {
      const n = this.canvas.find(find.value.trim());
      find.classList.toggle("no-hits", !!find.value.trim() && n === 0);
    });
    find.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        const hit = this.lab?.nodes.find((n) => n.name.toLowerCase().includes(find.value.trim().toLowerCase()));
        if (hit) this.select({ type: "node", name: hit.name });
      } else if (e.key === "Escape") {
        find.value = "";
        this.canvas.find("");
        find.blur();
      }
    });
    const legend = $("#legend");
    for (const s of ["running", "degraded", "recovering", "failed", "missing"])
      legend.append(h("li", {}, h("span", { class: "legend-dot", style: `background:${STATUS_COLOR[s]}` }), s));
  }

  private zoom(f: number): void {
    const cy = this.canvas.cy;
    cy.zoom({ level: cy.zoom() * f, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
  }

  private renderLabButton(): void {
    $("#lab-button-name").textContent = this.lab?.name ?? "Choose a lab";
    const st = $("#lab-button-state");
    st.textContent = this.lab ? `${this.lab.nodes.length} nodes` : "";
  }

  private async openLabMenu(): Promise<void> {
    const menu = $("#lab-menu");
    const list = $("#lab-list");
    menu.hidden = false;
    $("#lab-button").setAttribute("aria-expanded", "true");
    try {
      await this.loadLabs();
    } catch {
      // show what we had
    }
    clear(list);
    if (!this.labs.length) list.append(h("li", { class: "muted lab-none" }, "No labs yet"));
    for (const l of [...this.labs].sort((a, b) => a.name.localeCompare(b.name)))
      list.append(
        h(
          "li",
          {},
          h(
            "button",
            {
              class: `lab-item${l.name === this.lab?.name ? " current" : ""}`,
              "data-lab": l.name,
              onclick: () => {
                this.closeLabMenu();
                location.hash = `#/lab/${encodeURIComponent(l.name)}`;
              },
            },
            h("span", { class: "lab-item-name" }, l.name),
            h("span", { class: "lab-item-meta" }, `${l.nodes.length} nodes · ${l.links.length} links · ${l.state}`),
          ),
        ),
      );
  }

  private closeLabMenu(): void {
    $("#lab-menu").hidden = true;
    $("#lab-button").setAttribute("aria-expanded", "false");
  }

  private setupPalette(): void {
    const palette = $("#devices");
    for (const kind of ["router", "switch", "host"] as NodeKind[]) {
      const icon = h("span", { class: "kind-icon", style: `background:${KIND_COLOR[kind]}` });
      icon.innerHTML = ICON_SVG[kind];
      const item = h(
        "div",
        { class: `device device-${kind}`, "data-kind": kind, title: `${KIND_HINT[kind]}. Drag onto the canvas, or click to add one.`, role: "button", tabindex: "0" },
        icon,
        h("span", { class: "device-label" }, KIND_LABEL[kind]),
      );
      item.addEventListener("pointerdown", (e) => this.dragFromPalette(e, kind, item));
      item.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          void this.createNode(kind, this.viewCentre());
        }
      });
      palette.append(item);
    }
  }

  private viewCentre(): Position {
    const cy = this.canvas.cy;
    const pan = cy.pan();
    const z = cy.zoom();
    const jitter = () => Math.round((Math.random() - 0.5) * 80);
    return { x: Math.round((cy.width() / 2 - pan.x) / z) + jitter(), y: Math.round((cy.height() / 2 - pan.y) / z) + jitter() };
  }

  /** Drag a device from the palette: a ghost follows the pointer; dropped on the canvas, it becomes a node there. */
  private dragFromPalette(e: PointerEvent, kind: NodeKind, item: HTMLElement): void {
    if (e.button !== 0) return;
    e.preventDefault();
    const startX = e.clientX;
    const startY = e.clientY;
    let ghost: HTMLElement | null = null;
    const canvasEl = $("#canvas");
    const move = (ev: PointerEvent) => {
      if (!ghost && Math.hypot(ev.clientX - startX, ev.clientY - startY) > 4) {
        ghost = h("div", { class: "drag-ghost" });
        const icon = item.querySelector(".kind-icon")!.cloneNode(true) as HTMLElement;
        ghost.append(icon);
        document.body.append(ghost);
        document.body.classList.add("dragging-device");
      }
      if (ghost) {
        ghost.style.transform = `translate(${ev.clientX - 21}px, ${ev.clientY - 21}px)`;
        canvasEl.classList.toggle("drop-target", this.canvas.modelPosition(ev.clientX, ev.clientY) !== null);
      }
    };
    const up = (ev: PointerEvent) => {
      document.removeEventListener("pointermove", move);
      document.removeEventListener("pointerup", up);
      document.removeEventListener("pointercancel", up);
      canvasEl.classList.remove("drop-target");
      document.body.classList.remove("dragging-device");
      if (ghost) {
        ghost.remove();
        if (ev.type === "pointercancel") return;
        const pos = this.canvas.modelPosition(ev.clientX, ev.clientY);
        const overCanvas = pos && document.elementFromPoint(ev.clientX, ev.clientY)?.closest("#canvas");
        if (pos && overCanvas) void this.createNode(kind, pos);
      } else if (ev.type === "pointerup") void this.createNode(kind, this.viewCentre());
    };
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", up);
    document.addEventListener("pointercancel", up);
  }

  private setupKeys(): void {
    document.addEventListener("keydown", (e) => {
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, .xterm, dialog") || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "Escape") {
        if (this.tool === "link") this.setTool("select");
        else this.select(null);
      } else if (e.key === "l" || e.key === "L") this.setTool(this.tool === "link" ? "select" : "link");
      else if (e.key === "v" || e.key === "V") this.setTool("select");
      else if (e.key === "f" || e.key === "F") this.canvas.fit();
      else if (e.key === "/") {
        e.preventDefault();
        ($("#find") as HTMLInputElement).focus();
      } else if (e.key === "Delete" || e.key === "Backspace") {
        const sel = this.selection;
        if (sel?.type === "node") void this.deleteNode(sel.name);
        else if (sel?.type === "link") {
          const l = this.lab?.links.find((x) => x.a === sel.a);
          if (l) void this.deleteLink(l);
        }
      }
    });
  }

  private setLiveState(s: LiveState): void {
    const el = $("#live");
    el.dataset.state = s;
    el.title =
      s === "live"
        ? "Following the lab's events"
        : s === "polling"
          ? "Following the lab's events by polling (the event socket is unavailable)"
          : "The daemon does not answer";
    $("#live-text").textContent = s;
  }

  private setLiveStateIfOffline(): void {
    if ($("#live").dataset.state === "offline") this.setLiveState("polling");
  }

  private busy(text: string): { update(t: string): void; done(): void } {
    const el = h("div", { class: "busy" }, h("span", { class: "spinner" }), h("span", { class: "busy-text" }, text));
    document.body.append(el);
    return { update: (t) => (el.querySelector(".busy-text")!.textContent = t), done: () => el.remove() };
  }

  private showNoLab(): void {
    this.lab = null;
    this.live.stop();
    document.title = "netloom";
    this.canvas.show({ name: "", state: "", prefix: "", source: null, created_at: 0, nodes: [], links: [] }, this.overrides);
    $("#no-lab").hidden = false;
    $("#workspace").classList.add("empty");
    this.renderLabButton();
    this.panel.render(null, null, (n) => n.status, []);
  }

  showLogin(): void {
    if (this.loggedOut) return;
    this.loggedOut = true;
    this.live.stop();
    $("#login").hidden = false;
  }

  private showError(e: unknown, context?: string): void {
    if (e instanceof ApiError && e.status === 401) return; // the login screen says it
    const msg = e instanceof Error ? e.message : String(e);
    toast(context ? `${context}: ${msg}` : msg, "error");
  }

  private showFatal(e: unknown): void {
    const box = $("#fatal");
    box.hidden = false;
    $("#fatal-text").textContent = e instanceof Error ? e.message : String(e);
  }
}

const app = new App();

// A handle for the browser tests and the render benchmark.
declare global {
  interface Window {
    netloom: {
      app: App;
      consoleText(node: string): string;
      nodePosition(node: string): Position | null;
      linkMidpoint(a: string): Position | null;
      lastRender(): unknown;
    };
  }
}
window.netloom = {
  app,
  consoleText: (node) => (app.lab ? app.consoles.text(app.lab.name, node) : ""),
  nodePosition: (node) => app.canvas.clientPosition(node),
  linkMidpoint: (a) => {
    const l = app.lab?.links.find((x) => x.a === a || x.b === a);
    if (!l) return null;
    const e = app.canvas.cy.getElementById(linkId(l));
    if (e.empty()) return null;
    const rect = app.canvas.cy.container()!.getBoundingClientRect();
    const p = e.renderedMidpoint();
    return { x: rect.left + p.x, y: rect.top + p.y };
  },
  lastRender: () => app.canvas.lastRender,
};

void app.start();
