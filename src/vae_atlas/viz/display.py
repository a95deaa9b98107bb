"""What every Display shares: a notebook shows one as its figure (IPython's ``_repr_png_``),
drawn with :meth:`plot`'s defaults when it has not been drawn yet."""

from __future__ import annotations

import io

from vae_atlas.viz.style import render_rgb


class FigureDisplay:
    """Base of the Display classes: subclasses define ``plot()``, which sets ``figure_``."""

    def _repr_png_(self) -> bytes:
        from PIL import Image

        if not hasattr(self, "figure_"):
            self.plot()  # type: ignore[attr-defined]
        buffer = io.BytesIO()
        Image.fromarray(render_rgb(self.figure_)).save(buffer, format="PNG")
        return buffer.getvalue()
