// One slider per latent dimension, sorted by KL (VAE) or by the variance of the means (AE);
// dragging one steers the anchor code along that dimension.

import { setAnchor } from "./decoding.js";
import { dimName, state, subscribe } from "./store.js";

const $ = (id) => document.getElementById(id);

export function initSliders() {
  $("sliders-reset").onclick = () => {
    const last = state.sel[state.sel.last];
    setAnchor(last ? last.z : state.run.mean, last ? "selection" : "mean");
  };
  subscribe((changed) => { if (changed.has("anchor")) syncSliders(); });
}

function describeDim(d, run) {
  const name = dimName(d.index);
  const stats = `${name}: mean KL ${d.kl.toFixed(3)} nats, variance of the means ${d.variance.toFixed(3)}`;
  if (d.active) return stats;
  const why = run.stochastic
    ? `mean KL < ${run.active_kl_threshold} nats`
    : "its means barely vary";
  return `${stats} — inactive (${why}): it barely changes the image`;
}

export function buildSliders() {
  const run = state.run;
  $("sliders-order").textContent = run.stochastic
    ? "sorted by KL (nats) · drag to steer"
    : "sorted by variance (no KL in an AE)";
  const box = $("sliders");
  box.replaceChildren();
  for (const d of run.dims) {
    const row = document.createElement("div");
    row.className = "slider" + (d.active ? "" : " inactive");
    row.title = describeDim(d, run);
    const input = Object.assign(document.createElement("input"), {
      type: "range", min: d.lo, max: d.hi, step: (d.hi - d.lo) / 400, value: 0,
    });
    input.dataset.dim = d.index;
    input.setAttribute("aria-label", `latent dimension ${dimName(d.index)}`);
    input.oninput = () => {
      const z = Float64Array.from(state.anchor);
      z[d.index] = +input.value;
      setAnchor(z, "sliders");
    };
    const kl = run.stochastic ? `${d.kl.toFixed(2)}` : `v ${d.variance.toFixed(2)}`;
    const name = Object.assign(document.createElement("span"), { className: "name", textContent: dimName(d.index) });
    const val = Object.assign(document.createElement("span"), { className: "val" });
    row.append(name, input, Object.assign(document.createElement("span"), { className: "kl", textContent: kl }), val);
    box.append(row);
  }
  syncSliders();
}

export function syncSliders() {
  if (!state.anchor) return;
  for (const input of $("sliders").querySelectorAll("input")) {
    const v = state.anchor[+input.dataset.dim];
    input.value = v;
    input.parentElement.querySelector(".val").textContent = v.toFixed(2);
  }
}
