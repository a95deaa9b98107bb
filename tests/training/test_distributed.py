"""The torchrun glue: rank detection, sharding of a global batch, loss scaling, reductions.

The two-process checks run real gloo process groups on CPU (torch.multiprocessing), and compare
DDP's averaged gradient with the plain autograd gradient of the mean over the whole batch.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import save_file

from vae_atlas.config import ConfigError, ModelConfig, RunConfig, TrainConfig
from vae_atlas.models import build_model
from vae_atlas.training import Trainer
from vae_atlas.training.distributed import (
    FROM_WRITER,
    DistributedContext,
    DistributedError,
    PeerLost,
    all_reduce_sums,
    check_batches,
    context_from_env,
    loss_scale,
    on_writer,
    process_group,
    rank_slice,
    stop_on_sigterm,
    threads_per_rank,
)
from vae_atlas.training.distributed_trainer import DistributedTrainer, wrap_model


def test_no_torchrun_variables_is_one_process() -> None:
    ctx = context_from_env({"PATH": "/usr/bin"})
    assert (ctx.rank, ctx.world_size, ctx.distributed, ctx.writes) == (0, 1, False, True)


def test_torchrun_variables_are_read() -> None:
    env = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    ctx = context_from_env(env)
    assert (ctx.rank, ctx.world_size, ctx.local_rank, ctx.local_world_size) == (3, 4, 1, 2)
    assert ctx.distributed and not ctx.writes


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RANK": "x", "WORLD_SIZE": "2"}, "RANK='x'"),
        ({"RANK": "2", "WORLD_SIZE": "2"}, "RANK=2"),
        (
            {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "2", "LOCAL_WORLD_SIZE": "2"},
            "LOCAL_RANK=2",
        ),
    ],
)
def test_bad_torchrun_variables_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(DistributedError, match=named):
        context_from_env(env)


def test_threads_share_the_cores() -> None:
    assert threads_per_rank(2, 2) == 1
    assert threads_per_rank(16, 4) == 4
    assert threads_per_rank(2, 4) == 1  # never zero


def test_batch_that_does_not_divide_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"--batch-size 100 does not divide by the world size 3"):
        check_batches(100, 1000, 3)
    # 9 images in batches of 4: the last batch holds 1 image, too few for 2 ranks
    with pytest.raises(ConfigError, match=r"last batch of 1 .* world size 2"):
        check_batches(4, 9, 2)
    check_batches(128, 1617, 2)  # last batch 81 images: fine


def test_rank_slices_tile_the_global_batch() -> None:
    batch = torch.tensor([7, 3, 9, 1, 4])
    ranks = [DistributedContext(rank=r, world_size=2) for r in range(2)]
    assert rank_slice(batch, ranks[0]).tolist() == [7, 3, 9]
    assert rank_slice(batch, ranks[1]).tolist() == [1, 4]


def test_loss_scale_hand_case() -> None:
    # 2 ranks, 3 and 2 images of a batch of 5: DDP halves the sum of the ranks' gradients
    assert loss_scale(3, 5, 2) == pytest.approx(1.2)
    assert loss_scale(2, 5, 2) == pytest.approx(0.8)
    assert loss_scale(64, 64, 1) == 1.0


# -- two real gloo processes ----------------------------------------------------------------------
MODEL = ModelConfig(image_shape=(1, 4, 4), latent_dim=2, hidden=(8,), objective="ae")


def _worker(rank: int, port: int, out: dict) -> None:
    # both ranks join through the store the test hosts, as torchrun's agent hosts one: a port
    # found free and left for rank 0 to bind seconds later can be taken meanwhile
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), TORCHELASTIC_USE_AGENT_STORE="True"
    )
    torch.set_num_threads(1)
    ctx = DistributedContext(rank=rank, world_size=2, local_world_size=2, local_rank=rank)
    with process_group(ctx, torch.device("cpu"), timeout_s=60):
        torch.manual_seed(0)
        model = build_model(MODEL)
        ddp = wrap_model(model, ctx, torch.device("cpu"))
        x = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(1))  # (B, C, H, W)
        mine = rank_slice(x, ctx)
        scaled, *_ = ddp(
            mine,
            kl_weight=1.0,
            capacity=0.0,
            k=1,
            generator=None,
            scale=loss_scale(mine.shape[0], x.shape[0], ctx.world_size),
        )
        scaled.backward()
        sums = all_reduce_sums({"images": float(mine.shape[0]), "rank": float(rank)}, ctx)
        trained = _train_one_epoch(DistributedTrainer, context=ctx)
        decided = on_writer(ctx, lambda: {"ran on": rank})
        try:
            on_writer(ctx, lambda: _refuse(rank))
            refused = None
        except ConfigError as exc:
            refused = (str(exc), getattr(exc, FROM_WRITER, False))
        out[rank] = {
            "grads": [p.grad.clone() for p in model.parameters()],
            "sums": sums,
            "decided": decided,
            "trained": trained,
            "refused": refused,
        }


CONFIG = RunConfig(
    model=MODEL, train=TrainConfig(epochs=1, batch_size=4, seed=3, device="cpu", lr=1e-2)
)


def _train_one_epoch(cls: type[Trainer], **kw: object) -> dict:
    """One epoch of 11 images in batches of 4, 4 and 3; the indices each step trained on."""
    seen: list[list[int]] = []

    class Recording(cls):  # type: ignore[valid-type, misc]
        def batch_indices(self, start: int) -> torch.Tensor:
            idx = super().batch_indices(start)
            seen.append(idx.tolist())
            return idx

    torch.manual_seed(0)
    model = build_model(MODEL)
    images = torch.rand(11, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    trainer = Recording(model, images, CONFIG, torch.Generator().manual_seed(4), **kw)
    assert trainer.run_epoch()
    return {"seen": seen, "weights": [p.detach().clone() for p in model.parameters()],
            "sums": trainer.end_epoch().sums}  # fmt: skip


def _refuse(rank: int) -> None:
    raise ConfigError(f"--flag refused on rank {rank}")


@pytest.fixture(scope="module")
def two_ranks() -> dict:
    with mp.Manager() as manager:
        out = manager.dict()
        store = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False)
        mp.spawn(_worker, args=(store.port, out), nprocs=2, join=True)
        return dict(out)


def test_ddp_gradient_is_the_mean_over_the_global_batch(two_ranks: dict) -> None:
    torch.manual_seed(0)
    model = build_model(MODEL)
    x = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    model.loss(x).loss.backward()  # one process, the mean over all 5 images
    for rank in (0, 1):
        for got, want in zip(two_ranks[rank]["grads"], model.parameters(), strict=True):
            torch.testing.assert_close(got, want.grad, rtol=1e-5, atol=1e-7)


def test_metric_sums_are_global_on_every_rank(two_ranks: dict) -> None:
    for rank in (0, 1):
        assert two_ranks[rank]["sums"] == {"images": 5.0, "rank": 1.0}


def test_rank_0_decides_for_every_rank(two_ranks: dict) -> None:
    assert two_ranks[0]["decided"] == two_ranks[1]["decided"] == {"ran on": 0}
    # rank 0 raises its own error; rank 1 raises the same one, marked as rank 0's to report
    assert two_ranks[0]["refused"] == ("--flag refused on rank 0", False)
    assert two_ranks[1]["refused"] == ("--flag refused on rank 0", True)


def test_two_ranks_train_the_single_process_epoch(two_ranks: dict) -> None:
    one = _train_one_epoch(Trainer)
    # step by step, rank 0's slice then rank 1's is exactly the one-process batch
    for step, batch in enumerate(one["seen"]):
        assert (
            two_ranks[0]["trained"]["seen"][step] + two_ranks[1]["trained"]["seen"][step] == batch
        )
    assert [len(b) for b in two_ranks[1]["trained"]["seen"]] == [2, 2, 1]
    for rank in (0, 1):
        got = two_ranks[rank]["trained"]
        assert got["sums"]["images"] == 11.0
        assert got["sums"]["loss"] == pytest.approx(one["sums"]["loss"], rel=1e-6)
        for w, want in zip(got["weights"], one["weights"], strict=True):
            torch.testing.assert_close(w, want, rtol=1e-5, atol=1e-6)


def test_torchrun_sigterm_says_how_to_resume_and_a_second_one_cannot_cut_it_short(
    tmp_path,
) -> None:
    # torchrun's SIGTERM can land while a rank is already explaining a failed collective:
    # the exception that leaves must still name the kept epoch and the resume command
    run = tmp_path / "run"
    run.mkdir()
    save_file({"w": torch.zeros(1)}, str(run / "checkpoint.safetensors"), {"json": '{"epoch": 3}'})
    ctx = DistributedContext(rank=1, world_size=2, local_rank=1, local_world_size=2)
    before = signal.getsignal(signal.SIGTERM)
    explained = False
    with pytest.raises(PeerLost) as caught, stop_on_sigterm(ctx, run):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs at the next bytecode; this is never reached whole
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # the second one, mid-explanation: ignored
            time.sleep(0.05)
            explained = True
    message = str(caught.value)
    assert message.startswith("rank 1: lost another process of this run (torchrun stopped")
    assert "(after epoch 3)" in message
    assert message.endswith(
        f"torchrun --nproc-per-node 2 -m vae_atlas.cli train --resume --out {run}"
    )
    assert explained
    assert signal.getsignal(signal.SIGTERM) is before
