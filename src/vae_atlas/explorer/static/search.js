// Search the shown points: "#123" (or a number that is no class name) selects test image 123 and
// centres the map on it; a class name (any case) shows that class alone, the others hidden as
// the legend hides them; an empty search shows every class again.

import { compareMap, scatter } from "./mapview.js";
import { select } from "./panels.js";
import { status } from "./status.js";
import { state } from "./store.js";

const $ = (id) => document.getElementById(id);

// what a query asks for: { index }, { classes: [label, ...] }, { all: true } or { error }
export function parseQuery(text, run) {
  const q = text.trim().toLowerCase();
  if (!q) return { all: true };
  const names = (run.class_names || []).map((n) => n.toLowerCase());
  const classes = names.flatMap((n, c) => (n === q ? [c] : []));
  const number = q.match(/^#?(\d+)$/);
  if (classes.length && !q.startsWith("#")) return { classes };
  if (number) {
    const index = Number(number[1]);
    if (index < run.n_points) return { index };
    return { error: `there is no test image #${index}; this run shows ${run.n_points.toLocaleString()}` };
  }
  return { error: `no class or test index matches "${text.trim()}"` };
}

function showClasses(classes) {
  scatter.hidden.clear();
  const n = state.run.class_names ? state.run.class_names.length : 0;
  for (let c = 0; c < n; c++) if (classes && !classes.includes(c)) scatter.hidden.add(c);
  document.querySelectorAll("#legend button").forEach((b, c) => b.classList.toggle("off", scatter.hidden.has(c)));
  scatter.redraw();
  if (state.compare) compareMap.redraw();
}

export function initSearch() {
  $("search").addEventListener("change", async () => {
    const found = parseQuery($("search").value, state.run);
    if (found.error) return status(found.error, true);
    if (found.all) return showClasses(null), status("");
    if (found.classes) {
      showClasses(found.classes);
      const count = state.run.labels ? state.run.labels.filter((l) => found.classes.includes(l)).length : 0;
      return status(`class ${found.classes.map((c) => state.run.class_names[c]).join(", ")}: ${count.toLocaleString()} points`);
    }
    const i = found.index;
    scatter.view.cx = scatter.x[i];
    scatter.view.cy = scatter.y[i];
    scatter.viewChanged();
    status(`test image #${i}`);
    await select({ kind: "point", index: i });
  });
}
