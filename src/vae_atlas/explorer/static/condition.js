// A cvae run's "decode as" control, beside the decoded image: "own class" (each code decoded
// under the class of the nearest test code, the server's default) or one class for every code;
// for a cvae conditioned on attributes, "own attributes" or attribute toggles set by hand.
// The choice travels with every decoding request (the hovered or steered image, the attribute
// sliders, the interpolation strip and the sample grid) as `y=3` or `attrs=1,0,1`.

import { addRequestFilter } from "./api.js";
import { showAnchor } from "./decoding.js";
import { interpolate, redrawSamples } from "./panels.js";
import { state, subscribe } from "./store.js";

const $ = (id) => document.getElementById(id);
let chosen = null; // null: each code's own condition; else { y } or { attrs }

const DECODING = /\/runs\/[^/?]+\/(decode\.png|decode|interpolate|samples)(\?|$)/;

addRequestFilter((url, init) => {
  if (!chosen || !DECODING.test(url)) return [url, init];
  if (url.includes("/decode.png?")) {
    const q = "y" in chosen ? `y=${chosen.y}` : `attrs=${chosen.attrs.join(",")}`;
    return [`${url}&${q}`, init];
  }
  const body = { ...JSON.parse(init.body), ...chosen };
  return [url, { ...init, body: JSON.stringify(body) }];
});

function choose(value) {
  chosen = value;
  if (!state.hovering) showAnchor();
  interpolate().catch(() => {});
  redrawSamples();
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
  const old = $("condition-picker");
  if (old) old.remove();
  chosen = null;
  const condition = state.run && state.run.condition;
  if (!condition) return;
  const picker = Object.assign(document.createElement("div"), { id: "condition-picker", className: "small" });
  const label = Object.assign(document.createElement("label"), { textContent: "decode as " });
  const parts = condition.kind === "labels" ? classPicker(condition) : attributeToggles(condition);
  label.append(parts[0]);
  picker.append(label, ...parts.slice(1));
  $("decoder-kind").after(picker);
}

subscribe((changed) => { if (changed.has("run")) build(); });
