/// <reference types="vitest" />
// `npm run build` writes web/dist, which the daemon embeds (crates/netloom-daemon/src/web.rs).
// `npm run dev` serves the page with hot reload and passes /api to a running
// daemon, adding its token: NETLOOM_HOME=/var/lib/netloom npm run dev
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vite";

function daemonProxy() {
  const home = process.env.NETLOOM_HOME ?? "/var/lib/netloom";
  try {
    const info = JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { addr: string };
    const token = readFileSync(join(home, "token"), "utf8").trim();
    return {
      "/api": {
        target: `http://${info.addr}`,
        ws: true,
        changeOrigin: true,
        headers: { Authorization: `Bearer ${token}` },
      },
      "/login": { target: `http://${info.addr}`, changeOrigin: true },
    };
  } catch {
    return undefined;
  }
}

export default defineConfig(({ command }) => ({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks: { graph: ["cytoscape", "cytoscape-fcose"], terminal: ["@xterm/xterm", "@xterm/addon-fit"] },
      },
    },
  },
  server: command === "serve" ? { proxy: daemonProxy() } : undefined,
  preview: { proxy: daemonProxy() },
  test: { include: ["tests/unit/**/*.test.ts"], environment: "node" },
}));
