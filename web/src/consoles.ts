// Console tabs: one xterm.js terminal per node, over the daemon's console
// WebSocket (binary frames carry the terminal's bytes both ways; a text
// frame `{"type":"resize","cols","rows"}` resizes).

import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { consoleUrl } from "./api";
import { clear, h } from "./dom";
import { STATUS_COLOR } from "./icons";

interface Session {
  lab: string;
  node: string;
  term: Terminal;
  fit: FitAddon;
  ws: WebSocket | null;
  tab: HTMLElement;
  pane: HTMLElement;
  state: HTMLElement;
  dot: HTMLElement;
  closedByUser: boolean;
}

const encoder = new TextEncoder();

export class Consoles {
  private sessions = new Map<string, Session>();
  private active: string | null = null;
  private tabs: HTMLElement;
  private panes: HTMLElement;
  private observer: ResizeObserver;

  constructor(
    private dock: HTMLElement,
    private onLayoutChange: () => void,
  ) {
    this.tabs = dock.querySelector(".dock-tabs") as HTMLElement;
    this.panes = dock.querySelector(".dock-panes") as HTMLElement;
    this.observer = new ResizeObserver(() => this.fitActive());
    this.observer.observe(this.panes);
    this.setupResizer(dock.querySelector(".dock-resizer") as HTMLElement);
    (dock.querySelector(".dock-toggle") as HTMLElement).addEventListener("click", () => {
      dock.classList.toggle("collapsed");
      this.onLayoutChange();
      this.fitActive();
    });
  }

  private key(lab: string, node: string): string {
    return `${lab}/${node}`;
  }

  /** Opens (or shows) the console tab of a node. */
  open(lab: string, node: string): void {
    const k = this.key(lab, node);
    this.dock.classList.remove("hidden", "collapsed");
    this.onLayoutChange();
    let s = this.sessions.get(k);
    if (!s) {
      s = this.create(lab, node);
      this.sessions.set(k, s);
    }
    this.activate(k);
    s.term.focus();
  }

  private create(lab: string, node: string): Session {
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: '"DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: { background: "#141a23", foreground: "#dfe6ef", cursor: "#f5a524" },
      convertEol: false,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    const dot = h("span", { class: "tab-dot" });
    const state = h("span", { class: "tab-state" });
    const k = this.key(lab, node);
    const tab = h(
      "div",
      { class: "dock-tab", role: "tab", "data-node": node, title: `${node} (${lab})`, onclick: () => this.activate(k) },
      dot,
      h("span", { class: "tab-name" }, node),
      state,
      h(
        "button",
        {
          class: "tab-close",
          title: "Close console",
          onclick: (e: Event) => {
            e.stopPropagation();
            this.close(k);
          },
        },
        "×",
      ),
    );
    const pane = h("div", { class: "dock-pane", "data-node": node });
    this.tabs.append(tab);
    this.panes.append(pane);
    term.open(pane);
    const s: Session = { lab, node, term, fit, ws: null, tab, pane, state, dot, closedByUser: false };
    term.onData((d) => {
      if (s.ws?.readyState === WebSocket.OPEN) s.ws.send(encoder.encode(d));
      else if (d === "\r" && (!s.ws || s.ws.readyState === WebSocket.CLOSED)) this.connect(s);
    });
    term.onResize(({ cols, rows }) => {
      if (s.ws?.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify({ type: "resize", cols, rows }));
    });
    requestAnimationFrame(() => {
      this.fitSession(s);
      this.connect(s);
    });
    return s;
  }

  private connect(s: Session): void {
    this.fitSession(s);
    const ws = new WebSocket(consoleUrl(s.lab, s.node, s.term.cols, s.term.rows));
    ws.binaryType = "arraybuffer";
    s.ws = ws;
    this.setState(s, "connecting");
    ws.onopen = () => {
      this.setState(s, "connected");
      ws.send(JSON.stringify({ type: "resize", cols: s.term.cols, rows: s.term.rows }));
    };
    ws.onmessage = (e) => {
      if (e.data instanceof ArrayBuffer) s.term.write(new Uint8Array(e.data));
      else if (typeof e.data === "string") {
        // Control messages are JSON; anything else is terminal text.
        try {
          const msg = JSON.parse(e.data) as { type?: string; message?: string; code?: number };
          if (msg.type === "exit") s.term.write(`\r\n\x1b[2m[the shell exited${msg.code != null ? ` with ${msg.code}` : ""}]\x1b[0m\r\n`);
          else if (msg.type === "error" || msg.message) s.term.write(`\r\n\x1b[31m${msg.message ?? e.data}\x1b[0m\r\n`);
        } catch {
          s.term.write(e.data);
        }
      }
    };
    ws.onclose = (e) => {
      if (s.ws !== ws) return;
      this.setState(s, "closed");
      if (!s.closedByUser) {
        const why = e.reason ? `: ${e.reason}` : e.code === 1006 ? ": the daemon refused or dropped the connection" : "";
        s.term.write(`\r\n\x1b[2m[console closed${why}; press Enter to reconnect]\x1b[0m\r\n`);
      }
    };
  }

  private setState(s: Session, state: "connecting" | "connected" | "closed"): void {
    s.tab.dataset.state = state;
    s.state.textContent = state === "connected" ? "" : state === "connecting" ? "…" : "closed";
  }

  /** Colours the tab's dot with the node's status. */
  setStatus(lab: string, node: string, status: string): void {
    const s = this.sessions.get(this.key(lab, node));
    if (s) s.dot.style.background = STATUS_COLOR[status] ?? STATUS_COLOR.missing;
  }

  private activate(k: string): void {
    this.active = k;
    for (const [key, s] of this.sessions) {
      const on = key === k;
      s.tab.classList.toggle("active", on);
      s.pane.classList.toggle("active", on);
    }
    const s = this.sessions.get(k);
    if (s) requestAnimationFrame(() => this.fitSession(s));
  }

  close(k: string): void {
    const s = this.sessions.get(k);
    if (!s) return;
    s.closedByUser = true;
    s.ws?.close();
    s.term.dispose();
    s.tab.remove();
    s.pane.remove();
    this.sessions.delete(k);
    if (this.active === k) {
      const next = [...this.sessions.keys()].pop() ?? null;
      if (next) this.activate(next);
      else {
        this.active = null;
        this.dock.classList.add("hidden");
        this.onLayoutChange();
      }
    }
  }

  /** Closes the consoles of a lab (or of one node of it). */
  closeLab(lab: string, node?: string): void {
    for (const [k, s] of [...this.sessions]) if (s.lab === lab && (!node || s.node === node)) this.close(k);
  }

  /** The text in a node's terminal (scrollback included), for tests. */
  text(lab: string, node: string): string {
    const s = this.sessions.get(this.key(lab, node));
    if (!s) return "";
    const buf = s.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n");
  }

  private fitSession(s: Session): void {
    if (!s.pane.classList.contains("active") || this.dock.classList.contains("collapsed")) return;
    if (s.pane.clientWidth < 20 || s.pane.clientHeight < 20) return;
    try {
      s.fit.fit();
    } catch {
      // not laid out yet
    }
  }

  private fitActive(): void {
    const s = this.active ? this.sessions.get(this.active) : undefined;
    if (s) this.fitSession(s);
  }

  private setupResizer(grip: HTMLElement): void {
    grip.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      grip.setPointerCapture(e.pointerId);
      const startY = e.clientY;
      const startH = this.dock.getBoundingClientRect().height;
      const move = (ev: PointerEvent) => {
        const hgt = Math.max(120, Math.min(window.innerHeight - 160, startH + (startY - ev.clientY)));
        this.dock.style.height = `${hgt}px`;
        this.onLayoutChange();
      };
      const up = () => {
        grip.removeEventListener("pointermove", move);
        grip.removeEventListener("pointerup", up);
        this.fitActive();
      };
      grip.addEventListener("pointermove", move);
      grip.addEventListener("pointerup", up);
    });
  }

  reset(): void {
    for (const k of [...this.sessions.keys()]) this.close(k);
    clear(this.tabs);
  }
}
