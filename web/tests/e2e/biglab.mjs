// A large lab for the render test and benchmark.

/**
 * A lab of `n` nodes without FRR: switches in 5 sites, hosts on the
 * switches, the switches of a site in a chain and the sites in a ring.
 */
export function bigLab(name, n) {
  const sites = ["north", "east", "south", "west", "centre"];
  const coords = { north: [59.3, 18.1], east: [52.5, 13.4], south: [41.9, 12.5], west: [48.9, 2.35], centre: [50.1, 8.7] };
  const switches = 50;
  const lines = [`name: ${name}`, "sites:"];
  for (const s of sites) lines.push(`  ${s}: {lat: ${coords[s][0]}, lon: ${coords[s][1]}}`);
  lines.push("topology:", "  nodes:");
  const links = [];
  const perSite = switches / sites.length;
  for (let i = 1; i <= switches; i++) {
    const site = sites[Math.floor((i - 1) / perSite)];
    lines.push(`    s${i}: {kind: switch, site: ${site}}`);
    if ((i - 1) % perSite !== 0) links.push([`s${i - 1}:next`, `s${i}:prev`]);
  }
  for (let k = 0; k < sites.length; k++) {
    const a = k * perSite + 1;
    const b = ((k + 1) % sites.length) * perSite + 1;
    links.push([`s${a}:east`, `s${b}:west`]);
  }
  for (let i = 1; i <= n - switches; i++) {
    const sw = ((i - 1) % switches) + 1;
    const site = sites[Math.floor((sw - 1) / perSite)];
    lines.push(`    h${i}: {kind: host, site: ${site}}`);
    links.push([`h${i}:eth1`, `s${sw}:p${i}`]);
  }
  lines.push("  links:");
  for (const [a, b] of links) lines.push(`    - endpoints: ["${a}", "${b}"]`);
  return lines.join("\n") + "\n";
}

// `node biglab.mjs NAME N` prints the file (bench/api/render uses it).
if (import.meta.url === `file://${process.argv[1]}`)
  process.stdout.write(bigLab(process.argv[2] ?? "big", Number(process.argv[3] ?? 500)));
