"""Scale: training from the on-disk image store, and memory when a million images are encoded.

    python benchmarks/scale.py throughput [--data-dir ../shared/datasets/mnist] [--threads 2]
    python benchmarks/scale.py pipeline --n 1000000 --work /tmp/scale [--threads 1]
    python benchmarks/scale.py ranks [--epochs 3] [--repeats 1] [--steps-only]

``throughput``: the default MLP VAE trained one epoch on MNIST's 55,000 training images, once from
the in-memory dataset and once from an image store prepared from the same files (identical
splits and seed, so identical arithmetic), alternating ``--repeats`` times; images/s of each run
from its ``metrics.jsonl``, the median of each source. Target: store ≥ 0.9× in-memory.

``pipeline``: the whole path at scale, each stage a child process timed and measured (peak RSS
from its own ``getrusage``): ``prepare --dataset shapes`` with ``--n`` 32×32 images, ``train`` one
epoch from the store (2-D MLP VAE, batch 1024), ``report``, ``explore`` (until the page and its
first map are served), and encoding the store's whole training split. For that last stage the
child reads its resident memory (``VmRSS``) once the model and the mapped store are loaded (the
baseline), restarts the kernel's peak there (``/proc/self/clear_refs``) and reads the peak
(``VmHWM``) after encoding. Target: peak − baseline < 1 GiB + the codes
(N × D × 8 bytes for the means and as much again for the log-variances).

``ranks``: 2 gloo ranks × 1 thread under torchrun against 1 process × 2 threads on the same
global batch (see ``benchmarks/scale_ranks.py``). Target: 2 ranks ≥ 0.8× the 1-process throughput.

Sections run by name (``SECTIONS``), each printing its own table and VERDICT lines. Exit status 1
if a target is not met.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import scale_ranks
from _common import MNIST_DIR, free_port, print_table, verdict

GIB = 2**30
# a child that runs one vae-atlas command and reports its own peak resident memory
CLI_CHILD = (
    "import resource, sys\n"
    "from vae_atlas.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    "print('MAXRSS_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(rc)\n"
)
# a child that encodes a store's training split: baseline RSS once everything is loaded, then peak
ENCODE_CHILD = """
import re, sys, time
from pathlib import Path
import torch
torch.set_num_threads(int(sys.argv[3]))
import vae_atlas as va
from vae_atlas.analysis.encode import encode_images
from vae_atlas.data import load_store
def status(key):
    text = Path("/proc/self/status").read_text()
    return int(re.search(key + r":\\s+(\\d+) kB", text).group(1)) * 1024
run = va.load_run(sys.argv[1])
train = load_store(sys.argv[2], verify=False).train
model = run.model
encode_images(model, train.images[:1024])  # warm the allocator with one batch
base = status("VmRSS")
Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) restarts from here
t0 = time.perf_counter()
lat = encode_images(model, train)
seconds = time.perf_counter() - t0
codes = lat.mu.nbytes + (0 if lat.logvar is None else lat.logvar.nbytes)
print("ENCODE", len(train), base, status("VmHWM"), codes, round(seconds, 1))
"""


def run_cli(args: list[str], threads: int | None = None) -> tuple[float, int]:
    """Run ``vae-atlas ARGS`` in a child; (seconds, peak RSS in bytes). Raises on failure."""
    t0 = time.perf_counter()
    cmd = [sys.executable, "-c", CLI_CHILD, *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"vae-atlas {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    kib = int(done.stderr.rsplit("MAXRSS_KIB", 1)[1].split()[0])
    return seconds, kib * 1024


def images_per_s(run: Path) -> float:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return float(rows[-1]["images_per_s"])


def throughput(args: argparse.Namespace) -> bool:
    work = Path(tempfile.mkdtemp(prefix="scale-"))
    store = work / "mnist-store"
    source = ["--dataset", "mnist", "--data-dir", str(args.data_dir)]
    run_cli(["prepare", *source, "--out", str(store)])
    common = ["--epochs", "1", "--no-progress", "--quiet", "--threads", str(args.threads)]
    sources = {
        "in memory": source,
        "store": ["--dataset", "store", "--data-dir", str(store)],
    }
    rates: dict[str, list[float]] = {name: [] for name in sources}
    for repeat in range(args.repeats):
        for name, flags in sources.items():
            out = work / f"{name.replace(' ', '-')}-{repeat}"
            run_cli(["train", *flags, *common, "--out", str(out)])
            rates[name].append(images_per_s(out))
    median = {name: statistics.median(values) for name, values in rates.items()}
    rows = [["source", "images/s per run (in the order run)", "median"]]
    rows += [[n, ", ".join(f"{v:.0f}" for v in rates[n]), f"{median[n]:.0f}"] for n in sources]
    print_table(rows)
    ratio = median["store"] / median["in memory"]
    return verdict(
        "store training throughput >= 0.9x in-memory (MNIST)",
        ratio >= 0.9,
        f"{ratio:.2f}x: median {median['store']:.0f} vs {median['in memory']:.0f} images/s "
        f"over {args.repeats} alternated runs each, {args.threads} threads",
    )


def wait_for_explorer(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the explorer exited early:\n{proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs", timeout=5) as r:
                run_id = json.loads(r.read())[0]["id"]
            map_url = f"http://127.0.0.1:{port}/api/runs/{run_id}/map"
            with urllib.request.urlopen(map_url, timeout=600) as r:
                r.read()
            return
        except OSError:
            time.sleep(1.0)
    sys.exit(f"the explorer did not answer within {timeout:.0f} s")


def explore(run: Path, timeout: float) -> tuple[float, int]:
    """Start ``vae-atlas explore RUN``; seconds until it answers, and its peak RSS then."""
    port = free_port()
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "vae_atlas.cli", "explore", str(run), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_explorer(port, proc, timeout)
        seconds = time.perf_counter() - t0
        text = Path(f"/proc/{proc.pid}/status").read_text()
        peak = int(text.split("VmHWM:")[1].split()[0]) * 1024
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return seconds, peak


def pipeline(args: argparse.Namespace) -> bool:
    work = Path(args.work or tempfile.mkdtemp(prefix="scale-"))
    store, run = work / "store", work / "run"
    threads = ["--threads", str(args.threads)]
    rows = [["stage", "seconds", "peak RSS (GiB)"]]
    stages = [
        ("prepare", ["prepare", "--dataset", "shapes", "--image-size", "32", "--n-samples",
                     str(args.n), "--test-fraction", "0.01", "--val-size", str(args.n // 100),
                     "--out", str(store)]),
        ("train 1 epoch", ["train", "--dataset", "store", "--data-dir", str(store), "--epochs",
                           "1", "--batch-size", "1024", "--latent-dim", "2", "--hidden",
                           "256,128", "--no-progress", *threads, "--out", str(run)]),
        ("report", ["report", str(run)]),
    ]  # fmt: skip
    for name, cli in stages:
        seconds, peak = run_cli(cli)
        rows.append([name, f"{seconds:.1f}", f"{peak / GIB:.2f}"])
        print(f"  {name}: {seconds:.1f} s, peak RSS {peak / GIB:.2f} GiB", flush=True)
    seconds, peak = explore(run, timeout=1800)
    rows.append(["explore (until it answers)", f"{seconds:.1f}", f"{peak / GIB:.2f}"])
    cmd = [sys.executable, "-c", ENCODE_CHILD, str(run), str(store), str(args.threads)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"encoding the store failed:\n{done.stderr[-2000:]}")
    _, n, base, hwm, codes, enc_s = done.stdout.split()
    rows.append([f"encode train split ({int(n):,} images)", enc_s, f"{int(hwm) / GIB:.2f}"])
    print_table(rows)
    grown = int(hwm) - int(base)
    return verdict(
        "encoding the store: peak RSS - baseline < 1 GiB + the codes",
        grown < GIB + int(codes),
        f"grew {grown / 2**20:.0f} MiB over a {int(base) / 2**20:.0f} MiB baseline; codes "
        f"{int(codes) / 2**20:.0f} MiB; store {int(n):,} training images",
    )


SECTIONS = {"throughput": throughput, "pipeline": pipeline, "ranks": scale_ranks.section}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("sections", nargs="+", choices=sorted(SECTIONS))
    p.add_argument("--data-dir", type=Path, default=MNIST_DIR, help="MNIST's IDX files")
    p.add_argument("--threads", type=int, default=2, help="torch threads per process")
    p.add_argument("--repeats", type=int, default=3, help="throughput, ranks: runs of each side")
    p.add_argument("--epochs", type=int, default=3, help="ranks: epochs of each training")
    p.add_argument("--batch-size", type=int, default=128, help="ranks: the global batch")
    p.add_argument("--steps-only", action="store_true",
                   help="ranks: time steps only (the verdict compares steps)")  # fmt: skip
    p.add_argument("--n", type=int, default=1_000_000, help="pipeline: images in the store")
    p.add_argument("--work", default=None, help="pipeline: folder for the store and the run")
    args = p.parse_args()
    met = [SECTIONS[name](args) for name in args.sections]
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
