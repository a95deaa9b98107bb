"""The values the configuration's fields may take, and the defaults that depend on another
field (the family, the objective)."""

from __future__ import annotations

DATASETS = ("digits", "mnist", "fashion-mnist", "shapes", "folder", "store", "celeba")
FAMILIES = ("mlp", "conv")
OBJECTIVES = (
    "ae",
    "vae",
    "beta-vae",
    "iwae",
    "vamp",
    "hvae",
    "cvae",
    "vq-vae",
    "beta-tcvae",
    "dip-vae",
    "factor-vae",
)
LIKELIHOODS = ("bernoulli", "gaussian")
ACTIVATIONS = ("relu", "tanh", "elu", "leaky_relu")
DEVICES = ("auto", "cpu", "cuda")
# autocast precisions: fp32 (none), bf16 (CPU and CUDA), fp16 (CUDA only, with a GradScaler)
PRECISIONS = ("fp32", "bf16", "fp16")
NAN_POLICIES = ("stop", "skip")
# A run's seed is handed to numpy (32-bit seeds) as well as hashed into torch's streams
# (vae_atlas.seeds); 2**32 - 1 keeps it in range for both.
MAX_SEED = 2**32 - 1
# Family-dependent defaults: MLP widths vs conv channels per stride-2 stage, and the KL weight
# of each objective (β = 4 is the usual β-VAE starting point, Higgins et al. 2017).
DEFAULT_HIDDEN = {"mlp": (512, 256), "conv": (32, 64, 128)}
CONV_IMAGE_SIZES = (28, 32, 64, 128)  # square sides the conv family supports, smallest first
# (vq-vae: beta is the commitment weight, 0.25 as in van den Oord et al. 2017.)
# The disentangling objectives weigh their own terms (tc_*, dip_*, factor_*), so their KL weight
# stays 1: β-TCVAE (Chen et al. 2018), DIP-VAE (Kumar et al. 2018), FactorVAE (Kim & Mnih 2018).
DISENTANGLING = ("beta-tcvae", "dip-vae", "factor-vae")
DEFAULT_BETA = {
    "ae": 1.0,
    "vae": 1.0,
    "beta-vae": 4.0,
    "iwae": 1.0,
    "vamp": 1.0,
    "hvae": 1.0,
    "cvae": 1.0,
    "vq-vae": 0.25,
    **dict.fromkeys(DISENTANGLING, 1.0),
}
# vq-vae's conv stages: two by default, a 7x7 grid of codes on 28x28 images
VQ_HIDDEN = (32, 64)
# objectives the distributed step cannot train: beta-tcvae's loss needs the training set's size,
# which it does not pass, factor-vae's discriminator needs FactorVAETrainer's optimiser, and cvae's
# step needs each batch's labels
SINGLE_PROCESS_OBJECTIVES = ("beta-tcvae", "factor-vae", "cvae")
# β-TCVAE's estimators of log q(z): minibatch stratified / weighted sampling
TC_ESTIMATORS = ("mss", "mws")
DIP_TYPES = ("i", "ii")
# DIP-VAE's diagonal weight λ_d per type, as a multiple of λ_od (the paper's ratios)
DIP_DIAGONAL_FACTOR = {"i": 10.0, "ii": 1.0}
# The fields that tune one objective; given for another, they would be silently ignored
OBJECTIVE_FIELDS = {
    **dict.fromkeys(("tc_alpha", "tc_beta", "tc_gamma", "tc_estimator"), "beta-tcvae"),
    **dict.fromkeys(("dip_type", "dip_lambda_od", "dip_lambda_d"), "dip-vae"),
    **dict.fromkeys(("factor_gamma", "factor_lr", "factor_hidden"), "factor-vae"),
    **dict.fromkeys(("condition", "condition_attributes"), "cvae"),
}
# what a cvae is told about each image: its class label (one-hot) or its attribute vector
CONDITIONS = ("labels", "attributes")
