// What the points are coloured by: their class (the report's palette, from the run payload) or
// a per-point anomaly score binned onto the server's colour ramp, with a colour bar as legend.

// scores (N) -> bin index (N) in 0..n-1, spread evenly from lo to hi and clipped beyond
export function scoreBins(scores, lo, hi, n) {
  const out = new Uint16Array(scores.length);
  const width = hi > lo ? (hi - lo) / n : 1;
  for (let i = 0; i < scores.length; i++) {
    const k = Math.floor((scores[i] - lo) / width);
    out[i] = k < 0 ? 0 : k >= n ? n - 1 : k;
  }
  return out;
}

// the per-point scores the map is coloured by now: the anomaly scores, an attribute's values
// (attributes.js; only those of the run shown) or none (classes)
export function activeScores(state) {
  if (state.colourBy === "anomaly") return state.anomaly;
  const attr = state.attributeColours;
  return String(state.colourBy).startsWith("attr:") && attr && attr.runId === state.run.id ? attr : null;
}

// { labels, palette } for ScatterMap.setPoints
export function pointColours(run, anomaly) {
  if (!anomaly) return { labels: run.labels, palette: run.class_colors };
  const { scores, lo, hi, ramp } = anomaly;
  return { labels: scoreBins(scores, lo, hi, ramp.length), palette: ramp };
}

export function scoreLegend(anomaly) {
  const box = document.createElement("div");
  box.className = "colour-bar";
  const bar = document.createElement("div");
  bar.className = "bar";
  bar.style.background = `linear-gradient(to right, ${anomaly.ramp.join(", ")})`;
  const ends = document.createElement("div");
  ends.className = "ends";
  ends.append(
    Object.assign(document.createElement("span"), { textContent: anomaly.lo.toFixed(1) }),
    Object.assign(document.createElement("span"), { textContent: anomaly.caption || "more unusual →" }),
    Object.assign(document.createElement("span"), { textContent: anomaly.hi.toFixed(1) }),
  );
  const title = Object.assign(document.createElement("div"), { className: "name", textContent: anomaly.name });
  box.append(title, bar, ends);
  box.title = "colour: the 1st to the 99th percentile of the score; beyond them the end colours";
  return box;
}
