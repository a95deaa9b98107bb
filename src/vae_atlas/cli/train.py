"""``vae-atlas train``: train an AE / VAE / β-VAE / IWAE into a run directory."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from vae_atlas.analysis.diagnostics import ACTIVE_KL_THRESHOLD, active_dimensions
from vae_atlas.checkpoint import CONFIG, read_run_config
from vae_atlas.cli.run_access import data_access_from_args
from vae_atlas.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import load_dataset, resolve_data_dir
from vae_atlas.training import TrainingError, TrainResult, train
from vae_atlas.training.data_access import data_config_for_run

DEFAULT_HIDDEN = {"mlp": (512, 256), "conv": (32, 64, 128)}


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of integers"
        ) from None
    if not widths:
        raise argparse.ArgumentTypeError("give at least one width, e.g. 512,256")
    return widths


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument(
        "--dataset",
        default="digits",
        choices=["digits", "mnist", "fashion-mnist", "shapes", "folder"],
    )
    g.add_argument(
        "--data-dir",
        help="dataset files (mnist/fashion-mnist) or image folder; "
        "default $VAE_ATLAS_DATA or the user cache dir",
    )
    g.add_argument(
        "--no-verify", action="store_true", help="skip the SHA-256 check (user variants)"
    )
    g.add_argument("--download", action="store_true", help="fetch missing dataset files")
    g.add_argument("--base-url", help="where --download fetches from (file:// works)")
    g.add_argument("--image-size", type=int, help="folder/shapes: side length in pixels")
    g.add_argument("--channels", type=int, choices=[1, 3], help="folder: 1 (grey) or 3 (RGB)")
    g.add_argument("--n-samples", type=int, help="shapes: how many images to generate")
    g.add_argument(
        "--val-size",
        type=int,
        help="training images held out for validation (val_* metrics); 0: none; "
        "default 5000 for mnist/fashion-mnist, else 10%% of train",
    )


def data_config_from_args(args: argparse.Namespace, seed: int = 0) -> DataConfig:
    data_dir = args.data_dir
    if args.dataset in ("mnist", "fashion-mnist"):
        data_dir = str(resolve_data_dir(data_dir, args.dataset).resolve())
    elif data_dir is not None:
        data_dir = str(Path(data_dir).resolve())
    return DataConfig(
        name=args.dataset,
        data_dir=data_dir,
        verify=not args.no_verify,
        download=args.download,
        base_url=args.base_url,
        image_size=args.image_size,
        channels=args.channels,
        n_samples=args.n_samples,
        val_size=args.val_size,
        seed=seed,
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a model into a run directory",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", required=True, type=Path, help="run directory to create (or resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--restart",
        action="store_true",
        help="with --resume, when checkpoint.safetensors is missing: train the run again from "
        "epoch 0 with its config (replaces its weights and metrics)",
    )
    add_data_arguments(p)
    g = p.add_argument_group("model")
    g.add_argument("--family", default="mlp", choices=["mlp", "conv"])
    g.add_argument("--latent-dim", type=int, default=2)
    g.add_argument("--hidden", type=_widths, help="widths, e.g. 512,256 (mlp) or 32,64,128 (conv)")
    g.add_argument("--activation", default="relu", choices=["relu", "tanh", "elu", "leaky_relu"])
    g.add_argument("--objective", default="vae", choices=["ae", "vae", "beta-vae", "iwae"])
    g.add_argument("--beta", type=float, default=None, help="KL weight (beta-vae; default 4)")
    g.add_argument(
        "--capacity-max", type=float, default=0.0, help="Burgess et al. capacity C (nats)"
    )
    g.add_argument("--capacity-steps", type=int, default=10_000)
    g.add_argument("--likelihood", default="bernoulli", choices=["bernoulli", "gaussian"])
    g.add_argument("--sigma", type=float, default=0.1, help="gaussian: (initial) pixel std")
    g.add_argument("--learn-sigma", action="store_true")
    g.add_argument("--k", "--iwae-k", dest="iwae_k", type=int, default=1, help="iwae: samples")
    g = p.add_argument_group("training")
    g.add_argument(
        "--epochs", type=int, default=None, help="epochs (default 10; with --resume: extend to)"
    )
    g.add_argument("--batch-size", type=int, default=128)
    g.add_argument("--lr", type=float, default=3e-3)
    g.add_argument("--lr-final-fraction", type=float, default=0.05, help="cosine decay to lr*this")
    g.add_argument("--adam-eps", type=float, default=1e-8, help="Adam's epsilon")
    g.add_argument("--warmup-epochs", type=float, default=0.0, help="KL warm-up length")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    g.add_argument("--probe-size", type=int, default=2000, help="test images snapshotted per epoch")
    g.add_argument("--nan-policy", default="stop", choices=["stop", "skip"])
    g.add_argument("--dynamic-binarization", action="store_true")
    g.add_argument("--grad-clip", type=float)
    g.add_argument("--no-progress", action="store_true")
    g.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.set_defaults(handler=run_train)


def config_from_args(args: argparse.Namespace, image_shape: tuple[int, int, int]) -> RunConfig:
    beta = args.beta if args.beta is not None else (4.0 if args.objective == "beta-vae" else 1.0)
    model = ModelConfig(
        family=args.family,
        image_shape=image_shape,
        latent_dim=args.latent_dim,
        hidden=args.hidden or DEFAULT_HIDDEN[args.family],
        activation=args.activation,
        objective=args.objective,
        beta=beta,
        capacity_max=args.capacity_max,
        capacity_steps=args.capacity_steps,
        likelihood=args.likelihood,
        sigma=args.sigma,
        learn_sigma=args.learn_sigma,
        iwae_k=args.iwae_k,
    )
    train_cfg = TrainConfig(
        epochs=args.epochs if args.epochs is not None else 10,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_final_fraction=args.lr_final_fraction,
        adam_eps=args.adam_eps,
        warmup_epochs=args.warmup_epochs,
        seed=args.seed,
        device=args.device,
        probe_size=args.probe_size,
        nan_policy=args.nan_policy,
        dynamic_binarization=args.dynamic_binarization,
        grad_clip=args.grad_clip,
    )
    return RunConfig(data=data_config_from_args(args, seed=args.seed), model=model, train=train_cfg)


def set_threads(n: int | None) -> None:
    """Set torch's intra-op CPU threads (bit-identical results need the same count)."""
    if n is None:
        return
    if n < 1:
        raise ConfigError(f"--threads {n} must be at least 1")
    import torch

    torch.set_num_threads(n)


def run_train(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    if args.restart and not args.resume:
        raise ConfigError("--restart only applies with --resume (it restarts an existing run)")
    if args.resume:
        if not (args.out / CONFIG).is_file():
            raise TrainingError(f"{args.out}: nothing to resume (no {CONFIG})")
        saved = read_run_config(args.out)
        epochs = args.epochs if args.epochs is not None else saved.train.epochs
        config = replace(saved, train=replace(saved.train, epochs=epochs))
        dataset = load_dataset(data_config_for_run(saved.data, data_access_from_args(args)))
        result = train(
            config,
            args.out,
            dataset=dataset,
            resume=True,
            restart=args.restart,
            progress=not args.no_progress,
        )
    else:
        data_cfg = data_config_from_args(args, seed=args.seed)
        dataset = load_dataset(data_cfg)
        config = config_from_args(args, dataset.image_shape)
        result = train(config, args.out, dataset=dataset, progress=not args.no_progress)
    print_summary(result)
    return 0 if result.status == "complete" else 130


def print_summary(result: TrainResult) -> None:
    final = result.final
    print(
        f"run: {result.run_dir}  ({result.status}, {result.epochs_completed} epochs, "
        f"{result.seconds:.1f} s)"
    )
    if result.message:
        print(result.message)
    if final.get("test_neg_elbo") is not None:
        kl_dims = final.get("test_kl_per_dim") or []
        active = int(active_dimensions(kl_dims).sum())
        print(
            f"held-out -ELBO {final['test_neg_elbo']:.2f} nats = recon {final['test_recon']:.2f} "
            f"+ KL {final['test_kl']:.2f}; {active}/{len(kl_dims)} latent dimensions carry "
            f">= {ACTIVE_KL_THRESHOLD} nats"
        )
    elif "test_recon" in final:
        print(f"held-out reconstruction NLL {final['test_recon']:.2f} nats (plain autoencoder)")
