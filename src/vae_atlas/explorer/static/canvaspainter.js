// The fallback where WebGL is missing: the same snapshot scheme as glpainter.js with a 2-D
// canvas. Points are written into one ImageData by raster.js, and each frame draws the snapshot
// moved and scaled to the current view.

import { rasterise } from "./raster.js";

export class CanvasPainter {
  constructor(canvas) {
    this.ctx = canvas.getContext("2d");
    this.kind = "canvas";
    this.targets = [this.target(), this.target()]; // [shown, being drawn]
  }

  target() {
    return { canvas: document.createElement("canvas"), image: null, words: null, smooth: false, width: 0, height: 0 };
  }

  setPoints(x, y) {
    this.x = x;
    this.y = y;
  }

  setColours(words) {
    this.colours = words;
  }

  begin(width, height) {
    const t = this.targets[1];
    t.width = width;
    t.height = height;
    t.canvas.width = width;
    t.canvas.height = height;
    t.smooth = false;
    return [width, height];
  }

  // all points in one pass (a few milliseconds per 100,000 in plain JavaScript)
  drawPoints(geometry, size) {
    const t = this.targets[1];
    if (!t.image || t.image.width !== t.width || t.image.height !== t.height) {
      t.image = new ImageData(t.width, t.height);
      t.words = new Uint32Array(t.image.data.buffer);
    }
    rasterise(t.words, t.width, t.height, this.x, this.y, this.colours, geometry, size);
    t.canvas.getContext("2d").putImageData(t.image, 0, 0);
  }

  putImage({ data, cols, rows }) {
    const t = this.targets[1];
    t.canvas.width = cols;
    t.canvas.height = rows;
    t.smooth = true;
    t.canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(data.buffer), cols, rows), 0, 0);
  }

  commit() {
    this.targets.reverse();
  }

  // the shown snapshot at `rect` (canvas pixels), copying only the part that lands on the canvas
  present(rect, background) {
    const ctx = this.ctx, { width, height } = ctx.canvas;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = `rgb(${background.map((v) => Math.round(v * 255)).join(",")})`;
    ctx.fillRect(0, 0, width, height);
    if (!rect) return;
    const t = this.targets[0], src = t.canvas;
    const kx = src.width / (rect.x1 - rect.x0), ky = src.height / (rect.y1 - rect.y0);
    const x0 = Math.max(rect.x0, 0), y0 = Math.max(rect.y0, 0);
    const x1 = Math.min(rect.x1, width), y1 = Math.min(rect.y1, height);
    if (x1 <= x0 || y1 <= y0) return;
    ctx.imageSmoothingEnabled = t.smooth;
    ctx.drawImage(src, (x0 - rect.x0) * kx, (y0 - rect.y0) * ky, (x1 - x0) * kx, (y1 - y0) * ky, x0, y0, x1 - x0, y1 - y0);
  }
}
