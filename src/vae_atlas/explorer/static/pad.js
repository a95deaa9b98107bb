// The drawing pad: draw with the mouse (white ink on black, as MNIST's digits are) and the
// drawing is encoded as you draw — its posterior moves on the map and its reconstruction
// updates — at most one encode in flight, always of the newest strokes. Releasing the mouse
// selects it like an uploaded image.

import { LatestOnly } from "./decoder.js";
import { upload } from "./upload.js";

const $ = (id) => document.getElementById(id);
export const padStats = { encodes: 0 }; // read by the browser tests

const snapshot = () => new Promise((ok) => $("pad").toBlob(ok, "image/png"));

const encoder = new LatestOnly(async (selectIt) => {
  const blob = await snapshot();
  await upload(blob, { select: selectIt });
  padStats.encodes++;
});

function clear() {
  const ctx = $("pad").getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, $("pad").width, $("pad").height);
}

export function initPad() {
  const pad = $("pad"), ctx = pad.getContext("2d");
  clear();
  let last = null;
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener("pointerdown", (e) => {
    pad.setPointerCapture(e.pointerId);
    last = at(e);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = at(e);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = pad.width / 10; // about MNIST's stroke: 2-3 pixels of 28
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
    encoder.push(false);
  });
  pad.addEventListener("pointerup", () => {
    if (last) encoder.push(true);
    last = null;
  });
  $("pad-clear").onclick = clear;
}
