"""``kill -9`` of a process that writes checkpoints in a loop, many times at random moments: every
checkpoint left behind loads, and is one whole checkpoint (old or new), never a mix or a torn file.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
import torch

from vae_atlas.checkpoint import WEIGHTS, load_tensors
from vae_atlas.config import ModelConfig
from vae_atlas.models import build_model
from vae_atlas.training import make_adam
from vae_atlas.training.state import LoopPosition, load_checkpoint, save_checkpoint

KILLS = int(os.environ.get("VAE_ATLAS_TORN_KILLS", "30"))
# 1.6 MB of weights and twice that of Adam state: a kill often lands inside a write
MODEL = ModelConfig(image_shape=(1, 28, 28), latent_dim=8, hidden=(256,))


def generation(value: int) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """A model and an Adam state whose every tensor holds ``value``."""
    model = build_model(MODEL)
    opt = make_adam(model.parameters(), lr=1e-3)
    model.loss(torch.rand(2, 1, 28, 28)).loss.backward()
    opt.step()
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(value)
        for slots in opt.state.values():
            slots["exp_avg"].fill_(value)
            slots["exp_avg_sq"].fill_(value)
    return model, opt


def position(epoch: int) -> LoopPosition:
    """An epoch boundary of a run with one single-image batch per epoch (step = epoch)."""
    return LoopPosition(epoch=epoch, step=epoch)


def write_forever(run_dir: Path, states: list) -> None:
    """The writer (a forked child): checkpoint generation 1, 2, 1, 2, ... until killed.

    The tensors are prepared before the fork, so the child only serialises and writes. fsync is
    skipped: a killed process loses nothing the page cache holds, and without the wait for the
    disk most of the child's time is spent inside writes, where a kill would tear a file written
    in place.
    """
    os.fsync = lambda fd: None
    gen = torch.Generator().manual_seed(0)
    try:
        for i in range(10**9):
            model, opt = states[i % 2]
            save_checkpoint(run_dir, model, opt, gen, position(i % 2 + 1))
    finally:
        os._exit(0)


def load_whole(run_dir: Path) -> int:
    """Load what the killed writer left; every tensor must hold the recorded generation."""
    model, opt = generation(0)
    pos = load_checkpoint(run_dir, model, opt, torch.Generator(), n_train=1, batch_size=1)
    for name, p in model.named_parameters():
        assert torch.all(p == pos.epoch), f"{name} is not all {pos.epoch}"
    for slots in opt.state.values():
        assert torch.all(slots["exp_avg"] == pos.epoch) and torch.all(
            slots["exp_avg_sq"] == pos.epoch
        )
    weights, _ = load_tensors(run_dir / WEIGHTS)
    values = {float(t.flatten()[0]) for t in weights.values()}
    assert len(values) == 1 and all(torch.all(t == t.flatten()[0]) for t in weights.values())
    return pos.epoch


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kill9_mid_write_always_leaves_a_whole_checkpoint(tmp_path):
    rng = random.Random(7)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    states = [generation(1), generation(2)]
    started = time.perf_counter()
    save_checkpoint(run_dir, *states[0], torch.Generator(), position(1))
    # kill anywhere in the first four saves, however fast this machine writes now; a forked
    # child can write slower than the parent did (its first touches of the copied pages), so
    # while only one generation has been left behind the window doubles every ten kills
    window = 4 * (time.perf_counter() - started)
    seen: set[int] = set()
    kills = 0
    while kills < KILLS or (seen != {1, 2} and kills < 4 * KILLS):
        pid = os.fork()
        if pid == 0:
            write_forever(run_dir, states)
        time.sleep(rng.uniform(0.0, window))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        seen.add(load_whole(run_dir))
        kills += 1
        if kills % 10 == 0 and seen != {1, 2}:
            window *= 2
    assert seen == {1, 2}  # the kills did land between writes of both generations
