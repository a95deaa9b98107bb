"""What the command line prints: help with each default once, a line per epoch, progress of
long commands, and the settings it chose for an image folder."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

import vae_atlas as va
from vae_atlas.cli import main

COMMANDS = ["demo", "train", "report", "compare", "explore", "evaluate"]
HELP_COLUMN = 24  # argparse's default column for help texts


def option_helps(command: str, capsys) -> dict[str, str]:
    """Each option's help text, read from ``--help`` as a user sees it."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    lines = capsys.readouterr().out.splitlines()
    helps: dict[str, str] = {}
    current = None
    for line in lines:
        if line.startswith("  -"):
            current = line.split()[0].rstrip(",")
            helps[current] = line[HELP_COLUMN:].strip() if len(line) > HELP_COLUMN else ""
        elif current and line.startswith(" " * HELP_COLUMN):
            helps[current] += " " + line.strip()
        else:
            current = None
    return helps


@pytest.mark.parametrize("command", COMMANDS)
def test_every_flag_has_help_and_states_its_default_at_most_once(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    helps = option_helps(command, capsys)
    assert len(helps) >= 3
    for flag, text in helps.items():
        assert text.strip(), f"{command} {flag} has no help"
        assert text.count("default") <= 1, f"{command} {flag}: {text}"
        assert "None" not in text, f"{command} {flag}: {text}"


def test_train_help_shows_the_config_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    helps = option_helps("train", capsys)
    assert "(default: mlp" in helps["--family"]
    assert "(default: 2)" in helps["--latent-dim"]
    assert "(default: vae)" in helps["--objective"]
    assert "(default: 0.003)" in helps["--lr"]
    assert "(default: 128" in helps["--batch-size"]
    assert "32,64,128 for conv" in helps["--hidden"]
    assert "4 for beta-vae" in helps["--beta"]


TINY = ["--dataset", "digits", "--hidden", "8", "--probe-size", "20", "--device", "cpu"]


def test_no_progress_prints_a_line_per_epoch_and_quiet_nothing(tmp_path, capsys):
    assert (
        main(["train", "--out", str(tmp_path / "a"), *TINY, "--epochs", "3", "--no-progress"]) == 0
    )
    out = capsys.readouterr().out
    epoch = r"epoch (\d)/3  loss \d+\.\d\d  recon \d+\.\d\d  KL \d+\.\d\d  \d+\.\d s"
    assert [m.group(1) for m in re.finditer(epoch, out)] == ["1", "2", "3"]
    assert main(["train", "--out", str(tmp_path / "b"), *TINY, "--epochs", "1", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_beta_vae_from_the_cli_gets_the_config_default_beta(tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["train", "--out", str(out), *TINY, "--epochs", "1", "--quiet",
                 "--objective", "beta-vae"]) == 0  # fmt: skip
    assert va.load_run(out).config.model.beta == 4.0


def test_an_image_folder_gets_settings_from_its_images(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i in range(40):
        pixels = rng.integers(0, 256, (48, 60, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"img{i}.png")
    out = tmp_path / "run"
    argv = ["train", "--out", str(out), "--dataset", "folder", "--data-dir", str(tmp_path),
            "--epochs", "1", "--hidden", "4,8", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "chose --family conv because the images are in colour" in printed
    assert "chose --image-size 32 because" in printed
    assert "chose --epochs" not in printed  # given
    config = va.load_run(out).config
    assert config.model.family == "conv" and config.model.image_shape == (3, 32, 32)
    # 32 training images: batch 16 (the floor) -> 2 steps an epoch
    assert config.train.batch_size == 16


def test_report_prints_a_line_per_figure(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), *TINY, "--epochs", "2", "--quiet"]) == 0
    argv = ["report", str(run), "--no-gif", "--grid-size", "3", "--max-points", "50"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert re.search(r"^  Latent scatter: \d+\.\d s$", err, re.M), err
    assert len(re.findall(r"^  .+: \d+\.\d s$", err, re.M)) >= 5
