"""``vae-atlas export onnx|tensorboard|mlflow RUN``: an existing run for the tools users
already run (ONNX runtimes, TensorBoard, MLflow); each needs its pip extra."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vae_atlas.cli.flags import check_out_dir
from vae_atlas.cli.run_access import add_run_data_arguments, data_access_from_args
from vae_atlas.cli.trackers import mlflow_errors, mlflow_uri
from vae_atlas.config import ConfigError
from vae_atlas.data import DataError
from vae_atlas.integrations import require
from vae_atlas.models.conditional import image_conditions, is_conditional
from vae_atlas.run import Run, load_run

ONNX_CHECK_IMAGES = 64


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="a run as ONNX graphs, TensorBoard logs or an MLflow run")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    onnx = kinds.add_parser(
        "onnx", help="encoder.onnx and decoder.onnx, checked against PyTorch with onnxruntime"
    )
    onnx.add_argument("run", type=Path, help="run directory")
    onnx.add_argument("--out", type=Path, help="folder for the two files (default: RUN/onnx)")
    onnx.add_argument("--opset", type=int, default=18, help="ONNX opset version")
    add_run_data_arguments(onnx)
    onnx.set_defaults(handler=run_export_onnx)
    tb = kinds.add_parser(
        "tensorboard",
        help="per-epoch scalars from metrics.jsonl, images and the projector of the final weights",
    )
    tb.add_argument("run", type=Path, help="run directory")
    tb.add_argument("--out", type=Path, help="log folder (default: RUN/tensorboard)")
    add_run_data_arguments(tb)
    tb.set_defaults(handler=run_export_tensorboard)
    ml = kinds.add_parser(
        "mlflow",
        help="params, per-epoch metrics, the run files, report/ and evaluation.json",
    )
    ml.add_argument("run", type=Path, help="run directory")
    ml.add_argument(
        "--uri",
        help="tracking URI (default: sqlite:///mlflow.db in this folder, artifacts in mlruns/ "
        "beside it)",
    )
    ml.add_argument("--experiment", default="vae-atlas", help="MLflow experiment")
    ml.set_defaults(handler=run_export_mlflow)


def run_export_onnx(args: argparse.Namespace) -> int:
    require("onnx", "export onnx")
    require("onnxruntime", "export onnx")
    from vae_atlas.integrations.onnx import export_onnx

    out = args.out or args.run / "onnx"
    check_out_dir(out)
    run = load_run(args.run, data=data_access_from_args(args))
    images, conditions, source = onnx_check_inputs(run)
    result = export_onnx(run.model, out, images, check_conditions=conditions, opset=args.opset)
    print(f"wrote {result.encoder} and {result.decoder}")
    diffs = ", ".join(f"{name} {value:.2e}" for name, value in result.max_abs_diff.items())
    print(f"max |onnxruntime - torch| on {result.n_checked} {source}: {diffs}")
    return 0


def onnx_check_inputs(run: Run) -> tuple[torch.Tensor, torch.Tensor | None, str]:
    """The first test images of the run's dataset (float, [0, 1]) and, for a cvae, their
    classes or attributes; or seeded uniform noise of the model's image shape (and seeded
    conditions) when the dataset cannot be read here."""
    from vae_atlas.integrations.onnx import random_conditions

    try:
        test = run.dataset.test.subset(slice(0, ONNX_CHECK_IMAGES))
        conditions = image_conditions(run.model, test)
        return test.images.float() / 255.0, conditions, "test images"
    except DataError:
        generator = torch.Generator().manual_seed(0)
        shape = (ONNX_CHECK_IMAGES, *run.config.model.image_shape)
        images = torch.rand(shape, generator=generator)
        conditions = None
        if is_conditional(run.model):
            conditions = random_conditions(run.model, ONNX_CHECK_IMAGES, generator)
        return images, conditions, "random images (dataset not found)"


def run_export_tensorboard(args: argparse.Namespace) -> int:
    require("tensorboard", "export tensorboard")
    from vae_atlas.integrations.tensorboard import export_tensorboard

    out = args.out or args.run / "tensorboard"
    check_out_dir(out)
    if out.is_dir() and any(out.glob("events.out.tfevents.*")):
        # TensorBoard would show every epoch twice, once from each writer
        raise ConfigError(f"{out} already holds TensorBoard logs; give --out another folder")
    run = load_run(args.run, data=data_access_from_args(args))
    export_tensorboard(run, out)
    print(f"wrote {out}  (tensorboard --logdir {out})")
    return 0


def run_export_mlflow(args: argparse.Namespace) -> int:
    require("mlflow", "export mlflow")
    from vae_atlas.integrations.mlflow import export_mlflow

    load_run(args.run)  # a damaged run is refused before anything is logged
    uri = mlflow_uri(args.uri)
    with mlflow_errors(uri, flag="--uri"):
        run_id, logged = export_mlflow(args.run, uri, args.experiment)
    print(f"mlflow: run {run_id} in {uri} ({', '.join(logged)})")
    return 0
