"""t-SNE for the maps: scikit-learn's TSNE or openTSNE? Time and quality on the same codes.

Encodes the first ``--n-map`` + ``--n-new`` test images of a run. Each library embeds the first
``--n-map`` codes (perplexity 30, PCA initialisation, one thread, same seed); quality is the
5-fold cross-validated 5-NN accuracy of the digit labels on the 2-D map (higher = classes stay
apart). Then the ``--n-new`` held-out codes are placed on the map — by openTSNE's
``transform`` (an optimisation against the fitted embedding), and by the explorer's placement
(inverse-distance-weighted mean of the map positions of the 8 nearest codes in latent space) —
and scored by a 5-NN classifier fitted on the map points. The latent space itself gives the
reference accuracy. Run, e.g.::

    vae-atlas train --dataset mnist --data-dir ../shared/datasets/mnist --latent-dim 16 \
        --hidden 256 --epochs 3 --out runs/vae16
    python benchmarks/tsne_choice.py runs/vae16
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from vae_atlas.analysis import encode_images
from vae_atlas.explorer.maps import idw
from vae_atlas.run import load_run

PLACE_K = 8  # neighbours the explorer averages when it places a new code on a t-SNE map


def knn_cv(x: np.ndarray, y: np.ndarray) -> float:
    """5-fold cross-validated 5-NN accuracy of labels ``y`` on points ``x`` (N, d)."""
    return float(cross_val_score(KNeighborsClassifier(5), x, y, cv=5).mean())


def knn_placed(map_xy: np.ndarray, y_map: np.ndarray, new_xy: np.ndarray, y_new: np.ndarray):
    """Accuracy of a 5-NN classifier fitted on the map points, scored on placed points."""
    return float(KNeighborsClassifier(5).fit(map_xy, y_map).score(new_xy, y_new))


def explorer_place(mu_map: np.ndarray, map_xy: np.ndarray, mu_new: np.ndarray) -> np.ndarray:
    """The explorer's placement: IDW of the map positions of the nearest latent codes."""
    dist, idx = NearestNeighbors(n_neighbors=PLACE_K).fit(mu_map).kneighbors(mu_new)
    return idw(map_xy, dist, idx)  # (M, 2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("run", help="a trained run directory with a labelled dataset")
    p.add_argument("--n-map", type=int, default=5000)
    p.add_argument("--n-new", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    from openTSNE import TSNE as OpenTSNE
    from sklearn.manifold import TSNE as SkTSNE

    run = load_run(args.run)
    lat = encode_images(run.model, run.dataset.test.subset(slice(0, args.n_map + args.n_new)))
    mu, y = lat.mu, lat.labels
    mu_map, y_map, mu_new, y_new = (
        mu[: args.n_map],
        y[: args.n_map],
        mu[args.n_map :],
        y[args.n_map :],
    )
    print(f"{run.path}: {args.n_map} map codes + {args.n_new} new, {mu.shape[1]}-D")
    print(f"latent space itself: 5-NN accuracy (5-fold CV) {knn_cv(mu_map, y_map):.3f}")

    t0 = time.perf_counter()
    sk = SkTSNE(2, perplexity=30.0, init="pca", random_state=args.seed, n_jobs=1)
    sk_xy = sk.fit_transform(mu_map)
    sk_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ot = OpenTSNE(2, perplexity=30.0, initialization="pca", random_state=args.seed, n_jobs=1)
    ot_emb = ot.fit(mu_map)
    ot_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ot_new = np.asarray(ot_emb.transform(mu_new))
    ot_place_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sk_new = explorer_place(mu_map, sk_xy, mu_new)
    sk_place_s = time.perf_counter() - t0
    ot_xy = np.asarray(ot_emb)

    rows = [
        ("scikit-learn TSNE", sk_s, knn_cv(sk_xy, y_map), sk_place_s,
         knn_placed(sk_xy, y_map, sk_new, y_new), "explorer IDW"),
        ("openTSNE", ot_s, knn_cv(ot_xy, y_map), ot_place_s,
         knn_placed(ot_xy, y_map, ot_new, y_new), "openTSNE transform"),
    ]  # fmt: skip
    header = ("library", "fit s", "map 5-NN", "place s", "placed 5-NN")
    print("{:<18} {:>7} {:>9} {:>8} {:>12}  placement".format(*header))
    for name, fit_s, acc, place_s, placed, how in rows:
        print(f"{name:<18} {fit_s:7.1f} {acc:9.3f} {place_s:8.2f} {placed:12.3f}  {how}")
    faster = "openTSNE" if ot_s < sk_s else "scikit-learn"
    print(f"verdict: {faster} fits {max(sk_s, ot_s) / min(sk_s, ot_s):.1f}x faster; map 5-NN "
          f"differs by {rows[1][2] - rows[0][2]:+.3f}; placed 5-NN (openTSNE - explorer) "
          f"{rows[1][4] - rows[0][4]:+.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
