"""A run shows itself in a notebook: config, status, the last epoch's numbers and a latent map."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import vae_atlas as va
from tests.tiny_runs import tiny_config, train_quietly


class CardParser(HTMLParser):
    """Collects the card's numbers (by data-key), its status text and its images."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: dict[str, str] = {}
        self.status = ""
        self.images: list[str] = []
        self._key: str | None = None
        self._in_status = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-key" in a:
            self._key = a["data-key"]
        if a.get("class") == "va-status":
            self._in_status = True
        if tag == "img":
            self.images.append(a["src"])

    def handle_data(self, data):
        if self._key:
            self.numbers[self._key] = data
            self._key = None
        if self._in_status:
            self.status += data
            self._in_status = False


def parse(html: str) -> CardParser:
    p = CardParser()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return train_quietly(tiny_config(latent_dim=3, epochs=2), tmp_path_factory.mktemp("card") / "r")


def test_card_shows_the_last_epochs_numbers_and_status(run_dir):
    card = parse(va.load_run(run_dir)._repr_html_())
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    assert last["epoch"] == 2
    for key in ("test_neg_elbo", "test_recon", "test_kl", "val_neg_elbo", "train_loss"):
        assert float(card.numbers[key]) == pytest.approx(last[key], abs=5e-5), key
    assert card.status == "complete"


def test_card_draws_the_probe_set_as_an_inline_png(run_dir):
    card = parse(va.load_run(run_dir)._repr_html_())
    (src,) = card.images
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    with Image.open(io.BytesIO(base64.b64decode(src[len(prefix) :]))) as image:
        assert image.size == (240, 240)  # 3 inches at 80 dpi: small beside the tables
        rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    coloured = {tuple(c) for c in rgb if len(set(c)) > 1}
    assert len(coloured) > 10  # points in class colours, not a blank plot


def test_card_of_a_run_before_its_first_epoch_says_so(run_dir, tmp_path):
    young = tmp_path / "young"
    young.mkdir()
    for name in ("config.json", "model.safetensors"):
        (young / name).write_bytes((run_dir / name).read_bytes())
    (young / "state.json").write_text('{"status": "running", "message": ""}')
    card = va.load_run(young)._repr_html_()
    assert "no epoch finished yet" in card
    assert parse(card).status == "running" and parse(card).images == []
