"""vae-atlas in Jupyter: the explorer as a notebook widget (:func:`explorer`).

Runs and every Display show themselves in a notebook without this package (``Run`` as its
card, a Display as its figure); this package adds what needs a live kernel.
"""

from vae_atlas.notebook.widget import ExplorerWidget, explorer

__all__ = ["ExplorerWidget", "explorer"]
