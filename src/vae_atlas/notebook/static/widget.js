// The notebook side of `va.explorer(run)`: the explorer's page in a frame, its requests relayed
// to the kernel as widget messages and the kernel's replies relayed back (see host-kernel.js);
// the page's selection is stored in the widget's `selection` trait.

function render({ model, el }) {
  const frame = document.createElement("iframe");
  frame.title = "vae-atlas explorer";
  frame.style.cssText = `width: 100%; height: ${model.get("height")}px; border: 0; display: block;`;
  const view = Math.random().toString(36).slice(2); // replies reach every view: keep ours apart
  const onPage = (event) => {
    const m = event.data;
    if (event.source !== frame.contentWindow || !m) return;
    if (m.vaeAtlas === "request") {
      const { id, method, url, type } = m;
      model.send({ vaeAtlas: "request", id: `${view}:${id}`, method, url, type }, undefined, m.body ? [m.body] : []);
    } else if (m.vaeAtlas === "selection") {
      model.set("selection", m.indices);
      model.save_changes();
    }
  };
  const onKernel = (msg, buffers) => {
    if (!msg || msg.vaeAtlas !== "reply" || !String(msg.id).startsWith(`${view}:`)) return;
    const b = buffers && buffers[0];
    const body = b ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : new ArrayBuffer(0);
    const id = Number(String(msg.id).slice(view.length + 1));
    frame.contentWindow.postMessage({ vaeAtlas: "reply", id, status: msg.status, type: msg.type, body }, "*", [body]);
  };
  window.addEventListener("message", onPage);
  model.on("msg:custom", onKernel);
  frame.srcdoc = model.get("page");
  el.appendChild(frame);
  return () => {
    window.removeEventListener("message", onPage);
    model.off("msg:custom", onKernel);
  };
}

export default { render };
