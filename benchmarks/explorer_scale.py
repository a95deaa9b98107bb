"""The explorer's map at 10,000, 100,000 and 1,000,000 points, in one run.

For each size a server (a child process) explores an untrained, seeded 2-D MLP VAE on that many
8x8 images (the digits repeated with noise: speed does not depend on training), and headless
chromium (the project's flags: ``vae_atlas.explorer.browser_flags``) measures:

1. page ready: navigation start → run loaded, decoder loaded and the points drawn (the later of
   ``metrics.readyMs`` and ``metrics.firstDrawnMs``). Target < 3 s.
2. pan/zoom: the page pans and zooms for 120 animation frames; the interval between frames and
   the page's own drawing time per frame (``scatter.lastBaseMs``, which cannot see work the
   browser defers: canvas rasterisation, the GL, compositing). Target: interval p95 within one
   60 Hz frame (<= 17 ms; headless chromium ticks at 16.7 ms). The snapshot the map draws once
   the view rests (all points at the new view) is timed separately.
3. pick: the nearest point under 500 random pointer positions through the page's grid index
   (``scatter.pick``), beside a scan of every point (what hovering cost without the index).
   Target: p95 < 1 ms at every size.
4. pointer move → decoded image on screen, p95 (the frame probe of ``explorer_latency.py``:
   event timestamp to the end of the frame that shows the image). Target < 33 ms.

``--projections RUN`` instead times t-SNE and UMAP of 70,000 codes, the way the explorer
computes them in the background (``explorer.maps.compute_map`` with t-SNE's progress), on the
latent means of RUN's model for all of MNIST (60,000 training + 10,000 test images).

``--renderers webgl canvas`` also measures the 2-D canvas fallback (``?renderer=canvas``). The
page reports its renderer and GL device (``UNMASKED_RENDERER_WEBGL``) and whether the browser
offers a WebGPU adapter (the embedding-atlas peer draws only with WebGPU).

Usage::

    python benchmarks/explorer_scale.py [--sizes 10000 100000 1000000] [--renderers webgl canvas]

One ``VERDICT`` line per target and size.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from _common import MNIST_DIR, chromium_available, launch_chromium, verdict
from explorer_latency import FRAME_PROBE, Server, big_images, build, pct, pointer_latency

SIZES = (10_000, 100_000, 1_000_000)


def serve(n: int, port: int) -> None:
    import torch
    import uvicorn

    from vae_atlas.explorer import ExplorerRun, create_app

    torch.set_num_threads(1)
    images, _ = big_images(n)
    run = ExplorerRun.from_model(build("big"), images, name=f"n{n}")
    uvicorn.run(create_app([run]), host="127.0.0.1", port=port, log_level="warning")


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.add_init_script(FRAME_PROBE)
    page.goto(url)
    page.wait_for_function(
        "window.__atlas && window.__atlas.state.ready && window.__atlas.metrics.firstDrawnMs",
        timeout=120_000,
    )
    return page


def ready_ms(page) -> float:
    return page.evaluate(
        "Math.max(window.__atlas.metrics.readyMs, window.__atlas.metrics.firstDrawnMs)"
    )


PAN_ZOOM = """(frames) => new Promise((resolve) => {
  const s = window.__atlas.scatter, draws = [], gaps = []; let k = 0, last = null;
  const step = (t) => {
    if (last !== null) gaps.push(t - last);
    last = t;
    if (k > 0) draws.push(s.lastBaseMs); // the frame queued by the previous step
    if (k % 2) s.pan(7, -4); else s.zoom(k % 40 < 20 ? 1.04 : 0.96, 600, 400);
    if (++k < frames) requestAnimationFrame(step);
    else setTimeout(() => resolve({ draws, gaps, snapshot: s.lastSnapshotMs }), 400);
  };
  requestAnimationFrame(step); })"""

PICKS = """() => {
  const s = window.__atlas.scatter, { width, height } = s.cssSize(), n = 500;
  let seed = 7; const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const at = Array.from({ length: n }, () => [rnd() * width, rnd() * height]);
  const scan = (sx, sy) => {  // the nearest point by looking at every one
    const [dx, dy] = s.toData(sx, sy), r = 8 / s.view.scale; let best = -1, bd = r * r;
    for (let i = 0; i < s.x.length; i++) {
      const ex = s.x[i] - dx, ey = s.y[i] - dy, d = ex * ex + ey * ey;
      if (d < bd) { bd = d; best = i; }
    }
    return best;
  };
  const time = (f) => at.map(([x, y]) => {
    const t = performance.now(); f(x, y); return performance.now() - t; });
  // the same answers (ties aside: equal distances)
  const same = at.filter(([x, y]) => {
    const a = s.pick(x, y), b = scan(x, y);
    return a === b || (a >= 0 && b >= 0 && s.x[a] === s.x[b] && s.y[a] === s.y[b]); }).length;
  return { index: time((x, y) => s.pick(x, y)), scan: time(scan).slice(0, 100), same, n };
}"""

DEVICE = """async () => {
  const s = window.__atlas.scatter;
  const gpu = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
  return { renderer: s.renderer, device: s.painter.device || "2-D canvas", webgpu: !!gpu };
}"""


def measure(browser, server: Server, renderer: str, repeats: int) -> dict:
    url = f"{server.url}?test=1&renderer={renderer}"
    ready = []
    for _ in range(repeats):
        page = open_page(browser, url)
        ready.append(ready_ms(page))
        page.close()
    page = open_page(browser, url)
    out = {"ready": np.array(ready), **page.evaluate(DEVICE)}
    page.wait_for_timeout(300)
    out["frames"] = page.evaluate(PAN_ZOOM, 120)
    page.evaluate("window.__atlas.fit()")
    page.wait_for_timeout(300)
    out["pick"] = page.evaluate(PICKS)
    out["pointer"] = pointer_latency(page, 150)
    page.close()
    return out


def report(n: int, renderer: str, m: dict) -> bool:
    draws, gaps = np.array(m["frames"]["draws"]), np.array(m["frames"]["gaps"])
    index, scan = np.array(m["pick"]["index"]), np.array(m["pick"]["scan"])
    lat = m["pointer"]["latencies"]
    print(f"\n{n:,} points, {m['renderer']} ({m['device']}; WebGPU adapter: {m['webgpu']})")
    ready = m["ready"]
    print(f"  page ready          median {np.median(ready):.0f} ms, max {ready.max():.0f} ms")
    print(
        f"  pan/zoom frame      drawing {pct(draws)}; "
        f"interval p95 {np.percentile(gaps, 95):.1f} ms; "
        f"snapshot at rest {m['frames']['snapshot']:.1f} ms"
    )
    print(
        f"  pick                grid index {pct(index)}; scan of all points {pct(scan)};"
        f" same point {m['pick']['same']}/{m['pick']['n']}"
    )
    print(f"  pointer -> image    {pct(lat)} ({m['pointer']['images']} images)")
    tag = f"{n:,} points, {renderer}"
    ok = verdict(
        f"page ready < 3 s ({tag})",
        np.median(m["ready"]) < 3000,
        f"median {np.median(m['ready']):.0f} ms",
    )
    # the interval between frames holds what the page's own timing cannot see (the canvas's
    # deferred drawing, the GL and the compositor); a 60 Hz display shows 16.7 ms at best
    p95, work = np.percentile(gaps, 95), np.percentile(draws, 95)
    ok &= verdict(
        f"pan/zoom frame p95 within one 60 Hz frame, <= 17 ms ({tag})",
        p95 <= 17,
        f"interval {p95:.1f} ms; the page's own drawing {work:.1f} ms",
    )
    p95 = np.percentile(index, 95)
    ok &= verdict(f"pick through the index p95 < 1 ms ({tag})", p95 < 1, f"{p95:.3f} ms")
    p95 = np.percentile(lat, 95)
    ok &= verdict(
        f"pointer -> decoded image on screen p95 < 33 ms ({tag})", p95 < 33, f"{p95:.1f} ms"
    )
    return ok


def time_projections(run_dir: str) -> None:
    import torch

    from vae_atlas import load_run
    from vae_atlas.analysis import encode_images
    from vae_atlas.data import ImageSet, load_idx_dataset
    from vae_atlas.explorer.maps import compute_map

    torch.set_num_threads(1)
    mnist = load_idx_dataset("mnist", data_dir=str(MNIST_DIR))
    images = torch.cat([mnist.train.images, mnist.test.images])
    mu = encode_images(load_run(run_dir).model, ImageSet(images=images)).mu
    print(f"{len(mu):,} codes of {run_dir} (D={mu.shape[1]})")
    for projection in ("tsne", "umap"):
        heard: list[float] = []
        lmap = compute_map(projection, mu, progress=heard.append)
        print(f"  {projection}: {lmap.seconds:.0f} s ({len(heard)} progress reports)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--renderers",
        nargs="+",
        default=["auto", "webgl"],
        choices=["auto", "webgl", "webgl-points", "canvas"],
    )
    parser.add_argument("--repeats", type=int, default=3, help="page loads timed per size")
    parser.add_argument("--projections", metavar="RUN", help="time t-SNE/UMAP of 70,000 codes")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0
    if args.projections:
        time_projections(args.projections)
        return 0
    if not chromium_available():
        print("no chromium: nothing measured")
        return 2
    from playwright.sync_api import sync_playwright

    print(f"explorer at scale (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    ok = True
    with sync_playwright() as p:
        browser = launch_chromium(p)
        for n in args.sizes:
            server = Server(str(n), script=__file__)
            try:
                for renderer in args.renderers:
                    ok &= report(n, renderer, measure(browser, server, renderer, args.repeats))
            finally:
                server.close()
        browser.close()
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
