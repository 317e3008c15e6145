// The browser tests, one after another in one Chromium. Started by
// web/tests/run-e2e, which provides the daemon. Arguments filter tests by
// name. Exit code 1 when any test fails.
import { launch, shot } from "./browser.mjs";
import { tests } from "./tests.mjs";

const filters = process.argv.slice(2);
const chosen = tests.filter((t) => !filters.length || filters.some((f) => t.name.includes(f)));
if (!chosen.length) {
  console.error(`no test matches ${filters.join(" ")}; tests: ${tests.map((t) => t.name).join(", ")}`);
  process.exit(2);
}

const browser = await launch();
const failed = [];
try {
  for (const t of chosen) {
    const t0 = Date.now();
    process.stdout.write(`test ${t.name} ...\n`);
    const ctx = { pages: [], cleanups: [] };
    try {
      await t.run(browser.context, ctx);
      console.log(`test ${t.name} ... ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed.push(t.name);
      console.log(`test ${t.name} ... FAILED (${((Date.now() - t0) / 1000).toFixed(1)} s)\n  ${String(e?.stack ?? e).split("\n").join("\n  ")}`);
      for (const [i, p] of ctx.pages.entries()) await shot(p, `${t.name}-failure-${i}`).catch(() => {});
    } finally {
      for (const p of ctx.pages) await p.close().catch(() => {});
      for (const c of ctx.cleanups.reverse()) await c().catch((e) => console.log(`  cleanup: ${e.message}`));
    }
  }
} finally {
  await browser.close();
}
console.log(`\nbrowser tests: ${chosen.length - failed.length} passed, ${failed.length} failed${failed.length ? `: ${failed.join(", ")}` : ""}`);
process.exit(failed.length ? 1 : 0);
