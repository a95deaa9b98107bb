"""How fast does a conv decoder decode in the page, and how big is its static export?

For each conv decoder below (untrained and seeded — speed does not depend on training), the
static explorer is exported (``export_static``, as ``vae-atlas explore RUN --export DIR`` writes
it), opened from ``file://`` in headless chromium, and the page's own decoder
(``window.__atlas.state.decoder``, the one hover decoding calls) decodes ``--codes`` random codes
z ~ N(0, 1.5²) after 20 warm-up decodes; each decode is timed alone with ``performance.now()``
(JS decode only: no drawing). Target: the 28×28 conv decoder (the default channels 32, 64, 128
and a 20-D code) p95 < 33 ms.

With the real MNIST test images (``../shared/datasets/mnist``) the 28×28 export holds all
10,000 of them; its size is checked against the 10 MB budget. Without them, 1,000 random images
stand in and no size verdict is printed.

Usage::

    python benchmarks/conv_decode_page.py [--codes 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from _common import MNIST_DIR, chromium_available, launch_chromium, print_table, verdict

LATENT = 20
DECODERS = {  # name: (image shape, channels per stage)
    "1x28x28": ((1, 28, 28), (32, 64, 128)),
    "3x32x32": ((3, 32, 32), (32, 64, 128)),
    "3x64x64": ((3, 64, 64), (32, 32, 64, 64)),
}

TIME_DECODES = """([n, dim]) => {
  const decoder = window.__atlas.state.decoder;
  let seed = 1;
  const normal = () => {  // a small LCG + Box-Muller: the same codes in every run
    seed = (seed * 1103515245 + 12345) % 2147483648; const u = (seed + 1) / 2147483649;
    seed = (seed * 1103515245 + 12345) % 2147483648; const v = seed / 2147483648;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const code = () => Array.from({ length: dim }, () => 1.5 * normal());
  for (let i = 0; i < 20; i++) decoder.decode(code());
  const ms = [];
  for (let i = 0; i < n; i++) {
    const z = code(), t = performance.now();
    decoder.decode(z);
    ms.push(performance.now() - t);
  }
  return [decoder.label, ms];
}"""


def images_for(shape: tuple[int, int, int]):
    """The MNIST test split for 1x28x28 when it is here, else 1,000 seeded random images."""
    import torch

    from vae_atlas.config import DataConfig
    from vae_atlas.data import ImageSet, load_dataset

    if shape == (1, 28, 28) and (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        return load_dataset(DataConfig(name="mnist", data_dir=str(MNIST_DIR))).test, True
    g = torch.Generator().manual_seed(0)
    return ImageSet(torch.randint(0, 256, (1000, *shape), generator=g).to(torch.uint8)), False


def export(name: str, folder: Path) -> tuple[int, bool]:
    """Export the named decoder's explorer into ``folder``: (total bytes, whether on MNIST)."""
    import torch

    from vae_atlas.config import ModelConfig
    from vae_atlas.explorer import ExplorerRun
    from vae_atlas.explorer.static_export import export_static
    from vae_atlas.models import build_model

    shape, hidden = DECODERS[name]
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(family="conv", image_shape=shape, hidden=hidden, latent_dim=LATENT)
    ).eval()
    images, real = images_for(shape)
    done = export_static([ExplorerRun.from_model(model, images, name=name)], folder)
    assert not done.not_decoded, f"{name}: the export does not decode in the page"
    return done.total_bytes, real


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=200, help="timed decodes per decoder")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for exporting")
    args = parser.parse_args()
    if not chromium_available():
        print("chromium not found: nothing measured")
        return 1
    import torch
    from playwright.sync_api import sync_playwright

    torch.set_num_threads(args.threads)
    rows = [["decoder", "page decoder", "p50 ms", "p95 ms", "max ms", "export MB"]]
    results = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = launch_chromium(p)
        for name in DECODERS:
            size, real = export(name, Path(tmp) / name)
            page = browser.new_page()
            page.goto((Path(tmp) / name / "index.html").as_uri() + "?test=1")
            page.wait_for_function("window.__atlas && window.__atlas.state.ready", timeout=60_000)
            label, ms = page.evaluate(TIME_DECODES, [args.codes, LATENT])
            page.close()
            ms = np.asarray(ms)
            results[name] = (ms, size, real)
            note = " (MNIST 10k)" if real else ""
            rows.append(
                [name, label, f"{np.percentile(ms, 50):.2f}", f"{np.percentile(ms, 95):.2f}",
                 f"{ms.max():.2f}", f"{size / 1e6:.2f}{note}"]
            )  # fmt: skip
        browser.close()
    print_table(rows)
    ms, size, real = results["1x28x28"]
    p95 = float(np.percentile(ms, 95))
    ok = verdict("28x28 conv decode in the page p95 < 33 ms", p95 < 33, f"{p95:.2f} ms")
    if real:
        ok &= verdict("28x28 conv export of 10,000 MNIST points < 10 MB", size < 10_000_000,
                      f"{size / 1e6:.2f} MB")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
