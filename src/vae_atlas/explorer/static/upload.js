// Your own image: chosen or dropped on the map, encoded by the server (normalised the way the
// dataset was made), shown as the model sees it and selected like a data point.

import { postFile } from "./api.js";
import { clearSelection, select } from "./panels.js";
import { status } from "./status.js";
import { runPath, state, update, viewQuery } from "./store.js";

const $ = (id) => document.getElementById(id);

export function initUpload() {
  $("file").onchange = (e) => { if (e.target.files[0]) upload(e.target.files[0]); e.target.value = ""; };
  const zone = $("dropzone"), panel = $("map-panel"), hint = $("drop-hint");
  const over = (on) => (e) => { e.preventDefault(); zone.classList.toggle("over", on); hint.hidden = !on || !panel.contains(e.target); };
  for (const el of [zone, panel]) {
    el.addEventListener("dragover", over(true));
    el.addEventListener("dragleave", over(false));
    el.addEventListener("drop", (e) => {
      over(false)(e);
      hint.hidden = true;
      const file = e.dataTransfer.files[0];
      if (file) upload(file);
    });
  }
}

// the image on screen, kept so that a cvae can encode it again under a new "decode as" choice
let shownFile = null;

// `select: false` only shows it (the drawing pad while a stroke goes on); `slot` puts the
// selection in that slot ("a" or "b") instead of the next one
export async function upload(file, { select: selectIt = true, slot } = {}) {
  if (file.size > 5 * 1024 * 1024) return status("that file is over the 5 MB limit", true);
  if (selectIt) status("encoding your image…");
  let d;
  try {
    d = await postFile(runPath(`/encode?${viewQuery()}&invert=${$("invert").value}`), file);
  } catch (err) { return status(err.message, true); }
  shownFile = file;
  showUpload(d);
  const sel = { kind: "upload", z: Float64Array.from(d.mu), sigma: d.sigma, detail: d, position: d.position };
  update({ upload: sel });
  if (!selectIt) return;
  status(d.inverted ? "encoded (inverted to match the dataset)" : "encoded");
  await select(sel, slot ? { slot } : {});
}

// A cvae encodes an image under the chosen condition, so when the choice changes the image on
// screen is encoded again under the new one (in the selection slot it held). Under a choice
// that cannot encode it ("own class") it is taken off the screen rather than left showing
// the old choice's code and reconstruction (and, when it was selected, the selection is cleared).
export async function reencodeUpload() {
  if (!shownFile || !state.upload) return;
  const slot = ["a", "b"].find((k) => state.sel[k]?.kind === "upload");
  const before = state.upload;
  await upload(shownFile, { select: Boolean(slot), slot });
  if (state.upload !== before) return;
  $("upload-body").hidden = true;
  update({ upload: null });
  if (slot) clearSelection();
}

function showUpload(d) {
  $("upload-body").hidden = false;
  $("up-input").src = d.input; // after the server's normalisation: what the encoder gets
  $("up-recon").src = d.reconstruction;
  const sigma = d.sigma ? (d.sigma.reduce((a, b) => a + b, 0) / d.sigma.length).toFixed(3) : "–";
  const [, h, w] = state.run.image_shape;
  const lines = [`${d.original_size[0]}×${d.original_size[1]} → ${w}×${h}`];
  if (d.normalisation) lines.push(`laid out ${d.normalisation}`);
  lines.push(d.inverted ? "inverted" : "not inverted", `mean σ ${sigma}`);
  $("up-meta").replaceChildren(...lines.flatMap((text, i) => (i ? [document.createElement("br"), text] : [text])));
}
