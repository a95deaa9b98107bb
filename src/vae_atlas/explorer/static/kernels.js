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

// For each output index o in [0, nOut): the kernel offsets k and input indices i with
// i*s - p + k = o, as pairs (k, i, k, i, ...); a stride-2 4x4 kernel gives each output two.
function taps(nOut, nIn, s, p, kSize) {
  const list = [];
  for (let o = 0; o < nOut; o++) {
    const pairs = [];
    for (let k = 0; k < kSize; k++) {
      const i = (o + p - k) / s;
      if (Number.isInteger(i) && i >= 0 && i < nIn) pairs.push(k, i);
    }
    list.push(Int32Array.from(pairs));
  }
  return list;
}

// What a transposed convolution needs, made once when the weights load: W (Ci, Co, kH, kW)
// re-laid as (kH·kW, Co, Ci), so each output pixel is a few dot products over contiguous input
// channels, and which taps reach each output row and column.
export function prepareTransposed(w, L) {
  const [nci, hi, wi] = L.in_shape, [nco, ho, wo] = L.out_shape, [kh, kw] = L.kernel;
  const taps2d = kh * kw, wt = new Float64Array(taps2d * nco * nci);
  let k = L.weight_offset;
  for (let ci = 0; ci < nci; ci++) {
    for (let co = 0; co < nco; co++) {
      for (let t = 0; t < taps2d; t++) wt[(t * nco + co) * nci + ci] = w[k++];
    }
  }
  return {
    L, wt, bias: Float64Array.from(w.subarray(L.bias_offset, L.bias_offset + nco)),
    rows: taps(ho, hi, L.stride[0], L.padding[0], kh), cols: taps(wo, wi, L.stride[1], L.padding[1], kw),
    xT: new Float64Array(nci * hi * wi), // the input as (H·W, Ci)
  };
}

// ConvTranspose2d (the adjoint of a strided convolution), gathered per output pixel:
// y[co, oy, ox] = b[co] + Σ W[ci, co, ky, kx] x[ci, iy, ix] over the taps with
// iy*s - p + ky = oy and ix*s - p + kx = ox. The output's size (out_shape) carries the output
// padding: the rows and columns it adds at the bottom and right receive what reaches them.
export function convTranspose2d(prep, x, y) {
  const { L, wt, bias, rows, cols, xT } = prep;
  const [nci, hi, wi] = L.in_shape, [nco, ho, wo] = L.out_shape, kw = L.kernel[1];
  const plane = ho * wo, pixels = hi * wi;
  for (let ci = 0; ci < nci; ci++) {
    for (let p = 0; p < pixels; p++) xT[p * nci + ci] = x[ci * pixels + p];
  }
  for (let oy = 0; oy < ho; oy++) {
    const ry = rows[oy];
    for (let ox = 0; ox < wo; ox++) {
      const rx = cols[ox], o = oy * wo + ox;
      for (let co = 0; co < nco; co++) {
        let a0 = bias[co], a1 = 0, a2 = 0, a3 = 0;
        for (let a = 0; a < ry.length; a += 2) {
          for (let b = 0; b < rx.length; b += 2) {
            let wk = ((ry[a] * kw + rx[b]) * nco + co) * nci, xk = (ry[a + 1] * wi + rx[b + 1]) * nci;
            const end = xk + nci;
            for (; xk + 3 < end; xk += 4, wk += 4) {
              a0 += wt[wk] * xT[xk];
              a1 += wt[wk + 1] * xT[xk + 1];
              a2 += wt[wk + 2] * xT[xk + 2];
              a3 += wt[wk + 3] * xT[xk + 3];
            }
            for (; xk < end; xk++, wk++) a0 += wt[wk] * xT[xk];
          }
        }
        y[co * plane + o] = a0 + a1 + a2 + a3;
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
