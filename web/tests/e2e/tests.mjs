// The browser tests. Each gets the browser context and a ctx to register
// pages (screenshotted on failure) and cleanups (run even on failure), and
// ctx.shot(page, step) for the screenshots it keeps.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bigLab } from "./biglab.mjs";
import { api, base, cli, deployYaml, labName, loggedInPage, repo, until } from "./browser.mjs";

/** Drags with real mouse events, in small steps like a hand would. */
async function drag(page, from, to) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  const steps = 12;
  for (let i = 1; i <= steps; i++)
    await page.mouse.move(from.x + ((to.x - from.x) * i) / steps, from.y + ((to.y - from.y) * i) / steps);
  await page.mouse.up();
}

function centre(box) {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

const lab = (page) => page.evaluate(() => window.netloom.app.lab);

async function nodePos(page, name) {
  return until(`${name} on the canvas`, () => page.evaluate((n) => window.netloom.nodePosition(n), name));
}

/** The canvas (model) position under a point of the page, as the page saves it. */
const modelAt = (page, p) => page.evaluate(({ x, y }) => window.netloom.app.canvas.modelPosition(x, y), p);

/** Whether two positions are within `tol` of each other on both axes. */
const near = (p, q, tol) => !!p && !!q && Math.abs(p.x - q.x) <= tol && Math.abs(p.y - q.y) <= tol;

/** Types a command line into a node's console tab. */
async function typeIn(page, node, line) {
  await page.locator(`.dock-tab[data-node="${node}"]`).click();
  await page.locator(`.dock-pane[data-node="${node}"] .xterm`).click();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
}

const consoleText = (page, node) => page.evaluate((n) => window.netloom.consoleText(n), node);

/** The average RTT of the last `ping` summary in a console, after `count` of them appeared. */
async function pingAverage(page, node, count) {
  return until(
    `ping summary #${count} in ${node}'s console`,
    async () => {
      const text = await consoleText(page, node);
      const all = [...text.matchAll(/rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)/g)];
      return all.length >= count ? parseFloat(all[count - 1][2]) : null;
    },
    30000,
  );
}

async function destroyLater(ctx, name) {
  ctx.cleanups.push(() => api("DELETE", `/api/v1/labs/${name}`).catch(() => {}));
}

export const tests = [
  {
    name: "static-files",
    async run() {
      const index = await fetch(`${base}/`);
      if (index.status !== 200) throw new Error(`GET / answered ${index.status}`);
      if (!/^text\/html/.test(index.headers.get("content-type") ?? "")) throw new Error("index.html is not text/html");
      if (index.headers.get("cache-control") !== "no-cache") throw new Error("index.html may be cached");
      const html = await index.text();
      const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      if (!js) throw new Error("index.html names no script (is web/dist built?)");
      const asset = await fetch(base + js);
      if (asset.status !== 200 || !/javascript/.test(asset.headers.get("content-type") ?? ""))
        throw new Error(`${js}: ${asset.status} ${asset.headers.get("content-type")}`);
      if (!/max-age=31536000/.test(asset.headers.get("cache-control") ?? "")) throw new Error("hashed assets are not cached long");
      const noAuth = await fetch(`${base}/api/v1/labs`);
      if (noAuth.status !== 401) throw new Error(`the API without credentials answered ${noAuth.status}`);
    },
  },

  {
    name: "login-required",
    async run(context, ctx) {
      const page = await context.newPage();
      ctx.pages.push(page);
      await page.goto(`${base}/`);
      await page.locator("#login").waitFor({ state: "visible" });
      const text = await page.locator("#login").innerText();
      if (!text.includes("netloom serve")) throw new Error(`the login screen says: ${text}`);
      await ctx.shot(page, "login-screen");
    },
  },

  {
    name: "login-link-once",
    async run(context, ctx) {
      const { url } = await api("POST", "/api/v1/login-links");
      const page = await loggedInPage(context, ctx, url);
      // The page's calls carry the session cookie, not a token.
      const status = await page.evaluate(async () => (await fetch("/api/v1/labs")).status);
      if (status !== 200) throw new Error(`GET /api/v1/labs from the logged-in page answered ${status}`);
      // The same link again: refused, and loggedInPage fails at the login.
      const again = await loggedInPage(context, ctx, url).then(
        () => null,
        (e) => e,
      );
      if (!again) throw new Error("a used login link logged in again");
      if (!/^login failed: the login link answered 401/.test(again.message)) throw new Error(`a used login link failed otherwise: ${again.message}`);
      await ctx.shot(ctx.pages[1], "used-link-refused");
    },
  },

  {
    name: "draw-a-lab",
    async run(context, ctx) {
      const page = await loggedInPage(context, ctx);
      const name = labName("draw");
      await destroyLater(ctx, name);

      // New lab.
      await page.locator("#new-lab").click();
      await page.locator("#f-name").fill(name);
      await page.locator("dialog button[type=submit]").click();
      await page.waitForFunction((n) => window.netloom.app.lab?.name === n, name, { timeout: 30000 });
      await page.locator("#canvas-hint").waitFor({ state: "visible" });
      await ctx.shot(page, "empty-lab");

      // Drag a router and a host from the palette onto the canvas, at
      // different heights (so that one node's position cannot pass for
      // the other's).
      const canvas = await page.locator("#canvas").boundingBox();
      const routerAt = { x: canvas.x + canvas.width * 0.35, y: canvas.y + canvas.height * 0.3 };
      const hostAt = { x: canvas.x + canvas.width * 0.65, y: canvas.y + canvas.height * 0.45 };
      const routerModel = await modelAt(page, routerAt);
      await drag(page, centre(await page.locator(".device-router").boundingBox()), routerAt);
      await until("the router", async () => (await lab(page)).nodes.some((n) => n.kind === "router" && n.status === "running"), 30000);
      const hostModel = await modelAt(page, hostAt);
      await drag(page, centre(await page.locator(".device-host").boundingBox()), hostAt);
      await until("the host", async () => (await lab(page)).nodes.some((n) => n.kind === "host" && n.status === "running"), 30000);
      let view = await lab(page);
      const router = view.nodes.find((n) => n.kind === "router").name;
      const host = view.nodes.find((n) => n.kind === "host").name;
      // Each is drawn where the mouse let go of it, and saved there.
      const savedPos = async (node) => (await api("GET", `/api/v1/labs/${name}`)).nodes.find((n) => n.name === node)?.position;
      for (const [node, at, model] of [
        [router, routerAt, routerModel],
        [host, hostAt, hostModel],
      ]) {
        const drawn = await nodePos(page, node);
        if (!near(drawn, at, 3)) throw new Error(`${node} is drawn at ${JSON.stringify(drawn)}, dropped at ${JSON.stringify(at)}`);
        const saved = await savedPos(node);
        if (!near(saved, model, 2)) throw new Error(`${node} is saved at ${JSON.stringify(saved)}, dropped at ${JSON.stringify(model)} on the canvas`);
      }

      // Drag the host further: its new position is saved; the router stays.
      const hp = await nodePos(page, host);
      const hostTo = { x: hp.x + 40, y: hp.y + 60 };
      const hostToModel = await modelAt(page, hostTo);
      await drag(page, hp, hostTo);
      await until(`the host's position saved as ${JSON.stringify(hostToModel)}`, async () => {
        const hostSaved = await savedPos(host);
        if (near(hostSaved, hostToModel, 2)) return true;
        throw new Error(`saved at ${JSON.stringify(hostSaved)}`);
      });
      const drawnTo = await nodePos(page, host);
      if (!near(drawnTo, hostTo, 3)) throw new Error(`the host is drawn at ${JSON.stringify(drawnTo)}, dropped at ${JSON.stringify(hostTo)}`);
      const routerSaved = await savedPos(router);
      if (!near(routerSaved, routerModel, 2)) throw new Error(`moving the host moved the router's saved position to ${JSON.stringify(routerSaved)}`);

      // Link them with the link tool: click the router, then the host.
      await page.locator('[data-tool="link"]').click();
      await page.mouse.click((await nodePos(page, router)).x, (await nodePos(page, router)).y);
      await page.locator("#mode-banner", { hasText: `Link from ${router}` }).waitFor();
      const hp2 = await nodePos(page, host);
      await page.mouse.click(hp2.x, hp2.y);
      await page.locator("dialog #f-a").waitFor();
      const proposed = [await page.locator("dialog #f-a").inputValue(), await page.locator("dialog #f-b").inputValue()];
      await ctx.shot(page, "link-dialog");
      await page.locator("dialog button[type=submit]").click();
      const link = await until("the link", async () => (await lab(page)).links[0], 30000);
      if (link.a !== `${router}:${proposed[0]}` || link.b !== `${host}:${proposed[1]}`)
        throw new Error(`the dialog proposed ${proposed}, the daemon made ${link.a} ${link.b}`);
      if (link.mode !== "emulated") throw new Error(`a link drawn in the page is ${link.mode}`);
      const rIf = link.a.split(":")[1];
      const hIf = link.b.split(":")[1];

      // The router's console: FRR answers.
      await page.locator('[data-tool="select"]').click();
      const rp2 = await nodePos(page, router);
      await page.mouse.click(rp2.x, rp2.y);
      await page.locator(".panel-head .btn", { hasText: "Console" }).click();
      await page.locator(`.dock-tab[data-node="${router}"][data-state="connected"]`).waitFor({ timeout: 15000 });
      // FRR's answer to the command, not any "FRRouting" on the screen: a
      // line "FRRouting X.Y..." after the command line.
      const command = 'vtysh -c "show version"';
      await typeIn(page, router, command);
      await until(
        "FRR's version line after `show version` in the router's console",
        async () => {
          const text = await consoleText(page, router);
          const at = text.lastIndexOf(command);
          if (at >= 0 && /^FRRouting \d+\.\d+/m.test(text.slice(at + command.length))) return true;
          throw new Error(`the console ends with: ${JSON.stringify(text.trimEnd().slice(-300))}`);
        },
        20000,
      );
      await typeIn(page, router, `ip addr add 10.99.0.1/24 dev ${rIf} && ip link set ${rIf} up && echo ROUTER-READY`);
      await until("the router's address", async () => /^ROUTER-READY/m.test(await consoleText(page, router)));
      await ctx.shot(page, "router-console");

      // The host's console: ping the router, before and after a delay.
      const hp3 = await nodePos(page, host);
      await page.mouse.dblclick(hp3.x, hp3.y);
      await page.locator(`.dock-tab[data-node="${host}"][data-state="connected"]`).waitFor({ timeout: 15000 });
      await typeIn(page, host, `ip addr add 10.99.0.2/24 dev ${hIf} && ip link set ${hIf} up && echo HOST-READY`);
      await until("the host's address", async () => /^HOST-READY/m.test(await consoleText(page, host)));
      await typeIn(page, host, "ping -c 4 -i 0.3 -W 2 10.99.0.1");
      const before = await pingAverage(page, host, 1);
      console.log(`  RTT before: ${before} ms`);
      if (!(before < 20)) throw new Error(`RTT before the delay is ${before} ms`);

      // Select the link (click on it) and set its delay in the side panel.
      const mid = await until("the link's midpoint", () => page.evaluate((a) => window.netloom.linkMidpoint(a), link.a));
      await page.mouse.click(mid.x, mid.y);
      const form = page.locator(`form.link-form[data-link="${link.a}"]`);
      await form.waitFor();
      const applied = async () => {
        const l = (await api("GET", `/api/v1/labs/${name}`)).links[0];
        return l.a_to_b?.delay_ns === 100e6 && l.b_to_a?.delay_ns === 100e6;
      };
      // The value typed must be in the form that is submitted: a redraw of
      // the panel in between (it happened once in a clean-clone run) would
      // submit a clean form ("Nothing changed"); then type it again, once.
      for (let attempt = 1; ; attempt++) {
        await form.locator('input[name="delay"]').fill("100");
        await until("the typed delay in the form", async () => (await form.locator('input[name="delay"]').inputValue()) === "100");
        await form.locator('button[type="submit"]').click();
        try {
          await until("the delay applied", applied, attempt === 1 ? 8000 : 15000);
          break;
        } catch (e) {
          if (attempt >= 2) throw e;
          console.log(`  the delay was not applied after the first Apply (${e.message}); typing it again`);
        }
      }
      await page.locator(".panel .dir", { hasText: "100 ms" }).first().waitFor();
      await ctx.shot(page, "link-delay");
      await typeIn(page, host, "ping -c 4 -i 0.3 -W 2 10.99.0.1");
      const after = await pingAverage(page, host, 2);
      console.log(`  RTT after a 100 ms delay: ${after} ms`);
      if (!(after >= 200)) throw new Error(`RTT after the delay is ${after} ms`);
      await ctx.shot(page, "ping-after-delay");

      // The edge is labelled with the delay.
      const edgeLabel = await page.evaluate(() => window.netloom.app.canvas.cy.edges()[0].data("label"));
      if (!edgeLabel.includes("100 ms")) throw new Error(`the link's label is ${edgeLabel}`);
    },
  },

  {
    name: "open-ospf-triangle",
    async run(context, ctx) {
      await cli("deploy", "-t", join(repo, "examples/ospf-triangle/lab.yml"), "--reconfigure");
      await destroyLater(ctx, "ospf-triangle");
      const page = await loggedInPage(context, ctx);
      await page.goto(`${base}/#/lab/ospf-triangle`);
      await page.waitForFunction(() => window.netloom.app.lab?.name === "ospf-triangle");
      const drawn = await page.evaluate(() => ({
        nodes: window.netloom.app.canvas.cy.nodes().map((n) => n.data("name")).sort(),
        edges: window.netloom.app.canvas.cy.edges().length,
        statuses: [...new Set(window.netloom.app.canvas.cy.nodes().map((n) => n.data("status")))],
      }));
      if (drawn.nodes.join(",") !== "h1,h2,r1,r2,r3") throw new Error(`drawn nodes: ${drawn.nodes}`);
      if (drawn.edges !== 5) throw new Error(`drawn links: ${drawn.edges}`);
      if (drawn.statuses.join() !== "running") throw new Error(`statuses: ${drawn.statuses}`);
      // Every node is inside the canvas and apart from the others (laid out).
      const canvas = await page.locator("#canvas").boundingBox();
      const spots = [];
      for (const n of drawn.nodes) {
        const p = await nodePos(page, n);
        if (p.x < canvas.x || p.y < canvas.y || p.x > canvas.x + canvas.width || p.y > canvas.y + canvas.height)
          throw new Error(`${n} is drawn outside the canvas`);
        for (const q of spots) if (Math.hypot(p.x - q.x, p.y - q.y) < 30) throw new Error(`${n} overlaps another node`);
        spots.push(p);
      }
      await ctx.shot(page, "lab");

      // r1 in the side panel: addresses and the FRR configuration.
      const r1 = await nodePos(page, "r1");
      await page.mouse.click(r1.x, r1.y);
      const panel = page.locator("#panel");
      await panel.locator(".panel-name", { hasText: "r1" }).waitFor();
      for (const addr of ["10.0.12.0/31", "10.0.13.0/31", "192.168.1.1/24", "10.255.0.1/32"])
        await panel.locator(".addr", { hasText: addr }).waitFor({ timeout: 5000 });
      await panel.locator("pre.config", { hasText: "router ospf" }).waitFor({ timeout: 10000 });
      await panel.locator("pre.config", { hasText: "hostname r1" }).waitFor();
      await ctx.shot(page, "router-panel");

      // A host: addresses, no configuration section.
      const h1 = await nodePos(page, "h1");
      await page.mouse.click(h1.x, h1.y);
      await panel.locator(".addr", { hasText: "192.168.1.10/24" }).waitFor();
      if (await panel.locator("pre.config").count()) throw new Error("a host shows an FRR configuration");

      // A link: its mode and ends.
      const mid = await page.evaluate(() => window.netloom.linkMidpoint("r1:eth1"));
      await page.mouse.click(mid.x, mid.y);
      await panel.locator(".panel-name", { hasText: "r1:eth1 ↔ r2:eth1" }).waitFor();
      await ctx.shot(page, "link-panel");

      // Live status: kill r2's ospfd; the supervisor reports r2 failed and
      // repairs it; the page shows both.
      const ospfd = (await api("GET", "/api/v1/labs/ospf-triangle")).nodes.find((n) => n.name === "r2").daemons.find((d) => d.name === "ospfd");
      process.kill(ospfd.pid, "SIGKILL");
      // The repair may be over before the page draws r2 as failed (it
      // takes ~0.2 s): then the daemon's events must show both.
      await until(
        "r2 drawn as not running, or its failure and repair recorded",
        async () =>
          (await page.evaluate(() => window.netloom.app.canvas.cy.getElementById("node:r2").data("status") !== "running")) ||
          (await api("GET", "/api/v1/events?lab=ospf-triangle")).some((e) => e.node === "r2" && e.kind === "recovered"),
        30000,
        5,
      );
      await ctx.shot(page, "r2-failed-or-repaired");
      await until(
        "r2 running again after its repair",
        () => page.evaluate(() => window.netloom.app.canvas.cy.getElementById("node:r2").data("status") === "running"),
        30000,
      );
      const fresh = (await api("GET", "/api/v1/labs/ospf-triangle")).nodes.find((n) => n.name === "r2").daemons.find((d) => d.name === "ospfd");
      if (!fresh.alive || fresh.pid === ospfd.pid) throw new Error(`ospfd was not restarted: ${JSON.stringify(fresh)}`);
    },
  },

  {
    name: "lab-routing",
    async run(context, ctx) {
      // bgp-pair under a name of its own: two eBGP routers (sessions up in
      // a few seconds) and a host behind each.
      const name = labName("routing");
      const yaml = readFileSync(join(repo, "examples/bgp-pair/lab.yml"), "utf8").replace(/^name: bgp-pair$/m, `name: ${name}`);
      await deployYaml(yaml);
      await destroyLater(ctx, name);
      const page = await loggedInPage(context, ctx);
      // Every routing request the page makes, and how many were under way at once.
      const routingPath = `/api/v1/labs/${name}/routing`;
      const isRouting = (r) => new URL(r.url()).pathname === routingPath;
      let asked = 0;
      let open = 0;
      let overlap = 0;
      page.on("request", (r) => {
        if (!isRouting(r)) return;
        asked++;
        open++;
        overlap = Math.max(overlap, open);
      });
      const done = (r) => isRouting(r) && open--;
      page.on("requestfinished", done);
      page.on("requestfailed", done);

      await page.goto(`${base}/#/lab/${name}`);
      await page.waitForFunction((n) => window.netloom.app.lab?.name === n, name);
      const panel = page.locator("#panel");
      await panel.locator(".panel-section h3", { hasText: "Routing" }).waitFor();
      const status = panel.locator(".routing-status");
      await status.waitFor({ timeout: 10000 });
      await ctx.shot(page, "routing-first");

      // Converged within a minute; on the way, routers not ready are named
      // as the CLI names them.
      const seen = new Set();
      await until(
        "the lab panel to say Converged",
        async () => {
          const text = (await status.innerText().catch(() => "")).trim();
          seen.add(text.replace(/\d+\/\d+/, "R/T"));
          for (const line of await panel.locator(".routing-waiting li").allInnerTexts())
            if (!/^r[12]: ./.test(line)) throw new Error(`a router not ready is named as: ${line}`);
          if (text === "Converged") return true;
          throw new Error(`it says ${JSON.stringify(text)}`);
        },
        60000,
        250,
      );
      console.log(`  routing states seen: ${[...seen].join(", ")}`);
      if (await panel.locator(".routing-waiting li").count()) throw new Error("routers are named as not ready in a converged lab");
      const report = await api("GET", routingPath);
      if (!report.converged || report.routers_total !== 2) throw new Error(`the daemon reports ${JSON.stringify(report)}`);
      if (!seen.has("Settling") && !seen.has("Converging: R/T routers ready"))
        throw new Error(`Converged was shown without the fingerprint being followed first: ${[...seen]}`);
      await ctx.shot(page, "routing-converged");

      // A failed request shows an error line, and the next answer replaces it.
      await page.route(`**${routingPath}`, (r) => r.fulfill({ status: 500, contentType: "application/json", body: '{"code":"internal","message":"routing unavailable"}' }));
      await panel.locator(".routing-error", { hasText: "routing unavailable" }).waitFor({ timeout: 10000 });
      await ctx.shot(page, "routing-error");
      await page.unroute(`**${routingPath}`);
      await panel.locator(".routing-status").waitFor({ timeout: 10000 });

      // A node's panel asks nothing; back on the lab panel, it asks again.
      const r1 = await nodePos(page, "r1");
      await page.mouse.click(r1.x, r1.y);
      await panel.locator(".panel-name", { hasText: "r1" }).waitFor();
      await until("no routing request under way", () => open === 0, 10000, 50);
      const before = asked;
      await new Promise((r) => setTimeout(r, 5000));
      if (asked !== before) throw new Error(`the page asked for the routing ${asked - before} times while showing a node`);
      await page.keyboard.press("Escape");
      await panel.locator(".panel-section h3", { hasText: "Routing" }).waitFor();
      await until("a routing request after the lab panel is back", () => asked > before, 10000, 50);
      await panel.locator(".routing-status", { hasText: "Converged" }).waitFor({ timeout: 15000 });
      if (overlap > 1) throw new Error(`${overlap} routing requests were under way at once`);
      console.log(`  ${asked} routing requests, never more than ${overlap} at once`);
    },
  },

  {
    name: "render-500-nodes",
    async run(context, ctx) {
      const name = labName("big");
      const yaml = bigLab(name, 500);
      const t0 = Date.now();
      await deployYaml(yaml);
      await destroyLater(ctx, name);
      console.log(`  deployed 500 nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const page = await loggedInPage(context, ctx);
      // RENDER_RUNS page loads (bench/api/render asks for several).
      const runs = Number(process.env.RENDER_RUNS ?? 1);
      for (let run = 1; run <= runs; run++) {
        const start = Date.now();
        if (run === 1) await page.goto(`${base}/#/lab/${name}`);
        else await page.reload();
        const stats = await until("the first full render", () => page.evaluate(() => window.netloom.lastRender()), 60000, 50);
        const wall = Date.now() - start;
        const drawn = await page.evaluate(() => window.netloom.app.canvas.cy.nodes('[kind != "site"]').length);
        if (drawn !== 500) throw new Error(`${drawn} nodes drawn`);
        console.log(
          `  render: ${stats.nodes} nodes, ${stats.edges} links: first full render ${stats.renderMs} ms in the page (layout ${stats.layoutMs} ms), ${wall} ms from navigation`,
        );
        console.log(`RENDER_MS=${stats.renderMs} LAYOUT_MS=${stats.layoutMs} NAV_MS=${wall} NODES=${stats.nodes} LINKS=${stats.edges}`);
      }
      await ctx.shot(page, "rendered");
      // Panning by hand stays smooth: frame times while the mouse drags the canvas.
      const box = await page.locator("#canvas").boundingBox();
      await page.evaluate(() => {
        window.__frames = [];
        const f = (t) => {
          window.__frames.push(t);
          window.__raf = requestAnimationFrame(f);
        };
        window.__raf = requestAnimationFrame(f);
      });
      await page.mouse.move(box.x + 4, box.y + 4);
      await page.mouse.down();
      for (let i = 1; i <= 40; i++) await page.mouse.move(box.x + 4 + i * 6, box.y + 4 + i * 3);
      await page.mouse.up();
      const frames = await page.evaluate(() => {
        cancelAnimationFrame(window.__raf);
        const f = window.__frames;
        const d = f.slice(1).map((t, i) => t - f[i]).sort((a, b) => a - b);
        return { median: d[Math.floor(d.length / 2)], p90: d[Math.floor(d.length * 0.9)] };
      });
      console.log(`  panning by mouse: frame time median ${frames.median.toFixed(1)} ms, p90 ${frames.p90.toFixed(1)} ms`);
      console.log(`PAN_FRAME_MEDIAN_MS=${frames.median.toFixed(1)} PAN_FRAME_P90_MS=${frames.p90.toFixed(1)}`);
    },
  },
];

