// The browser tests, one after another in one Chromium. Started by
// web/tests/run-e2e, which provides the daemon and clears the screenshots
// of the last run. Arguments filter tests by name. Exit code 1 when any
// test fails.
import { basename } from "node:path";
import { artifacts, launch, screenshot } from "./browser.mjs";
import { tests } from "./tests.mjs";

const filters = process.argv.slice(2);
const chosen = tests.filter((t) => !filters.length || filters.some((f) => t.name.includes(f)));
if (!chosen.length) {
  console.error(`no test matches ${filters.join(" ")}; tests: ${tests.map((t) => t.name).join(", ")}`);
  process.exit(2);
}

const browser = await launch();
const failed = [];
const shots = [];
try {
  for (const t of chosen) {
    const t0 = Date.now();
    process.stdout.write(`test ${t.name} ...\n`);
    // ctx.shot(page, step) saves TEST-NN-STEP.png: numbered, so that no
    // screenshot of the run overwrites another and they sort in order.
    let taken = 0;
    const save = async (page, step) => {
      taken++;
      shots.push(await screenshot(page, `${t.name}-${String(taken).padStart(2, "0")}-${step}`));
    };
    const ctx = { pages: [], cleanups: [], shot: save };
    try {
      await t.run(browser.context, ctx);
      console.log(`test ${t.name} ... ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed.push(t.name);
      console.log(`test ${t.name} ... FAILED (${((Date.now() - t0) / 1000).toFixed(1)} s)\n  ${String(e?.stack ?? e).split("\n").join("\n  ")}`);
      for (const [i, p] of ctx.pages.entries())
        await save(p, `failure-page${i + 1}`).catch((e) => console.log(`  no failure screenshot of page ${i + 1}: ${e.message}`));
    } finally {
      for (const p of ctx.pages) await p.close().catch(() => {});
      for (const c of ctx.cleanups.reverse()) await c().catch((e) => console.log(`  cleanup: ${e.message}`));
    }
  }
} finally {
  await browser.close();
}
console.log(`\nscreenshots of this run (${shots.length}) in ${artifacts}/:`);
for (const p of shots) console.log(`  ${basename(p)}`);
console.log(`\nbrowser tests: ${chosen.length - failed.length} passed, ${failed.length} failed${failed.length ? `: ${failed.join(", ")}` : ""}`);
process.exit(failed.length ? 1 : 0);
