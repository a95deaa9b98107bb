"""Mutation check: put small realistic bugs into a copy of ``src/`` one at a time and see whether
the tests chosen for each bug fail ("killed") or still pass ("survived").

    python tools/mutants.py                       # every mutant in tools/mutants.toml
    python tools/mutants.py --only models/ -v     # names containing "models/", with test output

Each mutant in the list names a file under ``src/vae_atlas/``, an exact snippet of it, the
replacement and the tests to run. The tree (``src/``, ``tests/``, ``pyproject.toml``) is copied
once to a temporary folder; each mutant is applied to that copy, its tests run there (in a forked
child that imports the copy's package) and the file is restored. The working tree is never
touched. Needs a POSIX system (fork).
A snippet that is not in the file (the code moved on) is reported as "does not apply" and left out
of the score; so is a snippet that occurs more than once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    sys.exit("tools/mutants.py needs Python 3.11 or newer (tomllib)")

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path("src") / "vae_atlas"
COPIED = ("src", "tests", "pyproject.toml")


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    verdict: str  # killed, survived, timeout (counts as killed), does not apply
    seconds: float
    output: str = ""


def read_mutants(path: Path) -> list[Mutant]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, row in enumerate(data.get("mutant", [])):
        missing = {"name", "file", "original", "replacement", "tests"} - row.keys()
        if missing:
            sys.exit(f"{path}: mutant #{i + 1} lacks {', '.join(sorted(missing))}")
        out.append(
            Mutant(
                row["name"], row["file"], row["original"], row["replacement"], tuple(row["tests"])
            )
        )
    return out


def copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)


# Heavy third-party imports done once in this process and inherited by every forked test run;
# vae_atlas itself is never imported here, so each child imports the mutated copy afresh.
PRELOAD = (
    "numpy", "scipy.stats", "torch", "sklearn.neighbors", "sklearn.linear_model",
    "sklearn.metrics", "sklearn.decomposition", "matplotlib.pyplot", "PIL.Image", "safetensors",
    "fastapi", "fastapi.testclient", "pydantic", "hypothesis", "pytest",
)  # fmt: skip


def preload() -> None:
    import importlib

    import matplotlib

    matplotlib.use("Agg")
    for name in PRELOAD:
        importlib.import_module(name)


def run_tests(root: Path, tests: tuple[str, ...], timeout: float) -> tuple[int | None, str]:
    """pytest's exit code (None on timeout) and its output, run inside the copy ``root``.

    The run happens in a forked child of this process (which has already imported torch and the
    other heavy libraries), so a mutant costs its tests' time, not a fresh interpreter's start.
    """
    log = root / ".mutant-output.txt"
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 3
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.chdir(root)
            os.environ["PYTHONPATH"] = str(root / "src")  # for subprocesses the tests start
            sys.path[:0] = [str(root / "src"), str(root)]
            import pytest

            code = int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests]))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None, log.read_text(errors="replace")
        time.sleep(0.05)
    return os.waitstatus_to_exitcode(status), log.read_text(errors="replace")


def check(root: Path, mutant: Mutant, timeout: float) -> Outcome:
    path = root / PACKAGE / mutant.file
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    if original.count(mutant.original) != 1:
        return Outcome(mutant, "does not apply", 0.0)
    path.write_text(original.replace(mutant.original, mutant.replacement), encoding="utf-8")
    started = time.perf_counter()
    try:
        code, output = run_tests(root, mutant.tests, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    seconds = time.perf_counter() - started
    if code is None:
        return Outcome(mutant, "timeout", seconds, output)
    if code in (0, 5):  # 5: no tests collected: the selection is wrong, nothing caught the bug
        return Outcome(mutant, "survived", seconds, output)
    return Outcome(mutant, "killed", seconds, output)


def baseline(root: Path, mutants: list[Mutant], timeout: float) -> None:
    """The selected tests must pass on the unmutated copy, or no verdict would mean anything."""
    selection = tuple(dict.fromkeys(t for m in mutants for t in m.tests))
    code, output = run_tests(root, selection, timeout * 4)
    if code != 0:
        print(output[-4000:])
        sys.exit("the selected tests fail (or time out) without any mutant; fix that first")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", type=Path, default=REPO / "tools" / "mutants.toml")
    parser.add_argument("--only", default="", help="run the mutants whose name contains this")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    parser.add_argument("-v", "--verbose", action="store_true", help="print survivors' output")
    args = parser.parse_args(argv)
    mutants = [m for m in read_mutants(args.list) if args.only in m.name]
    if not mutants:
        sys.exit(f"no mutant in {args.list} matches --only {args.only!r}")
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still remove the temporary copy
    os.environ["OMP_NUM_THREADS"] = "1"
    preload()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="vae-atlas-mutants-") as tmp:
        root = Path(tmp)
        copy_tree(root)
        if not args.no_baseline:
            baseline(root, mutants, args.timeout)
        for mutant in mutants:
            outcome = check(root, mutant, args.timeout)
            outcomes.append(outcome)
            print(f"{outcome.verdict:<15} {outcome.seconds:6.1f} s  {mutant.name}", flush=True)
            if args.verbose and outcome.verdict == "survived":
                print(outcome.output[-3000:])
    applied = [o for o in outcomes if o.verdict != "does not apply"]
    killed = sum(o.verdict in ("killed", "timeout") for o in applied)
    minutes = (time.perf_counter() - started) / 60
    score = 100.0 * killed / len(applied) if applied else 0.0
    print(
        f"\nscore: {killed} of {len(applied)} mutants killed ({score:.0f} %); "
        f"{len(outcomes) - len(applied)} did not apply; {minutes:.1f} min"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
