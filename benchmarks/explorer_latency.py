"""How fast is the explorer? Numbers against baselines measured in the same run.

1. Server decode of one point, over loopback HTTP with keep-alive, for an MNIST-sized MLP
   decoder (20-512-784): the explorer's ``GET /api/runs/{id}/decode.png`` against a bare FastAPI
   endpoint that decodes the same model and returns a PNG (the floor). Both servers are separate
   uvicorn processes with one torch thread. Targets: p50 < 3 ms, p95 < 5 ms.
2. In the browser (Playwright + chromium): pointer move → decoded image on screen, p50/p95. A
   script injected before the page loads (:data:`FRAME_PROBE`; the explorer's code is not
   involved) records every ``pointermove``'s ``event.timeStamp`` and wraps the 2-D context's
   ``putImageData``/``drawImage`` on the ``#decoded`` canvas. The frame that shows a draw is the
   next animation frame (``requestAnimationFrame``), or the current one for a draw made inside an
   animation-frame callback (the browser renders the frame after its callbacks); the probe waits
   for the end of that frame's rendering (a message posted from the frame), and charges that
   time to every move since the previous image: the oldest such move gives the latency, and
   moves that shared one image are counted as coalesced; each latency is also split into
   event -> handler, handler -> image drawn and drawn -> shown. Target p95 < 33 ms for the
   in-page MLP decoder; a conv model behind a module of the user's own, decoded by the server,
   is measured without a target.
3. Page ready (navigation start → points drawn and decoder loaded) with 10,000 points.
   Target < 2 s.
4. 100,000 points: page ready, and the time to redraw the map per pan/zoom frame while the page
   pans and zooms for 120 animation frames. Target: redraw p95 within 16.7 ms (60 Hz).

Each target gets one ``VERDICT`` line at the end.

Usage::

    python benchmarks/explorer_latency.py [--requests 2000] [--quick]

Uses the real MNIST test images when ``../shared/datasets/mnist`` has them (random images
otherwise); models are untrained and seeded — speed does not depend on training. Timings on a
shared, loaded machine are inflated; compare the ratios.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time

import numpy as np

from _common import MNIST_DIR, chromium_available, free_port, launch_chromium, verdict

LATENT = 20
# Installed before any page script runs: pointer move -> the frame that shows its image. For the
# oldest move behind each image it also keeps where the time went: event -> its handler (the
# browser's input queue), handler -> image drawn (the page's code, the server for conv) and
# drawn -> end of the frame that shows it.
PARTS = ("event -> handler", "handler -> drawn", "drawn -> shown")
FRAME_PROBE = """
(() => {
  const probe = { pending: [], latencies: [], parts: [], coalesced: 0, images: 0, moves: 0 };
  window.__frameProbe = probe;
  addEventListener("pointermove", (e) => {
    probe.moves++;
    probe.pending.push([e.timeStamp, performance.now()]);
  }, { capture: true });
  // a draw made inside an animation-frame callback is shown by that same frame; any other draw
  // by the next one
  let inFrame = false;
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback) => raf((t) => {
    inFrame = true;
    try { callback(t); } finally { inFrame = false; }
  });
  const thisFrame = (f) => f();
  const shown = () => {
    const moves = probe.pending.splice(0);
    if (!moves.length) return;
    const drawn = performance.now();
    (inFrame ? thisFrame : raf)(() => {
      const channel = new MessageChannel();  // runs after this frame's rendering
      channel.port1.onmessage = () => {
        const now = performance.now(), [event, handled] = moves[0];
        probe.latencies.push(now - event);
        probe.parts.push([handled - event, drawn - handled, now - drawn]);
        probe.coalesced += moves.length - 1;
        probe.images++;
      };
      channel.port2.postMessage(null);
    });
  };
  const C = CanvasRenderingContext2D.prototype;
  for (const name of ["putImageData", "drawImage"]) {
    const original = C[name];
    C[name] = function (...args) {
      const out = original.apply(this, args);
      if (this.canvas && this.canvas.id === "decoded") shown();
      return out;
    };
  }
})();
"""


# ---------------------------------------------------------------- servers (child processes)
def mnist_images(n: int):
    import torch

    from vae_atlas.data import ImageSet

    try:
        from vae_atlas.data import load_idx_dataset

        test = load_idx_dataset("mnist", data_dir=str(MNIST_DIR)).test
        return test.subset(slice(0, n)), "MNIST test"
    except Exception:  # noqa: BLE001 - any failure: fall back to synthetic images
        g = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.uint8)
        return ImageSet(images, torch.randint(0, 10, (n,), generator=g)), "random"


def build(kind: str):
    import torch

    from vae_atlas.config import ModelConfig
    from vae_atlas.models import build_model

    torch.manual_seed(0)
    if kind == "conv":
        cfg = ModelConfig(
            family="conv", image_shape=(1, 28, 28), latent_dim=LATENT, hidden=(32, 64, 128)
        )
    elif kind == "big":
        cfg = ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(64,))
    else:
        cfg = ModelConfig(image_shape=(1, 28, 28), latent_dim=LATENT, hidden=(512,))
    return build_model(cfg).eval()


def big_images(n: int):
    """n 8x8 images: the digits, repeated with noise (the map is what is being measured)."""
    import torch

    from vae_atlas.data import ImageSet, load_digits

    d = load_digits().train
    reps = -(-n // len(d))
    g = torch.Generator().manual_seed(0)
    images = d.images.repeat(reps, 1, 1, 1)[:n].to(torch.int16)
    images = (images + torch.randint(-30, 31, images.shape, generator=g)).clamp(0, 255)
    return ImageSet(images.to(torch.uint8), d.labels.repeat(reps)[:n]), "digits + noise"


def bare_app(model):
    """The floor: parse the code, decode, encode a PNG, return it — nothing else."""
    import io

    import torch
    from fastapi import FastAPI
    from fastapi.responses import Response
    from PIL import Image

    app = FastAPI()

    @app.get("/decode.png")
    async def decode(z: str) -> Response:
        code = torch.tensor([[float(v) for v in z.split(",")]])
        with torch.inference_mode():
            x = model.decode(code)[0, 0].numpy()
        buf = io.BytesIO()
        Image.fromarray((x * 255).round().astype(np.uint8)).save(buf, "PNG", compress_level=1)
        return Response(buf.getvalue(), media_type="image/png")

    return app


def server_decoded(model):
    """``model`` behind a module of the user's own, whose decoder the page cannot run: the
    explorer then decodes it on the server (the path measured for the conv model)."""
    import torch

    class OwnModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model, self.latent_dim = model, model.latent_dim

        def encode(self, x):
            return self.model.encode(x)

        def decode(self, z):
            return self.model.decode(z)

    return OwnModel()


def serve(kind: str, port: int) -> None:
    import torch
    import uvicorn

    from vae_atlas.explorer import ExplorerRun, create_app

    torch.set_num_threads(1)
    model = build("conv" if kind == "conv" else "big" if kind == "big" else "mlp")
    if kind == "bare":
        app = bare_app(model)
    else:
        images, _ = big_images(100_000) if kind == "big" else mnist_images(10_000)
        shown = server_decoded(model) if kind == "conv" else model
        app = create_app([ExplorerRun.from_model(shown, images, name=kind)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---------------------------------------------------------------- measuring (parent)
class Server:
    """``python SCRIPT --serve KIND --port P`` in a child process, once it listens."""

    def __init__(self, kind: str, script: str = __file__) -> None:
        self.port = free_port()
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, script, "--serve", kind, "--port", str(self.port)], env=env
        )
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{kind} server exited") from None
                time.sleep(0.2)
        raise RuntimeError(f"{kind} server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def time_requests(port: int, path_of, n: int, warmup: int = 200) -> np.ndarray:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n + warmup):
        z = ",".join(f"{v:.5f}" for v in rng.normal(size=LATENT))
        t = time.perf_counter()
        conn.request("GET", path_of(z))
        resp = conn.getresponse()
        body = resp.read()
        dt = time.perf_counter() - t
        assert resp.status == 200 and body[:4] == b"\x89PNG", resp.status
        if i >= warmup:
            out.append(dt * 1e3)
    conn.close()
    return np.array(out)


def pct(ms: np.ndarray) -> str:
    return f"p50 {np.percentile(ms, 50):6.2f} ms   p95 {np.percentile(ms, 95):6.2f} ms"


def bench_server_decode(n: int) -> dict:
    import torch

    model = build("mlp")
    z = torch.randn(1, LATENT)
    with torch.inference_mode():
        for _ in range(50):
            model.decode(z)
        t = time.perf_counter()
        for _ in range(500):
            model.decode(z)
    decode_ms = (time.perf_counter() - t) / 500 * 1e3
    bare, explorer = Server("bare"), Server("mlp")
    try:
        # interleave rounds so load changes on the shared machine hit both alike
        b_ms, e_ms = [], []
        for _ in range(4):
            b_ms.append(time_requests(bare.port, lambda z: f"/decode.png?z={z}", n // 4))
            e_ms.append(
                time_requests(explorer.port, lambda z: f"/api/runs/mlp/decode.png?z={z}", n // 4)
            )
        b, e = np.concatenate(b_ms), np.concatenate(e_ms)
    finally:
        bare.close()
        explorer.close()
    print("\n1. server decode of one point (20-512-784 MLP, PNG over loopback HTTP)")
    print(f"   decode alone (torch, in process)  {decode_ms:.3f} ms")
    print(f"   bare FastAPI endpoint (floor)     {pct(b)}")
    print(f"   explorer decode.png               {pct(e)}")
    ratio50 = np.percentile(e, 50) / np.percentile(b, 50)
    ratio95 = np.percentile(e, 95) / np.percentile(b, 95)
    print(f"   explorer / floor                  p50 x{ratio50:.2f}   p95 x{ratio95:.2f}")
    return {"bare": b, "explorer": e}


def open_page(browser, url: str, timeout_ms: int = 60_000):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.add_init_script(FRAME_PROBE)
    page.goto(url + "?test=1")  # the page exposes window.__atlas only under this flag
    page.wait_for_function("window.__atlas && window.__atlas.state.ready", timeout=timeout_ms)
    return page


def page_ready(browser, url: str, repeats: int) -> np.ndarray:
    times = []
    for _ in range(repeats):
        page = open_page(browser, url)
        times.append(page.evaluate("window.__atlas.metrics.readyMs"))
        page.close()
    return np.array(times)


def pointer_latency(page, moves: int) -> dict:
    """Latencies (ms) from pointer move to the frame that shows its image, and the counts."""
    box = page.locator("#overlay").bounding_box()
    page.evaluate(
        "() => Object.assign(window.__frameProbe, "
        "{pending: [], latencies: [], coalesced: 0, images: 0, moves: 0})"
    )
    rng = np.random.default_rng(1)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for _ in range(moves):
        x = float(np.clip(x + rng.normal(0, 25), box["x"] + 5, box["x"] + box["width"] - 5))
        y = float(np.clip(y + rng.normal(0, 25), box["y"] + 5, box["y"] + box["height"] - 5))
        page.mouse.move(x, y)
        page.wait_for_timeout(8)
    page.wait_for_timeout(300)
    probe = page.evaluate("window.__frameProbe")
    probe["latencies"] = np.array(probe["latencies"])
    probe["parts"] = np.array(probe["parts"]).reshape(-1, 3)
    probe["unshown"] = len(probe["pending"])
    return probe


def breakdown(parts: np.ndarray) -> str:
    """The probe's three parts of each latency (rows: images), as median / p95."""
    return "   ".join(
        f"{name} {np.percentile(parts[:, k], 50):.1f} / {np.percentile(parts[:, k], 95):.1f} ms"
        for k, name in enumerate(PARTS)
    )


def js_decode_ms(page) -> float:
    return page.evaluate(
        """() => { const a = window.__atlas, z = new Float64Array(a.state.run.latent_dim).fill(0.3);
        for (let i = 0; i < 50; i++) a.state.decoder.decode(z);
        const t = performance.now(); for (let i = 0; i < 500; i++) a.state.decoder.decode(z);
        return (performance.now() - t) / 500; }"""
    )


def pan_zoom(page, frames: int = 120) -> dict:
    return page.evaluate(
        """(frames) => new Promise((resolve) => {
        const s = window.__atlas.scatter, draws = [], gaps = []; let k = 0, last = null;
        const step = (t) => {
          if (last !== null) gaps.push(t - last);
          last = t;
          if (k > 0) draws.push(s.lastBaseMs); // the redraw queued by the previous frame
          if (k % 2) s.pan(7, -4); else s.zoom(k % 40 < 20 ? 1.04 : 0.96, 600, 400);
          if (++k < frames) requestAnimationFrame(step); else resolve({draws, gaps});
        };
        requestAnimationFrame(step); })""",
        frames,
    )


def bench_browser(quick: bool) -> dict:
    from playwright.sync_api import sync_playwright

    if not chromium_available():
        print("\n(browser measurements skipped: no chromium)")
        return {}
    servers: dict[str, Server] = {}
    try:
        for kind in ("mlp", "conv", "big"):
            servers[kind] = Server(kind)
        with sync_playwright() as p:
            browser = launch_chromium(p)
            ready = page_ready(browser, servers["mlp"].url, 3 if quick else 5)
            page = open_page(browser, servers["mlp"].url)
            n_points = page.evaluate("window.__atlas.state.run.n_points")
            mlp = pointer_latency(page, 150 if quick else 400)
            js_ms = js_decode_ms(page)
            page.close()
            page = open_page(browser, servers["conv"].url)
            assert page.evaluate("window.__atlas.state.decoder") is None, "conv decoded in the page"
            conv = pointer_latency(page, 100 if quick else 250)
            page.close()
            big_ready = page_ready(browser, servers["big"].url, 2 if quick else 3)
            page = open_page(browser, servers["big"].url)
            n_big = page.evaluate("window.__atlas.state.run.n_points")
            frames = pan_zoom(page)
            page.close()
            browser.close()
    finally:
        for s in servers.values():
            s.close()
    print("\n2. pointer move -> decoded image on screen (the frame after the draw)")
    for name, probe in (("MLP decoded in the page   ", mlp), ("conv decoded by the server", conv)):
        print(
            f"   {name}  {pct(probe['latencies'])}   {probe['moves']} moves -> "
            f"{probe['images']} images ({probe['coalesced']} moves coalesced, "
            f"{probe['unshown']} never shown)"
        )
    print("   where the time went (median / p95 over the oldest move behind each image):")
    for name, probe in (("MLP", mlp), ("conv", conv)):
        print(f"   {name:4}  {breakdown(probe['parts'])}")
    print(f"   JS decode alone {js_ms:.3f} ms")
    print(
        f"\n3. page ready with {n_points:,} points   median {np.median(ready):.0f} ms   "
        f"max {ready.max():.0f} ms"
    )
    draws, gaps = np.array(frames["draws"]), np.array(frames["gaps"])
    print(
        f"\n4. {n_big:,} points: page ready median {np.median(big_ready):.0f} ms; pan/zoom "
        f"redraw {pct(draws)}; frame interval p95 {np.percentile(gaps, 95):.1f} ms"
    )
    return {"pointer": mlp["latencies"], "ready": ready, "n_points": n_points, "draws": draws}


def print_verdicts(server: dict, browser: dict) -> bool:
    """One VERDICT line per target; True when every measured target is met."""
    ok = True
    if server:
        e = server["explorer"]
        p50, p95 = np.percentile(e, 50), np.percentile(e, 95)
        ok &= verdict("server decode p50 < 3 ms", p50 < 3, f"{p50:.2f} ms")
        ok &= verdict("server decode p95 < 5 ms", p95 < 5, f"{p95:.2f} ms")
    if browser:
        lat = np.percentile(browser["pointer"], 95)
        ok &= verdict(
            "pointer move -> image on screen p95 < 33 ms (MLP in the page)",
            lat < 33,
            f"{lat:.1f} ms",
        )
        ready = float(np.median(browser["ready"]))
        ok &= verdict(
            f"page ready with {browser['n_points']:,} points < 2 s",
            ready < 2000,
            f"median {ready:.0f} ms",
        )
        redraw = np.percentile(browser["draws"], 95)
        ok &= verdict(
            "100,000-point pan/zoom redraw p95 < 16.7 ms", redraw < 16.7, f"{redraw:.1f} ms"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", choices=["bare", "mlp", "conv", "big"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-server", action="store_true", help="skip part 1")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0
    images, source = mnist_images(10)
    print(
        f"explorer latency benchmark (images: {source}; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs — timings are inflated when busy)"
    )
    server = {} if args.skip_server else bench_server_decode(500 if args.quick else args.requests)
    browser = {} if args.skip_browser else bench_browser(args.quick)
    print()
    return 0 if print_verdicts(server, browser) else 2


if __name__ == "__main__":
    sys.exit(main())
