"""The flags of ``vae-atlas train``, each mapped to the config field it sets.

Help texts state the config's defaults (:mod:`vae_atlas.config`), never a copy of them.
"""

from __future__ import annotations

import argparse

from vae_atlas.cli.flags import Option, show
from vae_atlas.config import (
    ACTIVATIONS,
    CONDITIONS,
    DATASETS,
    DEFAULT_BETA,
    DEFAULT_HIDDEN,
    DEVICES,
    DIP_DIAGONAL_FACTOR,
    DIP_TYPES,
    FAMILIES,
    LIKELIHOODS,
    NAN_POLICIES,
    OBJECTIVES,
    PRECISIONS,
    TC_ESTIMATORS,
)

FOLDER_CHOOSES = "; an image folder: chosen from its images"


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


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("give at least one attribute name, e.g. Smiling,Male")
    return names


def _hidden_help() -> str:
    per_family = ", ".join(f"{show(w)} for {f}" for f, w in DEFAULT_HIDDEN.items())
    return f"MLP widths or conv channels per stage, comma-separated (default: {per_family})"


def _beta_help() -> str:
    return f"KL weight (default: {DEFAULT_BETA['beta-vae']:g} for beta-vae, else 1)"


def _dip_diagonal_help() -> str:
    ratios = " and ".join(f"{f:g}×λ_od for {t}" for t, f in DIP_DIAGONAL_FACTOR.items())
    return f"dip-vae: diagonal weight (default: {ratios})"


DATA_OPTIONS = (
    Option("--dataset", "data.name", "which dataset", {"choices": DATASETS}),
    Option(
        "--data-dir",
        "data.data_dir",
        "dataset files (mnist/fashion-mnist/celeba) or image folder "
        "(default: $VAE_ATLAS_DATA or the user cache dir)",
    ),
    Option(
        "--image-size",
        "data.image_size",
        "folder/shapes/celeba: side length in pixels (default: "
        "64 for shapes and celeba; an image folder: chosen from its images)",
        {"type": int},
    ),
    Option(
        "--channels",
        "data.channels",
        "folder: 1 (grey) or 3 (RGB) (default: chosen from the images)",
        {"type": int, "choices": [1, 3]},
    ),
    Option(
        "--n-samples",
        "data.n_samples",
        "shapes: how many images to generate (default: 20000)",
        {"type": int},
    ),
    Option(
        "--attributes",
        "data.attributes",
        "folder: a table of per-image attributes (CSV or whitespace) keyed by file name or "
        "relative path; travels with the run",
    ),
    Option(
        "--val-size",
        "data.val_size",
        "training images held out for validation (val_* metrics); 0: none "
        "(default: 5000 for mnist/fashion-mnist, else 10%% of train)",
        {"type": int},
    ),
)
MODEL_OPTIONS = (
    Option(
        "--family",
        "model.family",
        f"network family (default: mlp{FOLDER_CHOOSES})",
        {"choices": FAMILIES},
    ),
    Option("--latent-dim", "model.latent_dim", "size of the latent code z", {"type": int}),
    Option("--hidden", "model.hidden", _hidden_help(), {"type": _widths}),
    Option("--activation", "model.activation", "hidden activation", {"choices": ACTIVATIONS}),
    Option(
        "--objective",
        "model.objective",
        "ae (no KL), vae, beta-vae, iwae, vamp (VampPrior), hvae (two-level), cvae "
        "(conditioned on the label or attributes), vq-vae (discrete codes; needs --family "
        "conv), or the disentangling beta-tcvae, dip-vae, factor-vae",
        {"choices": OBJECTIVES},
    ),
    Option("--beta", "model.beta", _beta_help(), {"type": float}),
    Option(
        "--capacity-max",
        "model.capacity_max",
        "Burgess et al. capacity C in nats (0: off)",
        {"type": float},
    ),
    Option(
        "--capacity-steps",
        "model.capacity_steps",
        "steps over which C grows to its max",
        {"type": int},
    ),
    Option("--likelihood", "model.likelihood", "pixel likelihood", {"choices": LIKELIHOODS}),
    Option("--sigma", "model.sigma", "gaussian: (initial) pixel std", {"type": float}),
    Option(
        "--learn-sigma",
        "model.learn_sigma",
        "gaussian: learn the pixel std",
        {"action": "store_true"},
    ),
    Option(
        "--codebook-size",
        "model.codebook_size",
        "vq-vae: number of codes K (--latent-dim is each code's size, --beta the commitment "
        "weight)",
        {"type": int},
    ),
    Option(
        "--k",
        "model.iwae_k",
        "iwae: importance samples per input",
        {"type": int},
        aliases=("--iwae-k",),
    ),
    Option(
        "--pseudo-inputs",
        "model.pseudo_inputs",
        "vamp: learned pseudo-inputs K of the VampPrior",
        {"type": int, "metavar": "K"},
    ),
    Option(
        "--lower-latent-dim",
        "model.lower_latent_dim",
        "hvae: size of the lower level z1 (--latent-dim is the top level z2)",
        {"type": int},
    ),
)
DISENTANGLING_OPTIONS = (
    Option("--tc-alpha", "model.tc_alpha", "beta-tcvae: index-code MI weight", {"type": float}),
    Option("--tc-beta", "model.tc_beta", "beta-tcvae: total correlation weight", {"type": float}),
    Option("--tc-gamma", "model.tc_gamma", "beta-tcvae: dimension-wise KL weight", {"type": float}),
    Option(
        "--tc-estimator",
        "model.tc_estimator",
        "beta-tcvae: estimator of log q(z), minibatch stratified (mss) or weighted (mws) sampling",
        {"choices": TC_ESTIMATORS},
    ),
    Option(
        "--dip-type",
        "model.dip_type",
        "dip-vae: i (covariance of the means) or ii (of the aggregate posterior)",
        {"choices": DIP_TYPES},
    ),
    Option(
        "--dip-lambda-od", "model.dip_lambda_od", "dip-vae: off-diagonal weight", {"type": float}
    ),
    Option(
        "--dip-lambda-d",
        "model.dip_lambda_d",
        _dip_diagonal_help(),
        {"type": float},
    ),
    Option(
        "--factor-gamma",
        "model.factor_gamma",
        "factor-vae: total correlation weight",
        {"type": float},
    ),
    Option(
        "--factor-lr",
        "model.factor_lr",
        "factor-vae: the discriminator's Adam learning rate (constant)",
        {"type": float},
    ),
    Option(
        "--factor-hidden",
        "model.factor_hidden",
        "factor-vae: the discriminator's hidden widths, comma-separated",
        {"type": _widths},
    ),
)
CONDITION_OPTIONS = (
    Option(
        "--condition",
        "model.condition",
        "cvae: what the model is told about each image, its class label or its attribute "
        "vector (default: labels where the dataset has them, else attributes)",
        {"choices": CONDITIONS},
    ),
    Option(
        "--condition-attributes",
        "model.condition_attributes",
        "cvae: the attributes to condition on, comma-separated, e.g. Smiling,Male,Eyeglasses "
        "(implies --condition attributes; default: every attribute of the dataset)",
        {"type": _names, "metavar": "NAMES"},
    ),
)
MODEL_OPTIONS = MODEL_OPTIONS + DISENTANGLING_OPTIONS + CONDITION_OPTIONS
TRAIN_OPTIONS = (
    Option(
        "--epochs",
        "train.epochs",
        f"epochs; with --resume: extend to (default: 10{FOLDER_CHOOSES})",
        {"type": int},
    ),
    Option(
        "--batch-size",
        "train.batch_size",
        f"images per optimiser step (default: 128{FOLDER_CHOOSES})",
        {"type": int},
    ),
    Option("--lr", "train.lr", "Adam's initial learning rate", {"type": float}),
    Option(
        "--lr-final-fraction",
        "train.lr_final_fraction",
        "cosine decay ends at lr times this",
        {"type": float},
    ),
    Option("--adam-eps", "train.adam_eps", "Adam's epsilon", {"type": float}),
    Option(
        "--warmup-epochs",
        "train.warmup_epochs",
        "epochs over which the KL weight ramps from 0 to beta",
        {"type": float},
    ),
    Option("--seed", "train.seed", "seed of weights, batch order and noise", {"type": int}),
    Option("--device", "train.device", "where to train", {"choices": DEVICES}),
    Option("--probe-size", "train.probe_size", "test images snapshotted per epoch", {"type": int}),
    Option(
        "--nan-policy",
        "train.nan_policy",
        "on a NaN loss: stop, or skip the batch",
        {"choices": NAN_POLICIES},
    ),
    Option(
        "--dynamic-binarization",
        "train.dynamic_binarization",
        "resample binary pixels each step (Burda et al. 2016)",
        {"action": "store_true"},
    ),
    Option(
        "--early-stop",
        "train.early_stop",
        "stop when validation -ELBO has not improved for this many epochs, ending with the "
        "best epoch's weights (default: off)",
        {"type": int, "metavar": "PATIENCE"},
    ),
    Option(
        "--precision",
        "train.precision",
        "autocast precision of the training step: bf16 (CPU or CUDA), fp16 (CUDA, with loss "
        "scaling); loss sums and the KL stay float32",
        {"choices": PRECISIONS},
    ),
    Option(
        "--compile",
        "train.compile",
        "torch.compile the training loss (first steps slower while it compiles)",
        {"action": "store_true"},
    ),
    Option(
        "--channels-last",
        "train.channels_last",
        "conv models: channels-last memory layout (faster on CPU, see README)",
        {"action": "store_true"},
    ),
    Option(
        "--grad-clip",
        "train.grad_clip",
        "clip the gradient norm to this (default: off)",
        {"type": float},
    ),
)
OPTIONS = DATA_OPTIONS + MODEL_OPTIONS + TRAIN_OPTIONS
