// The static export's transport: the page's API requests answered in the page itself, from what
// `vae-atlas explore RUN --export DIR` embedded in data.js (window.VAE_ATLAS_DATA): the server's
// own answers to the page's first requests (runs, run detail, labels, linear maps, the decoder),
// the latent means, σ and test images, and decoding by the MLP or conv decoder in the page. What
// needs the encoder (uploads, drawing) or the server's background work (UMAP, t-SNE, anomaly
// scores, decoders the page cannot run) answers 501 and says so.

import { setTransport } from "./api.js";
import { drawPixels, makeDecoder } from "./decoder.js";

const DATA = window.VAE_ATLAS_DATA;
const SERVER = "needs the explorer's server: run `vae-atlas explore RUN`";
const N_CLOUD = 48; // posterior samples in a cloud, as the server draws

const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
const floats = (b64) => (b64 ? new Float32Array(bytes(b64)) : null);

function reply(body, status = 200) {
  if (body instanceof ArrayBuffer) return new Response(body, { status, headers: { "Content-Type": "application/octet-stream" } });
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}
const refuse = (what, status = 501) => reply({ message: `${what} ${SERVER}` }, status);

// ---- per-run data, unpacked on first use
const runs = new Map();
function runData(id) {
  if (runs.has(id)) return runs.get(id);
  const raw = DATA.runs[id];
  if (!raw) return null;
  const r = {
    raw, id, n: raw.n_points, d: raw.latent_dim, shape: raw.image_shape,
    mu: floats(raw.mu), sigma: floats(raw.sigma),
    decoder: raw.decoder ? makeDecoder(raw.decoder.manifest, bytes(raw.decoder.weights)) : null,
    sprite: loadImage(raw.sprite.uri),
    recons: raw.recon_sprite ? loadImage(raw.recon_sprite.uri) : null,
  };
  runs.set(id, r);
  return r;
}

function loadImage(uri) {
  return new Promise((ok, fail) => {
    const img = new Image();
    img.onload = () => ok(img);
    img.onerror = () => fail(new Error("the test images could not be read"));
    img.src = uri;
  });
}

const row = (r, i) => r.mu.subarray(i * r.d, (i + 1) * r.d);

// ---- images as PNG data URIs, the form the server sends
const canvas = document.createElement("canvas");
function pixelsURI(pixels, shape) {
  drawPixels(canvas, pixels, shape);
  return canvas.toDataURL("image/png");
}
function codeURI(r, z) {
  if (!r.decoder) return "";
  return pixelsURI(r.decoder.decode(z), r.shape);
}
// test image i (or, from `recons`, its reconstruction) cut from a sprite of the images
async function originalURI(r, i, sheet = r.sprite) {
  const img = await sheet, [, h, w] = r.shape, cols = r.raw.sprite.cols;
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, (i % cols) * w, Math.floor(i / cols) * h, w, h, 0, 0, w, h);
  return canvas.toDataURL("image/png");
}

// ---- the linear maps: p = A (z - c)
function linearMap(r, view) {
  const projection = view.projection || r.raw.detail.default_projection;
  if (projection === "dims") {
    const dims = view.dims || [0, 1], axes = [new Array(r.d).fill(0), new Array(r.d).fill(0)];
    axes[0][dims[0]] = 1; axes[1][dims[1]] = 1;
    return { projection, dims, axes, center: new Array(r.d).fill(0) };
  }
  const m = r.raw.maps[projection];
  if (!m) return null;
  return { projection, dims: null, ...m.meta.linear };
}
function place(lin, z) {
  const out = [0, 0];
  for (let k = 0; k < 2; k++) {
    let acc = 0;
    for (let j = 0; j < z.length; j++) acc += lin.axes[k][j] * (z[j] - lin.center[j]);
    out[k] = acc;
  }
  return out;
}

// the 1-σ ellipse of N(μ, diag σ²) through A: eigen-decomposition of A diag(σ²) Aᵀ (2 x 2)
function ellipse(lin, xy, sigma) {
  let a = 0, b = 0, c = 0;
  for (let j = 0; j < sigma.length; j++) {
    const s2 = sigma[j] * sigma[j], u = lin.axes[0][j], v = lin.axes[1][j];
    a += u * u * s2; b += u * v * s2; c += v * v * s2;
  }
  const mid = (a + c) / 2, rad = Math.hypot((a - c) / 2, b);
  const big = mid + rad, small = Math.max(mid - rad, 0);
  const angle = Math.abs(b) > 1e-15 ? Math.atan2(big - a, b) : (a >= c ? 0 : Math.PI / 2);
  return { cx: xy[0], cy: xy[1], rx: Math.sqrt(big), ry: Math.sqrt(small), angle };
}

function normal() {
  const u = 1 - Math.random(), v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

// the k data points nearest to z by Euclidean distance between latent means, skipping `exclude`
async function nearest(r, z, k, exclude) {
  const best = [];
  for (let i = 0; i < r.n; i++) {
    if (i === exclude) continue;
    const m = row(r, i);
    let d2 = 0;
    for (let j = 0; j < r.d; j++) { const t = m[j] - z[j]; d2 += t * t; }
    if (best.length < k || d2 < best[best.length - 1][0]) {
      best.push([d2, i]);
      best.sort((p, q) => p[0] - q[0]);
      if (best.length > k) best.pop();
    }
  }
  const labels = r.raw.labels;
  return Promise.all(best.map(async ([d2, i]) => ({
    index: i, label: labels ? labels[i] : null, distance: Math.sqrt(d2), image: await originalURI(r, i),
  })));
}

async function describe(r, view, z, sigma, k = 8, exclude = null) {
  const lin = linearMap(r, view);
  const position = place(lin, z);
  const cloud = [];
  if (sigma) {
    for (let s = 0; s < N_CLOUD; s++) cloud.push(place(lin, Array.from(z, (m, j) => m + normal() * sigma[j])));
  }
  return {
    mu: Array.from(z), sigma: sigma ? Array.from(sigma) : null, position,
    ellipse: sigma ? ellipse(lin, position, sigma) : null, cloud,
    reconstruction: !r.decoder && r.recons && exclude != null ? await originalURI(r, exclude, r.recons) : codeURI(r, z),
    neighbours: await nearest(r, z, k, exclude),
  };
}

async function pointDetail(r, view, i) {
  if (!(i >= 0 && i < r.n)) return refuse(`point ${i} does not exist; this export shows ${r.n}`, 404);
  const sigma = r.sigma ? r.sigma.subarray(i * r.d, (i + 1) * r.d) : null;
  const label = r.raw.labels ? r.raw.labels[i] : null;
  const names = r.raw.detail.class_names;
  return reply({
    ...(await describe(r, view, row(r, i), sigma, 8, i)),
    index: i, label, class_name: label != null && names ? names[label] ?? null : null,
    original: await originalURI(r, i),
  });
}

// codes z (S, D) -> the server's PathResponse: codes, decoded images, map positions
function path(r, view, z) {
  const lin = linearMap(r, view);
  return { z, images: z.map((c) => codeURI(r, c)), path: z.map((c) => place(lin, c)) };
}

function interpolate(a, b, steps, method) {
  const out = [];
  const dot = a.reduce((s, v, j) => s + v * b[j], 0);
  const na = Math.hypot(...a), nb = Math.hypot(...b);
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / (na * nb || 1))));
  for (let s = 0; s < steps; s++) {
    const t = steps === 1 ? 0 : s / (steps - 1);
    if (method === "spherical" && Math.sin(omega) > 1e-6) {
      const wa = Math.sin((1 - t) * omega) / Math.sin(omega), wb = Math.sin(t * omega) / Math.sin(omega);
      out.push(a.map((v, j) => wa * v + wb * b[j]));
    } else {
      out.push(a.map((v, j) => (1 - t) * v + t * b[j]));
    }
  }
  return out;
}

// the export holds a few batches of the server's own samples (prior, or for a plain autoencoder
// the Gaussian fitted to its codes); "New samples" goes through them in turn
function samples(r, view, n, seed) {
  const batches = r.raw.samples.batches, z = batches[seed % batches.length].slice(0, n);
  return { ...path(r, view, z), source: r.raw.samples.label, source_kind: r.raw.samples.kind };
}

function mapAnswer(r, params, binary) {
  const projection = params.get("projection") || r.raw.detail.default_projection;
  const dims = params.get("dims") ? params.get("dims").split(",").map(Number) : null;
  if (projection !== "dims") {
    const m = r.raw.maps[projection];
    if (!m) return refuse(`the ${projection} map`, 422);
    return reply(binary ? bytes(m.xy) : m.meta);
  }
  const lin = linearMap(r, { projection, dims });
  if (!binary) return reply({ projection, dims: lin.dims, x: [], y: [], linear: { axes: lin.axes, center: lin.center }, seconds: 0 });
  return reply(mapXY(r, { projection, dims }).buffer);
}

// the points' map coordinates (x0, y0, x1, ...): as the server computed them, or for two chosen
// dimensions read off the means
function mapXY(r, view) {
  const lin = linearMap(r, view);
  if (lin.projection !== "dims") return new Float32Array(bytes(r.raw.maps[lin.projection].xy));
  const xy = new Float32Array(2 * r.n);
  for (let i = 0; i < r.n; i++) { xy[2 * i] = r.mu[i * r.d + lin.dims[0]]; xy[2 * i + 1] = r.mu[i * r.d + lin.dims[1]]; }
  return xy;
}

function inside(polygon, x, y) {
  let hit = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

// a lasso: the points inside the polygon, per class, their mean code decoded, the first members
async function lassoAnswer(r, view, polygon, members = 24) {
  const xy = mapXY(r, view), indices = [];
  for (let i = 0; i < r.n; i++) if (inside(polygon, xy[2 * i], xy[2 * i + 1])) indices.push(i);
  const labels = r.raw.labels, names = r.raw.detail.class_names || [];
  let counts = null;
  if (labels) {
    counts = new Array(Math.max(names.length, Math.max(...labels) + 1)).fill(0);
    for (const i of indices) counts[labels[i]]++;
  }
  if (!indices.length) return { indices, counts, mean: null, mean_image: null, members: [] };
  const mean = new Array(r.d).fill(0);
  for (const i of indices) row(r, i).forEach((v, j) => { mean[j] += v / indices.length; });
  return {
    indices, counts, mean, mean_image: codeURI(r, mean) || null,
    members: await Promise.all(indices.slice(0, members).map((i) => originalURI(r, i))),
  };
}

async function answer(url, init = {}) {
  const u = new URL(url, "http://export/"), parts = u.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const method = (init.method || "GET").toUpperCase();
  const body = init.body && typeof init.body === "string" ? JSON.parse(init.body) : {};
  if (parts[0] !== "api" || parts[1] !== "runs") return refuse(url, 404);
  if (parts.length === 2) return reply(DATA.summaries);
  const r = runData(parts[2]);
  if (!r) return refuse(`no run ${parts[2]} in this export;`, 404);
  const what = parts.slice(3).join("/"), view = { projection: body.projection || u.searchParams.get("projection"), dims: body.dims || (u.searchParams.get("dims") || "").split(",").filter(Boolean).map(Number) };
  if (!view.dims.length) view.dims = null;
  if (what === "" && method === "GET") return reply(r.raw.detail);
  if (what === "labels.bin") return r.raw.labels ? reply(Int32Array.from(r.raw.labels).buffer) : refuse("labels", 404);
  if (what === "map" || what === "map.bin") return mapAnswer(r, u.searchParams, what === "map.bin");
  if (what === "decoder" || what === "decoder.bin") {
    if (!r.raw.decoder) return refuse("this model's decoder does not run in the page;", 404);
    return reply(what === "decoder" ? r.raw.decoder.manifest : bytes(r.raw.decoder.weights));
  }
  if (parts[3] === "points" && parts.length === 5) return pointDetail(r, view, Number(parts[4]));
  if (what === "inspect") return reply(await describe(r, view, body.z, body.sigma, body.k ?? 8));
  if (!r.decoder && ["interpolate", "samples", "decode.png", "decode"].includes(what)) {
    return refuse("decoding this model (its decoder does not run in the static page)");
  }
  if (what === "interpolate") return reply(path(r, view, interpolate(body.a, body.b, body.steps, body.method)));
  if (what === "samples") return reply(samples(r, view, body.n || 36, body.seed || 0));
  if (what === "selection") return reply(await lassoAnswer(r, view, body.polygon, body.members ?? 24));
  if (what === "place") return reply(body.z.map((c) => place(linearMap(r, view), c)));
  return refuse(`${what.split("/")[0] || "this"}`);
}

setTransport(async (url, init) => {
  try { return await answer(url, init); }
  catch (err) { return reply({ message: err.message }, 500); }
});
