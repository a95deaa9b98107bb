// A cvae run's "decode as" control, beside the decoded image: "own class" (each code decoded
// under the class of the nearest test code, the server's default) or one class for every code;
// for a cvae conditioned on attributes, "own attributes" or attribute toggles set by hand.
// The choice (`state.condition`: null, { y } or { attrs }) travels with every decoding request
// (the hovered or steered image, the attribute sliders, the interpolation strip and the sample
// grid) as `y=3` or `attrs=1,0,1`, and the URL keeps it (urlstate.js: `y=3`, or
// `attrs=Smiling:1,Male:0` by name, so a shared link says what it chose).

import { addRequestFilter } from "./api.js";
import { showAnchor } from "./decoding.js";
import { interpolate, redrawSamples } from "./panels.js";
import { state, subscribe, update } from "./store.js";
import { reencodeUpload } from "./upload.js";

const $ = (id) => document.getElementById(id);

// an upload is encoded under the choice too (a cvae's encoder needs a condition, and a user's
// image has none of its own): without one the server refuses it and says so
const DECODING = /\/runs\/[^/?]+\/(decode\.png|decode|interpolate|samples|encode)(\?|$)/;
const IN_QUERY = /\/(decode\.png|encode)\?/;

addRequestFilter((url, init) => {
  const chosen = state.condition;
  if (!chosen || !DECODING.test(url)) return [url, init];
  if (IN_QUERY.test(url)) {
    const q = "y" in chosen ? `y=${chosen.y}` : `attrs=${chosen.attrs.join(",")}`;
    return [`${url}&${q}`, init];
  }
  const body = { ...JSON.parse(init.body), ...chosen };
  return [url, { ...init, body: JSON.stringify(body) }];
});

function choose(value) {
  note("");
  update({ condition: value });
  if (!state.hovering) showAnchor();
  interpolate().catch(() => {});
  redrawSamples();
  reencodeUpload();
}

function classPicker(condition) {
  const select = Object.assign(document.createElement("select"), { id: "condition-class" });
  select.title = "the class every code is decoded under";
  select.add(new Option("own class", ""));
  condition.names.forEach((name, i) => select.add(new Option(name, String(i))));
  select.onchange = () => choose(select.value === "" ? null : { y: +select.value });
  return [select];
}

function attributeToggles(condition) {
  const mode = Object.assign(document.createElement("select"), { id: "condition-mode" });
  mode.add(new Option("own attributes", "own"));
  mode.add(new Option("these:", "set"));
  const box = Object.assign(document.createElement("div"), { id: "condition-attrs", className: "small" });
  const inputs = condition.names.map((name, i) => {
    const input = document.createElement("input");
    if (condition.binary[i]) input.type = "checkbox";
    else Object.assign(input, { type: "number", step: "any", value: "0", size: 4 });
    Object.assign(input, { disabled: true, title: name });
    input.dataset.name = name;
    const label = document.createElement("label");
    label.append(input, ` ${name} `);
    box.append(label);
    return input;
  });
  const values = () => inputs.map((el) => (el.type === "checkbox" ? (el.checked ? 1 : 0) : +el.value || 0));
  const apply = () => {
    const own = mode.value === "own";
    for (const el of inputs) el.disabled = own;
    choose(own ? null : { attrs: values() });
  };
  mode.onchange = apply;
  for (const el of inputs) el.onchange = apply;
  return [mode, box];
}

let builtFor = null; // the run the control was built for: newer weights (--follow) keep the choice

function build() {
  if (state.run && state.run.id === builtFor) return;
  builtFor = state.run && state.run.id;
  for (const id of ["condition-picker", "condition-note"]) if ($(id)) $(id).remove();
  if (state.condition) update({ condition: null });
  const condition = state.run && state.run.condition;
  if (!condition) return;
  const picker = Object.assign(document.createElement("div"), { id: "condition-picker", className: "small" });
  const label = Object.assign(document.createElement("label"), { textContent: "decode as " });
  const parts = condition.kind === "labels" ? classPicker(condition) : attributeToggles(condition);
  label.append(parts[0]);
  picker.append(label, ...parts.slice(1));
  $("decoder-kind").after(picker);
}

// one line under the control saying why the URL's choice was not taken ("" removes it)
function note(text) {
  if ($("condition-note")) $("condition-note").remove();
  if (!text) return;
  const line = Object.assign(document.createElement("div"), { id: "condition-note", className: "small", textContent: text });
  ($("condition-picker") || $("decoder-kind")).after(line);
}

// the URL's `y` / `attrs` (raw text, see urlstate.js) as a choice for this run, or why not
function fromUrl(wanted, condition) {
  if (!condition) return { why: "this run has no \"decode as\" control here (not a cvae, or not decoded in this page)" };
  if (wanted.y != null) {
    const y = Number(wanted.y), n = condition.names.length;
    if (condition.kind !== "labels") return { why: `this cvae takes attributes (${condition.names.join(", ")}), not a class` };
    if (!(wanted.y.trim() !== "" && Number.isInteger(y) && y >= 0 && y < n)) return { why: `y=${wanted.y} is not a class of this run (0..${n - 1})` };
    return { value: { y } };
  }
  if (condition.kind !== "attributes") return { why: `this cvae takes a class (y), not attributes` };
  const given = new Map();
  for (const pair of wanted.attrs.split(",")) {
    const at = pair.lastIndexOf(":"), name = pair.slice(0, at), value = Number(pair.slice(at + 1));
    if (at < 0 || !condition.names.includes(name)) return { why: `${at < 0 ? pair : name} is not an attribute of this run (${condition.names.join(", ")})` };
    if (pair.slice(at + 1).trim() === "" || !Number.isFinite(value)) return { why: `${name} must be a number, got "${pair.slice(at + 1)}"` };
    if (condition.binary[condition.names.indexOf(name)] && value !== 0 && value !== 1) return { why: `${name} is binary: 0 or 1, got ${value}` };
    given.set(name, value);
  }
  const missing = condition.names.filter((name) => !given.has(name));
  if (missing.length) return { why: `attrs does not give ${missing.join(", ")}` };
  return { value: { attrs: condition.names.map((name) => given.get(name)) } };
}

// the choice a shared URL carries ({ y, attrs } as text, either null), shown in the control and
// used from the first decoding on; a value this run cannot take is ignored with a note
export function restoreCondition(wanted) {
  if (!wanted || (wanted.y == null && wanted.attrs == null)) return;
  const { value, why } = fromUrl(wanted, state.run.condition);
  if (why) return note(`ignored the link's "decode as": ${why}`);
  if ("y" in value) $("condition-class").value = String(value.y);
  else {
    $("condition-mode").value = "set";
    for (const [i, el] of [...document.querySelectorAll("#condition-attrs input")].entries()) {
      el.disabled = false;
      if (el.type === "checkbox") el.checked = value.attrs[i] === 1;
      else el.value = String(value.attrs[i]);
    }
  }
  update({ condition: value });
}

subscribe((changed) => { if (changed.has("run")) build(); });
