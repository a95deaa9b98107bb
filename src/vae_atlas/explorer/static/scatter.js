// The map: tens of thousands of points drawn into one ImageData (no per-point canvas calls),
// panned with drag and zoomed with the wheel. Overlays (selection, ellipses, paths, pointer)
// live on a second canvas so hovering never redraws the points. Class colours come from the
// server (the report's palette); axes and other furniture are drawn over the points by `onDrawBase`.

function rgbaWord(css) {
  const ctx = rgbaWord.ctx || (rgbaWord.ctx = new OffscreenCanvas(1, 1).getContext("2d", { willReadFrequently: true }));
  ctx.clearRect(0, 0, 1, 1);
  ctx.fillStyle = css;
  ctx.fillRect(0, 0, 1, 1);
  const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
  return (255 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA as one Uint32
}

const BACKGROUND = 0xff1c130f; // #0f131c

export class ScatterMap {
  constructor(base, overlay, { onView, onDrawOverlay, onDrawBase }) {
    this.base = base;
    this.overlay = overlay;
    this.onView = onView;
    this.onDrawOverlay = onDrawOverlay;
    this.onDrawBase = onDrawBase;
    this.view = { cx: 0, cy: 0, scale: 100 };
    this.x = new Float32Array(0);
    this.y = new Float32Array(0);
    this.labels = null;
    this.hidden = new Set();
    this.order = new Uint32Array(0);
    this.baseQueued = false;
    this.overlayQueued = false;
    this.lastBaseMs = 0;
    new ResizeObserver(() => this.resize()).observe(base.parentElement);
    this.resize();
  }

  // palette: one CSS colour per label value (one colour in all for unlabelled points)
  setPoints(x, y, labels, palette) {
    this.x = Float32Array.from(x);
    this.y = Float32Array.from(y);
    this.labels = labels ? Uint16Array.from(labels) : null;
    const n = this.x.length;
    // draw in a fixed random order so no class systematically hides another
    this.order = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    let seed = 12345;
    for (let i = n - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const j = seed % (i + 1);
      const t = this.order[i]; this.order[i] = this.order[j]; this.order[j] = t;
    }
    // coordinates in drawing order, so the hot loop reads memory sequentially
    this.drawX = new Float32Array(n);
    this.drawY = new Float32Array(n);
    for (let k = 0; k < n; k++) { this.drawX[k] = this.x[this.order[k]]; this.drawY[k] = this.y[this.order[k]]; }
    this.colours = Uint32Array.from(palette, rgbaWord);
    this.colourCache = null;
    this.redraw();
  }

  // [x0, x1, y0, y1] holding all but the outermost 0.2 % of the points on each side, or null
  bounds() {
    const n = this.x.length;
    if (!n) return null;
    const xs = Array.from(this.x).sort((a, b) => a - b);
    const ys = Array.from(this.y).sort((a, b) => a - b);
    const q = (arr, p) => arr[Math.min(n - 1, Math.max(0, Math.floor(p * (n - 1))))];
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
    this.redraw();
  }

  cssSize() {
    const r = this.base.parentElement.getBoundingClientRect();
    return { width: Math.max(1, r.width), height: Math.max(1, r.height) };
  }

  resize() {
    const { width, height } = this.cssSize();
    this.dpr = window.devicePixelRatio || 1;
    for (const c of [this.base, this.overlay]) {
      c.width = Math.round(width * this.dpr);
      c.height = Math.round(height * this.dpr);
      c.style.width = `${width}px`;
      c.style.height = `${height}px`;
    }
    this.image = null;
    this.redraw();
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
    this.redraw();
    if (this.onView) this.onView(this.view);
  }

  redraw() {
    if (!this.baseQueued) {
      this.baseQueued = true;
      requestAnimationFrame(() => { this.baseQueued = false; this.drawBase(); this.drawOverlay(); });
    }
  }

  redrawOverlay() {
    if (!this.overlayQueued && !this.baseQueued) {
      this.overlayQueued = true;
      requestAnimationFrame(() => { this.overlayQueued = false; this.drawOverlay(); });
    }
  }

  drawBase() {
    const t0 = performance.now();
    const W = this.base.width, H = this.base.height;
    if (!this.image || this.image.width !== W || this.image.height !== H) {
      this.image = new ImageData(W, H);
      this.words = new Uint32Array(this.image.data.buffer);
    }
    const words = this.words;
    words.fill(BACKGROUND);
    const n = this.x.length;
    const size = Math.max(1, Math.round((n > 30000 ? 2 : n > 3000 ? 3 : 5) * this.dpr * 0.9));
    const half = size >> 1;
    const s = this.view.scale * this.dpr;
    const ox = W / 2 - this.view.cx * s + 0.5 - half, oy = H / 2 + this.view.cy * s + 0.5 - half;
    const x = this.drawX, y = this.drawY;
    const colour = this.pointColours();
    const maxX = W - size, maxY = H - size;
    for (let k = 0; k < n; k++) {
      const c = colour[k];
      if (c === 0) continue; // a hidden class
      const fx = x[k] * s + ox, fy = oy - y[k] * s;
      // bounds on the float first: `| 0` would wrap far-away points back onto the screen
      if (!(fx >= 0 && fy >= 0 && fx < maxX + 1 && fy < maxY + 1)) continue;
      let p = (fy | 0) * W + (fx | 0);
      if (size === 2) {
        words[p] = c; words[p + 1] = c; words[p + W] = c; words[p + W + 1] = c;
      } else {
        for (let r = 0; r < size; r++, p += W) words.fill(c, p, p + size);
      }
    }
    const ctx = this.base.getContext("2d");
    ctx.putImageData(this.image, 0, 0);
    if (this.onDrawBase) {
      ctx.save();
      ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
      this.onDrawBase(ctx, this);
      ctx.restore();
    }
    this.lastBaseMs = performance.now() - t0;
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

  drawOverlay() {
    const ctx = this.overlay.getContext("2d");
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const { width, height } = this.cssSize();
    ctx.clearRect(0, 0, width, height);
    if (this.onDrawOverlay) this.onDrawOverlay(ctx, this);
  }

  // nearest visible point within `radius` css pixels of a screen position, or -1
  pick(sx, sy, radius = 8) {
    const [dx, dy] = this.toData(sx, sy);
    const r = radius / this.view.scale;
    let best = -1, bestD = r * r;
    const { x, y, labels, hidden } = this;
    for (let i = 0; i < x.length; i++) {
      const ex = x[i] - dx, ey = y[i] - dy;
      const d = ex * ex + ey * ey;
      if (d < bestD && !(labels && hidden.has(labels[i]))) { bestD = d; best = i; }
    }
    return best;
  }
}
