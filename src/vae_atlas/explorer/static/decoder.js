// Decoding in the page: an MLP decoder run in JavaScript from exported float32 weights
// (GET /api/runs/{id}/decoder + decoder.bin), and drawing (C, H, W) images onto a canvas.

import { request } from "./api.js";

const ACT = {
  none: (v) => v,
  relu: (v) => (v > 0 ? v : 0),
  tanh: Math.tanh,
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
};

export class MLPDecoder {
  constructor(manifest, buffer) {
    this.layers = manifest.layers;
    this.shape = manifest.image_shape;
    this.w = new Float32Array(buffer);
    if (this.w.length !== manifest.n_floats) throw new Error("decoder weights have the wrong size");
    this.buffers = this.layers.map((l) => new Float32Array(l.n_out));
    this.input = new Float32Array(this.layers[0].n_in);
  }

  static async load(runId) {
    const [m, b] = await Promise.all([
      request(`api/runs/${encodeURIComponent(runId)}/decoder`),
      request(`api/runs/${encodeURIComponent(runId)}/decoder.bin`),
    ]);
    if (!m.ok || !b.ok) throw new Error("no in-page decoder");
    return new MLPDecoder(await m.json(), await b.arrayBuffer());
  }

  // z: array-like (D) -> Float32Array (C*H*W) in [0, 1]
  decode(z) {
    let x = this.input;
    for (let i = 0; i < x.length; i++) x[i] = z[i];
    const W = this.w;
    for (let li = 0; li < this.layers.length; li++) {
      const L = this.layers[li], y = this.buffers[li], nIn = L.n_in;
      const act = L.activation === "leaky_relu" ? (v) => (v > 0 ? v : v * L.slope) : ACT[L.activation];
      for (let o = 0; o < L.n_out; o++) {
        let acc = W[L.bias_offset + o];
        let base = L.weight_offset + o * nIn;
        let i = 0;
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (; i + 3 < nIn; i += 4, base += 4) {
          a0 += W[base] * x[i];
          a1 += W[base + 1] * x[i + 1];
          a2 += W[base + 2] * x[i + 2];
          a3 += W[base + 3] * x[i + 3];
        }
        for (; i < nIn; i++, base++) acc += W[base] * x[i];
        y[o] = act(acc + a0 + a1 + a2 + a3);
      }
      x = y;
    }
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
    return out;
  }
}

// draw a (C, H, W) float image in [0, 1] onto `canvas` (sized H x W pixels, scaled by CSS)
export function drawPixels(canvas, pixels, shape) {
  const [c, h, w] = shape;
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  const d = img.data, plane = h * w;
  for (let p = 0; p < plane; p++) {
    const r = pixels[p], g = c === 3 ? pixels[plane + p] : r, b = c === 3 ? pixels[2 * plane + p] : r;
    d[4 * p] = r * 255 + 0.5;
    d[4 * p + 1] = g * 255 + 0.5;
    d[4 * p + 2] = b * 255 + 0.5;
    d[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

export async function drawBlob(canvas, blob, shape) {
  const bitmap = await createImageBitmap(blob);
  const [, h, w] = shape;
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
}

// Keeps at most one asynchronous job running; pushes made while it runs replace each other,
// so only the newest is done next and stale requests never queue up.
export class LatestOnly {
  constructor(fn) { this.fn = fn; this.next = null; this.busy = false; }
  push(arg) {
    this.next = arg;
    if (!this.busy) this.pump();
  }
  async pump() {
    this.busy = true;
    while (this.next !== null) {
      const arg = this.next;
      this.next = null;
      try { await this.fn(arg); } catch (err) { console.warn(err); }
    }
    this.busy = false;
  }
}
