// vae-atlas explorer: the page's state, the map interactions and live decoding.
// Pointer moves are coalesced to one per animation frame; MLP decoders run in the page, other
// models decode through the server with at most one request in flight (newest wins).

import { getBlob, getJSON, postJSON } from "./api.js";
import { LatestOnly, MLPDecoder, drawBlob, drawPixels } from "./decoder.js";
import { drawOverlay } from "./overlay.js";
import * as panels from "./panels.js";
import { parseUrl } from "./urlstate.js";
import { ScatterMap, classColour } from "./scatter.js";

const $ = (id) => document.getElementById(id);

const atlas = {
  runs: [], run: null, projection: null, dims: [0, 1], map: null, decoder: null,
  anchor: null, anchorSource: "mean",
  sel: { a: null, b: null, last: null }, upload: null, samples: null,
  interp: { method: "linear", steps: 10, data: null, hoverStep: null },
  hover: null, latencies: [], ready: false, readyMs: null, decodes: 0, sampleSeed: 0,
};
window.__atlas = atlas;

atlas.api = (path) => `api/runs/${encodeURIComponent(atlas.run.id)}${path}`;
atlas.view = () => ({ projection: atlas.projection, dims: atlas.projection === "dims" ? atlas.dims : null });
atlas.viewQuery = () => {
  const q = new URLSearchParams({ projection: atlas.projection });
  if (atlas.projection === "dims") q.set("dims", atlas.dims.join(","));
  return q.toString();
};

export function status(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
  clearTimeout(status.timer);
  if (text && isError) status.timer = setTimeout(() => status(""), 8000);
}
atlas.status = status;

// ---- linear maps: project codes and lift map positions back onto the plane through the anchor
function project(z) {
  const lin = atlas.map.linear;
  const out = [0, 0];
  for (let r = 0; r < 2; r++) {
    let acc = 0;
    for (let d = 0; d < z.length; d++) acc += lin.axes[r][d] * (z[d] - lin.center[d]);
    out[r] = acc;
  }
  return out;
}
atlas.project = project;

function liftLinear(x, y) {
  const lin = atlas.map.linear, a = atlas.anchor, pa = project(a);
  const z = Float64Array.from(a);
  const dx = x - pa[0], dy = y - pa[1];
  for (let d = 0; d < z.length; d++) z[d] += lin.axes[0][d] * dx + lin.axes[1][d] * dy;
  return z;
}

async function liftAt(x, y) {
  if (atlas.map.linear) return liftLinear(x, y);
  const q = `${atlas.viewQuery()}&x=${x}&y=${y}`;
  return Float64Array.from((await getJSON(atlas.api(`/lift?${q}`))).z);
}
atlas.liftAt = liftAt;

atlas.anchorPosition = () => (atlas.anchor && atlas.map && atlas.map.linear ? project(atlas.anchor) : null);

// ---- the big decoded image
const decodedCanvas = $("decoded");

function showCode(z, source, t0) {
  $("decoded-source").textContent = source;
  $("decoded-z").textContent = "z = [" + Array.from(z, (v) => v.toFixed(2)).join(", ") + "]";
  if (atlas.decoder) {
    drawPixels(decodedCanvas, atlas.decoder.decode(z), atlas.run.image_shape);
    atlas.shownZ = Array.from(z);
    finishDecode(t0);
  } else {
    serverDecode.push({ z: Array.from(z), t0 });
  }
}
atlas.showCode = showCode;

function finishDecode(t0) {
  atlas.decodes++;
  if (t0 != null) {
    atlas.latencies.push(performance.now() - t0);
    if (atlas.latencies.length > 5000) atlas.latencies.shift();
  }
}

const serverDecode = new LatestOnly(async ({ z, t0 }) => {
  const q = z.map((v) => v.toPrecision(6)).join(",");
  const blob = await getBlob(atlas.api(`/decode.png?z=${q}`));
  await drawBlob(decodedCanvas, blob, atlas.run.image_shape);
  atlas.shownZ = z;
  finishDecode(t0);
});

export function showAnchor() {
  if (!atlas.anchor) return;
  const source = { mean: "mean of the latent means", selection: "selection", sliders: "sliders" };
  showCode(atlas.anchor, source[atlas.anchorSource] || atlas.anchorSource, null);
}
atlas.showAnchor = showAnchor;

// ---- pointer: hover decodes, drag pans, wheel zooms, click selects
let hoverQueued = false;
const liftWorker = new LatestOnly(async ({ x, y, t0 }) => {
  const z = await liftAt(x, y);
  if (atlas.hover) showCode(z, `pointer (approximate on ${atlas.projection})`, t0);
});

function hoverFrame() {
  hoverQueued = false;
  const h = atlas.hover;
  if (!h || !atlas.map) return;
  const [x, y] = scatter.toData(h.sx, h.sy);
  const t0 = h.t0;
  h.t0 = null;
  if (atlas.map.linear) showCode(liftLinear(x, y), `pointer at (${x.toFixed(2)}, ${y.toFixed(2)})`, t0);
  else liftWorker.push({ x, y, t0 });
  h.point = scatter.pick(h.sx, h.sy); // the data point a click would select, if any
  $("hover-point").textContent = h.point < 0 ? "" : describePoint(h.point);
  scatter.drawOverlay();
}

function describePoint(i) {
  const { labels, class_names: names } = atlas.run;
  const label = labels ? labels[i] : null;
  const name = label == null ? "" : ` · class ${names ? names[label] : label}`;
  return `click: test image #${i}${name}`;
}

const overlay = $("overlay");
let drag = null;

overlay.addEventListener("pointerdown", (e) => {
  drag = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
  overlay.setPointerCapture(e.pointerId);
});

overlay.addEventListener("pointermove", (e) => {
  const rect = overlay.getBoundingClientRect();
  if (drag) {
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (drag.moved || Math.abs(dx) + Math.abs(dy) > 3) {
      drag.moved = true;
      overlay.classList.add("dragging");
      scatter.pan(dx, dy);
      drag.x = e.clientX;
      drag.y = e.clientY;
    }
  }
  const keepT0 = atlas.hover && atlas.hover.t0 != null ? atlas.hover.t0 : e.timeStamp;
  atlas.hover = { sx: e.clientX - rect.left, sy: e.clientY - rect.top, t0: keepT0 };
  if (!hoverQueued) { hoverQueued = true; requestAnimationFrame(hoverFrame); }
});

overlay.addEventListener("pointerup", async (e) => {
  const wasDrag = drag && drag.moved;
  drag = null;
  overlay.classList.remove("dragging");
  if (wasDrag) return;
  const rect = overlay.getBoundingClientRect();
  const sx = e.clientX - rect.left, sy = e.clientY - rect.top;
  const index = scatter.pick(sx, sy);
  if (index >= 0) return panels.select({ kind: "point", index });
  const [x, y] = scatter.toData(sx, sy);
  try {
    panels.select({ kind: "free", z: await liftAt(x, y) });
  } catch (err) { status(err.message, true); }
});

overlay.addEventListener("pointerleave", () => {
  atlas.hover = null;
  $("hover-point").textContent = "";
  scatter.drawOverlay();
  showAnchor();
});

overlay.addEventListener("wheel", (e) => {
  e.preventDefault();
  const rect = overlay.getBoundingClientRect();
  scatter.zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top);
}, { passive: false });

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") panels.clearSelection();
  if (e.key === "f" && e.target === document.body) scatter.fit();
});

$("fit").onclick = () => scatter.fit();

const scatter = new ScatterMap($("points"), overlay, {
  onView: () => panels.saveUrlSoon(),
  onDrawOverlay: (ctx, map) => drawOverlay(atlas, ctx, map),
});
atlas.scatter = scatter;

// ---- runs and maps
async function loadMap(restoreView) {
  status(`computing the ${atlas.projection} map…`);
  const slow = { umap: "UMAP", tsne: "t-SNE" }[atlas.projection];
  if (slow) {
    $("map-note").hidden = false;
    $("map-note").textContent = `computing ${slow} for ${atlas.run.n_points.toLocaleString()} points… `
      + "the first time takes a while (about a minute for 10,000); runs keep it in their cache/";
  }
  const t = performance.now();
  const wanted = `${atlas.run.id}?${atlas.viewQuery()}`;
  const m = await getJSON(atlas.api(`/map?${atlas.viewQuery()}`));
  // a slow map (t-SNE) may arrive after the user has already chosen another one
  if (wanted !== `${atlas.run.id}?${atlas.viewQuery()}`) return false;
  atlas.map = m;
  scatter.setPoints(m.x, m.y, atlas.run.labels);
  if (restoreView) {
    scatter.view = restoreView;
    scatter.viewChanged();
  } else {
    scatter.fit();
  }
  showMapNote(m);
  status(m.seconds > 1 ? `${m.projection} computed in ${m.seconds.toFixed(1)} s` : "");
  console.debug(`map ${m.projection} in ${(performance.now() - t).toFixed(0)} ms`);
  return true;
}

function showMapNote(m) {
  const note = m && { umap: "UMAP", tsne: "t-SNE" }[m.projection];
  $("map-note").hidden = !note;
  if (note) {
    $("map-note").textContent = `${note}: positions between points and of new codes are `
      + "approximate (nearest-neighbour blend)";
  }
}

export async function setProjection(projection, dims) {
  atlas.projection = projection;
  if (dims) atlas.dims = dims;
  panels.syncControls();
  try {
    if (!(await loadMap(null))) return;
  } catch (err) {
    showMapNote(atlas.map);
    return status(err.message, true);
  }
  await panels.refreshPlacements();
  panels.saveUrlSoon();
}
atlas.setProjection = setProjection;

function buildLegend() {
  const legend = $("legend");
  legend.replaceChildren();
  const names = atlas.run.class_names;
  if (!atlas.run.labels || !names) return;
  names.forEach((name, c) => {
    const b = document.createElement("button");
    b.innerHTML = `<i style="background:${classColour(c)}"></i>`;
    b.append(name);
    b.title = "show / hide this class";
    b.onclick = () => {
      if (scatter.hidden.has(c)) scatter.hidden.delete(c); else scatter.hidden.add(c);
      b.classList.toggle("off", scatter.hidden.has(c));
      scatter.redraw();
    };
    legend.append(b);
  });
}

export async function loadRun(runId, restore = {}) {
  atlas.ready = false;
  status("loading run…");
  const run = await getJSON(`api/runs/${encodeURIComponent(runId)}`);
  atlas.run = run;
  atlas.sel = { a: null, b: null, last: null };
  atlas.upload = null;
  atlas.samples = null;
  atlas.interp.data = null;
  atlas.anchor = Float64Array.from(run.mean);
  atlas.anchorSource = "mean";
  const wanted = restore.projection && run.projections.includes(restore.projection) ? restore.projection : null;
  atlas.projection = wanted || (run.projections.includes(atlas.projection) ? atlas.projection : run.default_projection);
  // "two dimensions" starts with the two carrying the most KL (the most informative)
  atlas.dims = run.dims.length > 1 ? [run.dims[0].index, run.dims[1].index] : [0, 0];
  if (restore.dims && restore.dims.every((d) => d < run.latent_dim)) atlas.dims = restore.dims;
  scatter.hidden.clear();
  const decoderPromise = run.in_page_decoder ? MLPDecoder.load(run.id).catch(() => null) : Promise.resolve(null);
  panels.buildControls();
  buildLegend();
  const [decoder] = await Promise.all([decoderPromise, loadMap(restore.view)]);
  atlas.decoder = decoder;
  $("decoder-kind").textContent = decoder ? "decoded in the page (MLP weights)" : "decoded by the server";
  $("run-info").textContent = `${run.objective.toUpperCase()} · ${run.family} · ${run.dataset} · D=${run.latent_dim}`
    + ` · ${run.n_active} active · ${run.n_points.toLocaleString()} points`;
  panels.resetPanels();
  showAnchor();
  await panels.restoreSelection(restore);
  atlas.ready = true;
  atlas.readyMs = performance.now();
  panels.saveUrlSoon();
}
atlas.loadRun = loadRun;

async function main() {
  const params = new URLSearchParams(location.search);
  try {
    atlas.runs = await getJSON("api/runs");
  } catch (err) { return status(err.message, true); }
  const select = $("run");
  for (const r of atlas.runs) {
    const o = document.createElement("option");
    o.value = r.id;
    o.textContent = `${r.name} (${r.objective}, D=${r.latent_dim})`;
    select.append(o);
  }
  const wanted = atlas.runs.find((r) => r.id === params.get("run")) || atlas.runs[0];
  select.value = wanted.id;
  select.onchange = () => loadRun(select.value).catch((err) => status(err.message, true));
  panels.init(atlas);
  try {
    await loadRun(wanted.id, parseUrl(params));
  } catch (err) { status(err.message, true); }
}

main();
