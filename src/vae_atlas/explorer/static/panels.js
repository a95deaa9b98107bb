// The side panels: selection (original, reconstruction, neighbours), interpolation, per-dimension
// sliders, prior samples and uploads; and the URL that keeps the view shareable.

import { getJSON, postFile, postJSON } from "./api.js";
import { decodeSel, initUrl, saveUrl, saveUrlSoon } from "./urlstate.js";

export { saveUrlSoon };

const $ = (id) => document.getElementById(id);
let atlas = null;

export function init(state) {
  atlas = state;
  initUrl(state);
  $("projection").onchange = () => atlas.setProjection($("projection").value);
  const dimsChanged = () => {
    const dims = [+$("dim-x").value, +$("dim-y").value];
    if (dims[0] === dims[1]) return atlas.status("pick two different dimensions", true);
    atlas.setProjection("dims", dims);
  };
  $("dim-x").onchange = dimsChanged;
  $("dim-y").onchange = dimsChanged;
  for (const b of document.querySelectorAll(".segmented button")) {
    b.onclick = () => { atlas.interp.method = b.dataset.method; syncControls(); interpolate(); };
  }
  $("steps").oninput = () => { atlas.interp.steps = +$("steps").value; syncControls(); interpolateSoon(); };
  $("sample").onclick = () => sample();
  $("sliders-reset").onclick = () => {
    const last = atlas.sel[atlas.sel.last];
    atlas.anchor = Float64Array.from(last ? last.z : atlas.run.mean);
    atlas.anchorSource = last ? "selection" : "mean";
    syncSliders(); atlas.showAnchor(); atlas.scatter.drawOverlay();
  };
  $("share").onclick = async () => {
    saveUrl();
    try { await navigator.clipboard.writeText(location.href); atlas.status("link copied"); }
    catch (_) { atlas.status("copy the address bar to share this view"); }
  };
  setupUpload();
}

// ---- controls that depend on the run
export function buildControls() {
  const run = atlas.run;
  const names = { latent: "latent plane", pca: "PCA", dims: "two dimensions", umap: "UMAP", tsne: "t-SNE" };
  const proj = $("projection");
  proj.replaceChildren(...run.projections.map((p) => new Option(names[p], p)));
  for (const id of ["dim-x", "dim-y"]) {
    $(id).replaceChildren(...run.dims.map((d) => new Option(`z${d.index}${d.active ? "" : " (inactive)"}`, d.index)));
  }
  buildSliders();
  syncControls();
}

export function syncControls() {
  $("projection").value = atlas.projection;
  $("dims-picker").hidden = atlas.projection !== "dims";
  $("dim-x").value = atlas.dims[0];
  $("dim-y").value = atlas.dims[1];
  for (const b of document.querySelectorAll(".segmented button")) {
    b.classList.toggle("on", b.dataset.method === atlas.interp.method);
  }
  $("steps").value = atlas.interp.steps;
  $("steps-val").textContent = atlas.interp.steps;
}

function buildSliders() {
  $("sliders-order").textContent = atlas.run.stochastic
    ? "sorted by KL (nats) · drag to steer"
    : "sorted by variance (no KL in an AE)";
  const box = $("sliders");
  box.replaceChildren();
  for (const d of atlas.run.dims) {
    const row = document.createElement("div");
    row.className = "slider" + (d.active ? "" : " inactive");
    row.title = `z${d.index}: mean KL ${d.kl.toFixed(3)} nats, variance of the means ${d.variance.toFixed(3)}`
      + (d.active ? "" : " — inactive (variance of the means ≤ 0.01): it barely changes the image");
    const input = Object.assign(document.createElement("input"), {
      type: "range", min: d.lo, max: d.hi, step: (d.hi - d.lo) / 400, value: 0,
    });
    input.dataset.dim = d.index;
    input.setAttribute("aria-label", `latent dimension ${d.index}`);
    const val = Object.assign(document.createElement("span"), { className: "val" });
    input.oninput = () => {
      atlas.anchor[d.index] = +input.value;
      atlas.anchorSource = "sliders";
      val.textContent = (+input.value).toFixed(2);
      atlas.showAnchor();
      atlas.scatter.redrawOverlay();
    };
    const kl = atlas.run.stochastic ? `${d.kl.toFixed(2)}` : `v ${d.variance.toFixed(2)}`;
    row.innerHTML = `<span class="name">z${d.index}</span>`;
    row.append(input, Object.assign(document.createElement("span"), { className: "kl", textContent: kl }), val);
    box.append(row);
  }
  syncSliders();
}

export function syncSliders() {
  for (const input of $("sliders").querySelectorAll("input")) {
    const v = atlas.anchor[+input.dataset.dim];
    input.value = v;
    input.parentElement.querySelector(".val").textContent = v.toFixed(2);
  }
}

export function resetPanels() {
  $("sel-body").hidden = true;
  $("sel-empty").hidden = false;
  $("sel-tag").textContent = "";
  $("strip").innerHTML = '<span class="muted">pick two points (two clicks) to interpolate</span>';
  $("samples").replaceChildren();
  $("sample-source").textContent = `from ${atlas.run.prior}`;
  $("upload-body").hidden = true;
  syncSliders();
}

// ---- selection
async function describe(sel) {
  const q = atlas.viewQuery();
  if (sel.kind === "point") return getJSON(atlas.api(`/points/${sel.index}?${q}`));
  return postJSON(atlas.api("/inspect"), { ...atlas.view(), z: Array.from(sel.z), sigma: sel.sigma || null });
}

export async function select(sel, { slot } = {}) {
  const s = atlas.sel;
  const key = slot || (!s.a || s.b ? "a" : "b");
  if (key === "a" && !slot) s.b = null;
  s[key] = sel;
  s.last = key;
  if (!s.b) atlas.interp.data = null;
  if (sel.z) {
    sel.position = atlas.map.linear ? atlas.project(sel.z) : null;
    setAnchor(sel.z);
  }
  atlas.scatter.drawOverlay();
  try {
    sel.detail = sel.detail || await describe(sel);
  } catch (err) { return atlas.status(err.message, true); }
  sel.z = Float64Array.from(sel.detail.mu);
  sel.sigma = sel.detail.sigma;
  sel.position = sel.detail.position;
  if (s[s.last] === sel) { setAnchor(sel.z); showSelection(sel, key); }
  atlas.scatter.drawOverlay();
  saveUrlSoon();
  if (s.a && s.b && s.a.detail && s.b.detail) await interpolate();
}

function setAnchor(z) {
  atlas.anchor = Float64Array.from(z);
  atlas.anchorSource = "selection";
  syncSliders();
  if (!atlas.hover) atlas.showAnchor();
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
    const name = n.label != null && atlas.run.class_names ? atlas.run.class_names[n.label] : "";
    fig.innerHTML = `<img class="pixels" src="${n.image}" alt="neighbour ${n.index}"><figcaption>${name} ${n.distance.toFixed(2)}</figcaption>`;
    fig.title = `test image #${n.index}, distance ${n.distance.toFixed(3)} — click to select`;
    fig.onclick = () => select({ kind: "point", index: n.index });
    box.append(fig);
  }
}

export function clearSelection() {
  atlas.sel = { a: null, b: null, last: null };
  atlas.interp.data = null;
  atlas.anchor = Float64Array.from(atlas.run.mean);
  atlas.anchorSource = "mean";
  resetPanels();
  atlas.showAnchor();
  atlas.scatter.drawOverlay();
  saveUrlSoon();
}

// ---- interpolation
let interpTimer = null;
function interpolateSoon() { clearTimeout(interpTimer); interpTimer = setTimeout(interpolate, 120); }

export async function interpolate() {
  const { a, b } = atlas.sel;
  if (!a || !b || !a.z || !b.z) return;
  const body = { ...atlas.view(), a: Array.from(a.z), b: Array.from(b.z), steps: atlas.interp.steps, method: atlas.interp.method };
  let data;
  try { data = await postJSON(atlas.api("/interpolate"), body); }
  catch (err) { return atlas.status(err.message, true); }
  atlas.interp.data = data;
  const strip = $("strip");
  strip.replaceChildren();
  data.images.forEach((src, i) => {
    const img = Object.assign(document.createElement("img"), { src, className: "pixels", alt: `step ${i}` });
    img.title = `step ${i + 1} of ${data.images.length} — click to steer from here`;
    img.onmouseenter = () => {
      atlas.interp.hoverStep = i;
      atlas.showCode(data.z[i], `interpolation step ${i + 1} of ${data.z.length}`, null);
      atlas.scatter.drawOverlay();
    };
    img.onmouseleave = () => { atlas.interp.hoverStep = null; atlas.showAnchor(); atlas.scatter.drawOverlay(); };
    img.onclick = () => { setAnchor(data.z[i]); atlas.anchorSource = "sliders"; atlas.showAnchor(); atlas.scatter.drawOverlay(); };
    strip.append(img);
  });
  atlas.scatter.drawOverlay();
  saveUrlSoon();
}

// ---- samples
async function sample() {
  let data;
  try {
    data = await postJSON(atlas.api("/samples"), { ...atlas.view(), n: 36, seed: atlas.sampleSeed++ });
  } catch (err) { return atlas.status(err.message, true); }
  atlas.samples = data;
  $("sample-source").textContent = `36 codes from ${data.source}; + marks them on the map; click one to select it`;
  const grid = $("samples");
  grid.replaceChildren();
  data.images.forEach((src, i) => {
    const img = Object.assign(document.createElement("img"), { src, className: "pixels", alt: `sample ${i}` });
    img.onclick = () => select({ kind: "sample", z: Float64Array.from(data.z[i]) });
    grid.append(img);
  });
  atlas.scatter.drawOverlay();
}

// ---- uploads
function setupUpload() {
  const send = (file) => upload(file);
  $("file").onchange = (e) => { if (e.target.files[0]) send(e.target.files[0]); e.target.value = ""; };
  const zone = $("dropzone"), panel = $("map-panel"), hint = $("drop-hint");
  const over = (on) => (e) => { e.preventDefault(); zone.classList.toggle("over", on); hint.hidden = !on || !panel.contains(e.target); };
  for (const el of [zone, panel]) {
    el.addEventListener("dragover", over(true));
    el.addEventListener("dragleave", over(false));
    el.addEventListener("drop", (e) => {
      over(false)(e);
      hint.hidden = true;
      const file = e.dataTransfer.files[0];
      if (file) send(file);
    });
  }
}

export async function upload(file) {
  if (file.size > 5 * 1024 * 1024) return atlas.status("that file is over the 5 MB limit", true);
  atlas.status("encoding your image…");
  let d;
  try {
    d = await postFile(atlas.api(`/encode?${atlas.viewQuery()}&invert=${$("invert").value}`), file);
  } catch (err) { return atlas.status(err.message, true); }
  atlas.status(d.inverted ? "encoded (inverted to match the dataset)" : "encoded");
  $("upload-body").hidden = false;
  $("up-input").src = d.input;
  $("up-recon").src = d.reconstruction;
  const sigma = d.sigma ? (d.sigma.reduce((a, b) => a + b, 0) / d.sigma.length).toFixed(3) : "–";
  $("up-meta").innerHTML = `${d.original_size[0]}×${d.original_size[1]} → ${atlas.run.image_shape[2]}×${atlas.run.image_shape[1]}`
    + `<br>${d.inverted ? "inverted" : "not inverted"}<br>mean σ ${sigma}`;
  const sel = { kind: "upload", z: Float64Array.from(d.mu), sigma: d.sigma, detail: d, position: d.position };
  atlas.upload = sel;
  await select(sel);
}

// ---- after a projection change, everything placed on the map is placed again
export async function refreshPlacements() {
  const jobs = [];
  for (const sel of new Set([atlas.sel.a, atlas.sel.b, atlas.upload])) {
    if (!sel) continue;
    jobs.push(describe(sel).then((d) => {
      sel.detail = sel.kind === "upload" ? { ...sel.detail, ...d } : d;
      sel.position = d.position;
    }).catch(() => {}));
  }
  if (atlas.samples) {
    jobs.push(postJSON(atlas.api("/place"), { ...atlas.view(), z: atlas.samples.z })
      .then((p) => { atlas.samples.path = p; }).catch(() => { atlas.samples = null; }));
  }
  await Promise.all(jobs);
  atlas.scatter.drawOverlay();
  if (atlas.sel.a && atlas.sel.b) await interpolate();
}

export async function restoreSelection(restore) {
  syncControls();
  const n = atlas.run.n_points, dim = atlas.run.latent_dim;
  const a = decodeSel(restore.a, dim), b = decodeSel(restore.b, dim);
  for (const [sel, slot] of [[a, "a"], [b, "b"]]) {
    if (sel && (sel.kind !== "point" || sel.index < n)) await select(sel, { slot });
  }
}
