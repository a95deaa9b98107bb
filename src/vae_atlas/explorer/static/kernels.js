// The arithmetic of the in-page decoders (decoder.js): a dense layer and a transposed
// convolution over weights in PyTorch's layouts (explorer/weights.py), and the activations. Plain loops, ordered so the weights are read once, front to back, and the
// innermost loop walks a row of a feature map; the loop bounds are worked out per kernel
// row/column beforehand, so no pixel is tested for lying outside the image.

// y = act(y) in place
export function activate(y, name, slope = 0) {
  const n = y.length;
  if (name === "relu") for (let i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0;
  else if (name === "leaky_relu") for (let i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : y[i] * slope;
  else if (name === "tanh") for (let i = 0; i < n; i++) y[i] = Math.tanh(y[i]);
  else if (name === "elu") for (let i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : Math.expm1(y[i]);
  else if (name !== "none") throw new Error(`the page has no activation ${name}`);
}

// the likelihood's mean: sigmoid(x) as the (C*H*W) image the page draws
export function sigmoid(x) {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
  return out;
}

// y (nOut) = W x + b with W (nOut, nIn) row-major at w[wo] and b at w[bo]
export function dense(w, wo, bo, x, y, nIn, nOut) {
  for (let o = 0; o < nOut; o++) {
    let base = wo + o * nIn, i = 0;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (; i + 3 < nIn; i += 4, base += 4) {
      a0 += w[base] * x[i];
      a1 += w[base + 1] * x[i + 1];
      a2 += w[base + 2] * x[i + 2];
      a3 += w[base + 3] * x[i + 3];
    }
    let acc = w[bo + o];
    for (; i < nIn; i++, base++) acc += w[base] * x[i];
    y[o] = acc + a0 + a1 + a2 + a3;
  }
}

// For each kernel offset k (0 <= k < kSize): the indices i in [0, n) whose position
// i*s - p + k lies in [0, limit), as the half-open range [out[2k], out[2k + 1]).
function spans(n, limit, s, p, kSize) {
  const out = new Int32Array(2 * kSize);
  for (let k = 0; k < kSize; k++) {
    out[2 * k] = Math.max(0, Math.ceil((p - k) / s));
    out[2 * k + 1] = Math.max(out[2 * k], Math.min(n, Math.floor((limit - 1 + p - k) / s) + 1));
  }
  return out;
}

function fillBias(w, bo, y, channels, plane) {
  for (let c = 0; c < channels; c++) y.fill(w[bo + c], c * plane, (c + 1) * plane);
}

// ConvTranspose2d (the adjoint of a strided convolution): each input pixel x[ci, iy, ix] adds
// W[ci, co, ky, kx] x[ci, iy, ix] to y[co, iy*s - p + ky, ix*s - p + kx], W (Ci, Co, kH, kW).
// The output's size (out_shape) carries the output padding: the rows and columns it adds at
// the bottom and right receive what lands there, and the bias.
export function convTranspose2d(w, L, x, y) {
  const [nci, hi, wi] = L.in_shape, [nco, ho, wo] = L.out_shape;
  const [kh, kw] = L.kernel, [sh, sw] = L.stride, [ph, pw] = L.padding;
  const rows = spans(hi, ho, sh, ph, kh), cols = spans(wi, wo, sw, pw, kw);
  fillBias(w, L.bias_offset, y, nco, ho * wo);
  let k = L.weight_offset;
  for (let ci = 0; ci < nci; ci++) {
    const xc = ci * hi * wi;
    for (let co = 0; co < nco; co++) {
      const yc = co * ho * wo;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++, k++) {
          const v = w[k], ix0 = cols[2 * kx], ix1 = cols[2 * kx + 1];
          for (let iy = rows[2 * ky]; iy < rows[2 * ky + 1]; iy++) {
            const xr = xc + iy * wi, yr = yc + (iy * sh - ph + ky) * wo - pw + kx;
            for (let ix = ix0; ix < ix1; ix++) y[yr + ix * sw] += v * x[xr + ix];
          }
        }
      }
    }
  }
}

// the output (H, W) PyTorch gives transposed convolution L for its input size: the check that
// a manifest's shapes and its kernels, strides, paddings and output paddings agree
export function outputSize(L) {
  const [, h, wd] = L.in_shape;
  return [h, wd].map((n, a) => (n - 1) * L.stride[a] - 2 * L.padding[a] + L.kernel[a] + L.output_padding[a]);
}
