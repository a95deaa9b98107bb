// The notebook widget's transport: the page runs in a frame inside the notebook, and each of its
// API requests is posted to the widget around it, which sends it to the Python kernel (anywidget
// messages); the kernel answers with the explorer's own app, called in-process. The page also
// tells the widget what is selected, so `widget.selection` holds it in Python: the points of a
// lasso (the answer to POST .../selection), else the data points picked as A and B.

import { setTransport } from "./api.js";
import { state, subscribe } from "./store.js";

const waiting = new Map();
let next = 0;

addEventListener("message", (event) => {
  const m = event.data;
  if (event.source !== parent || !m || m.vaeAtlas !== "reply" || !waiting.has(m.id)) return;
  const { resolve, url, method } = waiting.get(m.id);
  waiting.delete(m.id);
  const response = new Response(m.status === 204 ? null : m.body, { status: m.status, headers: { "Content-Type": m.type } });
  if (method === "POST" && /\/selection$/.test(new URL(url, "http://kernel/").pathname) && response.ok) {
    response.clone().json().then((out) => tell(out.indices)).catch(() => {});
  }
  resolve(response);
});

async function bodyBytes(body) {
  if (body == null) return null;
  if (typeof body === "string") return new TextEncoder().encode(body).buffer;
  return body.arrayBuffer(); // an uploaded File or Blob
}

setTransport(async (url, init = {}) => {
  const method = (init.method || "GET").toUpperCase();
  const type = (init.headers && init.headers["Content-Type"]) || "";
  const body = await bodyBytes(init.body);
  return new Promise((resolve) => {
    const id = ++next;
    waiting.set(id, { resolve, url, method });
    parent.postMessage({ vaeAtlas: "request", id, method, url, type, body }, "*", body ? [body] : []);
  });
});

function tell(indices) {
  parent.postMessage({ vaeAtlas: "selection", indices }, "*");
}

subscribe((changed) => {
  if (!changed.has("sel")) return;
  const { a, b } = state.sel;
  tell([a, b].filter((s) => s && s.kind === "point").map((s) => s.index));
});
