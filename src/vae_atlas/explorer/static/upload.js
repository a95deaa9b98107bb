// Your own image: chosen or dropped on the map, encoded by the server (normalised the way the
// dataset was made), shown as the model sees it and selected like a data point.

import { postFile } from "./api.js";
import { select } from "./panels.js";
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

// `select: false` only shows it (the drawing pad while a stroke goes on)
export async function upload(file, { select: selectIt = true } = {}) {
  if (file.size > 5 * 1024 * 1024) return status("that file is over the 5 MB limit", true);
  if (selectIt) status("encoding your image…");
  let d;
  try {
    d = await postFile(runPath(`/encode?${viewQuery()}&invert=${$("invert").value}`), file);
  } catch (err) { return status(err.message, true); }
  showUpload(d);
  const sel = { kind: "upload", z: Float64Array.from(d.mu), sigma: d.sigma, detail: d, position: d.position };
  update({ upload: sel });
  if (!selectIt) return;
  status(d.inverted ? "encoded (inverted to match the dataset)" : "encoded");
  await select(sel);
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
