// Decoding in the page: the run's decoder run in JavaScript from exported float32 weights
// (GET /api/runs/{id}/decoder + decoder.bin, see explorer/weights.py) — an MLP, or a conv
// decoder (a linear layer, then transposed convolutions) — and drawing
// (C, H, W) images onto a canvas. Both decoders have one interface: decode(z) -> Float32Array
// (C*H*W) in [0, 1], and static load(runId).

import { request } from "./api.js";
import { activate, convTranspose2d, dense, outputSize, prepareTransposed, sigmoid } from "./kernels.js";

async function fetchDecoder(runId) {
  const [m, b] = await Promise.all([
    request(`api/runs/${encodeURIComponent(runId)}/decoder`),
    request(`api/runs/${encodeURIComponent(runId)}/decoder.bin`),
  ]);
  if (!m.ok || !b.ok) throw new Error("no in-page decoder");
  return [await m.json(), await b.arrayBuffer()];
}

function weights(manifest, buffer) {
  const w = new Float32Array(buffer);
  if (w.length !== manifest.n_floats) throw new Error("decoder weights have the wrong size");
  return w;
}

export class MLPDecoder {
  constructor(manifest, buffer) {
    this.label = "MLP weights";
    this.layers = manifest.layers;
    this.shape = manifest.image_shape;
    this.w = weights(manifest, buffer);
    this.buffers = this.layers.map((l) => new Float32Array(l.n_out));
    this.input = new Float32Array(this.layers[0].n_in);
  }

  static async load(runId) {
    return new MLPDecoder(...(await fetchDecoder(runId)));
  }

  // z: array-like (D) -> Float32Array (C*H*W) in [0, 1]
  decode(z) {
    let x = this.input;
    for (let i = 0; i < x.length; i++) x[i] = z[i];
    for (let li = 0; li < this.layers.length; li++) {
      const L = this.layers[li], y = this.buffers[li];
      dense(this.w, L.weight_offset, L.bias_offset, x, y, L.n_in, L.n_out);
      activate(y, L.activation, L.slope);
      x = y;
    }
    return sigmoid(x);
  }
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);

// a manifest whose shapes do not chain, or do not follow from the kernels, strides and
// paddings, is refused here rather than drawn as a wrong image
function checkLayers(layers, imageShape) {
  let previous = null;
  layers.forEach((L, i) => {
    const where = `decoder layer ${i} (${L.op})`;
    if (L.op !== (i === 0 ? "linear" : "conv_transpose2d")) throw new Error(`${where}: the page runs a linear layer, then transposed convolutions`);
    if (previous !== null && size(L.in_shape) !== previous) throw new Error(`${where}: its input is not the previous layer's output`);
    if (L.op !== "linear" && String(outputSize(L)) !== String(L.out_shape.slice(1))) {
      throw new Error(`${where}: output ${L.out_shape} does not follow from input ${L.in_shape}`);
    }
    previous = size(L.out_shape);
  });
  if (previous !== size(imageShape)) throw new Error("the decoder's last layer is not the image");
}

export class ConvDecoder {
  constructor(manifest, buffer) {
    this.label = "conv weights";
    this.layers = manifest.layers;
    this.shape = manifest.image_shape;
    this.w = weights(manifest, buffer);
    checkLayers(this.layers, this.shape);
    this.prepared = this.layers.map((L, i) => (i === 0 ? null : prepareTransposed(this.w, L)));
    // feature maps in double precision: sums of hundreds of products stay exact far below
    // the 1/255 a drawn pixel resolves
    this.buffers = this.layers.map((l) => new Float64Array(size(l.out_shape)));
    this.input = new Float64Array(size(this.layers[0].in_shape));
  }

  static async load(runId) {
    return new ConvDecoder(...(await fetchDecoder(runId)));
  }

  // z: array-like (D) -> Float32Array (C*H*W) in [0, 1]
  decode(z) {
    let x = this.input;
    for (let i = 0; i < x.length; i++) x[i] = z[i];
    for (let li = 0; li < this.layers.length; li++) {
      const L = this.layers[li], y = this.buffers[li];
      if (li === 0) dense(this.w, L.weight_offset, L.bias_offset, x, y, x.length, y.length);
      else convTranspose2d(this.prepared[li], x, y);
      activate(y, L.activation, L.slope);
      x = y;
    }
    return sigmoid(x);
  }
}

const KINDS = { mlp: MLPDecoder, conv: ConvDecoder };

// the decoder a manifest describes (a manifest without a kind is an MLP's)
export function makeDecoder(manifest, buffer) {
  const Kind = KINDS[manifest.kind || "mlp"];
  if (!Kind) throw new Error(`the page cannot run a decoder of kind ${manifest.kind}`);
  return new Kind(manifest, buffer);
}

export async function loadDecoder(runId) {
  return makeDecoder(...(await fetchDecoder(runId)));
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
