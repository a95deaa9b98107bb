// A uniform grid over the points' map coordinates, so hovering finds the nearest point by
// looking only at the cells around the pointer (about four points per cell), never by scanning
// every point. Built once per map by a counting sort: O(N) time, 4 bytes per point.

export class GridIndex {
  // x, y: Float32Array (N); cells per side chosen so a cell holds about `perCell` points
  constructor(x, y, perCell = 4) {
    const n = x.length;
    this.x = x;
    this.y = y;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const a = x[i], b = y[i];
      if (a < x0) x0 = a; if (a > x1) x1 = a;
      if (b < y0) y0 = b; if (b > y1) y1 = b;
    }
    if (!n) { x0 = x1 = y0 = y1 = 0; }
    const side = Math.max(1, Math.min(2048, Math.ceil(Math.sqrt(n / perCell))));
    this.side = side;
    this.x0 = x0;
    this.y0 = y0;
    this.cell = Math.max((x1 - x0) / side, (y1 - y0) / side, 1e-12);
    const cellOf = new Uint32Array(n);
    const start = new Uint32Array(side * side + 1);
    for (let i = 0; i < n; i++) {
      const c = this.cellAt(x[i], y[i]);
      cellOf[i] = c;
      start[c + 1]++;
    }
    for (let c = 0; c < side * side; c++) start[c + 1] += start[c];
    const fill = start.slice(0, side * side);
    const items = new Uint32Array(n);
    for (let i = 0; i < n; i++) items[fill[cellOf[i]]++] = i;
    this.start = start;
    this.items = items;
  }

  clampCell(v) { return v < 0 ? 0 : v >= this.side ? this.side - 1 : v; }

  cellAt(x, y) {
    const cx = this.clampCell(Math.floor((x - this.x0) / this.cell));
    const cy = this.clampCell(Math.floor((y - this.y0) / this.cell));
    return cy * this.side + cx;
  }

  // index of the nearest point within `radius` of (px, py) that `accept(i)` allows, or -1.
  // Cells are visited in rings around the pointer's cell; a ring farther than the best hit so
  // far cannot hold a nearer point, so the search stops there.
  nearest(px, py, radius, accept = null) {
    const { x, y, start, items, side, cell } = this;
    const cx = Math.floor((px - this.x0) / cell), cy = Math.floor((py - this.y0) / cell);
    const rings = Math.ceil(radius / cell) + 1;
    let best = -1, bestD = radius * radius;
    for (let k = 0; k <= rings; k++) {
      if (k > 1 && (k - 1) * cell > Math.sqrt(bestD)) break;
      for (let gy = cy - k; gy <= cy + k; gy++) {
        if (gy < 0 || gy >= side) continue;
        const edge = gy === cy - k || gy === cy + k;
        for (let gx = cx - k; gx <= cx + k; gx += edge ? 1 : 2 * k) {
          if (gx >= 0 && gx < side) {
            const c = gy * side + gx;
            for (let j = start[c]; j < start[c + 1]; j++) {
              const i = items[j], ex = x[i] - px, ey = y[i] - py, d = ex * ex + ey * ey;
              if (d < bestD && (!accept || accept(i))) { bestD = d; best = i; }
            }
          }
          if (k === 0) break;
        }
      }
    }
    return best;
  }
}
