// Attributes of the shown images (CelebA's, an image folder's table), when the run has any:
// "Colour" gains one entry per attribute, and a card holds one slider per attribute that moves
// the selected code along that attribute's direction (decoded live by the server) and the
// table of how well the codes carry each attribute.

import { getJSON, postJSON } from "./api.js";
import { buildLegend, recolour } from "./mapview.js";
import { dimName, runPath, state, subscribe, update } from "./store.js";

const $ = (id) => document.getElementById(id);
let summary = null; // GET /attributes of the current run, or null
let pending = 0; // the latest slider decode; older answers are dropped

function card() {
  let box = $("attributes-card");
  if (box) return box;
  box = Object.assign(document.createElement("section"), { className: "card", id: "attributes-card" });
  // this card's own look, kept here so the shared stylesheet stays untouched
  const style = Object.assign(document.createElement("style"), {
    textContent: `#attributes-card .slider { grid-template-columns: 120px 1fr 40px; }
      #attributes-card .slider .name { width: 120px; overflow: hidden; text-overflow: ellipsis; }
      #attr-table { max-height: 260px; overflow: auto; } #attr-table td { padding: 1px 6px 1px 0; }`,
  });
  box.innerHTML = `<h2>Attributes <span class="muted small">move the selection along a direction</span></h2>
    <div class="pair"><figure><img id="attr-image" class="pixels mid" alt="the selection moved along the attributes">
    <figcaption id="attr-caption">select a point</figcaption></figure></div>
    <div id="attr-sliders"></div><button id="attr-reset" class="ghost">reset</button>
    <h3>How well the codes carry each attribute</h3><div id="attr-table" class="small"></div>`;
  box.prepend(style);
  $("sliders-card").before(box);
  $("attr-reset").onclick = () => {
    for (const input of $("attr-sliders").querySelectorAll("input")) input.value = 0;
    decodeMoved();
  };
  return box;
}

function base() {
  const last = state.sel[state.sel.last];
  return last && last.z ? last.z : null;
}

async function decodeMoved() {
  const z0 = base();
  if (!z0 || !summary) return;
  const z = Float64Array.from(z0);
  const moved = [];
  for (const input of $("attr-sliders").querySelectorAll("input")) {
    const alpha = +input.value;
    input.parentElement.querySelector(".val").textContent = alpha.toFixed(1);
    if (!alpha) continue;
    const row = summary.attributes[+input.dataset.index];
    row.direction.forEach((v, d) => { z[d] += alpha * v; });
    moved.push(`${row.name} ${alpha > 0 ? "+" : ""}${alpha.toFixed(1)}`);
  }
  const ticket = ++pending;
  const out = await postJSON(runPath("/decode"), { z: [Array.from(z)] });
  if (ticket !== pending) return;
  $("attr-image").src = out.images[0];
  $("attr-caption").textContent = moved.length ? moved.join(", ") : "the selection, decoded";
}

function slider(row) {
  const line = Object.assign(document.createElement("div"), { className: "slider" });
  line.title = `add (right) or remove (left) ${row.name}: the selection's code + α × (mean code with it − mean code without it)`;
  const input = Object.assign(document.createElement("input"), { type: "range", min: -2, max: 2, step: 0.1, value: 0 });
  input.dataset.index = row.index;
  input.setAttribute("aria-label", `attribute ${row.name}`);
  input.oninput = () => { decodeMoved().catch(() => {}); };
  line.append(
    Object.assign(document.createElement("span"), { className: "name", textContent: row.name }),
    input,
    Object.assign(document.createElement("span"), { className: "val", textContent: "0.0" }),
  );
  return line;
}

function tableRow(row) {
  const score = row.kind === "binary"
    ? (row.probe_accuracy === null ? "n/a" : `probe ${row.probe_accuracy.toFixed(2)} (base ${row.majority_accuracy.toFixed(2)})`)
    : `probe R² ${row.probe_r2.toFixed(2)}`;
  const dims = row.top_dims.map((d, i) => `${dimName(d)} ${row.top_corr[i].toFixed(2)}`).join(", ");
  return `<tr><td>${row.name}</td><td>${score}</td><td class="muted">${dims}</td></tr>`;
}

function build() {
  const select = $("colour-by");
  for (const option of [...select.options]) if (option.value.startsWith("attr:")) option.remove();
  const existing = $("attributes-card");
  if (!summary) { if (existing) existing.remove(); return; }
  for (const row of summary.attributes) {
    select.append(Object.assign(document.createElement("option"), { value: `attr:${row.index}`, textContent: row.name }));
  }
  card();
  $("attr-sliders").replaceChildren(...summary.sliders.map((a) => slider(summary.attributes[a])));
  $("attr-table").innerHTML = `<table><tr><th>attribute</th><th>held-out linear probe</th><th>top |corr|</th></tr>${summary.attributes.map(tableRow).join("")}</table>`;
}

async function loadAttributes() {
  summary = null;
  update({ attributeColours: null });
  try {
    const found = await getJSON(runPath("/attributes"));
    summary = found.attributes.length ? found : null; // empty: the images carry no attributes
  } catch (_) { /* the card stays away; the rest of the page works without it */ }
  if (!summary && String(state.colourBy).startsWith("attr:")) update({ colourBy: "class" });
  build();
}

async function colourByAttribute(mode) {
  const index = +mode.slice(5);
  const values = await getJSON(runPath(`/attributes/${index}`));
  const caption = values.kind === "binary" ? "grey: without · red: with" : `${values.name} →`;
  update({ attributeColours: { ...values, scores: values.values, caption, runId: state.run.id } });
  buildLegend();
  recolour();
}

subscribe((changed) => {
  if (changed.has("run") && state.run) loadAttributes();
  if (changed.has("colourBy") && String(state.colourBy).startsWith("attr:")) {
    colourByAttribute(state.colourBy).catch(() => {});
  }
  if (changed.has("sel") && summary) decodeMoved().catch(() => {});
});
