"""``va.explorer(run)``: the explorer's page inside a notebook, as an anywidget widget.

The widget shows the same page as ``vae-atlas explore`` (its modules joined by
:mod:`vae_atlas.explorer.bundle`) in a frame, with ``static/host-kernel.js`` as its transport:
each request the page makes travels as a widget message to the kernel, which answers with the
explorer's own FastAPI app called in-process (:mod:`vae_atlas.explorer.inprocess`), so hover
decoding, selections, interpolation, sliders, samples and uploads work as on the server.
``widget.selection`` holds the indices of what is selected in the page: a lasso's points, else
the data points picked as A and B.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

try:
    import anywidget
    import traitlets
except ImportError as exc:  # an optional extra: say how to get it
    raise ImportError(
        f"va.explorer needs anywidget ({exc.name} is missing): pip install 'vae-atlas[notebook]'"
    ) from None

from vae_atlas.explorer import ExplorerRun, create_app
from vae_atlas.explorer.bundle import bundle_script, page_entries, page_html
from vae_atlas.explorer.inprocess import InProcessClient
from vae_atlas.run import Run

ESM = (Path(__file__).parent / "static" / "widget.js").read_text(encoding="utf-8")


class ExplorerWidget(anywidget.AnyWidget):
    """The explorer of one or more runs in a notebook (see the module docstring)."""

    _esm = traitlets.Unicode(ESM).tag(sync=True)
    page = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(760).tag(sync=True)
    selection = traitlets.List(traitlets.Int()).tag(sync=True)

    def __init__(
        self, runs: Sequence[Run | ExplorerRun], *, max_points: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._client = InProcessClient(create_app(runs, max_points=max_points))
        script = bundle_script(["host-kernel.js", *page_entries()])
        self.page = page_html([], inline_script=script)
        self.on_msg(self._on_message)

    def answer(self, content: dict, buffers: Sequence[bytes | memoryview]) -> tuple[dict, list]:
        """The reply (content, buffers) to one request message from the page: ``content`` has
        ``id``, ``method``, ``url`` (as the page wrote it, e.g. ``api/runs``) and ``type`` (the
        body's content type); ``buffers`` the body, if any."""
        body = bytes(buffers[0]) if buffers else b""
        url = "/" + str(content["url"]).lstrip("/")
        reply = self._client.request(
            str(content.get("method", "GET")), url, body, str(content.get("type") or "")
        )
        out = {"vaeAtlas": "reply", "id": content["id"], "status": reply.status}
        return {**out, "type": reply.content_type}, [reply.body]

    def _on_message(self, _widget: Any, content: Any, buffers: Sequence[bytes]) -> None:
        if isinstance(content, dict) and content.get("vaeAtlas") == "request":
            reply, out = self.answer(content, buffers)
            self.send(reply, out)

    def close(self) -> None:
        self._client.close()
        super().close()


def explorer(
    runs: Run | ExplorerRun | Sequence[Run | ExplorerRun],
    *,
    max_points: int | None = None,
    height: int = 760,
) -> ExplorerWidget:
    """The explorer of ``runs`` (a loaded run, or several) as a notebook widget.

    Parameters
    ----------
    runs : :func:`vae_atlas.load_run` results or prepared
        :class:`~vae_atlas.explorer.ExplorerRun` objects (e.g. a model of your own).
    max_points : show at most this many test images per run.
    height : the widget's height in pixels.
    """
    many = runs if isinstance(runs, Sequence) else [runs]
    return ExplorerWidget(list(many), max_points=max_points, height=height)
