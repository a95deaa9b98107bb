// vae-atlas explorer: loads runs and their maps into the store and wires the page's parts.
// MLP and conv decoders run in the page; other models decode through the server (see decoding.js).

import { getBuffer, getJSON, postJSON, request } from "./api.js";
import { restoreCondition } from "./condition.js";
import { buildControls, initControls } from "./controls.js";
import { loadDecoder } from "./decoder.js";
import { project, showAnchor } from "./decoding.js";
import { buildLegend, compareMap, fit, initMap, recolour, scatter, setMode, showCompare, showMap } from "./mapview.js";
import { initPanels, refreshPlacements, resetPanels, restoreSelection, select } from "./panels.js";
import { buildSliders, initSliders } from "./sliders.js";
import { status } from "./status.js";
import { metrics, runPath, state, subscribe, update, viewQuery } from "./store.js";
import { clearLasso, initLasso, lasso } from "./lasso.js";
import { followRun } from "./follow.js";
import { initPad, padStats } from "./pad.js";
import { turnMap } from "./orbit.js";
import { initSearch } from "./search.js";
import { initUpload } from "./upload.js";
import { parseUrl, saveUrlSoon } from "./urlstate.js";

const $ = (id) => document.getElementById(id);
const SLOW = { umap: "UMAP", tsne: "t-SNE" };

// the map's coordinates travel as float32 pairs (map.bin) and the labels as int32 (labels.bin):
// parsing a million of either from JSON takes seconds
async function fetchMap(run, projection) {
  const q = viewQuery(projection);
  if (projection === "orbit") {
    const [m, buffer] = await Promise.all([
      getJSON(runPath(`/map?${q}&points=false`, run)), getBuffer(runPath("/orbit.bin", run)),
    ]);
    m.xyz = new Float32Array(buffer);
    return turnMap(m, state.orbit);
  }
  const [m, buffer] = await Promise.all([
    getJSON(runPath(`/map?${q}&points=false`, run)), getBuffer(runPath(`/map.bin?${q}`, run)),
  ]);
  const xy = new Float32Array(buffer), n = xy.length / 2;
  m.x = new Float32Array(n);
  m.y = new Float32Array(n);
  for (let i = 0; i < n; i++) { m.x[i] = xy[2 * i]; m.y[i] = xy[2 * i + 1]; }
  return m;
}

async function fetchRun(runId) {
  const run = await getJSON(`api/runs/${encodeURIComponent(runId)}?labels=false`);
  const response = await request(runPath("/labels.bin", run));
  run.labels = response.ok ? new Int32Array(await response.arrayBuffer()) : null; // 404: unlabelled
  return run;
}

async function loadMap(restoreView) {
  status(`loading the ${state.projection} map…`);
  const wanted = `${state.run.id}?${viewQuery()}`;
  const m = await fetchMap(state.run, state.projection);
  // a slow map (t-SNE) may arrive after the user has already chosen another one
  if (wanted !== `${state.run.id}?${viewQuery()}`) return false;
  update({ map: m });
  showMap(m, restoreView);
  showMapNote(m);
  status(m.seconds > 1 ? `${m.projection} computed in ${m.seconds.toFixed(1)} s` : "");
  return true;
}

function showMapNote(m) {
  const note = m && SLOW[m.projection];
  $("map-note").hidden = !note;
  if (note) {
    $("map-note").textContent = `${note}: positions between points and of new codes are `
      + "approximate (nearest-neighbour blend); its axes have no units";
  }
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
let mapWanted = null; // the map asked for last: a background map may finish after another choice

// A slow map (t-SNE, UMAP) is computed by the server in the background: ask how far it has got
// every second while the current map stays usable. True once it is ready, false if the user
// chose something else meanwhile.
async function awaitBackgroundMap(projection) {
  const slow = SLOW[projection], run = state.run;
  const token = mapWanted = `${run.id}:${projection}`;
  if (!slow) return true;
  for (;;) {
    const job = await postJSON(runPath(`/map/job?projection=${projection}`, run), {});
    if (mapWanted !== token || state.run !== run) return false;
    if (job.state === "ready") return true;
    if (job.state === "failed") throw new Error(job.message);
    const done = job.progress == null ? "" : `${Math.round(job.progress * 100)} % · `;
    $("map-note").hidden = false;
    $("map-note").textContent = `computing ${slow} of ${run.n_points.toLocaleString()} points in the `
      + `background: ${done}${Math.round(job.seconds)} s. This map stays usable; the run keeps ${slow} in cache/`;
    await sleep(1000);
  }
}

async function setProjection(projection, dims) {
  try {
    if (!(await awaitBackgroundMap(projection))) return;
  } catch (err) {
    showMapNote(state.map);
    return status(err.message, true);
  }
  update(dims ? { projection, dims } : { projection });
  clearLasso(); // its polygon was drawn on the other map
  try {
    if (!(await loadMap(null))) return;
  } catch (err) {
    showMapNote(state.map);
    return status(err.message, true);
  }
  await refreshPlacements();
  if (state.compare) await setCompare(state.compare.run.id);
}

// the other run shown beside this one, on the same kind of map where it has one; `refit` fits
// both (a new pairing), else the view is kept
async function setCompare(runId, { refit = false } = {}) {
  if (!runId) {
    update({ compare: null });
    return showCompare(null);
  }
  try {
    const run = await fetchRun(runId);
    const projection = run.projections.includes(state.projection) && (state.projection !== "dims"
      || state.dims.every((d) => d < run.latent_dim)) ? state.projection : run.default_projection;
    const map = await fetchMap(run, projection);
    update({ compare: { run, map } });
    showCompare(state.compare);
    if (refit) requestAnimationFrame(() => fit());
  } catch (err) { status(err.message, true); }
}

// colour the points by "class" or "anomaly" (each point's score, fetched once per run)
async function setColourBy(mode) {
  if (mode === "anomaly" && !state.anomaly) {
    status("scoring every point…");
    try {
      update({ anomaly: await getJSON(runPath("/anomaly")) });
      status("");
    } catch (err) {
      status(err.message, true);
      mode = "class"; // e.g. a model without a likelihood
    }
  }
  update({ colourBy: mode });
  buildLegend();
  if (state.map) recolour();
}

async function loadRun(runId, restore = {}) {
  update({ ready: false });
  clearLasso();
  status("loading run…");
  const run = await fetchRun(runId);
  const wanted = restore.projection && run.projections.includes(restore.projection) ? restore.projection : null;
  let projection = wanted || (run.projections.includes(state.projection) ? state.projection : run.default_projection);
  const later = SLOW[projection] ? projection : null; // a slow map comes once computed, in the background
  if (later) projection = run.default_projection;
  // "two dimensions" starts with the two carrying the most KL (the most informative)
  let dims = run.dims.length > 1 ? [run.dims[0].index, run.dims[1].index] : [0, 0];
  if (restore.dims && restore.dims.every((d) => d < run.latent_dim)) dims = restore.dims;
  update({
    run, dims, sel: { a: null, b: null, last: null }, upload: null, samples: null,
    orbit: restore.orbit || state.orbit,
    interp: { ...state.interp, ...restore.interp, data: null, hoverStep: null },
    anchor: Float64Array.from(run.mean), anchorSource: "mean", anomaly: null, map: null,
    projection, found: null,
  });
  const decoderPromise = run.in_page_decoder ? loadDecoder(run.id).catch(() => null) : Promise.resolve(null);
  buildControls();
  buildSliders();
  restoreCondition(restore.condition);
  if (restore.mapMode) setMode(restore.mapMode);
  const colourBy = restore.colourBy || state.colourBy;
  if (colourBy === "anomaly") await setColourBy("anomaly");
  else buildLegend();
  const [decoder] = await Promise.all([decoderPromise, loadMap(restore.view)]);
  update({ decoder });
  $("decoder-kind").textContent = decoder ? `decoded in the page (${decoder.label})` : "decoded by the server";
  $("run-info").textContent = `${run.objective.toUpperCase()} · ${run.family} · ${run.dataset}`
    + (run.level ? ` · ${run.level}` : "") + ` · D=${run.latent_dim}`
    + ` · ${run.n_active} active · ${run.n_points.toLocaleString()} points`;
  resetPanels();
  showAnchor();
  await restoreSelection(restore);
  const compare = restore.compare !== undefined ? restore.compare : state.compare && state.compare.run.id;
  if (compare) await setCompare(compare);
  metrics.readyMs = performance.now();
  update({ ready: true });
  if (later) setProjection(later);
  followRun(reloadWeights);
}

// the run trained on (explore --follow): the new weights' points, map and decoder, with the
// view, selections and colouring kept; a t-SNE or UMAP is not recomputed per epoch
async function reloadWeights() {
  const run = await fetchRun(state.run.id);
  const projection = SLOW[state.projection] ? run.default_projection : state.projection;
  const [map, decoder] = await Promise.all([
    fetchMap(run, projection), run.in_page_decoder ? loadDecoder(run.id).catch(() => null) : null,
  ]);
  const mean = state.anchorSource === "mean" ? { anchor: Float64Array.from(run.mean) } : {};
  update({ run, map, decoder, projection, anomaly: null, ...mean });
  if (state.colourBy === "anomaly") await setColourBy("anomaly");
  recolour(map);
  showMapNote(map);
  buildSliders();
  await refreshPlacements();
  const last = state.sel.last;
  if (last && state.sel[last]) await select(state.sel[last], { slot: last }); // its panel, redrawn
  else showAnchor();
}

// the browser tests and the latency benchmark read the page through this, and only with ?test=1
function exposeForTests() {
  window.__atlas = { state, metrics, scatter, compareMap, project, runPath, fit, lasso, padStats };
}

async function main() {
  const params = new URLSearchParams(location.search);
  if (params.get("test") === "1") exposeForTests();
  try {
    update({ runs: await getJSON("api/runs") });
  } catch (err) { return status(err.message, true); }
  initControls({ loadRun, setProjection, setCompare, setColourBy });
  initMap();
  initPanels();
  initSliders();
  initUpload();
  initSearch();
  initLasso();
  initPad();
  subscribe((changed) => {
    if (["run", "projection", "dims", "sel", "interp", "view", "compare", "colourBy", "mapMode", "orbit", "condition"].some((k) => changed.has(k))) saveUrlSoon();
  });
  const wanted = state.runs.find((r) => r.id === params.get("run")) || state.runs[0];
  try {
    await loadRun(wanted.id, parseUrl(params));
  } catch (err) { status(err.message, true); }
}

main();
