// Points written straight into RGBA words (no per-point canvas calls): the 2-D canvas fallback
// draws with it, and so does WebGL on a software GL (SwiftShader), where this loop is many times
// faster than the GL's own vertex pipeline.

// words: Uint32Array width × height (cleared here); x, y: coordinates in drawing order;
// colours: RGBA words per point (0 = hidden); data -> pixel: px = x * s + ox, py = oy - y * s
export function rasterise(words, width, height, x, y, colours, { s, ox, oy }, size) {
  words.fill(0);
  const W = width, maxX = width - size, maxY = height - size;
  for (let k = 0; k < x.length; k++) {
    const c = colours[k];
    if (c === 0) continue; // a hidden class
    const fx = x[k] * s + ox, fy = oy - y[k] * s;
    // bounds on the float first: `| 0` would wrap far-away points back onto the image
    if (!(fx >= 0 && fy >= 0 && fx < maxX + 1 && fy < maxY + 1)) continue;
    let p = (fy | 0) * W + (fx | 0);
    if (size === 2) {
      words[p] = c; words[p + 1] = c; words[p + W] = c; words[p + W + 1] = c;
    } else {
      for (let r = 0; r < size; r++, p += W) words.fill(c, p, p + size);
    }
  }
}
