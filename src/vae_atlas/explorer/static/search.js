// Search the shown points: "#123" (or a number that is no class name) selects test image 123 and
// centres the map on it; a class name (any case) shows that class alone, the others hidden as
// the legend hides them; anything else is looked up among the images' file names (an image
// folder's relative paths, CelebA's file names): every match is ringed on the map and the first
// selected. An empty search shows every class again and clears the rings.

import { getJSON } from "./api.js";
import { compareMap, scatter } from "./mapview.js";
import { select } from "./panels.js";
import { status } from "./status.js";
import { runPath, state, update } from "./store.js";

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
  return { name: text.trim() };
}

// the images whose file names contain `text`: ringed on the map, the first selected
async function findNames(text) {
  const found = await getJSON(runPath(`/names?q=${encodeURIComponent(text)}`));
  if (!found.searchable) return status(`no class or test index matches "${text}"`, true);
  if (!found.total) return status(`no class, test index or file name matches "${text}"`, true);
  update({ found: { indices: found.indices, runId: state.run.id } });
  const first = found.indices[0];
  const more = found.total > 1 ? ` (${found.total.toLocaleString()} files match "${text}", ringed on the map)` : "";
  await centreOn(first, `#${first} ${found.names[0]}${more}`);
}

async function centreOn(i, text) {
  scatter.view.cx = scatter.x[i];
  scatter.view.cy = scatter.y[i];
  scatter.viewChanged();
  status(text);
  await select({ kind: "point", index: i });
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
    update({ found: null });
    if (found.all) return showClasses(null), status("");
    if (found.name) return findNames(found.name).catch((err) => status(err.message, true));
    if (found.classes) {
      showClasses(found.classes);
      const count = state.run.labels ? state.run.labels.filter((l) => found.classes.includes(l)).length : 0;
      return status(`class ${found.classes.map((c) => state.run.class_names[c]).join(", ")}: ${count.toLocaleString()} points`);
    }
    await centreOn(found.index, `test image #${found.index}`);
  });
}
