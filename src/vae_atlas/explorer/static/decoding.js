// The big decoded image and the codes behind it: project codes onto a linear map, lift map
// positions back into latent space through the anchor, and decode (in the page for MLPs, else
// through the server with at most one request in flight, newest wins).

import { getBlob, getJSON } from "./api.js";
import { LatestOnly, drawBlob, drawPixels } from "./decoder.js";
import { metrics, runPath, state, update, viewQuery } from "./store.js";

const $ = (id) => document.getElementById(id);

export function project(z, map = state.map) {
  const lin = map.linear;
  const out = [0, 0];
  for (let r = 0; r < 2; r++) {
    let acc = 0;
    for (let d = 0; d < z.length; d++) acc += lin.axes[r][d] * (z[d] - lin.center[d]);
    out[r] = acc;
  }
  return out;
}

export function liftLinear(x, y) {
  const lin = state.map.linear, a = state.anchor, pa = project(a);
  const z = Float64Array.from(a);
  // an aligned map's axes are F (turn · scale s) times orthonormal rows: A Aᵀ = s² I = |det F| I
  const f = state.map.frame, k = f ? 1 / Math.abs(f[0][0] * f[1][1] - f[0][1] * f[1][0]) : 1;
  const dx = (x - pa[0]) * k, dy = (y - pa[1]) * k;
  for (let d = 0; d < z.length; d++) z[d] += lin.axes[0][d] * dx + lin.axes[1][d] * dy;
  return z;
}

export async function liftAt(x, y) {
  if (state.map.linear) return liftLinear(x, y);
  const q = `${viewQuery()}&x=${x}&y=${y}`;
  return Float64Array.from((await getJSON(runPath(`/lift?${q}`))).z);
}

export const anchorPosition = () => (state.anchor && state.map && state.map.linear ? project(state.anchor) : null);

export function showCode(z, source, t0) {
  $("decoded-source").textContent = source;
  $("decoded-z").textContent = "z = [" + Array.from(z, (v) => v.toFixed(2)).join(", ") + "]";
  if (state.decoder) {
    drawPixels($("decoded"), state.decoder.decode(z), state.run.image_shape);
    finishDecode(Array.from(z), t0);
  } else {
    serverDecode.push({ z: Array.from(z), t0 });
  }
}

function finishDecode(z, t0) {
  metrics.shownZ = z;
  metrics.decodes++;
  if (t0 != null) {
    metrics.latencies.push(performance.now() - t0);
    if (metrics.latencies.length > 5000) metrics.latencies.shift();
  }
}

const serverDecode = new LatestOnly(async ({ z, t0 }) => {
  const q = z.map((v) => v.toPrecision(6)).join(",");
  const blob = await getBlob(runPath(`/decode.png?z=${q}`));
  await drawBlob($("decoded"), blob, state.run.image_shape);
  finishDecode(z, t0);
});

const SOURCES = { mean: "mean of the latent means", selection: "selection", sliders: "sliders" };

export function showAnchor() {
  if (state.anchor) showCode(state.anchor, SOURCES[state.anchorSource] || state.anchorSource, null);
}

// the code the sliders steer and the image shows while the pointer is off the map
export function setAnchor(z, source) {
  update({ anchor: Float64Array.from(z), anchorSource: source });
  if (!state.hovering) showAnchor();
}
