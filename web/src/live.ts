// The lab's event stream: the daemon's WebSocket, or polling when the
// socket cannot be opened.

import { api, ApiError, eventsUrl } from "./api";
import type { NetloomEvent } from "./types";

export type LiveState = "live" | "polling" | "offline";

export class Live {
  private ws: WebSocket | null = null;
  private lab: string | null = null;
  private lastId = 0;
  private timer: number | undefined;
  private failures = 0;
  private generation = 0;

  constructor(
    private onEvent: (e: NetloomEvent) => void,
    private onState: (s: LiveState) => void,
  ) {}

  /** Follows a lab's events from `after` on (stops following the previous lab). */
  follow(lab: string | null, after: number): void {
    this.stop();
    this.lab = lab;
    this.lastId = after;
    this.failures = 0;
    if (lab) this.connect();
  }

  stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
  }

  private deliver(e: NetloomEvent): void {
    if (e.id <= this.lastId) return;
    this.lastId = e.id;
    this.onEvent(e);
  }

  private connect(): void {
    const gen = this.generation;
    const lab = this.lab!;
    let opened = false;
    const ws = new WebSocket(eventsUrl(lab));
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      this.failures = 0;
      this.onState("live");
      // Catch up on what happened while the socket was down.
      void this.poll(gen, false);
    };
    ws.onmessage = (m) => {
      if (typeof m.data !== "string") return;
      try {
        this.deliver(JSON.parse(m.data) as NetloomEvent);
      } catch {
        // not an event
      }
    };
    ws.onclose = () => {
      if (gen !== this.generation) return;
      this.ws = null;
      if (!opened) this.failures++;
      if (this.failures >= 2) {
        // The daemon has no event socket (or refuses it): poll instead,
        // and try the socket again now and then.
        this.onState("polling");
        this.pollLoop(gen, 0);
      } else {
        this.onState("offline");
        this.timer = window.setTimeout(() => gen === this.generation && this.connect(), 1000);
      }
    };
  }

  private pollLoop(gen: number, rounds: number): void {
    this.timer = window.setTimeout(async () => {
      if (gen !== this.generation) return;
      await this.poll(gen, true);
      if (gen !== this.generation) return;
      if (rounds >= 15) {
        this.failures = 0;
        this.connect();
      } else this.pollLoop(gen, rounds + 1);
    }, 2000);
  }

  private async poll(gen: number, report: boolean): Promise<void> {
    if (!this.lab) return;
    try {
      const events = await api.events(this.lab, this.lastId);
      if (gen !== this.generation) return;
      for (const e of events) this.deliver(e);
      if (report) this.onState("polling");
    } catch (e) {
      if (report && gen === this.generation) this.onState(e instanceof ApiError && e.status === 401 ? "offline" : "offline");
    }
  }
}
