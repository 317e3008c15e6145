// Device icons: white glyphs, drawn on the node's coloured shape by
// cytoscape (background-image) and in the palette.

import type { NodeKind } from "./types";

const svg = (body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

/** Four arrows: two in, two out (the usual router symbol). */
const ROUTER = svg(
  `<path d="M9 24h10M15 19l5 5-5 5"/><path d="M39 24H29M33 19l-5 5 5 5"/>` +
    `<path d="M24 7v10M19 12l5-5 5 5"/><path d="M24 41V31M19 36l5 5 5-5"/>`,
);

/** Two pairs of opposite arrows (the usual switch symbol). */
const SWITCH = svg(
  `<path d="M10 18h26M31 13l5 5-5 5"/><path d="M38 30H12M17 25l-5 5 5 5"/>`,
);

/** A screen on a stand. */
const HOST = svg(
  `<rect x="9" y="10" width="30" height="21" rx="2"/><path d="M24 31v6M16 38h16"/>`,
);

export const ICON_SVG: Record<NodeKind, string> = { router: ROUTER, switch: SWITCH, host: HOST };

export function iconUrl(kind: NodeKind): string {
  return `data:image/svg+xml;utf8,${encodeURIComponent(ICON_SVG[kind])}`;
}

/** The fill of each kind. */
export const KIND_COLOR: Record<NodeKind, string> = {
  router: "#2f6fde",
  switch: "#0f9488",
  host: "#56627a",
};

export const KIND_LABEL: Record<NodeKind, string> = {
  router: "Router",
  switch: "Switch",
  host: "Host",
};

export const KIND_HINT: Record<NodeKind, string> = {
  router: "FRR router (zebra, staticd; vtysh in its console)",
  switch: "Linux bridge, its link ends are ports",
  host: "Linux host in its own network namespace",
};

/** Status colours (node outline, badges). */
export const STATUS_COLOR: Record<string, string> = {
  running: "#22a55a",
  degraded: "#e3a008",
  missing: "#8b93a1",
  failed: "#dc3b3b",
  recovering: "#7c5ce6",
  creating: "#8b93a1",
};
