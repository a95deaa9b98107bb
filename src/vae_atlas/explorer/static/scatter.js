// The map: up to millions of points, panned with drag and zoomed with the wheel. The points are
// drawn into a snapshot (WebGL, else a 2-D canvas: see glpainter.js / canvaspainter.js) that each
// frame shows moved and scaled to the current view; once the view rests for SETTLE_MS the
// snapshot is drawn again. Hovering finds points through a
// grid index (pointindex.js). Overlays (axes, selection, ellipses, paths, pointer) live on a
// second canvas, drawn by `onDrawBase` and `onDrawOverlay`, so hovering never redraws the points.
// Class colours come from the server (the report's palette).

import { CanvasPainter } from "./canvaspainter.js";
import { densityImage } from "./density.js";
import { GLPainter, glDevice, isSoftware } from "./glpainter.js";
import { GridIndex } from "./pointindex.js";

function rgbaWord(css) {
  const ctx = rgbaWord.ctx || (rgbaWord.ctx = new OffscreenCanvas(1, 1).getContext("2d", { willReadFrequently: true }));
  ctx.clearRect(0, 0, 1, 1);
  ctx.fillStyle = css;
  ctx.fillRect(0, 0, 1, 1);
  const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
  return (255 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA as one Uint32
}

const BACKGROUND = [15 / 255, 19 / 255, 28 / 255]; // #0f131c
const MARGIN = 1.5; // the snapshot's side over the canvas's: a pan of a quarter screen shows no gap
const SETTLE_MS = 120;

// The renderer: "auto" (WebGL on a GPU; the 2-D canvas where the only WebGL is a software GL,
// whose every frame costs several times a canvas frame here), "webgl" (WebGL even in software,
// the points then rasterised on the CPU), "webgl-points" (the GL's own points even in software)
// or "canvas". A canvas that WebGL failed on cannot give a 2-D context any more, so the
// fallback gets a fresh one.
function makePainter(canvas, renderer) {
  if (renderer === "auto") {
    const probe = document.createElement("canvas").getContext("webgl2") || document.createElement("canvas").getContext("webgl");
    renderer = probe && !isSoftware(glDevice(probe)) ? "webgl" : "canvas";
    if (probe) probe.getExtension("WEBGL_lose_context")?.loseContext();
  }
  if (renderer !== "canvas") {
    try {
      const painter = GLPainter.create(canvas, renderer === "webgl-points");
      if (painter) return [painter, canvas];
    } catch (err) {
      console.warn(`WebGL failed (${err.message}); drawing with a 2-D canvas`);
      const fresh = canvas.cloneNode();
      canvas.replaceWith(fresh);
      canvas = fresh;
    }
  }
  return [new CanvasPainter(canvas), canvas];
}

export class ScatterMap {
  constructor(base, overlay, { onView, onDrawOverlay, onDrawBase, onDrawn, renderer = "auto" }) {
    [this.painter, this.base] = makePainter(base, renderer);
    this.renderer = this.painter.kind;
    // axes and other furniture: redrawn when the view moves, not on every hover
    this.furniture = Object.assign(document.createElement("canvas"), { id: `${this.base.id}-axes` });
    this.base.after(this.furniture);
    Object.assign(this, { overlay, onView, onDrawOverlay, onDrawBase, onDrawn });
    this.view = { cx: 0, cy: 0, scale: 100 };
    this.mode = "points";
    this.x = new Float32Array(0);
    this.y = new Float32Array(0);
    this.labels = null;
    this.hidden = new Set();
    this.index = null;
    this.shot = null; // the snapshot shown: { geometry, width, height }
    this.dirty = false;
    this.lastMove = 0;
    this.queued = false;
    this.overlayDirty = false;
    this.lastBaseMs = 0; // the last frame's drawing time
    this.lastSnapshotMs = 0; // the last snapshot's drawing time
    new ResizeObserver(() => this.resize()).observe(this.base.parentElement);
    this.resize();
  }

  // palette: one CSS colour per label value (one colour in all for unlabelled points)
  setPoints(x, y, labels, palette) {
    this.x = Float32Array.from(x);
    this.y = Float32Array.from(y);
    this.labels = labels ? Uint16Array.from(labels) : null;
    const n = this.x.length;
    // draw in a fixed random order so no class systematically hides another
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    let seed = 12345;
    for (let i = n - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const j = seed % (i + 1);
      const t = order[i]; order[i] = order[j]; order[j] = t;
    }
    this.order = order;
    // coordinates in drawing order, so the drawing reads memory sequentially
    this.drawX = new Float32Array(n);
    this.drawY = new Float32Array(n);
    for (let k = 0; k < n; k++) { this.drawX[k] = this.x[order[k]]; this.drawY[k] = this.y[order[k]]; }
    this.colours = Uint32Array.from(palette, rgbaWord);
    this.colourCache = null;
    this.index = new GridIndex(this.x, this.y);
    this.painter.setPoints(this.drawX, this.drawY);
    this.redraw();
  }

  // the same points at new positions (the 3-D view turning): colours and drawing order kept,
  // the grid index rebuilt on the next pick
  movePoints(x, y) {
    const n = this.x.length, order = this.order;
    this.x = Float32Array.from(x);
    this.y = Float32Array.from(y);
    for (let k = 0; k < n; k++) { this.drawX[k] = this.x[order[k]]; this.drawY[k] = this.y[order[k]]; }
    this.index = null;
    this.painter.setPoints(this.drawX, this.drawY);
    this.redraw();
  }

  // "points" or "density" (density.js)
  setMode(mode) {
    this.mode = mode;
    this.redraw();
  }

  // [x0, x1, y0, y1] holding all but the outermost 0.2 % of the points on each side (of an
  // evenly strided sample of at most 100,000), or null
  bounds() {
    const n = this.x.length;
    if (!n) return null;
    const stride = Math.ceil(n / 100000), m = Math.ceil(n / stride);
    const xs = new Float32Array(m), ys = new Float32Array(m);
    for (let k = 0; k < m; k++) { xs[k] = this.x[k * stride]; ys[k] = this.y[k * stride]; }
    xs.sort();
    ys.sort();
    const q = (arr, p) => arr[Math.min(m - 1, Math.max(0, Math.floor(p * (m - 1))))];
    return [q(xs, 0.002), q(xs, 0.998), q(ys, 0.002), q(ys, 0.998)];
  }

  fit(bounds = this.bounds()) {
    if (!bounds) return;
    const [x0, x1, y0, y1] = bounds;
    const { width, height } = this.cssSize();
    const span = Math.max(x1 - x0, 1e-6) * 1.12, spanY = Math.max(y1 - y0, 1e-6) * 1.12;
    this.view = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, scale: Math.min(width / span, height / spanY) };
    this.viewChanged();
  }

  // follow another map's view without reporting it back (linked maps)
  setView(view) {
    this.view = { ...view };
    this.moved();
  }

  cssSize() {
    const r = this.base.parentElement.getBoundingClientRect();
    return { width: Math.max(1, r.width), height: Math.max(1, r.height) };
  }

  resize() {
    const { width, height } = this.cssSize();
    this.dpr = window.devicePixelRatio || 1;
    for (const c of [this.base, this.furniture, this.overlay]) {
      c.width = Math.round(width * this.dpr);
      c.height = Math.round(height * this.dpr);
      c.style.width = `${width}px`;
      c.style.height = `${height}px`;
    }
    this.moved();
  }

  toScreen(x, y) {
    const { width, height } = this.cssSize();
    return [(x - this.view.cx) * this.view.scale + width / 2, height / 2 - (y - this.view.cy) * this.view.scale];
  }

  toData(sx, sy) {
    const { width, height } = this.cssSize();
    return [(sx - width / 2) / this.view.scale + this.view.cx, (height / 2 - sy) / this.view.scale + this.view.cy];
  }

  pan(dxPx, dyPx) {
    this.view.cx -= dxPx / this.view.scale;
    this.view.cy += dyPx / this.view.scale;
    this.viewChanged();
  }

  zoom(factor, sx, sy) {
    const [x, y] = this.toData(sx, sy);
    this.view.scale = Math.min(1e7, Math.max(1e-4, this.view.scale * factor));
    const [x2, y2] = this.toData(sx, sy);
    this.view.cx += x - x2;
    this.view.cy += y - y2;
    this.viewChanged();
  }

  viewChanged() {
    this.moved();
    if (this.onView) this.onView(this.view);
  }

  // the view moved: show the snapshot where it now lies, draw it again once the view rests
  moved() {
    this.lastMove = performance.now();
    this.dirty = true;
    this.overlayDirty = true;
    this.furnitureDirty = true;
    this.queue();
  }

  // what is drawn changed (points, colours, hidden classes, mode): draw it again from scratch
  redraw() {
    this.lastMove = 0;
    this.moved();
  }

  redrawOverlay() {
    this.overlayDirty = true;
    this.queue();
  }

  queue() {
    if (!this.queued) {
      this.queued = true;
      requestAnimationFrame(() => this.tick());
    }
  }

  tick() {
    this.queued = false;
    const t0 = performance.now();
    const resting = t0 - this.lastMove >= SETTLE_MS;
    if (this.dirty && resting && this.x.length) this.snapshot();
    this.painter.present(this.rectOf(this.shot), BACKGROUND);
    if (this.furnitureDirty) this.drawFurniture();
    if (this.overlayDirty) this.drawOverlay();
    this.lastBaseMs = performance.now() - t0;
    if (this.dirty) this.queue();
  }

  // draw the points (or their density) for the current view into a new snapshot and show it
  snapshot() {
    const t0 = performance.now();
    this.dirty = false;
    const [width, height] = this.painter.begin(this.base.width * MARGIN, this.base.height * MARGIN);
    const s = this.view.scale * this.dpr;
    const geometry = { s, ox: width / 2 - this.view.cx * s, oy: height / 2 + this.view.cy * s };
    const colours = this.pointColours();
    if (this.painter.colours !== colours) { this.painter.setColours(colours); this.painter.colours = colours; }
    if (this.mode === "density") {
      this.painter.putImage(densityImage(this.drawX, this.drawY, colours, { ...geometry, width, height }));
    } else {
      this.painter.drawPoints(geometry, this.pointSize());
    }
    this.painter.commit();
    this.shot = { geometry, width, height };
    this.lastSnapshotMs = performance.now() - t0;
    if (this.onDrawn) this.onDrawn(this);
  }

  pointSize() {
    const n = this.x.length;
    return Math.max(1, Math.round((n > 30000 ? 2 : n > 3000 ? 3 : 5) * this.dpr * 0.9));
  }

  // where a snapshot lies on the canvas now, in canvas pixels
  rectOf(shot) {
    if (!shot) return null;
    const { s, ox, oy } = shot.geometry, vs = this.view.scale * this.dpr;
    const W = this.base.width, H = this.base.height, { cx, cy } = this.view;
    const sx = (px) => ((px - ox) / s - cx) * vs + W / 2, sy = (py) => H / 2 - ((oy - py) / s - cy) * vs;
    return { x0: sx(0), y0: sy(0), x1: sx(shot.width), y1: sy(shot.height) };
  }

  // one RGBA word per point in drawing order (0 = hidden), rebuilt when hidden classes change
  pointColours() {
    const key = [...this.hidden].join(",");
    if (this.colourCache && this.colourCache.key === key && this.colourCache.n === this.x.length) {
      return this.colourCache.words;
    }
    const n = this.x.length, words = new Uint32Array(n), { labels, colours, hidden, order } = this;
    for (let k = 0; k < n; k++) {
      const label = labels ? labels[order[k]] : 0;
      words[k] = hidden.has(label) ? 0 : colours[label] || colours[0];
    }
    this.colourCache = { key, n, words };
    return words;
  }

  cleared(canvas) {
    const ctx = canvas.getContext("2d");
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const { width, height } = this.cssSize();
    ctx.clearRect(0, 0, width, height);
    return ctx;
  }

  drawFurniture() {
    this.furnitureDirty = false;
    const ctx = this.cleared(this.furniture);
    if (this.onDrawBase) this.onDrawBase(ctx, this);
  }

  drawOverlay() {
    this.overlayDirty = false;
    const ctx = this.cleared(this.overlay);
    if (this.onDrawOverlay) this.onDrawOverlay(ctx, this);
  }

  // nearest visible point within `radius` css pixels of a screen position, or -1
  pick(sx, sy, radius = 8) {
    if (!this.x.length) return -1;
    if (!this.index) this.index = new GridIndex(this.x, this.y);
    const [dx, dy] = this.toData(sx, sy);
    const { labels, hidden } = this;
    const accept = labels && hidden.size ? (i) => !hidden.has(labels[i]) : null;
    return this.index.nearest(dx, dy, radius / this.view.scale, accept);
  }
}
