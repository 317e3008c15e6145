// Shared helpers of the browser tests: the daemon under test, Chromium,
// logging in, waiting.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

export const repo = resolve(new URL("../../..", import.meta.url).pathname);
export const artifacts = join(repo, "web", "test-artifacts");

/** The daemon run-e2e started (its env vars reach the CLI too). */
export const daemon = {
  addr: mustEnv("NETLOOM_E2E_ADDR"),
  token: mustEnv("NETLOOM_E2E_TOKEN"),
  bin: process.env.NETLOOM_E2E_BIN ?? join(repo, "target", "debug", "netloom"),
};
export const base = `http://${daemon.addr}`;

function mustEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run web/tests/run-e2e`);
  return v;
}

/** A call to the daemon's API with the bearer token. */
export async function api(method, path, body) {
  const resp = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${daemon.token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Deploys a topology file's text through the API; the lab's view. */
export async function deployYaml(yaml) {
  const out = await api("POST", "/api/v1/labs", { yaml });
  const lines = String(typeof out === "string" ? out : JSON.stringify(out)).trim().split("\n");
  const last = JSON.parse(lines[lines.length - 1]);
  if (last.event !== "done") throw new Error(`deploy failed: ${lines[lines.length - 1]}`);
  return last.lab;
}

/** Runs the netloom CLI against the daemon under test. */
export async function cli(...args) {
  const { stdout } = await promisify(execFile)(daemon.bin, args, { env: process.env, maxBuffer: 1 << 24 });
  return stdout;
}

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Chromium with a fresh profile (removed by close()). */
export async function launch() {
  const profile = mkdtempSync(join(process.env.NETLOOM_E2E_TMP ?? tmpdir(), "chromium-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A new page logged in through a one-time login URL, registered in `ctx`
 * (so a failed login leaves a screenshot). Fails here, saying which step,
 * unless the link set a new session cookie, the page's own first API call
 * answered 200 and the login screen stayed hidden. `link`: a login URL
 * to use instead of a new one.
 */
export async function loggedInPage(context, ctx, link) {
  const url = link ?? (await api("POST", "/api/v1/login-links")).url;
  const page = await context.newPage();
  ctx.pages.push(page);
  page.on("pageerror", (e) => console.log(`  [page error] ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") console.log(`  [console] ${m.text()}`);
  });
  const session = async () => (await context.cookies(base)).find((c) => c.name === "netloom_session")?.value;
  const before = await session();
  const labsCall = page
    .waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/labs" && r.request().method() === "GET", { timeout: 15000 })
    .catch((e) => e);
  const landed = await page.goto(url);
  const login = landed?.request().redirectedFrom();
  const loginStatus = login ? (await login.response())?.status() : landed?.status();
  if (loginStatus !== 303 || new URL(page.url()).pathname !== "/") {
    const body = landed ? (await landed.text().catch(() => "")).replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim() : "";
    throw new Error(`login failed: the login link answered ${loginStatus} and left the page at ${page.url()}: ${body.slice(0, 200)}`);
  }
  const after = await session();
  if (!after) throw new Error("login failed: the login link set no netloom_session cookie");
  if (after === before) throw new Error("login failed: the login link did not set a new netloom_session cookie");
  const labs = await labsCall;
  if (labs instanceof Error) throw new Error(`login failed: the page made no GET /api/v1/labs: ${labs.message}`);
  if (labs.status() !== 200) throw new Error(`login failed: the page's GET /api/v1/labs answered ${labs.status()} ${await labs.text().catch(() => "")}`);
  await page.waitForFunction(() => window.netloom !== undefined);
  if (await page.locator("#login").isVisible()) throw new Error("login failed: the page shows its login screen");
  return page;
}

/** Saves a screenshot as web/test-artifacts/`file`.png; its path. */
export async function screenshot(page, file) {
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, `${file}.png`);
  await page.screenshot({ path });
  return path;
}

/** Polls `fn` until it returns something truthy. */
export async function until(what, fn, timeoutMs = 15000, everyMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A unique lab name for a test. */
export function labName(stem) {
  return `${stem}-${Math.random().toString(36).slice(2, 7)}`;
}
