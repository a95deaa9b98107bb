// The URL keeps the view so it can be shared and reopened: run, projection, chosen dimensions,
// selections A and B (data points by index, locations by code), interpolation settings, view,
// the run shown beside it, the colouring, points or density, the 3-D view's orientation, and a
// cvae's "decode as" choice (`y=7`, or `attrs=Smiling:1,Male:0` by name; condition.js checks it).

import { state } from "./store.js";

function encodeSel(sel) {
  if (!sel || sel.kind === "upload") return null;
  if (sel.kind === "point") return `i${sel.index}`;
  return "z" + Array.from(sel.z, (v) => v.toFixed(4)).join(",");
}

export function decodeSel(text, dim) {
  if (!text) return null;
  if (/^i\d+$/.test(text)) return { kind: "point", index: +text.slice(1) };
  if (text[0] === "z") {
    const z = text.slice(1).split(",").map(Number);
    if (z.length === dim && z.every(Number.isFinite)) return { kind: "free", z: Float64Array.from(z) };
  }
  return null;
}

// what the URL asks for; the interpolation settings are returned as `interp` (method, steps)
export function parseUrl(params) {
  const out = { projection: params.get("proj"), a: params.get("a"), b: params.get("b"), interp: {} };
  const dims = (params.get("dims") || "").split(",").map(Number);
  if (dims.length === 2 && dims.every(Number.isInteger) && dims[0] !== dims[1]) out.dims = dims;
  const v = (params.get("v") || "").split(",").map(Number);
  if (v.length === 3 && v.every(Number.isFinite) && v[2] > 0) out.view = { cx: v[0], cy: v[1], scale: v[2] };
  if (params.get("m") === "spherical" || params.get("m") === "linear") out.interp.method = params.get("m");
  const steps = +params.get("s");
  if (Number.isInteger(steps) && steps >= 3 && steps <= 24) out.interp.steps = steps;
  out.compare = params.get("cmp");
  if (params.get("col") === "anomaly") out.colourBy = "anomaly";
  if (params.get("show") === "density") out.mapMode = "density";
  const orb = (params.get("orb") || "").split(",").map(Number);
  if (orb.length === 2 && orb.every(Number.isFinite) && Math.abs(orb[1]) <= Math.PI / 2) out.orbit = { yaw: orb[0], pitch: orb[1] };
  out.condition = { y: params.get("y"), attrs: params.get("attrs") };
  return out;
}

let urlTimer = null;
export function saveUrlSoon() { clearTimeout(urlTimer); urlTimer = setTimeout(saveUrl, 250); }

export function saveUrl() {
  if (!state.run) return;
  const q = new URLSearchParams(location.search);
  for (const key of ["run", "proj", "dims", "a", "b", "m", "s", "v", "cmp", "col", "show", "orb", "y", "attrs"]) q.delete(key);
  q.set("run", state.run.id);
  q.set("proj", state.projection);
  if (state.projection === "dims") q.set("dims", state.dims.join(","));
  if (state.projection === "orbit") q.set("orb", [state.orbit.yaw, state.orbit.pitch].map((v) => v.toFixed(3)).join(","));
  const a = encodeSel(state.sel.a), b = encodeSel(state.sel.b);
  if (a) q.set("a", a);
  if (b) q.set("b", b);
  q.set("m", state.interp.method);
  q.set("s", state.interp.steps);
  const v = state.view;
  q.set("v", [v.cx, v.cy, v.scale].map((x) => +x.toPrecision(5)).join(","));
  if (state.compare) q.set("cmp", state.compare.run.id);
  if (state.colourBy === "anomaly") q.set("col", "anomaly");
  if (state.mapMode === "density") q.set("show", "density");
  const c = state.condition;
  if (c && "y" in c) q.set("y", c.y);
  if (c && "attrs" in c) q.set("attrs", state.run.condition.names.map((name, i) => `${name}:${c.attrs[i]}`).join(","));
  // a page without an address of its own (the notebook widget's frame) keeps the view in memory
  try { history.replaceState(null, "", `?${q}`); } catch (_) { /* about:srcdoc */ }
}
