// The page's state in one place. Modules read `state` and change it only through `update`, which
// tells every subscriber which keys changed (the overlay redraws, the URL is saved, ...).

export const state = {
  runs: [], run: null, projection: null, dims: [0, 1], map: null, decoder: null,
  anchor: null, anchorSource: "mean",
  sel: { a: null, b: null, last: null }, upload: null, samples: null,
  interp: { method: "linear", steps: 10, data: null, hoverStep: null },
  view: { cx: 0, cy: 0, scale: 100 }, compare: null, hovering: false, ready: false,
  colourBy: "class", anomaly: null, mapMode: "points",
  found: null, // { indices, runId }: the points a file-name search found
  orbit: null, // the 3-D view's orientation { yaw, pitch } in radians (orbit.js)
  condition: null, // a cvae's "decode as" choice: null (each code's own), { y } or { attrs } (condition.js)
};
// the 3-D view's first orientation, turned so that all three axes show
export const DEFAULT_ORBIT = Object.freeze({ yaw: 0.6, pitch: 0.35 });
state.orbit = DEFAULT_ORBIT;

// instrumentation read by the browser tests and the latency benchmark
// (firstDrawnMs: when the map's points were first drawn)
export const metrics = { decodes: 0, latencies: [], readyMs: null, shownZ: null, firstDrawnMs: null };

const listeners = new Set();

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function update(patch) {
  Object.assign(state, patch);
  const changed = new Set(Object.keys(patch));
  for (const fn of listeners) fn(changed);
}

// ---- values derived from the state
export const runPath = (path, run = state.run) => `api/runs/${encodeURIComponent(run.id)}${path}`;

export const viewBody = () => ({
  projection: state.projection,
  dims: state.projection === "dims" ? state.dims : null,
  orbit: state.projection === "orbit" ? [state.orbit.yaw, state.orbit.pitch] : null,
});

export function viewQuery(projection = state.projection) {
  const q = new URLSearchParams({ projection });
  if (projection === "dims") q.set("dims", state.dims.join(","));
  if (projection === "orbit") q.set("orbit", [state.orbit.yaw, state.orbit.pitch].map((v) => v.toFixed(6)).join(","));
  return q.toString();
}

// on screen, latent dimensions are numbered from 1 (z1, z2, ...) as in the report
export const dimName = (index) => `z${index + 1}`;
