"""The package as a user installs it: ``python -m build`` makes an sdist and a wheel without
warnings, and the wheel, installed into a fresh virtual environment, runs ``vae-atlas demo``
with every data file (the explorer's page) in place."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "vae_atlas"


def data_files() -> list[str]:
    """Every file of the package that is not Python source, relative to ``src/``."""
    return sorted(
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    )


def run(cmd, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow  # builds an sdist and a wheel, then trains the demo from a fresh venv: ~1 min
def test_wheel_installs_into_a_fresh_venv_and_runs_the_demo(tmp_path):
    pytest.importorskip("build")
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(
        PACKAGE, source / "src" / "vae_atlas", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    }
    dist = tmp_path / "dist"
    build = run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        env=env,
    )
    log = (build.stdout + build.stderr).lower()
    assert "warning" not in log and "deprecat" not in log, build.stdout + build.stderr
    [wheel] = dist.glob("*.whl")
    [sdist] = dist.glob("*.tar.gz")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as tar:
        in_sdist = {name.partition("/")[2] for name in tar.getnames()}
    for name in data_files():
        assert name in in_wheel, f"{name} missing from the wheel"
        assert f"src/{name}" in in_sdist, f"{name} missing from the sdist"
    assert "LICENSE" in in_sdist

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    here = run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    # torch and the other dependencies come from this environment: no network needed
    Path(site.stdout.strip(), "dependencies.pth").write_text(here.stdout.strip() + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    run([*pip, "--no-index", str(wheel)], env=env)

    where = run([str(python), "-c", "import vae_atlas; print(vae_atlas.__file__)"], env=env)
    installed = Path(where.stdout.strip()).parent
    assert installed.is_relative_to(venv)
    for name in data_files():
        assert (installed.parent / name).is_file(), name
    demo = run(
        [str(venv / "bin" / "vae-atlas"), "demo", "--out", "runs/demo", "--no-progress"],
        cwd=tmp_path,
        env=env,
    )
    assert "runs/demo/report/index.html" in demo.stdout
    assert (tmp_path / "runs" / "demo" / "report" / "index.html").is_file()
