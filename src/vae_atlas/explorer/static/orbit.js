// The 3-D orbit view in the page (orbit.py on the server): the points' 3-D coordinates
// q = B (μ − c) come once (orbit.bin); a drag turns them by R = Rx(pitch) · Ry(yaw) and the map
// shows the first two rows, p = R[:2] q, orthographically. That is a linear map with axes
// A = R[:2] B, so hovering, lifting through the anchor, σ-ellipses and the lasso work in every
// orientation; a turn only recomputes the positions here, without asking the server.

import { project } from "./decoding.js";
import { state, update } from "./store.js";

const RADIANS_PER_PIXEL = 0.01;
const HALF_PI = Math.PI / 2;

// Rx(pitch) · Ry(yaw), as three rows
export function rotation(yaw, pitch) {
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  return [[cy, 0, sy], [sp * sy, cp, -sp * cy], [-cp * sy, sp, cp * cy]];
}

// a drag of (dx, dy) CSS pixels: right turns the scene right, down tips its top towards you
export function dragged(orbit, dx, dy) {
  let yaw = orbit.yaw + dx * RADIANS_PER_PIXEL;
  yaw = Math.atan2(Math.sin(yaw), Math.cos(yaw)); // kept in (-π, π]
  const pitch = Math.max(-HALF_PI, Math.min(HALF_PI, orbit.pitch + dy * RADIANS_PER_PIXEL));
  return { yaw, pitch };
}

// the map's x, y and linear axes for the orientation `orbit` (map.xyz: (N, 3) flat, map.basis B)
export function turnMap(map, orbit) {
  const [r0, r1] = rotation(orbit.yaw, orbit.pitch), q = map.xyz, n = q.length / 3;
  if (!map.x || map.x.length !== n) { map.x = new Float32Array(n); map.y = new Float32Array(n); }
  for (let i = 0; i < n; i++) {
    const a = q[3 * i], b = q[3 * i + 1], c = q[3 * i + 2];
    map.x[i] = r0[0] * a + r0[1] * b + r0[2] * c;
    map.y[i] = r1[0] * a + r1[1] * b + r1[2] * c;
  }
  const B = map.basis;
  map.linear.axes = [r0, r1].map((r) => B[0].map((_, d) => r[0] * B[0][d] + r[1] * B[1][d] + r[2] * B[2][d]));
  map.orbit = { ...orbit };
  return map;
}

// the code of data point i in the 3-D space through the anchor: a + Bᵀ (q_i − B (a − c)); for a
// 3-D latent exactly the point's mean, for a larger one its three principal coordinates with
// the other directions where the anchor has them (as the flat maps lift the pointer)
export function pointCode(map, i, anchor) {
  const B = map.basis, c = map.linear.center, z = Float64Array.from(anchor);
  for (let k = 0; k < 3; k++) {
    let now = 0;
    for (let d = 0; d < z.length; d++) now += B[k][d] * (anchor[d] - c[d]);
    const step = map.xyz[3 * i + k] - now;
    for (let d = 0; d < z.length; d++) z[d] += B[k][d] * step;
  }
  return z;
}

// the 1-σ ellipse of N(μ, diag σ²) through the axes A (2, D): A diag(σ²) Aᵀ, eigen-decomposed
export function ellipseOf([cx, cy], sigma, axes) {
  let a = 0, b = 0, c = 0;
  for (let d = 0; d < sigma.length; d++) {
    const v = sigma[d] * sigma[d];
    a += axes[0][d] * axes[0][d] * v; b += axes[0][d] * axes[1][d] * v; c += axes[1][d] * axes[1][d] * v;
  }
  const mid = (a + c) / 2, half = Math.hypot((a - c) / 2, b);
  return { cx, cy, rx: Math.sqrt(mid + half), ry: Math.sqrt(Math.max(mid - half, 0)), angle: 0.5 * Math.atan2(2 * b, a - c) };
}

// after a turn: everything placed on the map by its code is placed again, here
export function replace() {
  for (const sel of new Set([state.sel.a, state.sel.b, state.upload])) {
    if (!sel || !sel.z) continue;
    sel.position = project(sel.z);
    if (sel.detail) {
      sel.detail.position = sel.position;
      if (sel.detail.ellipse && sel.sigma) sel.detail.ellipse = ellipseOf(sel.position, sel.sigma, state.map.linear.axes);
    }
  }
  const patch = { sel: state.sel, upload: state.upload };
  if (state.samples) patch.samples = { ...state.samples, path: state.samples.z.map((z) => project(z)) };
  if (state.interp.data) {
    const data = { ...state.interp.data, path: state.interp.data.z.map((z) => project(z)) };
    patch.interp = { ...state.interp, data };
  }
  update(patch);
}
