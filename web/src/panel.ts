// The side panel: the lab (with its routing, polled while shown), a node
// (status, interfaces, addresses, FRR configuration) or a link (properties
// per direction, live edit, counters).

import { api, ApiError } from "./api";
import { clear, h, toast } from "./dom";
import { ICON_SVG, KIND_COLOR, KIND_LABEL, STATUS_COLOR } from "./icons";
import { followFingerprint, routingStatus, whyNotReady, type RoutingState, type Steady } from "./routing";
import type { Impairments, LabRouting, LabView, LinkChange, LinkView, NetloomEvent, NodeView, WireProps } from "./types";
import {
  bpsToMbitField,
  formatBytes,
  formatDuration,
  formatLoss,
  formatPpm,
  formatRate,
  lossField,
  nsToMsField,
  parseDuration,
  parsePercent,
  parseRate,
  splitEndpoint,
} from "./units";

export interface PanelActions {
  openConsole(node: string): void;
  deleteNode(node: string): void;
  deleteLink(link: LinkView): void;
  linkChanged(link: LinkView): void;
  selectNode(node: string): void;
  selectLink(a: string): void;
  exportLab(): void;
  destroyLab(): void;
}

/** How often the lab panel asks for the lab's routing. */
const ROUTING_POLL_MS = 2000;

/** How many routers that are not ready the lab panel names. */
const NAME_NOT_READY = 10;

const ROUTING_COLOR: Record<RoutingState, string> = {
  converged: STATUS_COLOR.running,
  settling: STATUS_COLOR.recovering,
  converging: STATUS_COLOR.degraded,
  none: STATUS_COLOR.missing,
};

export type Selection = { type: "node"; name: string } | { type: "link"; a: string } | null;

function badge(status: string): HTMLElement {
  return h(
    "span",
    { class: `badge status-${status}`, style: `--c: ${STATUS_COLOR[status] ?? STATUS_COLOR.missing}` },
    status,
  );
}

function icon(kind: NodeView["kind"]): HTMLElement {
  const el = h("span", { class: `kind-icon kind-${kind}`, style: `background:${KIND_COLOR[kind]}` });
  el.innerHTML = ICON_SVG[kind];
  return el;
}

function section(title: string, ...body: (Node | string | null)[]): HTMLElement {
  return h("section", { class: "panel-section" }, h("h3", {}, title), ...body);
}

function kv(rows: [string, Node | string | null | undefined][]): HTMLElement {
  return h(
    "dl",
    { class: "kv" },
    ...rows.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v!)]),
  );
}

export class Panel {
  private configCache = new Map<string, { text: string; daemons: string[] } | ApiError>();
  private renderedKey = "";
  private routing = new RoutingWatch();

  constructor(
    private root: HTMLElement,
    private actions: PanelActions,
  ) {}

  private append(...els: (HTMLElement | null)[]): void {
    for (const el of els) if (el) this.root.append(el);
  }

  /** Forget cached router configurations (a new lab was opened). */
  reset(): void {
    this.configCache.clear();
    this.renderedKey = "";
    this.routing.follow(null, null);
  }

  render(
    lab: LabView | null,
    sel: Selection,
    statusOf: (n: NodeView) => string,
    events: NetloomEvent[],
    force = false,
  ): void {
    // While the user edits a link form, a lab refresh must not wipe it.
    const editing = this.root.querySelector("form.link-form.dirty");
    const key = JSON.stringify(sel);
    if (editing && key === this.renderedKey && !force) {
      this.updateCounters(lab, sel);
      return;
    }
    this.renderedKey = key;
    const scroll = this.root.scrollTop;
    clear(this.root);
    if (!lab) {
      this.routing.follow(null, null);
      this.root.append(h("div", { class: "panel-empty" }, "No lab open."));
      return;
    }
    let routingBody: HTMLElement | null = null;
    if (sel?.type === "node") {
      const node = lab.nodes.find((n) => n.name === sel.name);
      if (node) this.renderNode(lab, node, statusOf(node));
      else routingBody = this.renderLab(lab, statusOf, events);
    } else if (sel?.type === "link") {
      const link = lab.links.find((l) => l.a === sel.a);
      if (link) this.renderLink(lab, link);
      else routingBody = this.renderLab(lab, statusOf, events);
    } else routingBody = this.renderLab(lab, statusOf, events);
    // Only the lab panel follows the lab's routing.
    this.routing.follow(routingBody ? lab.name : null, routingBody);
    this.root.scrollTop = scroll;
  }

  /** Draws the lab panel; the element its routing section is shown in. */
  private renderLab(lab: LabView, statusOf: (n: NodeView) => string, events: NetloomEvent[]): HTMLElement {
    const counts = { router: 0, switch: 0, host: 0 };
    const byStatus = new Map<string, number>();
    for (const n of lab.nodes) {
      counts[n.kind]++;
      const s = statusOf(n);
      byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
    }
    const sites = new Set(lab.nodes.map((n) => n.site).filter(Boolean));
    const created = lab.created_at ? new Date(lab.created_at * 1000).toLocaleString() : "";
    const routingBody = h("div", { class: "routing-body" });
    this.root.append(
      h(
        "header",
        { class: "panel-head" },
        h("div", { class: "panel-title" }, h("span", { class: "panel-name" }, lab.name), badge(lab.state)),
        h("div", { class: "panel-sub" }, "Lab"),
      ),
      section(
        "Overview",
        kv([
          ["Nodes", `${lab.nodes.length} (${counts.router} routers, ${counts.switch} switches, ${counts.host} hosts)`],
          ["Links", String(lab.links.length)],
          ["Sites", sites.size ? [...sites].join(", ") : null],
          ["Prefix", lab.prefix],
          ["Source", lab.source ?? "created in the web page"],
          ["Created", created],
        ]),
        h(
          "div",
          { class: "status-counts" },
          ...[...byStatus].map(([s, n]) => h("span", { class: "status-count" }, badge(s), ` ${n}`)),
        ),
      ),
      section("Routing", routingBody),
      section(
        "Actions",
        h(
          "div",
          { class: "button-row" },
          h("button", { class: "btn", onclick: () => this.actions.exportLab(), title: "Download the lab as a topology file" }, "Export YAML"),
          h("button", { class: "btn btn-danger", onclick: () => this.actions.destroyLab() }, "Destroy lab"),
        ),
      ),
      section(
        "Recent events",
        events.length
          ? h(
              "ol",
              { class: "events" },
              ...events
                .slice(-30)
                .reverse()
                .map((e) =>
                  h(
                    "li",
                    {},
                    h("time", {}, new Date(e.ts_ms).toLocaleTimeString()),
                    h("span", { class: "event-kind" }, e.kind),
                    e.node ? h("span", { class: "event-node" }, e.node) : null,
                    e.message ? h("span", { class: "event-msg" }, e.message) : null,
                  ),
                ),
            )
          : h("p", { class: "muted" }, "Nothing yet."),
      ),
      h("p", { class: "panel-tip muted" }, "Select a node or a link to see its details. Double-click a node to open its console."),
    );
    return routingBody;
  }

  private renderNode(lab: LabView, node: NodeView, status: string): void {
    const links = lab.links.filter((l) => splitEndpoint(l.a)[0] === node.name || splitEndpoint(l.b)[0] === node.name);
    const peerOf = new Map<string, { ep: string; link: LinkView }>();
    for (const l of links) {
      if (splitEndpoint(l.a)[0] === node.name) peerOf.set(splitEndpoint(l.a)[1], { ep: l.b, link: l });
      if (splitEndpoint(l.b)[0] === node.name) peerOf.set(splitEndpoint(l.b)[1], { ep: l.a, link: l });
    }
    const ifaces = [...node.interfaces].sort((a, b) => (a.name === "lo" ? 1 : b.name === "lo" ? -1 : a.name.localeCompare(b.name, undefined, { numeric: true })));
    this.append(
      h(
        "header",
        { class: "panel-head" },
        h("div", { class: "panel-title" }, icon(node.kind), h("span", { class: "panel-name" }, node.name), badge(status)),
        h("div", { class: "panel-sub" }, KIND_LABEL[node.kind]),
        h(
          "div",
          { class: "button-row" },
          h("button", { class: "btn btn-primary", onclick: () => this.actions.openConsole(node.name) }, "Console"),
          h("button", { class: "btn btn-danger", onclick: () => this.actions.deleteNode(node.name) }, "Delete node"),
        ),
      ),
      section(
        "Details",
        kv([
          ["Kind", node.kind],
          ["Status", status],
          ["Namespace", h("code", {}, node.netns)],
          ["Image", node.image],
          ["Site", node.site ?? null],
          ["Position", node.position ? `${Math.round(node.position.x)}, ${Math.round(node.position.y)}` : "automatic"],
          ...Object.entries(node.labels).map(([k, v]) => [`label ${k}`, v] as [string, string]),
        ]),
      ),
      node.daemons.length
        ? section(
            "FRR daemons",
            h(
              "ul",
              { class: "daemons" },
              ...node.daemons.map((d) =>
                h(
                  "li",
                  { class: d.alive ? "alive" : "dead" },
                  h("span", { class: "dot" }),
                  d.name,
                  h("span", { class: "muted" }, d.alive ? ` pid ${d.pid ?? "?"}` : " not running"),
                ),
              ),
            ),
          )
        : null,
      section(
        "Interfaces",
        ifaces.length
          ? h(
              "table",
              { class: "ifaces" },
              h("thead", {}, h("tr", {}, h("th", {}, "name"), h("th", {}, "state"), h("th", {}, "addresses"))),
              h(
                "tbody",
                {},
                ...ifaces.map((i) => {
                  const peer = peerOf.get(i.name);
                  const state = !i.up ? "down" : i.running ? "up" : "no carrier";
                  return h(
                    "tr",
                    { "data-iface": i.name },
                    h(
                      "td",
                      {},
                      h("div", { class: "iface-name" }, i.name),
                      peer
                        ? h(
                            "a",
                            { href: "#", class: "iface-peer", onclick: (e: Event) => (e.preventDefault(), this.actions.selectLink(peer.link.a)) },
                            `→ ${peer.ep}`,
                          )
                        : i.master
                          ? h("div", { class: "muted" }, `port of ${i.master}`)
                          : null,
                    ),
                    h(
                      "td",
                      {},
                      h("span", { class: `if-state if-${state.replace(" ", "-")}` }, state),
                      h("div", { class: "muted small" }, [i.mac && i.mac !== "00:00:00:00:00:00" ? i.mac : null, i.mtu ? `mtu ${i.mtu}` : null].filter(Boolean).join(" · ")),
                    ),
                    h(
                      "td",
                      { class: "addrs" },
                      ...(i.addresses.length
                        ? i.addresses.map((a) => h("div", { class: a.startsWith("fe80:") ? "addr muted" : "addr" }, a))
                        : [h("span", { class: "muted" }, "none")]),
                    ),
                  );
                }),
              ),
            )
          : h("p", { class: "muted" }, status === "missing" ? "The node's namespace is gone." : "No interfaces."),
      ),
    );
    if (node.kind === "router") this.root.append(this.configSection(lab.name, node.name));
  }

  private configSection(lab: string, node: string): HTMLElement {
    const k = `${lab}/${node}`;
    const body = h("div", { class: "config-body" });
    const show = () => {
      clear(body);
      const c = this.configCache.get(k);
      if (!c) body.append(h("p", { class: "muted" }, "Loading…"));
      else if (c instanceof ApiError) body.append(h("p", { class: "error-text" }, c.message));
      else
        body.append(
          h("div", { class: "muted small" }, `daemons: ${c.daemons.join(", ")}`),
          h("pre", { class: "config" }, c.text),
          h(
            "div",
            { class: "button-row" },
            h(
              "button",
              {
                class: "btn btn-small",
                onclick: () => {
                  void navigator.clipboard?.writeText(c.text).then(() => toast("Configuration copied", "ok"));
                },
              },
              "Copy",
            ),
            h("button", { class: "btn btn-small", onclick: () => load(true) }, "Reload"),
          ),
        );
    };
    const load = (again = false) => {
      if (again) this.configCache.delete(k);
      if (this.configCache.has(k)) return show();
      show();
      api
        .nodeConfig(lab, node)
        .then((c) => this.configCache.set(k, { text: c.config, daemons: c.daemons }))
        .catch((e) => this.configCache.set(k, e instanceof ApiError ? e : new ApiError(0, "error", String(e))))
        .finally(() => {
          if (body.isConnected) show();
        });
    };
    load();
    return section("FRR configuration", body);
  }

  private renderLink(lab: LabView, link: LinkView): void {
    const [an, aif] = splitEndpoint(link.a);
    const [bn, bif] = splitEndpoint(link.b);
    const emulated = link.mode === "emulated";
    const dir = (title: string, w: WireProps | null) =>
      w
        ? h(
            "div",
            { class: "dir" },
            h("h4", {}, title),
            kv([
              ["delay", withSource(formatDuration(w.delay_ns), w, "delay")],
              ["jitter", withSource(formatDuration(w.jitter_ns), w, "jitter")],
              ["loss", withSource(formatLoss(w.loss), w, "loss")],
              ["rate", withSource(formatRate(w.rate_bps), w, "rate")],
              ["duplicate", w.duplicate ? formatPpm(w.duplicate) : null],
              ["corrupt", w.corrupt ? formatPpm(w.corrupt) : null],
              ["reorder", w.reorder ? "allowed" : null],
              ["queue", w.queue ? ("packets" in w.queue ? `${w.queue.packets} packets` : formatBytes(w.queue.bytes)) : null],
              ["state", w.down ? "dropping everything" : null],
            ]),
          )
        : null;
    this.append(
      h(
        "header",
        { class: "panel-head" },
        h(
          "div",
          { class: "panel-title" },
          h("span", { class: "panel-name link-name" }, `${link.a} ↔ ${link.b}`),
          badge(link.up ? "running" : "failed"),
        ),
        h("div", { class: "panel-sub" }, emulated ? "Emulated link (netloom's wire)" : "veth pair (no impairments)"),
        h(
          "div",
          { class: "button-row" },
          h("button", { class: "btn", onclick: () => this.actions.selectNode(an) }, an),
          h("button", { class: "btn", onclick: () => this.actions.selectNode(bn) }, bn),
          h("button", { class: "btn btn-danger", onclick: () => this.actions.deleteLink(link) }, "Delete link"),
        ),
      ),
      section("Link", kv([["Ends", `${an} ${aif} — ${bn} ${bif}`], ["Mode", link.mode], ["MTU", String(link.mtu ?? 1500)], ["State", link.up ? "up" : "down"]])),
      this.linkForm(lab.name, link),
      emulated ? section("Effective properties", h("div", { class: "dirs" }, dir(`${link.a} → ${link.b}`, link.a_to_b), dir(`${link.b} → ${link.a}`, link.b_to_a))) : null,
      h("div", { class: "counters-box" }, this.counters(link)),
    );
  }

  private counters(link: LinkView): HTMLElement | string {
    const c = link.counters;
    if (!c) return "";
    const row = (title: string, d: typeof c.a_to_b) =>
      h(
        "tr",
        {},
        h("th", {}, title),
        h("td", {}, String(d.packets)),
        h("td", {}, formatBytes(d.bytes)),
        h("td", {}, String(d.drop_loss + d.drop_queue + d.drop_down + d.drop_mtu)),
      );
    return section(
      `Counters${c.running ? "" : " (wire stopped)"}`,
      h(
        "table",
        { class: "counters" },
        h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "packets"), h("th", {}, "bytes"), h("th", {}, "dropped"))),
        h("tbody", {}, row("a → b", c.a_to_b), row("b → a", c.b_to_a)),
      ),
    );
  }

  private updateCounters(lab: LabView | null, sel: Selection): void {
    if (!lab || sel?.type !== "link") return;
    const link = lab.links.find((l) => l.a === sel.a);
    const box = this.root.querySelector(".counters-box");
    if (link && box) box.replaceChildren(this.counters(link));
  }

  private linkForm(lab: string, link: LinkView): HTMLElement {
    const w = link.a_to_b ?? link.b_to_a;
    const emulated = link.mode === "emulated";
    const field = (name: string, label: string, value: string, unit: string, hint?: string) =>
      h(
        "label",
        { class: "lf-field" },
        h("span", { class: "lf-label" }, label),
        h(
          "span",
          { class: "lf-input" },
          h("input", { name, value, type: "text", inputmode: "decimal", autocomplete: "off", disabled: !emulated }),
          h("span", { class: "lf-unit" }, unit),
        ),
        hint ? h("span", { class: "lf-hint" }, hint) : null,
      );
    const err = h("div", { class: "form-error", role: "alert" });
    const upBox = h("input", { type: "checkbox", name: "up", checked: link.up });
    const form = h(
      "form",
      { class: "link-form", "data-link": link.a },
      h(
        "div",
        { class: "lf-grid" },
        field("delay", "Delay", w ? nsToMsField(w.delay_ns) : "0", "ms"),
        field("jitter", "Jitter", w ? nsToMsField(w.jitter_ns) : "0", "ms"),
        field("loss", "Loss", w ? lossField(w.loss) : "0", "%"),
        field("rate", "Rate", w ? bpsToMbitField(w.rate_bps) : "", "Mbit/s", "empty: unlimited"),
      ),
      h(
        "div",
        { class: "lf-row" },
        h("label", { class: "switch-label" }, upBox, h("span", {}, "Link up")),
        h(
          "select",
          { name: "direction", disabled: !emulated, title: "Which direction the delay, jitter, loss and rate apply to" },
          h("option", { value: "both" }, "both directions"),
          h("option", { value: "a" }, `only ${link.a} → ${splitEndpoint(link.b)[0]}`),
          h("option", { value: "b" }, `only ${link.b} → ${splitEndpoint(link.a)[0]}`),
        ),
      ),
      emulated ? null : h("p", { class: "muted small" }, "A veth link can only go up or down; links drawn in this page are emulated."),
      err,
      h(
        "div",
        { class: "button-row" },
        h("button", { class: "btn btn-primary", type: "submit" }, "Apply"),
        h("button", { class: "btn", type: "reset" }, "Reset"),
      ),
    );
    const changed = new Set<string>();
    form.addEventListener("input", (e) => {
      const t = e.target as HTMLInputElement;
      changed.add(t.name);
      form.classList.add("dirty");
      err.textContent = "";
    });
    form.addEventListener("reset", () => {
      changed.clear();
      form.classList.remove("dirty");
      err.textContent = "";
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const val = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).value.trim();
      const set: Impairments = {};
      try {
        if (changed.has("delay")) set.delay_ns = parseDuration(val("delay") || "0", "ms");
        if (changed.has("jitter")) set.jitter_ns = parseDuration(val("jitter") || "0", "ms");
        if (changed.has("loss")) set.loss = { model: "random", p: parsePercent(val("loss") || "0") };
        if (changed.has("rate")) {
          if (val("rate")) set.rate_bps = parseRate(val("rate"), "mbit");
          else if (w?.rate_bps != null) throw new Error("a rate cannot be removed from a running link; set a high one instead");
        }
      } catch (ex) {
        err.textContent = (ex as Error).message;
        return;
      }
      const direction = (form.elements.namedItem("direction") as HTMLSelectElement).value;
      const endpoint = direction === "b" ? link.b : link.a;
      const oneWay = direction !== "both";
      const up = upBox.checked;
      const calls: LinkChange[] = [];
      if (Object.keys(set).length) calls.push({ set, one_way: oneWay });
      if (up !== link.up) calls.push({ up, one_way: false });
      if (!calls.length) {
        toast("Nothing changed");
        return;
      }
      const submit = form.querySelector("button[type=submit]") as HTMLButtonElement;
      submit.disabled = true;
      submit.textContent = "Applying…";
      (async () => {
        let result: LinkView | null = null;
        for (const c of calls) result = await api.changeLink(lab, endpoint, c);
        return result!;
      })()
        .then((l) => {
          form.classList.remove("dirty");
          changed.clear();
          toast(`Link ${link.a} ↔ ${link.b} changed`, "ok");
          this.actions.linkChanged(l);
        })
        .catch((ex) => {
          err.textContent = ex instanceof Error ? ex.message : String(ex);
        })
        .finally(() => {
          submit.disabled = false;
          submit.textContent = "Apply";
        });
    });
    return section("Properties", form);
  }
}

function withSource(text: string, w: WireProps, field: string): HTMLElement {
  const src = w.sources?.[field];
  return h("span", {}, text, src ? h("span", { class: "source", title: `from ${src}` }, ` (${src})`) : null);
}

/**
 * A lab's routing, asked of the daemon every ROUTING_POLL_MS while the lab
 * panel shows it (never two requests at once), and shown there. The panel
 * draws a new element on every render; the last answer is kept, so the
 * fingerprint is followed across polls as `netloom wait` follows it.
 */
class RoutingWatch {
  private lab: string | null = null;
  private body: HTMLElement | null = null;
  /** Bumped whenever the lab followed changes: answers for an older one are dropped. */
  private generation = 0;
  private timer: number | undefined;
  private busy = false;
  /** A poll asked for while another was under way (for a newly followed lab). */
  private again = false;
  private report: LabRouting | null = null;
  /** When the report arrived (ms, `performance.now()`). */
  private at = 0;
  private steady: Steady | null = null;
  private error: string | null = null;

  /** Shows `lab`'s routing in `body` and keeps it up to date; a null lab stops. */
  follow(lab: string | null, body: HTMLElement | null): void {
    if (lab !== this.lab) {
      this.generation++;
      clearTimeout(this.timer);
      this.timer = undefined;
      this.again = false;
      this.lab = lab;
      this.report = null;
      this.steady = null;
      this.error = null;
      if (lab) this.poll();
    }
    this.body = body;
    this.show();
  }

  private poll(): void {
    this.timer = undefined;
    const lab = this.lab;
    if (!lab) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    const gen = this.generation;
    // A hidden page asks nothing; it looks again when shown.
    if (document.visibilityState !== "visible") {
      this.timer = window.setTimeout(() => this.poll(), ROUTING_POLL_MS);
      return;
    }
    this.busy = true;
    const asked = performance.now();
    let stop = false;
    api
      .routing(lab)
      .then((r) => {
        if (gen !== this.generation) return;
        const now = performance.now();
        this.report = r;
        this.at = now;
        this.steady = followFingerprint(this.steady, r, now);
        this.error = null;
      })
      .catch((e) => {
        if (gen !== this.generation) return;
        // Not logged in any more: the login screen says so.
        stop = e instanceof ApiError && e.status === 401;
        this.error = `Cannot read the routing: ${e instanceof Error ? e.message : String(e)}`;
      })
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          this.poll();
          return;
        }
        if (gen !== this.generation) return;
        this.show();
        // A slow answer (a large lab) means a longer pause: the daemon
        // spends at most half the time answering.
        if (!stop) this.timer = window.setTimeout(() => this.poll(), Math.max(ROUTING_POLL_MS, performance.now() - asked));
      });
  }

  private show(): void {
    const body = this.body;
    if (!body) return;
    const r = this.report;
    if (this.error) {
      body.replaceChildren(h("p", { class: "error-text routing-error" }, this.error));
      return;
    }
    if (!r) {
      body.replaceChildren(h("p", { class: "muted" }, "Loading…"));
      return;
    }
    const { state, text } = routingStatus(r, this.steady, this.at);
    const waiting = r.routers.filter((x) => !x.ready);
    const detail =
      state === "converged"
        ? `${r.routers_total} router${r.routers_total === 1 ? "" : "s"} ready, routes unchanged for ${r.settle_s} s or more`
        : state === "settling"
          ? `Every router is ready; waiting for the routes to stay unchanged for ${r.settle_s} s`
          : state === "none"
            ? "The lab has no routers."
            : null;
    const parts: HTMLElement[] = [
      h("div", { class: "routing-status", "data-state": state }, h("span", { class: "badge", style: `--c: ${ROUTING_COLOR[state]}` }, text)),
    ];
    if (detail) parts.push(h("p", { class: "muted small routing-detail" }, detail));
    if (waiting.length)
      parts.push(
        h(
          "ul",
          { class: "routing-waiting" },
          ...waiting.slice(0, NAME_NOT_READY).map((x) => h("li", {}, whyNotReady(x))),
          waiting.length > NAME_NOT_READY ? h("li", { class: "muted" }, `... and ${waiting.length - NAME_NOT_READY} more`) : null,
        ),
      );
    body.replaceChildren(...parts);
  }
}
