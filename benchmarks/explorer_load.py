"""Bounded load test of the explorer on loopback: concurrent clients hammering the decode route.

    python benchmarks/explorer_load.py                      # 32 clients x 2,000 requests
    python benchmarks/explorer_load.py --run runs/m2 --clients 8 --requests 500

Starts ``vae-atlas explore RUN`` in a subprocess on 127.0.0.1 (a free port), then runs
``--clients`` threads, each with one keep-alive connection, each sending ``--requests``
``GET /api/runs/{id}/decode.png?z=...`` requests. About 5% of the requests are deliberately bad
(NaN, a wrong-length code, garbage): those must get a 4xx, the rest a 200 PNG; any 5xx, dropped
connection or timeout counts as an error. Prints p50/p99 latency, throughput, errors, and the
server's resident memory before and after. Traffic goes only to 127.0.0.1, and the test stops
by itself: every client has a fixed request count and the whole run a deadline. Each client's
requests come from its own seeded generator, so a run sends the same requests every time.

Targets, one ``VERDICT`` line each: no request errored (every valid one a 200 PNG, every bad one
a 4xx); the server is alive at the end and printed no traceback.

Without ``--run`` it trains a small 2-D digits VAE first (a few seconds). Exit status 1 if a
target is not met.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import free_port, verdict

BAD_QUERIES = ("nan,0", "1", "a,b", "1e300,0", "inf,-inf", "", "0,0,0,0,0,0,0,0,0")


def rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) / 1024


def small_run(root: Path) -> Path:
    import vae_atlas as va

    out = root / "load-run"
    cfg = va.RunConfig(
        data=va.DataConfig(name="digits"),
        model=va.ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(128,)),
        train=va.TrainConfig(epochs=5, batch_size=64, probe_size=100),
    )
    va.train(cfg, out, progress=False, log=lambda _: None)
    return out


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"explorer exited early with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/runs")
            body = conn.getresponse().read().decode()
            return re.search(r'"id":"([^"]+)"', body).group(1)
        except (OSError, AttributeError):
            time.sleep(0.2)
    raise SystemExit("explorer did not become ready in time")


class Client(threading.Thread):
    """One keep-alive connection sending a fixed number of decode requests."""

    def __init__(self, port: int, run_id: str, dim: int, n: int, seed: int, deadline: float):
        super().__init__(daemon=True)
        self.port, self.run_id, self.dim, self.n = port, run_id, dim, n
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.bad_ok = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for _ in range(self.n):
            if time.monotonic() > self.deadline:
                self.errors.append("deadline reached")
                return
            bad = self.rng.random() < 0.05
            if bad:
                z = self.rng.choice(BAD_QUERIES)
            else:
                z = ",".join(f"{self.rng.gauss(0, 1.5):.4f}" for _ in range(self.dim))
            t0 = time.perf_counter()
            try:
                conn.request("GET", f"/api/runs/{self.run_id}/decode.png?z={z}")
                resp = conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            elapsed = time.perf_counter() - t0
            if bad:
                if 400 <= resp.status < 500:
                    self.bad_ok += 1
                else:
                    self.errors.append(f"bad request z={z!r} got {resp.status}")
            elif resp.status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n":
                self.latencies.append(elapsed)
            else:
                self.errors.append(f"valid request got {resp.status}")
        conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, help="run directory (default: train a small one)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000, help="requests per client")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds for the whole run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run or small_run(Path(tmp))
        import vae_atlas as va

        dim = va.load_run(run_dir).config.model.latent_dim
        port = free_port()
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "vae_atlas.cli", "explore", str(run_dir), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            run_id = wait_ready(port, proc)
            rss_before = rss_mib(proc.pid)
            deadline = time.monotonic() + args.deadline
            clients = [
                Client(port, run_id, dim, args.requests, i, deadline) for i in range(args.clients)
            ]
            t0 = time.perf_counter()
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            wall = time.perf_counter() - t0
            rss_after = rss_mib(proc.pid)
            alive = proc.poll() is None
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=30)

    lat = [x for c in clients for x in c.latencies]
    errors = [e for c in clients for e in c.errors]
    bad_ok = sum(c.bad_ok for c in clients)
    total = len(lat) + bad_ok + len(errors)
    print(
        f"explorer load test: {args.clients} clients x {args.requests} requests on 127.0.0.1 "
        f"(latent_dim {dim}, run {run_dir.name})"
    )
    print(f"  requests        {total} in {wall:.1f} s = {total / wall:.0f} req/s")
    print(
        f"  valid -> 200    {len(lat)}   p50 {1e3 * percentile(lat, 50):.2f} ms   "
        f"p99 {1e3 * percentile(lat, 99):.2f} ms   max {1e3 * max(lat):.2f} ms"
    )
    print(f"  bad -> 4xx      {bad_ok}")
    print(f"  errors          {len(errors)}" + (f"  e.g. {errors[:3]}" if errors else ""))
    print(
        f"  server RSS      {rss_before:.0f} MiB before, {rss_after:.0f} MiB after "
        f"({rss_after - rss_before:+.0f} MiB)"
    )
    print(f"  server alive    {alive}")
    traceback = b"Traceback" in stderr
    if traceback:
        print("  server printed a traceback:\n" + stderr.decode()[-2000:])
    ok = verdict("no request errored", not errors, f"{len(errors)} errors of {total}")
    ok &= verdict(
        "server alive, no traceback",
        alive and not traceback,
        f"alive {alive}, traceback {traceback}",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
