// The side panels: selection (original, reconstruction, neighbours), interpolation and prior
// samples; and placing everything again when the map changes.

import { getJSON, postJSON } from "./api.js";
import { project, setAnchor, showAnchor, showCode } from "./decoding.js";
import { status } from "./status.js";
import { runPath, state, update, viewBody, viewQuery } from "./store.js";
import { decodeSel } from "./urlstate.js";

const $ = (id) => document.getElementById(id);
let sampleSeed = 0;

export function initPanels() {
  for (const b of document.querySelectorAll(".segmented button")) {
    b.onclick = () => { setInterp({ method: b.dataset.method }); interpolate(); };
  }
  $("steps").oninput = () => { setInterp({ steps: +$("steps").value }); interpolateSoon(); };
  $("sample").onclick = () => sample();
}

function setInterp(patch) {
  update({ interp: { ...state.interp, ...patch } });
}

export function resetPanels() {
  $("sel-body").hidden = true;
  $("sel-empty").hidden = false;
  $("sel-tag").textContent = "";
  $("strip").innerHTML = '<span class="muted">pick two points (two clicks) to interpolate</span>';
  $("samples").replaceChildren();
  $("sample-source").textContent = `from ${state.run.prior}`;
  $("upload-body").hidden = true;
}

// ---- selection
export async function describe(sel) {
  if (sel.kind === "point") return getJSON(runPath(`/points/${sel.index}?${viewQuery()}`));
  return postJSON(runPath("/inspect"), { ...viewBody(), z: Array.from(sel.z), sigma: sel.sigma || null });
}

export async function select(sel, { slot } = {}) {
  const s = { ...state.sel };
  const key = slot || (!s.a || s.b ? "a" : "b");
  if (key === "a" && !slot) s.b = null;
  s[key] = sel;
  s.last = key;
  if (!s.b) setInterp({ data: null });
  if (sel.z) {
    sel.position = state.map.linear ? project(sel.z) : null;
    setAnchor(sel.z, "selection");
  }
  update({ sel: s });
  try {
    sel.detail = sel.detail || await describe(sel);
  } catch (err) { return status(err.message, true); }
  sel.z = Float64Array.from(sel.detail.mu);
  sel.sigma = sel.detail.sigma;
  sel.position = sel.detail.position;
  const current = state.sel;
  if (current[current.last] === sel) { setAnchor(sel.z, "selection"); showSelection(sel, key); }
  update({ sel: current });
  if (current.a && current.b && current.a.detail && current.b.detail) await interpolate();
}

function showSelection(sel, key) {
  const d = sel.detail;
  $("sel-empty").hidden = true;
  $("sel-body").hidden = false;
  $("sel-tag").textContent = key.toUpperCase();
  $("sel-tag").className = `tag ${key}`;
  const original = sel.kind === "point" ? d.original : sel.kind === "upload" ? d.input : d.reconstruction;
  $("sel-original").src = original;
  $("sel-original-cap").textContent = { point: "original", upload: "your image", free: "decoded here", sample: "sample" }[sel.kind];
  $("sel-recon").src = d.reconstruction;
  const lines = [];
  if (sel.kind === "point") {
    lines.push(`test image <b>#${d.index}</b>`);
    if (d.class_name != null) lines.push(`class <b>${d.class_name}</b>`);
  } else {
    lines.push({ free: "a location on the map", sample: "a prior sample", upload: "your upload" }[sel.kind]);
  }
  if (d.sigma) {
    const mean = d.sigma.reduce((a, b) => a + b, 0) / d.sigma.length;
    lines.push(`mean posterior σ ${mean.toFixed(3)}`);
    lines.push(d.ellipse ? "ellipses: 1σ (solid), 2σ (dashed)" : "cloud: 48 posterior samples");
  }
  $("sel-meta").innerHTML = lines.join("<br>");
  const box = $("neighbours");
  box.replaceChildren();
  for (const n of d.neighbours) {
    const fig = document.createElement("figure");
    const name = n.label != null && state.run.class_names ? state.run.class_names[n.label] : "";
    fig.innerHTML = `<img class="pixels" src="${n.image}" alt="neighbour ${n.index}"><figcaption>${name} ${n.distance.toFixed(2)}</figcaption>`;
    fig.title = `test image #${n.index}, distance ${n.distance.toFixed(3)} — click to select`;
    fig.onclick = () => select({ kind: "point", index: n.index });
    box.append(fig);
  }
}

export function clearSelection() {
  update({ sel: { a: null, b: null, last: null } });
  setInterp({ data: null });
  resetPanels();
  setAnchor(state.run.mean, "mean");
}

// ---- interpolation
let interpTimer = null;
function interpolateSoon() { clearTimeout(interpTimer); interpTimer = setTimeout(interpolate, 120); }

export async function interpolate() {
  const { a, b } = state.sel;
  if (!a || !b || !a.z || !b.z) return;
  const { method, steps } = state.interp;
  const body = { ...viewBody(), a: Array.from(a.z), b: Array.from(b.z), steps, method };
  let data;
  try { data = await postJSON(runPath("/interpolate"), body); }
  catch (err) { return status(err.message, true); }
  setInterp({ data });
  const strip = $("strip");
  strip.replaceChildren();
  data.images.forEach((src, i) => {
    const img = Object.assign(document.createElement("img"), { src, className: "pixels", alt: `step ${i}` });
    img.title = `step ${i + 1} of ${data.images.length} — click to steer from here`;
    img.onmouseenter = () => {
      setInterp({ hoverStep: i });
      showCode(data.z[i], `interpolation step ${i + 1} of ${data.z.length}`, null);
    };
    img.onmouseleave = () => { setInterp({ hoverStep: null }); showAnchor(); };
    img.onclick = () => setAnchor(data.z[i], "sliders");
    strip.append(img);
  });
}

// ---- samples
async function sample() {
  let data;
  try {
    data = await postJSON(runPath("/samples"), { ...viewBody(), n: 36, seed: sampleSeed++ });
  } catch (err) { return status(err.message, true); }
  update({ samples: data });
  $("sample-source").textContent = `36 codes from ${data.source}; + marks them on the map; click one to select it`;
  const grid = $("samples");
  grid.replaceChildren();
  data.images.forEach((src, i) => {
    const img = Object.assign(document.createElement("img"), { src, className: "pixels", alt: `sample ${i}` });
    img.onclick = () => select({ kind: "sample", z: Float64Array.from(data.z[i]) });
    grid.append(img);
  });
}

// the grid's codes decoded again after the "decode as" choice changed (condition.js adds the
// choice to the request): the same codes under the new condition
let redraws = 0;
export async function redrawSamples() {
  const samples = state.samples;
  if (!samples) return;
  const token = ++redraws; // a slower answer to an earlier choice must not land last
  let data;
  try { data = await postJSON(runPath("/decode"), { z: samples.z }); }
  catch (err) { return status(err.message, true); }
  if (token !== redraws || state.samples !== samples) return;
  const images = $("samples").querySelectorAll("img");
  data.images.forEach((src, i) => { if (images[i]) images[i].src = src; });
  update({ samples: { ...samples, images: data.images } });
}

// ---- after a projection change, everything placed on the map is placed again
export async function refreshPlacements() {
  const jobs = [];
  for (const sel of new Set([state.sel.a, state.sel.b, state.upload])) {
    if (!sel) continue;
    jobs.push(describe(sel).then((d) => {
      sel.detail = sel.kind === "upload" ? { ...sel.detail, ...d } : d;
      sel.position = d.position;
      if (sel.kind === "point") sel.z = Float64Array.from(d.mu); // new weights, new code
    }).catch(() => {}));
  }
  const samples = state.samples;
  if (samples) {
    jobs.push(postJSON(runPath("/place"), { ...viewBody(), z: samples.z })
      .then((p) => update({ samples: { ...samples, path: p } }))
      .catch(() => update({ samples: null })));
  }
  await Promise.all(jobs);
  update({ sel: state.sel, upload: state.upload });
  if (state.sel.a && state.sel.b) await interpolate();
}

export async function restoreSelection(restore) {
  const n = state.run.n_points, dim = state.run.latent_dim;
  const a = decodeSel(restore.a, dim), b = decodeSel(restore.b, dim);
  for (const [sel, slot] of [[a, "a"], [b, "b"]]) {
    if (sel && (sel.kind !== "point" || sel.index < n)) await select(sel, { slot });
  }
}
