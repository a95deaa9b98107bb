// The URL keeps the view so it can be shared and reopened: run, projection, chosen dimensions,
// selections A and B (data points by index, locations by code), interpolation settings, view.

let atlas = null;

export function initUrl(state) { atlas = state; }

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

export function parseUrl(params) {
  const out = { projection: params.get("proj"), a: params.get("a"), b: params.get("b") };
  const dims = (params.get("dims") || "").split(",").map(Number);
  if (dims.length === 2 && dims.every(Number.isInteger) && dims[0] !== dims[1]) out.dims = dims;
  const v = (params.get("v") || "").split(",").map(Number);
  if (v.length === 3 && v.every(Number.isFinite) && v[2] > 0) out.view = { cx: v[0], cy: v[1], scale: v[2] };
  if (params.get("m") === "spherical" || params.get("m") === "linear") atlas.interp.method = params.get("m");
  const steps = +params.get("s");
  if (Number.isInteger(steps) && steps >= 3 && steps <= 24) atlas.interp.steps = steps;
  return out;
}

let urlTimer = null;
export function saveUrlSoon() { clearTimeout(urlTimer); urlTimer = setTimeout(saveUrl, 250); }

export function saveUrl() {
  if (!atlas.run) return;
  const q = new URLSearchParams({ run: atlas.run.id, proj: atlas.projection });
  if (atlas.projection === "dims") q.set("dims", atlas.dims.join(","));
  const a = encodeSel(atlas.sel.a), b = encodeSel(atlas.sel.b);
  if (a) q.set("a", a);
  if (b) q.set("b", b);
  q.set("m", atlas.interp.method);
  q.set("s", atlas.interp.steps);
  const v = atlas.scatter.view;
  q.set("v", [v.cx, v.cy, v.scale].map((x) => +x.toPrecision(5)).join(","));
  history.replaceState(null, "", `?${q}`);
}
