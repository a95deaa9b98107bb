// The header's controls (run, map, dimensions, the run shown beside it, share) and the
// interpolation settings; they follow the state and report choices through the given actions.

import { status } from "./status.js";
import { dimName, state, subscribe } from "./store.js";
import { saveUrl } from "./urlstate.js";

const $ = (id) => document.getElementById(id);
const MAP_NAMES = { latent: "latent plane", pca: "PCA", dims: "two dimensions", umap: "UMAP", tsne: "t-SNE", orbit: "3-D (orbit)" };

// actions: { loadRun(id), setProjection(name, dims), setCompare(id or "", { refit }), setColourBy(mode) }
export function initControls(actions) {
  const runs = state.runs.map((r) => new Option(`${r.name} (${r.objective}, D=${r.latent_dim})`, r.id));
  $("run").replaceChildren(...runs);
  $("run").onchange = () => actions.loadRun($("run").value).catch((err) => status(err.message, true));
  $("compare").replaceChildren(new Option("—", ""), ...runs.map((o) => new Option(o.text, o.value)));
  $("compare").onchange = () => actions.setCompare($("compare").value, { refit: true });
  $("colour-by").onchange = () => actions.setColourBy($("colour-by").value);
  $("projection").onchange = () => actions.setProjection($("projection").value);
  const dimsChanged = () => {
    const dims = [+$("dim-x").value, +$("dim-y").value];
    if (dims[0] === dims[1]) return status("pick two different dimensions", true);
    actions.setProjection("dims", dims);
  };
  $("dim-x").onchange = dimsChanged;
  $("dim-y").onchange = dimsChanged;
  $("share").onclick = async () => {
    saveUrl();
    try { await navigator.clipboard.writeText(location.href); status("link copied"); }
    catch (_) { status("copy the address bar to share this view"); }
  };
  subscribe((changed) => {
    if (["projection", "dims", "interp", "compare", "run", "colourBy"].some((k) => changed.has(k))) syncControls();
  });
}

export function buildControls() {
  const run = state.run;
  $("projection").replaceChildren(...run.projections.map((p) => new Option(MAP_NAMES[p], p)));
  for (const id of ["dim-x", "dim-y"]) {
    $(id).replaceChildren(...run.dims.map((d) => new Option(`${dimName(d.index)}${d.active ? "" : " (inactive)"}`, d.index)));
  }
  syncControls();
}

function syncControls() {
  if (!state.run) return;
  $("run").value = state.run.id;
  $("compare").value = state.compare ? state.compare.run.id : "";
  $("projection").value = state.projection;
  $("colour-by").value = state.colourBy;
  $("dims-picker").hidden = state.projection !== "dims";
  $("dim-x").value = state.dims[0];
  $("dim-y").value = state.dims[1];
  for (const b of document.querySelectorAll(".segmented button")) {
    b.classList.toggle("on", b.dataset.method === state.interp.method);
  }
  $("steps").value = state.interp.steps;
  $("steps-val").textContent = state.interp.steps;
}
