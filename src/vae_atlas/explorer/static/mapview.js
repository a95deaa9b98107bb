// The map panes: points, axes, pointer (hover decodes, drag pans, wheel zooms, click selects),
// the class legend, and an optional second run beside the first with its view linked (same
// latent units, same pan and zoom). The image under the pointer is decoded and drawn in the move's
// own handler, so the frame that follows shows it; the overlay follows in that frame's callback.

import { PRIOR_RADIUS, drawAxes, mapAxes } from "./axes.js";
import { activeScores, pointColours, scoreLegend } from "./colouring.js";
import { LatestOnly } from "./decoder.js";
import { liftAt, liftLinear, project, showAnchor, showCode } from "./decoding.js";
import { dragged, pointCode, replace, turnMap } from "./orbit.js";
import { clearLasso, drawLasso, extendLasso, finishLasso, lasso, startLasso } from "./lasso.js";
import { crosshair, drawOverlay } from "./overlay.js";
import { clearSelection, select } from "./panels.js";
import { status } from "./status.js";
import { ScatterMap } from "./scatter.js";
import { DEFAULT_ORBIT, metrics, state, subscribe, update } from "./store.js";

const $ = (id) => document.getElementById(id);
// ?renderer=webgl|webgl-points|canvas chooses the map's renderer (scatter.js); default "auto"
const renderer = new URLSearchParams(location.search).get("renderer") || "auto";
let hover = null; // { sx, sy, t0, point } while the pointer is over the main map
let frameQueued = false; // the hover's animation frame is asked for
let decodeWaiting = false; // a move came after this frame's first: the frame decodes the newest

const axesOf = (map) => map && mapAxes(map, project);

export const scatter = new ScatterMap($("points"), $("overlay"), {
  onView: (v) => { if (state.compare) compareMap.setView(v); update({ view: { ...v } }); },
  onDrawOverlay: (ctx, map) => { drawOverlay(ctx, map, hover); drawLasso(ctx, map); },
  onDrawBase: (ctx, map) => { const a = axesOf(state.map); if (a) drawAxes(ctx, map, a); },
  onDrawn: () => { if (metrics.firstDrawnMs === null) metrics.firstDrawnMs = performance.now(); },
  renderer,
});

export const compareMap = new ScatterMap($("points-2"), $("overlay-2"), {
  onView: (v) => { scatter.setView(v); update({ view: { ...v } }); },
  onDrawOverlay: (ctx, map) => {
    if (!hover) return;
    const [x, y] = scatter.toData(hover.sx, hover.sy);
    crosshair(ctx, ...map.toScreen(x, y), "#7cc4ff");
  },
  onDrawBase: (ctx, map) => { const a = state.compare && axesOf(state.compare.map); if (a) drawAxes(ctx, map, a); },
  renderer,
});
compareMap.hidden = scatter.hidden; // hiding a class hides it on both maps

const OVERLAY_KEYS = ["sel", "upload", "samples", "interp", "anchor", "found"];

export function initMap() {
  subscribe((changed) => { if (OVERLAY_KEYS.some((k) => changed.has(k))) scatter.redrawOverlay(); });
  attachPointer($("overlay"), scatter, true);
  attachPointer($("overlay-2"), compareMap, false);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { clearSelection(); clearLasso(); scatter.redrawOverlay(); }
    if (e.key === "f" && e.target === document.body) fit();
  });
  $("fit").onclick = () => fit();
  $("orbit-reset").onclick = () => { setOrbit(DEFAULT_ORBIT); fit(); };
  const help = $("map-help").textContent;
  subscribe((changed) => {
    if (!changed.has("projection")) return;
    const turning = state.projection === "orbit";
    $("orbit-reset").hidden = !turning;
    $("map-help").textContent = turning ? help.replace("drag to pan", "drag to turn") : help;
  });
  $("map-mode").onchange = () => setMode($("map-mode").value);
  subscribe((changed) => { if (changed.has("mapMode")) $("map-mode").value = state.mapMode; });
}

// "points" or "density" on both maps
export function setMode(mode) {
  update({ mapMode: mode });
  scatter.setMode(mode);
  compareMap.setMode(mode);
}

// fit every point of both maps and the prior's circle, so a plain AE's spread and a VAE's
// share one scale and the prior gives it
export function fit() {
  const boxes = [scatter.bounds(), state.compare ? compareMap.bounds() : null, priorBox(state.map)];
  if (state.compare) boxes.push(priorBox(state.compare.map));
  const some = boxes.filter(Boolean);
  if (!some.length) return;
  const union = [0, 1, 2, 3].map((k) => (k % 2 ? Math.max : Math.min)(...some.map((b) => b[k])));
  scatter.fit(union);
}

function priorBox(map) {
  const axes = axesOf(map);
  if (!axes) return null;
  const [x, y] = axes.origin, r = PRIOR_RADIUS * (axes.unit || 1) * 1.05;
  return [x - r, x + r, y - r, y + r];
}

export function showMap(map, restoreView) {
  recolour(map);
  if (restoreView) {
    scatter.view = restoreView;
    scatter.viewChanged();
  } else {
    fit();
  }
}

// the second run (or null): its points beside the main map, in the same view
export function showCompare(compare) {
  $("compare-panel").hidden = !compare;
  $("map-title").hidden = !compare;
  if (compare) {
    const { run, map } = compare;
    $("compare-title").textContent = `${run.name} · ${run.objective.toUpperCase()} · D=${run.latent_dim}`;
    $("map-title").textContent = `${state.run.name} · ${state.run.objective.toUpperCase()} · D=${state.run.latent_dim}`;
    compareMap.setPoints(map.x, map.y, run.labels, run.class_colors);
  }
  // the panes changed size: both canvases follow their panels
  requestAnimationFrame(() => {
    scatter.resize();
    if (compare) { compareMap.resize(); compareMap.setView(scatter.view); }
  });
}

// colour the points by class or by anomaly score (state.colourBy)
export function recolour(map = state.map) {
  const { labels, palette } = pointColours(state.run, activeScores(state));
  scatter.setPoints(map.x, map.y, labels, palette);
}

export function buildLegend() {
  const legend = $("legend");
  legend.replaceChildren();
  const { class_names: names, class_colors: colours, labels } = state.run;
  scatter.hidden.clear();
  const scores = activeScores(state);
  if (scores) return legend.append(scoreLegend(scores));
  if (!labels || !names) return;
  names.forEach((name, c) => {
    const b = document.createElement("button");
    const swatch = document.createElement("i");
    swatch.style.background = colours[c];
    b.append(swatch, name);
    b.title = "show / hide this class";
    b.onclick = () => {
      if (scatter.hidden.has(c)) scatter.hidden.delete(c); else scatter.hidden.add(c);
      b.classList.toggle("off", scatter.hidden.has(c));
      scatter.redraw();
      if (state.compare) compareMap.redraw();
    };
    legend.append(b);
  });
}

// ---- the 3-D view: a drag turns it (coalesced to one turn per frame)
let turnQueued = false;

export function setOrbit(orbit) {
  update({ orbit: { ...orbit } });
  if (!turnQueued) { turnQueued = true; requestAnimationFrame(applyOrbit); }
}

function applyOrbit() {
  turnQueued = false;
  if (!state.map || !state.map.xyz) return;
  clearLasso(); // drawn in the old orientation
  scatter.movePoints(turnMap(state.map, state.orbit).x, state.map.y);
  const other = state.compare && state.compare.map;
  if (other && other.xyz) compareMap.movePoints(turnMap(other, state.orbit).x, other.y);
  replace();
  if (hover) {
    hover.t0 = performance.now();
    decodeHover(hover);
    drawHover(hover);
  }
}

// ---- pointer
const liftWorker = new LatestOnly(async ({ x, y, t0 }) => {
  const z = await liftAt(x, y);
  if (hover) showCode(z, `pointer (approximate on ${state.projection})`, t0);
});

// The first move in a frame is decoded at once, in its handler: drawn before the frame's
// rendering, the image is on screen in the frame that follows the move, not one later. Moves
// after it in the same frame only record the newest position, which the frame's callback
// decodes, so a burst of moves costs at most two decodes per frame.
function hoverAt(sx, sy, t0) {
  hover = { sx, sy, t0, point: -1 };
  if (!state.hovering) update({ hovering: true });
  if (frameQueued) {
    decodeWaiting = true;
    return;
  }
  frameQueued = true;
  requestAnimationFrame(hoverFrame);
  decodeHover(hover);
}

function hoverFrame() {
  frameQueued = false;
  const waiting = decodeWaiting;
  decodeWaiting = false;
  if (!hover) return;
  if (waiting) decodeHover(hover);
  drawHover(hover);
}

// decode the code under the pointer and draw it (in the page), or ask the server for it
function decodeHover(h) {
  if (!state.map) return;
  const [x, y] = scatter.toData(h.sx, h.sy);
  const t0 = h.t0;
  h.t0 = null;
  // in 3-D a screen position has no depth: the point under the pointer is decoded where it lies
  if (state.map.xyz) h.point = scatter.pick(h.sx, h.sy);
  if (state.map.xyz && h.point >= 0) showCode(pointCode(state.map, h.point, state.anchor), `test image #${h.point} (its place in 3-D)`, t0);
  else if (state.map.linear) showCode(liftLinear(x, y), `pointer at (${x.toFixed(2)}, ${y.toFixed(2)})`, t0);
  else liftWorker.push({ x, y, t0 });
}

// the crosshair, the ring on the data point a click would select, and its caption
function drawHover(h) {
  if (!state.map) return;
  h.point = scatter.pick(h.sx, h.sy);
  $("hover-point").textContent = h.point < 0 ? "" : describePoint(h.point);
  scatter.drawOverlay();
  if (state.compare) compareMap.drawOverlay();
}

function describePoint(i) {
  const { labels, class_names: names } = state.run;
  const label = labels ? labels[i] : null;
  const name = label == null ? "" : ` · class ${names ? names[label] : label}`;
  return `click: test image #${i}${name}`;
}

function attachPointer(overlay, map, main) {
  let drag = null;
  const local = (e) => { const r = overlay.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  overlay.addEventListener("pointerdown", (e) => {
    overlay.setPointerCapture(e.pointerId);
    if (main && e.shiftKey) return startLasso(map, ...local(e));
    drag = { x: e.clientX, y: e.clientY, moved: false };
  });
  overlay.addEventListener("pointermove", (e) => {
    // read before anything below writes to the page, so reading it lays nothing out again
    const rect = overlay.getBoundingClientRect();
    const sx = e.clientX - rect.left, sy = e.clientY - rect.top;
    if (lasso.drawing && main) {
      extendLasso(map, sx, sy);
      return map.redrawOverlay();
    }
    if (drag) {
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (drag.moved || Math.abs(dx) + Math.abs(dy) > 3) {
        drag.moved = true;
        overlay.classList.add("dragging");
        if (state.map && state.map.xyz) setOrbit(dragged(state.orbit, dx, dy));
        else map.pan(dx, dy);
        drag.x = e.clientX;
        drag.y = e.clientY;
      }
    }
    if (!main) return;
    // a coalesced move keeps the time of the oldest move whose image is not drawn yet
    hoverAt(sx, sy, hover && hover.t0 != null ? hover.t0 : e.timeStamp);
  });
  overlay.addEventListener("pointerup", (e) => {
    if (lasso.drawing && main) return finishLasso().then(() => map.redrawOverlay());
    const wasDrag = drag && drag.moved;
    drag = null;
    overlay.classList.remove("dragging");
    if (!wasDrag && main) clickAt(overlay, e);
  });
  overlay.addEventListener("wheel", (e) => {
    e.preventDefault();
    const rect = overlay.getBoundingClientRect();
    map.zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top);
  }, { passive: false });
  if (!main) return;
  overlay.addEventListener("pointerleave", () => {
    hover = null;
    update({ hovering: false });
    $("hover-point").textContent = "";
    scatter.drawOverlay();
    if (state.compare) compareMap.drawOverlay();
    showAnchor();
  });
}

async function clickAt(overlay, e) {
  const rect = overlay.getBoundingClientRect();
  const sx = e.clientX - rect.left, sy = e.clientY - rect.top;
  const index = scatter.pick(sx, sy);
  if (index >= 0) return select({ kind: "point", index });
  const [x, y] = scatter.toData(sx, sy);
  try {
    await select({ kind: "free", z: await liftAt(x, y) });
  } catch (err) { status(err.message, true); }
}
