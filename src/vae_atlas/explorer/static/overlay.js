// Everything drawn over the points: interpolation path, prior samples, selections with their
// posterior σ-ellipses or sample clouds, the uploaded image, the slider anchor and the pointer.

import { anchorPosition } from "./decoding.js";
import { state } from "./store.js";

const COLOURS = { a: "#ffd166", b: "#ff6bd6", upload: "#7dffb0", anchor: "#7cc4ff" };

function ellipse(ctx, map, e, colour) {
  // e is in map units; the map flips y, so the angle flips sign on screen
  const [cx, cy] = map.toScreen(e.cx, e.cy);
  const rx = Math.max(e.rx * map.view.scale, 1.5), ry = Math.max(e.ry * map.view.scale, 1.5);
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour + "22";
  ctx.lineWidth = 1.5;
  for (const k of [1, 2]) {
    ctx.beginPath();
    ctx.ellipse(cx, cy, k * rx, k * ry, -e.angle, 0, 2 * Math.PI);
    if (k === 1) ctx.fill();
    ctx.setLineDash(k === 1 ? [] : [4, 4]);
    ctx.stroke();
  }
  ctx.restore();
}

function cloud(ctx, map, points, colour) {
  ctx.fillStyle = colour + "aa";
  for (const [x, y] of points) {
    const [sx, sy] = map.toScreen(x, y);
    ctx.fillRect(sx - 1.5, sy - 1.5, 3, 3);
  }
}

function marker(ctx, sx, sy, colour, text, shape = "ring") {
  ctx.save();
  ctx.lineWidth = 2.5;
  ctx.strokeStyle = "#0b0f17";
  ctx.fillStyle = colour;
  ctx.beginPath();
  if (shape === "star") {
    for (let k = 0; k < 10; k++) {
      const r = k % 2 ? 4 : 10, t = -Math.PI / 2 + (k * Math.PI) / 5;
      ctx.lineTo(sx + r * Math.cos(t), sy + r * Math.sin(t));
    }
    ctx.closePath();
    ctx.stroke();
    ctx.fill();
  } else {
    ctx.arc(sx, sy, 7, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2.5;
    ctx.stroke();
  }
  if (text) {
    ctx.font = "bold 12px system-ui, sans-serif";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#0b0f17";
    ctx.strokeText(text, sx + 10, sy - 8);
    ctx.fillStyle = colour;
    ctx.fillText(text, sx + 10, sy - 8);
  }
  ctx.restore();
}

function posterior(ctx, map, sel, colour) {
  const d = sel.detail;
  if (d && d.ellipse) ellipse(ctx, map, d.ellipse, colour);
  else if (d && d.cloud.length) cloud(ctx, map, d.cloud, colour);
}

function path(ctx, map, points) {
  ctx.save();
  ctx.strokeStyle = "rgba(255,255,255,.85)";
  ctx.lineWidth = 1.5;
  ctx.setLineDash([5, 3]);
  ctx.beginPath();
  for (const [x, y] of points) ctx.lineTo(...map.toScreen(x, y));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = "#fff";
  for (const [x, y] of points) {
    const [sx, sy] = map.toScreen(x, y);
    ctx.beginPath();
    ctx.arc(sx, sy, 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
}

// the points a file-name search found (search.js): a ring around each of the first MAX_RINGS
const MAX_RINGS = 500;
function rings(ctx, map) {
  const found = state.found;
  if (!found || found.runId !== state.run.id) return;
  ctx.save();
  ctx.strokeStyle = "#ffffff";
  ctx.lineWidth = 1.5;
  for (const i of found.indices.slice(0, MAX_RINGS)) {
    const [sx, sy] = map.toScreen(map.x[i], map.y[i]);
    ctx.beginPath();
    ctx.arc(sx, sy, 6, 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.restore();
}

// hover: { sx, sy, point } while the pointer is over this map, else null
export function drawOverlay(ctx, map, hover) {
  rings(ctx, map);
  if (state.samples) {
    ctx.strokeStyle = "rgba(255,255,255,.7)";
    ctx.lineWidth = 1.2;
    for (const [x, y] of state.samples.path) {
      const [sx, sy] = map.toScreen(x, y);
      ctx.beginPath();
      ctx.moveTo(sx - 4, sy); ctx.lineTo(sx + 4, sy); ctx.moveTo(sx, sy - 4); ctx.lineTo(sx, sy + 4);
      ctx.stroke();
    }
  }
  if (state.interp.data) path(ctx, map, state.interp.data.path);
  if (state.interp.hoverStep != null && state.interp.data) {
    const [x, y] = state.interp.data.path[state.interp.hoverStep];
    marker(ctx, ...map.toScreen(x, y), "#ffffff", "");
  }
  if (state.upload && state.upload !== state.sel.a && state.upload !== state.sel.b) {
    posterior(ctx, map, state.upload, COLOURS.upload);
  }
  for (const key of ["a", "b"]) {
    const sel = state.sel[key];
    if (sel) posterior(ctx, map, sel, COLOURS[key]);
  }
  const uploadSelected = state.upload && (state.upload === state.sel.a || state.upload === state.sel.b);
  if (state.upload && state.upload.position && !uploadSelected) {
    marker(ctx, ...map.toScreen(...state.upload.position), COLOURS.upload, "your image", "star");
  }
  for (const key of ["a", "b"]) {
    const sel = state.sel[key];
    if (sel && sel.position) {
      const shape = sel.kind === "upload" ? "star" : "ring";
      const text = sel.kind === "upload" ? `${key.toUpperCase()} · your image` : key.toUpperCase();
      marker(ctx, ...map.toScreen(...sel.position), COLOURS[key], text, shape);
    }
  }
  const anchorPos = anchorPosition();
  if (anchorPos && state.anchorSource === "sliders") {
    const [sx, sy] = map.toScreen(...anchorPos);
    ctx.save();
    ctx.strokeStyle = COLOURS.anchor;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(sx, sy - 8); ctx.lineTo(sx + 8, sy); ctx.lineTo(sx, sy + 8); ctx.lineTo(sx - 8, sy);
    ctx.closePath();
    ctx.stroke();
    ctx.restore();
  }
  if (hover) pointer(ctx, map, hover);
}

function pointer(ctx, map, hover) {
  if (hover.point >= 0) {
    const [px, py] = map.toScreen(map.x[hover.point], map.y[hover.point]);
    ctx.save();
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(px, py, 5, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.restore();
  }
  crosshair(ctx, hover.sx, hover.sy, "#ffffff");
}

// the pointer, or (on a linked map) where the pointer is on the other one
export function crosshair(ctx, sx, sy, colour) {
  const cross = () => {
    ctx.beginPath();
    ctx.arc(sx, sy, 7, 0, 2 * Math.PI);
    ctx.moveTo(sx - 16, sy); ctx.lineTo(sx - 9, sy); ctx.moveTo(sx + 9, sy); ctx.lineTo(sx + 16, sy);
    ctx.moveTo(sx, sy - 16); ctx.lineTo(sx, sy - 9); ctx.moveTo(sx, sy + 9); ctx.lineTo(sx, sy + 16);
    ctx.stroke();
  };
  ctx.save();
  ctx.strokeStyle = "rgba(11,15,23,.9)";
  ctx.lineWidth = 4;
  cross();
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.8;
  cross();
  ctx.restore();
}
