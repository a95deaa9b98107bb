// Lasso selection: shift-drag on the map draws a polygon; the server finds the points inside
// and the card shows how many of each class, their mean code decoded and the first members,
// with the indices downloadable as JSON or CSV.

import { postJSON } from "./api.js";
import { status } from "./status.js";
import { runPath, state, viewBody } from "./store.js";

const $ = (id) => document.getElementById(id);
export const lasso = { path: null, drawing: false, result: null }; // path: map coordinates

export function startLasso(map, sx, sy) {
  lasso.path = [map.toData(sx, sy)];
  lasso.drawing = true;
}

export function extendLasso(map, sx, sy) {
  lasso.path.push(map.toData(sx, sy));
}

export async function finishLasso() {
  lasso.drawing = false;
  const polygon = thin(lasso.path, 1024);
  if (polygon.length < 3) return clearLasso();
  try {
    const out = await postJSON(runPath("/selection"), { ...viewBody(), polygon });
    lasso.result = out;
    showSelection(out);
  } catch (err) { status(err.message, true); }
}

export function clearLasso() {
  lasso.path = null;
  lasso.result = null;
  $("lasso-card").hidden = true;
}

// at most `max` vertices (the server's limit), evenly taken along the drawn path
function thin(path, max) {
  if (path.length <= max) return path;
  return Array.from({ length: max }, (_, k) => path[Math.floor((k * path.length) / max)]);
}

export function drawLasso(ctx, map) {
  if (!lasso.path || lasso.path.length < 2) return;
  ctx.save();
  ctx.strokeStyle = "#7cc4ff";
  ctx.fillStyle = "#7cc4ff18";
  ctx.lineWidth = 1.5;
  ctx.setLineDash(lasso.drawing ? [5, 4] : []);
  ctx.beginPath();
  lasso.path.forEach(([x, y], k) => (k ? ctx.lineTo : ctx.moveTo).call(ctx, ...map.toScreen(x, y)));
  ctx.closePath();
  ctx.fill();
  ctx.stroke();
  ctx.restore();
}

function showSelection(out) {
  $("lasso-card").hidden = false;
  $("lasso-count").textContent = `${out.indices.length.toLocaleString()} points`;
  const hist = $("lasso-hist");
  hist.replaceChildren();
  const { class_names: names, class_colors: colours } = state.run;
  const peak = Math.max(1, ...(out.counts || []));
  (out.counts || []).forEach((n, c) => {
    const row = document.createElement("div");
    row.className = "hist-row";
    const bar = document.createElement("i");
    bar.style.width = `${(100 * n) / peak}%`;
    bar.style.background = colours[c] || colours[0];
    row.append(Object.assign(document.createElement("span"), { textContent: names ? names[c] : c }), bar,
      Object.assign(document.createElement("span"), { textContent: n }));
    hist.append(row);
  });
  $("lasso-mean").hidden = !out.mean_image;
  if (out.mean_image) $("lasso-mean").src = out.mean_image;
  $("lasso-members").replaceChildren(...out.members.map((src) => Object.assign(new Image(), { src, className: "pixels" })));
}

function download(name, text, type) {
  const a = Object.assign(document.createElement("a"), { download: name });
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.click();
  URL.revokeObjectURL(a.href);
}

export function initLasso() {
  $("lasso-json").onclick = () => {
    const r = lasso.result;
    download("selection.json", JSON.stringify({ run: state.run.id, indices: r.indices }), "application/json");
  };
  $("lasso-csv").onclick = () => {
    const labels = state.run.labels;
    const rows = lasso.result.indices.map((i) => (labels ? `${i},${labels[i]}` : `${i}`));
    download("selection.csv", [labels ? "index,label" : "index", ...rows].join("\n") + "\n", "text/csv");
  };
}
