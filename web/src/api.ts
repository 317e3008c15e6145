// The daemon's HTTP API. The page is served by the daemon, so every call is
// same-origin and carries the `netloom_session` cookie set by /login.

import type {
  ExecResult,
  LabRouting,
  LabView,
  LinkChange,
  LinkView,
  NetloomEvent,
  NodeConfig,
  NodeKind,
  NodeView,
  Position,
} from "./types";

/** An error the daemon answered with (`{code, message}`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type UnauthorizedHandler = (err: ApiError) => void;
let onUnauthorized: UnauthorizedHandler = () => {};

/** Called whenever a call answers 401: the page shows the login screen. */
export function setUnauthorizedHandler(h: UnauthorizedHandler): void {
  onUnauthorized = h;
}

const enc = encodeURIComponent;

async function errorOf(resp: Response): Promise<ApiError> {
  let code = `http_${resp.status}`;
  let message = `${resp.status} ${resp.statusText}`.trim();
  try {
    const text = await resp.text();
    try {
      const body = JSON.parse(text) as { code?: string; message?: string };
      if (body.code) code = body.code;
      if (body.message) message = body.message;
    } catch {
      if (text.trim()) message = text.trim();
    }
  } catch {
    // keep the status line
  }
  const err = new ApiError(resp.status, code, message);
  if (resp.status === 401) onUnauthorized(err);
  return err;
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  let resp: Response;
  try {
    resp = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "unreachable", `the netloom daemon does not answer (${String(e)})`);
  }
  if (!resp.ok) throw await errorOf(resp);
  return resp;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const resp = await send(method, path, body);
  const text = await resp.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** One line of a deploy's NDJSON stream. */
export interface DeployEvent {
  event: string;
  [key: string]: unknown;
}

/** Deploys a topology file's text; `progress` sees every streamed line. */
export async function deployYaml(
  yaml: string,
  progress: (e: DeployEvent) => void = () => {},
): Promise<LabView> {
  const resp = await send("POST", "/api/v1/labs", { yaml });
  const reader = resp.body?.getReader();
  if (!reader) throw new ApiError(0, "no_body", "the deploy answered without a body");
  const decoder = new TextDecoder();
  let buf = "";
  let lab: LabView | null = null;
  const handle = (line: string) => {
    if (!line.trim()) return;
    const e = JSON.parse(line) as DeployEvent;
    if (e.event === "done") lab = e.lab as LabView;
    else if (e.event === "error")
      throw new ApiError(500, String(e.code ?? "deploy_failed"), String(e.message ?? "deploy failed"));
    else progress(e);
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      handle(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    if (done) break;
  }
  handle(buf);
  if (!lab) throw new ApiError(500, "deploy_incomplete", "the deploy stream ended without a result");
  return lab;
}

export const api = {
  version: () => json<{ version: string; prefix: string; pid: number }>("GET", "/api/v1/version"),
  labs: () => json<LabView[]>("GET", "/api/v1/labs"),
  lab: (lab: string) => json<LabView>("GET", `/api/v1/labs/${enc(lab)}`),
  destroyLab: (lab: string) => send("DELETE", `/api/v1/labs/${enc(lab)}`).then(() => undefined),
  exportLab: async (lab: string) => (await send("GET", `/api/v1/labs/${enc(lab)}/export`)).text(),

  createNode: (lab: string, kind: NodeKind, position?: Position, name?: string) =>
    json<NodeView>("POST", `/api/v1/labs/${enc(lab)}/nodes`, { kind, name, position }),
  deleteNode: (lab: string, node: string) =>
    send("DELETE", `/api/v1/labs/${enc(lab)}/nodes/${enc(node)}`).then(() => undefined),
  moveNode: (lab: string, node: string, position: Position) =>
    json<NodeView>("PATCH", `/api/v1/labs/${enc(lab)}/nodes/${enc(node)}`, { position }),
  nodeConfig: (lab: string, node: string) =>
    json<NodeConfig>("GET", `/api/v1/labs/${enc(lab)}/nodes/${enc(node)}/config`),
  exec: (lab: string, node: string, command: string[]) =>
    json<ExecResult>("POST", `/api/v1/labs/${enc(lab)}/nodes/${enc(node)}/exec`, { command }),

  createLink: (
    lab: string,
    a: { node: string; interface?: string },
    b: { node: string; interface?: string },
    mode: "emulated" | "veth" = "emulated",
  ) => json<LinkView>("POST", `/api/v1/labs/${enc(lab)}/links`, { a, b, mode }),
  deleteLink: (lab: string, endpoint: string) =>
    send("DELETE", `/api/v1/labs/${enc(lab)}/links/${enc(endpoint)}`).then(() => undefined),
  changeLink: (lab: string, endpoint: string, change: LinkChange) =>
    json<LinkView>("PATCH", `/api/v1/labs/${enc(lab)}/links/${enc(endpoint)}`, change),

  routing: (lab: string) => json<LabRouting>("GET", `/api/v1/labs/${enc(lab)}/routing`),

  events: (lab: string, after: number) =>
    json<NetloomEvent[]>("GET", `/api/v1/events?lab=${enc(lab)}&after=${after}`),
};

/** A WebSocket URL on this daemon. */
export function wsUrl(path: string): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}

export function consoleUrl(lab: string, node: string, cols: number, rows: number): string {
  return wsUrl(`/api/v1/labs/${enc(lab)}/nodes/${enc(node)}/console?cols=${cols}&rows=${rows}`);
}

export function eventsUrl(lab: string): string {
  return wsUrl(`/api/v1/events/ws?lab=${enc(lab)}`);
}
