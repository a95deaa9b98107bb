"""``vae-atlas report`` and ``vae-atlas compare`` end to end, including user errors."""

from __future__ import annotations

from vae_atlas.cli import main


def test_report_command_writes_the_atlas(tiny_runs, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(
        [
            "report",
            str(tiny_runs["vae2"]),
            "--out",
            str(out),
            "--grid-size",
            "5",
            "--no-gif",
            "--max-points",
            "150",
            "--interpolate",
            "3",
            "7",
        ]
    )
    assert code == 0
    assert (out / "index.html").exists()
    assert str(out / "index.html") in capsys.readouterr().out


def test_compare_command(tiny_runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(
        [
            "compare",
            str(tiny_runs["ae2"]),
            str(tiny_runs["vae2"]),
            "--out",
            str(out),
            "--grid-size",
            "5",
            "--max-points",
            "150",
        ]
    )
    assert code == 0 and (out / "index.html").exists()


def test_user_mistakes_give_one_error_line(tiny_runs, tmp_path, capsys):
    cases = [
        ["report", str(tmp_path / "missing")],
        ["report", str(tiny_runs["vae2"]), "--projection", "mds"],
        [
            "report",
            str(tiny_runs["vae2"]),
            "--ood",
            "no-such-dataset",
            "--out",
            str(tmp_path / "x"),
        ],
        [
            "report",
            str(tiny_runs["vae2"]),
            "--interpolate",
            "one",
            "seven",
            "--out",
            str(tmp_path / "y"),
        ],
        ["compare", str(tiny_runs["vae2"]), "--out", str(tmp_path / "z")],
    ]
    for argv in cases:
        assert main(argv) == 1, argv
        lines = capsys.readouterr().err.strip().splitlines()  # progress lines, then the error
        assert lines[-1].startswith("error: ") and "Traceback" not in "".join(lines), argv
        assert sum(line.startswith("error: ") for line in lines) == 1, argv


def test_chosen_dims_and_grid_base_reach_the_figures(tiny_runs, tmp_path, capsys):
    out = tmp_path / "dims"
    code = main(
        [
            "report",
            str(tiny_runs["vae5"]),
            "--out",
            str(out),
            "--dims",
            "2",
            "4",
            "--grid-base",
            "5",
            "--no-gif",
            "--grid-size",
            "4",
            "--max-points",
            "120",
        ]
    )
    assert code == 0
    html = (out / "index.html").read_text()
    assert "decodings over z2, z4" in html and "test input #5" in html
    assert main(["report", str(tiny_runs["vae5"]), "--dims", "2", "9", "--out", str(out)]) == 1
    assert "z9" in capsys.readouterr().err
