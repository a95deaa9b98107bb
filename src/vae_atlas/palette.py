"""The class colour map, shared by every figure, the explorer page and a run's notebook card.

Classes use matplotlib's ``tab10`` (``tab20`` beyond ten classes, then ``hsv``), so a class has
the same colour wherever it is drawn.
"""

from __future__ import annotations

import numpy as np


def class_colors(n_classes: int) -> np.ndarray:
    """RGBA colours (n_classes, 4): tab10 up to ten classes, tab20 up to twenty, then hsv."""
    from matplotlib import colormaps

    if n_classes <= 10:
        return colormaps["tab10"](np.arange(n_classes))
    if n_classes <= 20:
        return colormaps["tab20"](np.arange(n_classes))
    return colormaps["hsv"](np.linspace(0, 1, n_classes, endpoint=False))


def class_hex_colors(n_classes: int) -> list[str]:
    """The same colours as :func:`class_colors` as ``#rrggbb`` strings (for web pages)."""
    from matplotlib.colors import to_hex

    return [to_hex(c) for c in class_colors(n_classes)]
