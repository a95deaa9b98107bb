// Axes in latent units over a linear map: ticks at 1/2/5 × 10^k, the lines through the prior's
// mean, and the prior's radius-2 circle (dashed, as in the report; 86 % of N(0, I) in 2-D), so a
// plain AE's ±25 and a VAE's ±3 look different at a glance. Non-linear maps (UMAP, t-SNE) have
// no units and get no axes.

import { dimName } from "./store.js";

const TICK_PX = 90; // about one tick every this many CSS pixels
const FONT = "11px system-ui, sans-serif";
export const PRIOR_RADIUS = 2;

export function tickStep(scale) {
  const raw = TICK_PX / scale;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
}

export function ticks(lo, hi, step) {
  const out = [];
  for (let k = Math.ceil(lo / step); k * step <= hi; k++) out.push(+(k * step).toPrecision(12));
  return out;
}

// the 3-D view's furniture: the prior's radius-2 sphere (seen from any side, a circle of radius
// 2) and its three axes from the centre, each 2 units long, named
function drawTriad(ctx, map, axes) {
  const [ox, oy] = map.toScreen(...axes.origin);
  priorCircle(ctx, map, ox, oy, axes.unit);
  const [sx, sy] = axes.start || [0, 0];
  const [cx, cy] = map.toScreen(sx, sy);
  ctx.font = "bold " + FONT;
  ctx.lineWidth = 1.5;
  axes.triad.forEach(([dx, dy], k) => {
    const [ex, ey] = map.toScreen(sx + PRIOR_RADIUS * dx, sy + PRIOR_RADIUS * dy);
    ctx.strokeStyle = "rgba(228, 233, 242, .55)";
    ctx.beginPath();
    ctx.moveTo(cx, cy);
    ctx.lineTo(ex, ey);
    ctx.stroke();
    ctx.fillStyle = "#c9d2e2";
    ctx.fillText(axes.names[k], ex + 4, ey - 4);
  });
}

// axes: { names: [x, y], origin: [x, y] (where z = 0 lands on the map) }, plus `triad` (the
// three axes' directions on screen) for the 3-D view
export function drawAxes(ctx, map, axes) {
  if (axes.triad) return drawTriad(ctx, map, axes);
  const { width, height } = map.cssSize();
  const [x0, y0] = map.toData(0, height), [x1, y1] = map.toData(width, 0);
  const step = tickStep(map.view.scale);
  ctx.font = FONT;
  ctx.lineWidth = 1;
  ctx.strokeStyle = "rgba(228, 233, 242, .07)";
  ctx.beginPath();
  for (const t of ticks(x0, x1, step)) { const [sx] = map.toScreen(t, 0); ctx.moveTo(sx, 0); ctx.lineTo(sx, height); }
  for (const t of ticks(y0, y1, step)) { const [, sy] = map.toScreen(0, t); ctx.moveTo(0, sy); ctx.lineTo(width, sy); }
  ctx.stroke();
  const [ox, oy] = map.toScreen(...axes.origin);
  ctx.strokeStyle = "rgba(228, 233, 242, .22)";
  ctx.beginPath();
  ctx.moveTo(ox, 0); ctx.lineTo(ox, height); ctx.moveTo(0, oy); ctx.lineTo(width, oy);
  ctx.stroke();
  priorCircle(ctx, map, ox, oy);
  labels(ctx, map, x0, x1, y0, y1, step, axes.names);
}

function priorCircle(ctx, map, ox, oy, unit = 1) {
  const r = PRIOR_RADIUS * unit * map.view.scale;
  ctx.save();
  ctx.strokeStyle = "rgba(228, 233, 242, .6)";
  ctx.setLineDash([6, 5]);
  ctx.lineWidth = 1.2;
  ctx.beginPath();
  ctx.arc(ox, oy, r, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.restore();
  if (r > 24) {
    ctx.fillStyle = "rgba(228, 233, 242, .75)";
    ctx.fillText("prior r = 2", ox + r * 0.72 + 4, oy - r * 0.72 - 4);
  }
}

function labels(ctx, map, x0, x1, y0, y1, step, names) {
  const { width, height } = map.cssSize();
  const text = (s, x, y) => {
    ctx.strokeText(s, x, y);
    ctx.fillText(s, x, y);
  };
  ctx.lineWidth = 3;
  ctx.strokeStyle = "#0f131c";
  ctx.fillStyle = "#8d99ae";
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  for (const t of ticks(x0, x1, step)) {
    const [sx] = map.toScreen(t, 0);
    if (sx > 30 && sx < width - 40) text(String(t), sx, height - 4);
  }
  ctx.textAlign = "left";
  ctx.textBaseline = "bottom"; // above its grid line, so the line does not strike it through
  for (const t of ticks(y0, y1, step)) {
    const [, sy] = map.toScreen(0, t);
    if (sy > 30 && sy < height - 24) text(String(t), 4, sy - 1);
  }
  ctx.font = "bold " + FONT;
  ctx.fillStyle = "#c9d2e2";
  ctx.textAlign = "right";
  ctx.textBaseline = "bottom";
  text(names[0] + " →", width - 6, height - 4);
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  text("↑ " + names[1], 4, 4);
}

// the axes of a map from the server: names in the page's numbering and where z = 0 lands
export function mapAxes(map, project) {
  if (!map.linear) return null;
  if (map.xyz) {
    const names = map.basis[0].length === 3 ? [0, 1, 2].map(dimName) : ["PC1", "PC2", "PC3"];
    const origin = project(new Float64Array(map.linear.center.length), map);
    const triad = [0, 1, 2].map((k) => [0, 1].map((r) => map.linear.axes[r].reduce((acc, v, d) => acc + v * map.basis[k][d], 0)));
    return { names, origin, triad };
  }
  const names = map.projection === "pca" ? ["PC1", "PC2"]
    : (map.dims || [0, 1]).map(dimName);
  const origin = project(new Float64Array(map.linear.center.length), map);
  if (!map.frame) return { names, origin };
  // a map turned onto the previous epoch's (explore --follow): its own axes are no longer
  // horizontal and vertical, so they are drawn as arrows from z = 0, 2 units long, and one
  // latent unit is s = √|det F| map units
  const f = map.frame, unit = Math.sqrt(Math.abs(f[0][0] * f[1][1] - f[0][1] * f[1][0]));
  return { names, origin, start: origin, unit, triad: [[f[0][0], f[1][0]], [f[0][1], f[1][1]]] };
}
