// The density view: the points binned into cells of a few pixels at the current zoom, each cell
// coloured by the mean colour of its points (the report's class colours, or the anomaly ramp)
// and made brighter with the log of its count, so a million points read as a landscape instead
// of one blot. Binned again for every settled view, so it stays detailed at any zoom.

export const CELL = 4; // device pixels per cell side

// x, y: map coordinates in drawing order; colours: RGBA words (0 = hidden); the snapshot's
// geometry: data -> pixel is px = x * s + ox, py = oy - y * s, over width × height pixels.
// Returns { data: Uint8Array RGBA (cols × rows), cols, rows }, transparent where empty.
export function densityImage(x, y, colours, { s, ox, oy, width, height }) {
  const cols = Math.max(1, Math.ceil(width / CELL)), rows = Math.max(1, Math.ceil(height / CELL));
  const count = new Float32Array(cols * rows);
  const r = new Float32Array(cols * rows), g = new Float32Array(cols * rows), b = new Float32Array(cols * rows);
  const k = s / CELL, kx = ox / CELL, ky = oy / CELL;
  for (let i = 0; i < x.length; i++) {
    const c = colours[i];
    if (c === 0) continue;
    const fx = x[i] * k + kx, fy = ky - y[i] * k;
    if (!(fx >= 0 && fy >= 0 && fx < cols && fy < rows)) continue;
    const cell = (fy | 0) * cols + (fx | 0);
    count[cell]++;
    r[cell] += c & 255;
    g[cell] += (c >>> 8) & 255;
    b[cell] += (c >>> 16) & 255;
  }
  const smooth = blur(count, cols, rows);
  let peak = 0;
  for (let j = 0; j < smooth.length; j++) if (smooth[j] > peak) peak = smooth[j];
  const data = new Uint8Array(cols * rows * 4);
  const norm = 1 / Math.log1p(peak || 1);
  const colour = [blur(r, cols, rows), blur(g, cols, rows), blur(b, cols, rows)];
  for (let j = 0; j < smooth.length; j++) {
    const n = smooth[j];
    if (n <= 1e-6) continue;
    // brightness 0.25..1 by log density: a lone point stays visible, the densest cell is full colour
    const light = 0.25 + 0.75 * Math.log1p(n) * norm;
    for (let ch = 0; ch < 3; ch++) data[4 * j + ch] = Math.min(255, (colour[ch][j] / n) * light);
    data[4 * j + 3] = 255;
  }
  return { data, cols, rows };
}

// a 3 × 3 box blur (edges averaged over the cells that exist), so single cells do not flicker
function blur(v, cols, rows) {
  const out = new Float32Array(v.length);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= rows) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < cols) sum += v[yy * cols + xx];
        }
      }
      out[y * cols + x] = sum / 9;
    }
  }
  return out;
}
